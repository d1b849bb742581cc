"""Tests of infra/scripts/check_packages.py and infra/scripts/lambda_sandbox.py.

Run with `make -C infra package-tools-test` (python3 -m unittest). Builds tiny
fake packages from test/sandbox/*.c: a custom runtime in C that answers one
invocation over the runtime API, with planted faults. Needs gcc and bubblewrap
(`make -C infra sandbox-deps`); the arm64 cases also need
aarch64-linux-gnu-gcc and qemu-user-static, and are skipped without them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

INFRA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(INFRA, "scripts")
SOURCES = os.path.join(INFRA, "test", "sandbox")
sys.path.insert(0, SCRIPTS)

import check_packages  # noqa: E402

HAVE_ARM64 = bool(shutil.which("aarch64-linux-gnu-gcc") and os.path.exists("/usr/bin/qemu-aarch64-static")
                  and os.path.exists("/usr/aarch64-linux-gnu/lib/libc.so.6"))
HAVE_BWRAP = bool(shutil.which("bwrap"))

# one: x86_64 as content-updated and face-detection; two: the Architecture
# parameter's Default, as the other four.
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Architecture:
    Type: String
    Default: {default}
    AllowedValues: [arm64, x86_64]
    Description: >-
      Folded text: not a key: value line.
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Architectures: [!Ref Architecture]
Resources:
  OneFunction:
    Type: AWS::Serverless::Function
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_117
            comment: a sequence the parser skips
    Properties:
      CodeUri: build/one/
      Architectures: [x86_64]  # native
      MemorySize: 128
  TwoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/two/
      Policies:
        - Version: "2012-10-17"
"""


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Fixture:
    """Compiled programs shared by the tests (built once)."""

    def __init__(self, work: str):
        self.work = work
        src = os.path.join(SOURCES, "runtime_echo.c")
        self.echo = self.cc("gcc", src, "echo")
        self.newer_glibc = self.cc("gcc", src, "echo-arc4random", "-DWITH_ARC4RANDOM")
        self.libgreet = os.path.join(work, "libgreet.so")
        sh("gcc", "-shared", "-fPIC", "-o", self.libgreet, os.path.join(SOURCES, "greet.c"))
        self.greet = self.cc("gcc", src, "echo-greet", "-DWITH_GREET", "-L" + work, "-lgreet")
        self.echo_arm64 = self.cc("aarch64-linux-gnu-gcc", src, "echo-arm64") if HAVE_ARM64 else None

    def cc(self, compiler: str, src: str, name: str, *flags: str) -> str:
        out = os.path.join(self.work, name)
        sh(compiler, "-O2", "-Wall", "-o", out, src, *flags)
        return out

    def package(self, name: str, binary: str, libs: tuple[str, ...] = ()) -> str:
        """A package directory: bootstrap = binary, lib/ = libs."""
        d = os.path.join(self.work, "build", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        shutil.copy(binary, os.path.join(d, "bootstrap"))
        if libs:
            os.mkdir(os.path.join(d, "lib"))
            for lib in libs:
                shutil.copy(lib, os.path.join(d, "lib", os.path.basename(lib)))
        return d


class ToolsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="package-tools-test-")
        cls.fx = Fixture(cls.work)
        cls.event = os.path.join(cls.work, "event.json")
        with open(cls.event, "w") as f:
            json.dump({"Records": [{"body": "hello", "n": 1}]}, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def sandbox(self, package: str, arch: str = "x86_64", *extra: str):
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "lambda_sandbox.py"),
                            "--package", package, "--arch", arch, "--event", self.event, *extra],
                           capture_output=True, text=True, timeout=120)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, "one JSON line on stdout, got %r (stderr %s)" % (r.stdout, r.stderr))
        return r.returncode, json.loads(lines[0]), r.stderr

    def check(self, default_arch: str = "arm64", *extra: str):
        template = os.path.join(self.work, "template.yaml")
        with open(template, "w") as f:
            f.write(TEMPLATE.format(default=default_arch))
        out = os.path.join(self.work, "table.json")
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "check_packages.py"),
                            os.path.join(self.work, "build"), "--template", template, "--json", out, *extra],
                           capture_output=True, text=True, timeout=120)
        with open(out) as f:
            table = {row["function"]: row for row in json.load(f)["functions"]}
        return r.returncode, r.stdout, r.stderr, table

    def two_good_packages(self):
        self.fx.package("one", self.fx.echo)
        if HAVE_ARM64:
            self.fx.package("two", self.fx.echo_arm64)
            return "arm64"
        self.fx.package("two", self.fx.echo)
        return "x86_64"

    # ------------------------------------------------------------ check_packages

    def test_elf_reader_agrees_with_readelf(self):
        if not shutil.which("readelf"):
            self.skipTest("readelf not installed")
        for path in (self.fx.echo, self.fx.greet, "/lib/x86_64-linux-gnu/libm.so.6"):
            info = check_packages.read_elf(path)
            out = sh("readelf", "-d", "-V", "-W", path).stdout
            needed = [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
            self.assertEqual(info.needed, needed, path)
            versions = {w for w in out.split() if w.startswith("GLIBC_2")}
            needed_versions = {v for _, v in info.version_needs if v.startswith("GLIBC_2")}
            self.assertTrue(needed_versions and needed_versions <= versions, path)
        self.assertEqual(check_packages.read_elf(self.fx.newer_glibc).newest_glibc(), (2, 36))
        if HAVE_ARM64:
            info = check_packages.read_elf(self.fx.echo_arm64)
            self.assertEqual((info.arch, info.interpreter), ("arm64", "/lib/ld-linux-aarch64.so.1"))

    def test_real_template_functions_and_architectures(self):
        fns = check_packages.template_functions(os.path.join(INFRA, "template.yaml"), {})
        arch = {f.name: f.arch for f in fns}
        self.assertEqual(arch, {
            "content-updated": "x86_64", "face-detection": "x86_64", "update-content-index": "arm64",
            "purge-bucket": "arm64", "migrate-user": "arm64", "repair": "arm64"})

    def test_good_packages_pass(self):
        arch = self.two_good_packages()
        rc, out, err, table = self.check(arch)
        self.assertEqual(rc, 0, err)
        self.assertIn("function", out.splitlines()[0])
        self.assertEqual(table["one"]["loader"], "system")
        self.assertEqual(table["two"]["arch"], arch)
        self.assertLessEqual(tuple(map(int, table["one"]["newest_glibc"].split("."))), (2, 34))

    def test_wrong_architecture_is_caught(self):
        arch = self.two_good_packages()
        wrong = "x86_64" if arch == "arm64" else "arm64"
        rc, _out, err, table = self.check(wrong)
        self.assertEqual(rc, 1)
        self.assertIn("two: two/bootstrap: ELF machine %s, but the template declares %s" % (arch, wrong), err)
        self.assertTrue(table["one"]["ok"])
        # A host-arch build for the local stack is checked with an override.
        rc, _out, err, _table = self.check(wrong, "--arch-override", "two=" + arch)
        self.assertEqual(rc, 0, err)

    def test_newer_glibc_symbol_is_caught_unless_self_contained(self):
        arch = self.two_good_packages()
        pkg = self.fx.package("one", self.fx.newer_glibc)
        rc, _out, err, table = self.check(arch)
        self.assertEqual(rc, 1)
        self.assertIn("one: one/bootstrap: needs GLIBC_2.36, newer than the runtime's glibc 2.34", err)
        self.assertEqual(table["one"]["newest_glibc"], "2.36")
        # bundle-libs.sh makes it self-contained: then it is reported, not refused.
        sh(os.path.join(SCRIPTS, "bundle-libs.sh"), pkg, "2.34")
        rc, out, err, table = self.check(arch)
        self.assertEqual(rc, 0, err)
        self.assertEqual((table["one"]["loader"], table["one"]["newest_glibc"]), ("shipped", "2.36"))
        self.assertIn("shipped (self-contained)", out)
        # ... and it starts in the sandbox through /bin/sh and its own loader.
        if HAVE_BWRAP:
            rc, result, err = self.sandbox(pkg)
            self.assertEqual((rc, result["status"]), (0, "response"), err)

    def test_library_left_out_of_a_bundle_is_caught(self):
        arch = self.two_good_packages()
        self.fx.package("one", self.fx.greet, libs=(self.fx.libgreet,))
        rc, _out, err, _table = self.check(arch)
        self.assertEqual(rc, 0, err)
        pkg = self.fx.package("one", self.fx.greet)          # planted fault: lib/ left out
        rc, _out, err, table = self.check(arch)
        self.assertEqual(rc, 1)
        self.assertIn("one: one/bootstrap: needs libgreet.so, neither shipped in lib/ nor provided", err)
        self.assertFalse(table["one"]["ok"])
        if HAVE_BWRAP:
            rc, result, err = self.sandbox(pkg)
            self.assertEqual((rc, result["status"]), (1, "exited"))
            self.assertIn("libgreet.so: cannot open shared object file", err)

    def test_size_limits(self):
        self.two_good_packages()
        fn = check_packages.Function("One", "one", "x86_64", "test")
        pkg = os.path.join(self.work, "build", "one")
        res = check_packages.check_package(pkg, fn, (2, 34))
        self.assertFalse(res.problems)
        self.assertGreater(res.unzipped, res.zipped)
        old = check_packages.MAX_ZIPPED, check_packages.MAX_UNZIPPED
        try:
            check_packages.MAX_ZIPPED, check_packages.MAX_UNZIPPED = 1000, 2000
            res = check_packages.check_package(pkg, fn, (2, 34))
        finally:
            check_packages.MAX_ZIPPED, check_packages.MAX_UNZIPPED = old
        self.assertTrue(any("direct-upload limit" in p for p in res.problems), res.problems)
        self.assertTrue(any("unzipped" in p and "limit" in p for p in res.problems), res.problems)

    # ------------------------------------------------------------ lambda_sandbox

    @unittest.skipUnless(HAVE_BWRAP, "bubblewrap not installed")
    def test_good_package_answers(self):
        pkg = self.fx.package("one", self.fx.echo)
        rc, result, err = self.sandbox(pkg, "x86_64", "--memory", "256")
        self.assertEqual((rc, result["status"]), (0, "response"), err)
        self.assertEqual(result["body"], {"Records": [{"body": "hello", "n": 1}]})
        self.assertGreater(result["init_ms"], 0)
        self.assertGreaterEqual(result["total_ms"], result["init_ms"])
        # ... from the zip sam package would make, too.
        rc, result, err = self.sandbox(pkg, "x86_64", "--zip")
        self.assertEqual((rc, result["status"]), (0, "response"), err)

    @unittest.skipUnless(HAVE_BWRAP and HAVE_ARM64, "needs bubblewrap, aarch64-linux-gnu-gcc, qemu-user-static")
    def test_good_arm64_package_answers_under_qemu(self):
        pkg = self.fx.package("two", self.fx.echo_arm64)
        rc, result, err = self.sandbox(pkg, "arm64")
        self.assertEqual((rc, result["status"]), (0, "response"), err)
        self.assertEqual(result["body"], {"Records": [{"body": "hello", "n": 1}]})

    @unittest.skipUnless(HAVE_BWRAP, "bubblewrap not installed")
    def test_writing_into_var_task_fails_and_tmp_works(self):
        pkg = self.fx.package("one", self.fx.echo)
        rc, result, _err = self.sandbox(pkg, "x86_64", "--env", "WRITE_PATH=/var/task/state")
        self.assertEqual((rc, result["status"]), (1, "error"))
        self.assertEqual(result["body"]["errorMessage"], "cannot write /var/task/state: Read-only file system")
        rc, result, err = self.sandbox(pkg, "x86_64", "--env", "WRITE_PATH=/tmp/state")
        self.assertEqual((rc, result["status"]), (0, "response"), err)

    @unittest.skipUnless(HAVE_BWRAP, "bubblewrap not installed")
    def test_check_readonly_self_test(self):
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "lambda_sandbox.py"), "--check-readonly"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("PASS", r.stderr)

    @unittest.skipUnless(HAVE_BWRAP, "bubblewrap not installed")
    def test_init_error_and_timeout(self):
        pkg = self.fx.package("one", self.fx.echo)
        rc, result, _err = self.sandbox(pkg, "x86_64", "--env", "INIT_ERROR=1")
        self.assertEqual((rc, result["status"]), (1, "init_error"))
        self.assertEqual(result["body"]["errorType"], "InitFailed")
        rc, result, _err = self.sandbox(pkg, "x86_64", "--env", "HANG_SECONDS=60", "--timeout", "1")
        self.assertEqual((rc, result["status"]), (1, "timeout"))
        self.assertLess(result["total_ms"], 10000)
        # The process tree is gone: nothing of this package's sandbox still runs.
        ps = sh("ps", "-eo", "args").stdout
        self.assertNotIn(pkg, ps)


if __name__ == "__main__":
    unittest.main()
