#!/usr/bin/env python3
"""Runs one Lambda package for one invocation, the way provided.al2023 starts it.

Usage:
  lambda_sandbox.py --package DIR --arch x86_64|arm64 | --template T --event EVENT.json
                    [--env KEY=VALUE ...] [--timeout S] [--memory MB]
                    [--function-name NAME] [--region R] [--zip] [--check-readonly]

The package's bootstrap runs under bubblewrap in an otherwise empty, read-only
root that holds only what Lambda gives every OS-only runtime (the C library,
libgcc_s, /bin/sh, a minimal /etc), with the package read-only at /var/task, a
writable /tmp, the host's network (the runtime API below and a local stack on
127.0.0.1) and Lambda's environment variables only. The script serves the
Lambda Runtime API itself (doc page "Using the Lambda runtime API for custom
runtimes") on 127.0.0.1 and a random port, hands the function one event, and
prints one JSON line on stdout:

  {"status": "response"|"error"|"init_error"|"exited"|"timeout", "body": ...,
   "init_ms": ..., "total_ms": ..., "exit_code": ..., "max_rss_mb": ...}

The function's stdout and stderr go to stderr. Exit status 0 for "response"
only. arm64 packages run under qemu-aarch64-static (Debian qemu-user-static)
with the arm64 C library of Debian's libc6-arm64-cross. docs/lambda-sandbox.md
lists what differs from a real Lambda. Python 3.11 standard library only.

Why bubblewrap rather than unshare + chroot: bwrap builds the whole mount
namespace (read-only binds, /proc, a minimal /dev, a tmpfs) from one command
line, in a child that cannot outlive us (--die-with-parent), and runs the
function as an unprivileged uid in its own user namespace; unshare + chroot
would need root's mounts done by hand, leave a root-owned process able to
escape a chroot, and clean-up of the mounts on every exit path.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/2018-06-01/runtime"
# The runtime API refuses a synchronous response larger than this ("Lambda quotas").
MAX_RESPONSE = 6 * 1024 * 1024
# Lambda's init phase may take 10 s (doc page "Understanding the Lambda
# execution environment lifecycle").
INIT_TIMEOUT = 10.0
# The user Lambda runs functions as (uid 993, "sbx_user1051").
SANDBOX_UID, SANDBOX_GID = 993, 990

# The C library a provided.al2023 root holds (glibc, one package there) and
# libgcc_s. The host's for x86_64; Debian's libc6-arm64-cross and
# libgcc-s1-arm64-cross for arm64.
RUNTIME_LIBS = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                "libresolv.so.2", "libutil.so.1", "libgcc_s.so.1"]
ARCHES = {
    "x86_64": {"libdir": "/lib/x86_64-linux-gnu", "loader": "ld-linux-x86-64.so.2",
               "loader_path": "/lib64/ld-linux-x86-64.so.2"},
    "arm64": {"libdir": "/usr/aarch64-linux-gnu/lib", "loader": "ld-linux-aarch64.so.1",
              "loader_path": "/lib/ld-linux-aarch64.so.1"},
}
QEMU = "/usr/bin/qemu-aarch64-static"


def die(msg: str, code: int = 2) -> None:
    print("lambda_sandbox: " + msg, file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------- root filesystem

def build_root(root: str, arch: str, need_shell: bool) -> None:
    """An Amazon Linux 2023-shaped root: libraries in /usr/lib64 (/lib64 and
    /lib lead there too), /bin/sh, /etc with passwd, group, hosts and an empty
    resolv.conf, and empty mount points for /proc, /dev, /tmp, /var/task."""
    spec = ARCHES[arch]
    lib64 = os.path.join(root, "usr/lib64")
    for d in ("usr/lib64", "usr/lib", "usr/bin", "etc", "proc", "dev", "tmp",
              "var/task", "var/runtime", "opt"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.symlink("usr/lib64", os.path.join(root, "lib64"))
    os.symlink("usr/lib", os.path.join(root, "lib"))
    os.symlink("usr/bin", os.path.join(root, "bin"))
    for name in RUNTIME_LIBS + [spec["loader"]]:
        src = os.path.join(spec["libdir"], name)
        if not os.path.exists(src):
            die("%s not found: install %s" % (src, "libc6 and libgcc-s1" if arch == "x86_64"
                                                 else "libc6-arm64-cross and libgcc-s1-arm64-cross"))
        shutil.copy(src, os.path.join(lib64, name))
    # AL2023's loader looks in /usr/lib64 by itself; the Debian loader used
    # here looks in its multiarch directory, which leads there too, so a
    # process started without LD_LIBRARY_PATH still finds the C library.
    multiarch = "x86_64-linux-gnu" if arch == "x86_64" else "aarch64-linux-gnu"
    os.symlink("../lib64", os.path.join(root, "usr/lib", multiarch))
    if arch == "arm64":
        # The aarch64 ABI's interpreter is /lib/ld-linux-aarch64.so.1.
        os.symlink("../lib64/" + spec["loader"], os.path.join(root, "usr/lib", spec["loader"]))
        shutil.copy(QEMU, os.path.join(root, "usr/bin/qemu-aarch64-static"))
    if need_shell:
        shutil.copy("/bin/dash", os.path.join(root, "usr/bin/sh"))
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\n"
                      "sbx_user1051:x:%d:%d::/home/sbx_user1051:/sbin/nologin\n" % (SANDBOX_UID, SANDBOX_GID),
        "etc/group": "root:x:0:\nsbx_user1051:x:%d:\n" % SANDBOX_GID,
        "etc/hosts": "127.0.0.1   localhost localhost.localdomain\n"
                     "::1         localhost localhost.localdomain\n",
        "etc/resolv.conf": "",
        "etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
    }
    for path, text in files.items():
        with open(os.path.join(root, path), "w") as f:
            f.write(text)


def unzip_package(package: str, dest: str) -> None:
    """The package through the zip `sam package` makes and Lambda extracts:
    modes from the zip entries, as Lambda applies them."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_packages import sam_zip   # same directory, standard library only
    import io
    with zipfile.ZipFile(io.BytesIO(sam_zip(package))) as zf:
        for info in zf.infolist():
            target = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                os.chmod(target, mode)


def is_wrapper(bootstrap: str) -> bool:
    with open(bootstrap, "rb") as f:
        return f.read(2) == b"#!"


# ---------------------------------------------------------------- runtime API

class Invocation:
    def __init__(self, event: bytes, timeout: float, function_arn: str):
        self.request_id = str(uuid.uuid4())
        self.event = event
        self.timeout = timeout
        self.function_arn = function_arn
        self.lock = threading.Lock()
        self.answered = threading.Event()
        self.stopping = threading.Event()
        self.delivered_at: float | None = None
        self.status: str | None = None
        self.body: bytes = b""
        self.error_type: str | None = None
        self.answered_at: float | None = None

    def answer(self, status: str, body: bytes, error_type: str | None = None) -> bool:
        with self.lock:
            if self.status is not None:
                return False
            self.status, self.body, self.error_type = status, body, error_type
            self.answered_at = time.monotonic()
        self.answered.set()
        return True


def make_handler(inv: Invocation):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):    # the function's own output is what matters
            pass

        def reply(self, code: int, obj: dict | None = None, headers: dict | None = None, raw: bytes | None = None):
            body = raw if raw is not None else json.dumps(obj or {}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                # hyper (the Rust runtime's HTTP client) may send bodies chunked.
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass                # trailers
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path != API + "/invocation/next":
                return self.reply(404, {"errorMessage": "unknown path", "errorType": "NotFound"})
            with inv.lock:
                first = inv.delivered_at is None
                if first:
                    inv.delivered_at = time.monotonic()
            if not first:
                # One invocation only: the next one never comes (the process is
                # killed once the answer is in, as an idle Lambda is frozen).
                inv.stopping.wait()
                self.close_connection = True
                return
            deadline_ms = int((time.time() + inv.timeout) * 1000)
            self.reply(200, raw=inv.event, headers={
                "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                "Lambda-Runtime-Trace-Id": "Root=1-%08x-%s;Parent=%s;Sampled=0"
                % (int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16]),
            })

        def do_POST(self):
            body = self.read_body()
            if self.path == API + "/init/error":
                inv.answer("init_error", body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
                return self.reply(202, {"status": "OK"})
            prefix = API + "/invocation/"
            if not self.path.startswith(prefix):
                return self.reply(404, {"errorMessage": "unknown path", "errorType": "NotFound"})
            request_id, _, kind = self.path[len(prefix):].partition("/")
            if kind not in ("response", "error"):
                return self.reply(404, {"errorMessage": "unknown path", "errorType": "NotFound"})
            if request_id != inv.request_id or inv.delivered_at is None:
                return self.reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            if kind == "response" and len(body) > MAX_RESPONSE:
                inv.answer("error", json.dumps({
                    "errorMessage": "Response payload size (%d bytes) exceeded maximum allowed payload "
                                    "size (%d bytes)." % (len(body), MAX_RESPONSE),
                    "errorType": "Function.ResponseSizeTooLarge"}).encode(), "Function.ResponseSizeTooLarge")
                return self.reply(413, {"errorMessage": "payload too large",
                                        "errorType": "RequestEntityTooLarge"})
            if kind == "response":
                ok = inv.answer("response", body)
            else:
                ok = inv.answer("error", body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
            if not ok:
                return self.reply(400, {"errorMessage": "Invocation already answered",
                                        "errorType": "InvalidStateTransition"})
            self.reply(202, {"status": "OK"})

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A killed function drops its connections; that is no error of ours.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


# ---------------------------------------------------------------- process

def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    kids = [int(x) for x in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def peak_rss_kb(pids: list[int]) -> int:
    best = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


def bwrap_command(root: str, package: str, arch: str, tmp_mb: int) -> list[str]:
    """Flags checked on this machine (root in a container, bubblewrap 0.8):
    --unshare-user works as root and without it; with it the function runs as
    Lambda's uid 993 and has no capabilities, so the read-only mounts are the
    only thing between it and /var/task."""
    cmd = [
        "bwrap",
        "--unshare-all", "--share-net",            # own pid/ipc/uts/user/cgroup namespaces, host network
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
        "--hostname", "lambda-sandbox",
        "--die-with-parent", "--new-session",
        "--ro-bind", root, "/",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
        "--ro-bind", package, "/var/task",
        "--chdir", "/var/task",
        "--",
    ]
    if arch == "arm64":
        cmd += ["/usr/bin/qemu-aarch64-static", "/var/task/bootstrap"]
    else:
        cmd += ["/var/task/bootstrap"]
    return cmd


def lambda_environment(args, api: str) -> dict[str, str]:
    """Lambda's reserved and default variables for provided.al2023 (doc page
    "Defined runtime environment variables"); no HOME. --env values last."""
    name = args.function_name
    env = {
        "AWS_LAMBDA_RUNTIME_API": api,
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(args.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name,
        "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
                           "/var/task:/var/task/lib:/opt/lib",
    }
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            die("--env %r: expected KEY=VALUE" % item)
        env[key] = value
    return env


def run(args) -> dict:
    package = os.path.abspath(args.package)
    bootstrap = os.path.join(package, "bootstrap")
    if not os.path.isfile(bootstrap):
        die("%s not found" % bootstrap)
    for tool in ["bwrap"] + ([QEMU] if args.arch == "arm64" else []):
        if not shutil.which(tool):
            die("%s not found: `make -C infra sandbox-deps` installs it" % tool)
    wrapper = is_wrapper(bootstrap)
    if wrapper and args.arch == "arm64":
        # The wrapper's exec of the shipped arm64 loader needs the kernel to
        # hand arm64 binaries to qemu (binfmt_misc), which this container lacks.
        die("%s is a shell wrapper: arm64 wrappers need binfmt_misc for qemu, not available here" % bootstrap)
    if args.event == "-":
        event = sys.stdin.buffer.read()
    else:
        with open(args.event, "rb") as f:
            event = f.read()

    work = tempfile.mkdtemp(prefix="lambda-sandbox-")
    proc = None
    server = None
    try:
        root = os.path.join(work, "root")
        os.mkdir(root)
        build_root(root, args.arch, need_shell=wrapper or args.arch == "x86_64")
        os.chmod(work, 0o755)
        if args.zip:
            unpacked = os.path.join(work, "task")
            os.mkdir(unpacked)
            unzip_package(package, unpacked)
            package = unpacked

        arn = "arn:aws:lambda:%s:123456789012:function:%s" % (args.region, args.function_name)
        inv = Invocation(event, args.timeout, arn)
        server = QuietServer(("127.0.0.1", 0), make_handler(inv))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        api = "127.0.0.1:%d" % server.server_address[1]

        def limits():
            if args.rlimit_as:
                import resource
                n = args.rlimit_as * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (n, n))

        cmd = bwrap_command(root, package, args.arch, args.tmp_mb)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=lambda_environment(args, api), stdin=subprocess.DEVNULL,
                                stdout=sys.stderr.fileno(), stderr=sys.stderr.fileno(),
                                start_new_session=True, preexec_fn=limits)
        peak = 0
        status = None
        while True:
            if inv.answered.wait(0.02):
                status = inv.status
                break
            now = time.monotonic()
            peak = max(peak, peak_rss_kb(descendants(proc.pid)))
            if proc.poll() is not None:
                # The answer may have raced the exit.
                status = inv.status or "exited"
                break
            if inv.delivered_at is None and now - t0 > args.init_timeout:
                status = "timeout"
                break
            if inv.delivered_at is not None and now - inv.delivered_at > args.timeout:
                status = "timeout"
                break
        end = inv.answered_at or time.monotonic()
        peak = max(peak, peak_rss_kb(descendants(proc.pid)))
        exit_code = proc.poll()
        if exit_code is None:
            stop(proc)
        inv.stopping.set()
        body: object = None
        if status in ("response", "error", "init_error"):
            try:
                body = json.loads(inv.body) if inv.body else None
            except ValueError:
                body = inv.body.decode("utf-8", "replace")
        result = {
            "status": status,
            "body": body,
            "init_ms": round((inv.delivered_at - t0) * 1000, 1) if inv.delivered_at else None,
            "total_ms": round((end - t0) * 1000, 1),
            "exit_code": exit_code,
            "max_rss_mb": round(peak / 1024, 1),
            "request_id": inv.request_id,
        }
        if inv.error_type:
            result["error_type"] = inv.error_type
        if status == "timeout":
            result["body"] = {"errorMessage": "Task timed out after %.2f seconds"
                              % (args.timeout if inv.delivered_at else args.init_timeout),
                              "errorType": "Sandbox.Timedout"}
        return result
    finally:
        if proc is not None and proc.poll() is None:
            stop(proc)
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(work, ignore_errors=True)


def stop(proc: subprocess.Popen) -> None:
    """Kills the sandbox: bwrap's session, and with it (--unshare-pid,
    --die-with-parent) every process inside."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# ---------------------------------------------------------------- self-test

def check_readonly(args) -> int:
    """Runs a shell inside the sandbox that must fail to write into /var/task
    and succeed in writing /tmp (x86_64 root; the mounts are the same for arm64)."""
    with tempfile.TemporaryDirectory(prefix="lambda-sandbox-check-") as work:
        pkg = os.path.join(work, "task")
        os.mkdir(pkg)
        with open(os.path.join(pkg, "bootstrap"), "w") as f:
            # Shell builtins only: the root has no coreutils, as Lambda's has none.
            f.write("#!/bin/sh\n"
                    "if (: > /var/task/written) 2>/dev/null; then echo 'FAIL: /var/task is writable'; exit 1; fi\n"
                    "echo ok > /tmp/written && read x < /tmp/written && [ \"$x\" = ok ] "
                    "|| { echo 'FAIL: /tmp is not writable'; exit 1; }\n"
                    "[ -z \"${HOME+set}\" ] || { echo 'FAIL: HOME is set'; exit 1; }\n"
                    "echo root holds: /*\n"
                    "echo 'PASS: /var/task read-only, /tmp writable, no HOME'; exit 0\n")
        os.chmod(os.path.join(pkg, "bootstrap"), 0o755)
        root = os.path.join(work, "root")
        os.mkdir(root)
        build_root(root, "x86_64", need_shell=True)
        os.chmod(work, 0o755)
        args.function_name = args.function_name or "check-readonly"
        env = lambda_environment(args, "127.0.0.1:9")
        r = subprocess.run(bwrap_command(root, pkg, "x86_64", args.tmp_mb), env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        print((r.stdout + r.stderr).strip(), file=sys.stderr)
        return 0 if r.returncode == 0 and "PASS" in r.stdout else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", help="the package directory (infra/build/<function>)")
    ap.add_argument("--arch", choices=sorted(ARCHES))
    ap.add_argument("--template", help="take --arch from this template's declaration for the package "
                                       "directory's function (check_packages.py reads it)")
    ap.add_argument("--event", help="the event JSON file, - for stdin")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="the function's own environment (TABLE_NAME, credentials, endpoint URL, ...)")
    ap.add_argument("--timeout", type=float, default=30.0, help="invocation timeout in seconds (default 30)")
    ap.add_argument("--init-timeout", type=float, default=INIT_TIMEOUT,
                    help="time allowed until the first GET next (default 10, Lambda's init limit)")
    ap.add_argument("--memory", type=int, default=128, help="AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB (default 128)")
    ap.add_argument("--rlimit-as", type=int, metavar="MB",
                    help="also cap the address space (RLIMIT_AS); off by default: address space is "
                         "not memory (see docs/lambda-sandbox.md)")
    ap.add_argument("--tmp-mb", type=int, default=512, help="size of /tmp (default 512, Lambda's default)")
    ap.add_argument("--function-name", help="AWS_LAMBDA_FUNCTION_NAME (default: the package directory's name)")
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--zip", action="store_true",
                    help="run the package as extracted from the zip `sam package` makes")
    ap.add_argument("--check-readonly", action="store_true",
                    help="self-test: /var/task must be read-only and /tmp writable in the sandbox")
    args = ap.parse_args(argv)
    if not shutil.which("bwrap"):
        die("bwrap not found: `make -C infra sandbox-deps` installs bubblewrap")
    if args.check_readonly:
        return check_readonly(args)
    if args.template and args.package and not args.arch:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from check_packages import template_functions   # same directory, standard library only
        name = os.path.basename(os.path.abspath(args.package))
        declared = {f.name: f.arch for f in template_functions(args.template, {})}
        if name not in declared:
            ap.error("--template: no function with CodeUri build/%s/ in %s" % (name, args.template))
        args.arch = declared[name]
    if not (args.package and args.arch and args.event):
        ap.error("--package, --arch (or --template) and --event are required")
    args.function_name = args.function_name or os.path.basename(os.path.abspath(args.package))
    result = run(args)
    print(json.dumps(result), flush=True)
    if result["status"] == "response" and result["max_rss_mb"] > args.memory:
        print("lambda_sandbox: peak resident memory %.1f MB is over the function's %d MB; "
              "Lambda would have stopped it" % (result["max_rss_mb"], args.memory), file=sys.stderr)
        return 1
    return 0 if result["status"] == "response" else 1


if __name__ == "__main__":
    sys.exit(main())
