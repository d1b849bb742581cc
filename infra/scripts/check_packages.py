#!/usr/bin/env python3
"""Checks the Lambda packages in BUILD_DIR against what provided.al2023 offers.

Usage:
  check_packages.py BUILD_DIR --template infra/template.yaml [--glibc 2.34]
                    [--arch-override NAME=ARCH ...] [--json OUT.json]

For every function of the template (`CodeUri: build/<name>/`), the package
directory BUILD_DIR/<name>/ is checked:

  architecture  the ELF machine of the binary that runs (bootstrap, or the
                bin/<name> a `#!/bin/sh` bootstrap starts through a shipped
                lib/ld-linux-*.so) is the architecture the template declares;
  glibc         no ELF file of the package needs a GLIBC_x.y symbol version
                newer than --glibc, unless the package starts through its own
                shipped loader (then the newest needed is reported only);
  libraries     every DT_NEEDED library of every shipped ELF file is shipped in
                lib/ or is one the runtime provides (RUNTIME_LIBRARIES);
  size          the package zipped the way `sam package` zips it, and unzipped,
                is within Lambda's limits.

Prints one table row a function and exits 1, naming the function and the file,
on any violation. Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import struct
import sys
import zipfile
from dataclasses import dataclass, field

# Lambda quotas (doc page "Lambda quotas"): a .zip deployment package uploaded
# directly is at most 50 MB, and its unzipped contents (layers included) at
# most 250 MB. Both are MiB in practice (the API counts bytes: 52,428,800 and
# 262,144,000).
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024

# Shared libraries every provided.al2023 function can load without shipping
# them. The OS-only runtime (doc pages "Lambda runtimes" and "Building Lambda
# functions with an OS-only runtime") is Amazon Linux 2023's minimal image:
# glibc 2.34 (libc, libm, libdl, libpthread, librt, libresolv, libutil and the
# dynamic loader, all one package) and GCC's libgcc_s (a dependency of glibc's
# own pthread_cancel and of every C++ or Rust unwinder). Anything else -
# libstdc++, OpenSSL, zlib - is not promised by the documentation, so a package
# that needs it ships it in lib/ (on Lambda's default LD_LIBRARY_PATH).
RUNTIME_LIBRARIES = frozenset({
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
    "libresolv.so.2", "libutil.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
    "libgcc_s.so.1",
})
# glibc's own files: shipping them only makes sense with the loader beside them.
GLIBC_FILES = re.compile(
    r"^(ld-linux[-\w.]*\.so\.\d+|lib(c|m|dl|pthread|rt|resolv|util|mvec)\.so\.\d+)$")

ARCH_BY_MACHINE = {62: "x86_64", 183: "arm64"}   # EM_X86_64, EM_AARCH64
LOADER_BY_ARCH = {"x86_64": "ld-linux-x86-64.so.2", "arm64": "ld-linux-aarch64.so.1"}


# ---------------------------------------------------------------- ELF reading

class ElfError(Exception):
    pass


@dataclass
class ElfInfo:
    path: str
    arch: str
    interpreter: str | None = None
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    # (library the version is needed from, version name), from .gnu.version_r
    version_needs: list[tuple[str, str]] = field(default_factory=list)

    def newest_glibc(self) -> tuple[int, ...] | None:
        versions = [parse_glibc(v) for _, v in self.version_needs]
        versions = [v for v in versions if v]
        return max(versions) if versions else None


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def parse_glibc(name: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"GLIBC_(\d+(?:\.\d+)+)", name)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def fmt_version(v: tuple[int, ...] | None) -> str:
    return ".".join(map(str, v)) if v else "-"


def read_elf(path: str) -> ElfInfo:
    """Reads machine, PT_INTERP and the dynamic section (DT_NEEDED, DT_SONAME,
    DT_VERNEED) of a 64-bit little-endian ELF file, through the program
    headers, as the dynamic loader does (section headers may be stripped)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise ElfError("not a 64-bit little-endian ELF file (class %d, data %d)" % (data[4], data[5]))
    (e_type, e_machine, _ver, _entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    arch = ARCH_BY_MACHINE.get(e_machine, "machine-%d" % e_machine)
    info = ElfInfo(path=path, arch=arch)

    loads, dynamic = [], None
    for i in range(e_phnum):
        p_type, _pflags, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1:                      # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:                    # PT_DYNAMIC
            dynamic = (p_offset, p_filesz)
        elif p_type == 3:                    # PT_INTERP
            info.interpreter = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    if dynamic is None:
        return info                          # statically linked

    def offset(vaddr: int) -> int:
        for start, off, size in loads:
            if start <= vaddr < start + size:
                return vaddr - start + off
        raise ElfError("address 0x%x is in no PT_LOAD segment" % vaddr)

    tags: dict[int, list[int]] = {}
    off, size = dynamic
    for pos in range(off, off + size, 16):
        tag, val = struct.unpack_from("<qQ", data, pos)
        if tag == 0:                         # DT_NULL
            break
        tags.setdefault(tag, []).append(val)
    if 5 not in tags:                        # DT_STRTAB
        raise ElfError("dynamic section without DT_STRTAB")
    strtab = offset(tags[5][0])

    def string(index: int) -> str:
        end = data.index(b"\0", strtab + index)
        return data[strtab + index:end].decode("utf-8", "replace")

    info.needed = [string(v) for v in tags.get(1, [])]          # DT_NEEDED
    if 14 in tags:                                              # DT_SONAME
        info.soname = string(tags[14][0])
    if 0x6FFFFFFE in tags:                                      # DT_VERNEED
        pos = offset(tags[0x6FFFFFFE][0])
        count = tags.get(0x6FFFFFFF, [0])[0]                    # DT_VERNEEDNUM
        for _ in range(count):
            # Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _v, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, pos)
            library = string(vn_file)
            aux = pos + vn_aux
            for _ in range(vn_cnt):
                # Elf64_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _h, _f, _o, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                info.version_needs.append((library, string(vna_name)))
                if vna_next == 0:
                    break
                aux += vna_next
            if vn_next == 0:
                break
            pos += vn_next
    return info


# ---------------------------------------------------------------- template

def parse_yaml_mappings(text: str) -> dict:
    """The block mappings of a CloudFormation YAML template as nested dicts of
    strings. Enough for Parameters, Globals and Resources' scalar properties:
    sequences and block scalars are skipped, flow sequences stay strings, and
    tags (!Ref) are kept in the value."""
    root: dict = {}
    stack: list[tuple[int, dict]] = [(0, root)]
    pending: tuple[int, dict, str] | None = None    # key whose value is on the next lines
    skip_deeper_than: int | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if skip_deeper_than is not None:
            if indent > skip_deeper_than or (indent == skip_deeper_than and stripped.startswith("- ")):
                continue
            skip_deeper_than = None
        if pending is not None:
            p_indent, p_parent, p_key = pending
            pending = None
            if stripped.startswith("-") and indent >= p_indent:
                p_parent[p_key] = []                # a sequence: not needed here
                skip_deeper_than = p_indent
                continue
            if indent > p_indent:
                child: dict = {}
                p_parent[p_key] = child
                stack.append((indent, child))
        while len(stack) > 1 and stack[-1][0] > indent:
            stack.pop()
        if stack[-1][0] != indent:
            continue                                # inside something not modelled
        m = re.match(r"""^("[^"]*"|'[^']*'|[^\s:#][^:#]*?)\s*:(?:\s+(.*))?$""", stripped)
        if not m:
            continue
        key = m.group(1).strip("\"'")
        value = (m.group(2) or "").strip()
        value = re.sub(r"\s+#.*$", "", value)
        if not value:
            pending = (indent, stack[-1][1], key)
            stack[-1][1][key] = ""
        elif value[0] in "|>":
            stack[-1][1][key] = ""
            skip_deeper_than = indent
        else:
            stack[-1][1][key] = value.strip("\"'") if value[0] in "\"'" else value
    return root


@dataclass
class Function:
    logical_id: str
    name: str          # the package directory: CodeUri build/<name>/
    arch: str
    arch_source: str


def template_functions(path: str, overrides: dict[str, str]) -> list[Function]:
    with open(path, encoding="utf-8") as f:
        doc = parse_yaml_mappings(f.read())
    params = doc.get("Parameters", {})
    globals_arch = doc.get("Globals", {}).get("Function", {}).get("Architectures")

    def resolve(expr: str | None, where: str) -> tuple[str, str]:
        if not expr:
            return "x86_64", "Lambda's default"
        item = expr.strip().strip("[]").strip()
        m = re.fullmatch(r"!Ref\s+(\w+)", item)
        if m:
            param = params.get(m.group(1))
            if not isinstance(param, dict) or "Default" not in param:
                raise SystemExit("template: %s refers to parameter %s without a Default" % (where, m.group(1)))
            return param["Default"].strip("\"'"), "parameter %s's Default" % m.group(1)
        return item, where

    functions = []
    for logical_id, res in doc.get("Resources", {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        uri = props.get("CodeUri", "") if isinstance(props, dict) else ""
        m = re.fullmatch(r"build/([^/]+)/?", uri)
        if not m:
            raise SystemExit("template: %s has CodeUri %r, not build/<name>/" % (logical_id, uri))
        name = m.group(1)
        if props.get("Architectures"):
            arch, source = resolve(props["Architectures"], "its Architectures")
        else:
            arch, source = resolve(globals_arch, "Globals' Architectures")
        if name in overrides:
            arch, source = overrides[name], "--arch-override"
        functions.append(Function(logical_id, name, arch, source))
    if not functions:
        raise SystemExit("template: no AWS::Serverless::Function found in %s" % path)
    unknown = set(overrides) - {f.name for f in functions}
    if unknown:
        raise SystemExit("--arch-override: no function named %s in the template" % ", ".join(sorted(unknown)))
    return functions


# ---------------------------------------------------------------- packages

def sam_zip(directory: str) -> bytes:
    """The package zipped as `sam package` zips a CodeUri directory
    (samcli.lib.package.utils.make_zip_with_lambda_permissions): files only,
    symbolic links followed, deflate at zlib's default level, each entry with
    the file's mode plus read permission for all, 1980 timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(directory, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                info = zipfile.ZipInfo(os.path.relpath(full, directory))
                info.create_system = 3
                info.external_attr = (os.stat(full).st_mode | 0o444) << 16
                with open(full, "rb") as f:
                    zf.writestr(info, f.read(), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def unzipped_size(directory: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(directory, followlinks=True):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_size
    return total


WRAPPER_LOADER = re.compile(r"lib/(ld-linux[-\w.]*\.so\.\d+)")
WRAPPER_BINARY = re.compile(r"/bin/([-\w.]+)")


@dataclass
class Result:
    name: str
    arch: str
    unzipped: int = 0
    zipped: int = 0
    newest_glibc: tuple[int, ...] | None = None
    newest_glibc_file: str = ""
    loader: str = "system"
    problems: list[str] = field(default_factory=list)

    def row(self) -> dict:
        return {
            "function": self.name, "arch": self.arch,
            "unzipped_mb": round(self.unzipped / 1048576, 1),
            "zipped_mb": round(self.zipped / 1048576, 1),
            "newest_glibc": fmt_version(self.newest_glibc),
            "newest_glibc_file": self.newest_glibc_file,
            "loader": self.loader, "ok": not self.problems, "problems": self.problems,
        }


def check_package(directory: str, fn: Function, max_glibc: tuple[int, ...]) -> Result:
    res = Result(fn.name, fn.arch)
    problem = res.problems.append
    rel = lambda p: os.path.relpath(p, os.path.dirname(directory.rstrip("/")))
    bootstrap = os.path.join(directory, "bootstrap")
    if not os.path.isdir(directory):
        problem("package directory %s not found (run `make -C infra package`)" % directory)
        return res
    if not os.path.isfile(bootstrap):
        problem("%s: missing (Lambda starts bootstrap)" % rel(bootstrap))
        return res
    if not os.access(bootstrap, os.X_OK):
        problem("%s: not executable" % rel(bootstrap))

    # The binary that runs, and the loader that starts it.
    with open(bootstrap, "rb") as f:
        head = f.read(4096)
    shipped_loader = None
    if head.startswith(b"#!"):
        text = head.decode("utf-8", "replace")
        loader_m, binary_m = WRAPPER_LOADER.search(text), WRAPPER_BINARY.search(text.split("\n", 1)[-1])
        if not loader_m or not binary_m:
            problem("%s: a script that starts no lib/ld-linux*.so with a bin/<name>; "
                    "cannot tell what runs" % rel(bootstrap))
            return res
        shipped_loader = os.path.join(directory, "lib", loader_m.group(1))
        runs = os.path.join(directory, "bin", binary_m.group(1))
        for path in (shipped_loader, runs):
            if not os.path.isfile(path):
                problem("%s: starts %s, which is not in the package" % (rel(bootstrap), rel(path)))
        if res.problems:
            return res
        res.loader = "shipped"
        if not head.startswith(b"#!/bin/sh"):
            problem("%s: interpreter %r; the runtime has /bin/sh" % (rel(bootstrap), text.split("\n", 1)[0]))
    else:
        runs = bootstrap

    # Every ELF file of the package.
    elves: dict[str, ElfInfo] = {}
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if not is_elf(path):
                continue
            try:
                elves[path] = read_elf(path)
            except (ElfError, struct.error, ValueError, IndexError) as e:
                problem("%s: unreadable ELF file: %s" % (rel(path), e))
    if runs not in elves:
        problem("%s: not an ELF binary the runtime can start" % rel(runs))
        return res

    # (a) architecture
    main = elves[runs]
    if main.arch != fn.arch:
        problem("%s: ELF machine %s, but the template declares %s (%s)"
                % (rel(runs), main.arch, fn.arch, fn.arch_source))
    for path, elf in elves.items():
        if path != runs and elf.arch != main.arch:
            problem("%s: ELF machine %s in a %s package" % (rel(path), elf.arch, main.arch))
    if shipped_loader and os.path.basename(shipped_loader) != LOADER_BY_ARCH.get(fn.arch):
        problem("%s: loader %s cannot start %s binaries"
                % (rel(bootstrap), os.path.basename(shipped_loader), fn.arch))
    if not shipped_loader and main.arch == fn.arch and main.interpreter and os.path.basename(main.interpreter) != LOADER_BY_ARCH.get(fn.arch):
        problem("%s: interpreter %s is not the %s loader" % (rel(runs), main.interpreter, fn.arch))

    # (b) glibc symbol versions
    for path, elf in elves.items():
        newest = elf.newest_glibc()
        if newest and (res.newest_glibc is None or newest > res.newest_glibc):
            res.newest_glibc, res.newest_glibc_file = newest, rel(path)
        if newest and newest > max_glibc and not shipped_loader:
            needs = sorted({v for _, v in elf.version_needs if (parse_glibc(v) or ()) > max_glibc},
                           key=parse_glibc)
            problem("%s: needs %s, newer than the runtime's glibc %s (and the package starts "
                    "through the system loader)" % (rel(path), ", ".join(needs), fmt_version(max_glibc)))

    # (c) libraries
    lib_dir = os.path.join(directory, "lib")
    shipped = set(os.listdir(lib_dir)) if os.path.isdir(lib_dir) else set()
    if not shipped_loader:
        shipped |= {n for n in os.listdir(directory) if os.path.isfile(os.path.join(directory, n))}
        for name in sorted(shipped):
            if GLIBC_FILES.match(name):
                problem("%s: ships glibc's %s but starts through the system loader, "
                        "which would load it with its own glibc" % (fn.name, name))
    for path, elf in elves.items():
        for lib in elf.needed:
            if lib in shipped:
                continue
            if shipped_loader:
                # The shipped loader searches --library-path lib first; past
                # that it would only find the runtime's libraries through the
                # runtime's ld.so.cache, built for another glibc and nothing
                # the documentation promises. bundle-libs.sh copies every
                # library ldd resolves, so one missing is an incomplete bundle.
                problem("%s: needs %s, not shipped in lib/ (a package with its own loader "
                        "ships every library it loads)" % (rel(path), lib))
            elif lib not in RUNTIME_LIBRARIES:
                problem("%s: needs %s, neither shipped in lib/ nor provided by provided.al2023"
                        % (rel(path), lib))

    # (d) size
    res.unzipped = unzipped_size(directory)
    res.zipped = len(sam_zip(directory))
    if res.zipped > MAX_ZIPPED:
        problem("%s: zipped %.1f MB, over Lambda's %d MB direct-upload limit"
                % (fn.name, res.zipped / 1048576, MAX_ZIPPED // 1048576))
    if res.unzipped > MAX_UNZIPPED:
        problem("%s: unzipped %.1f MB, over Lambda's %d MB limit"
                % (fn.name, res.unzipped / 1048576, MAX_UNZIPPED // 1048576))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--template", required=True)
    ap.add_argument("--glibc", default="2.34", help="the runtime's glibc (default 2.34, provided.al2023)")
    ap.add_argument("--arch-override", action="append", default=[], metavar="NAME=ARCH",
                    help="check package NAME for ARCH instead of the template's (e.g. a host-arch build)")
    ap.add_argument("--json", metavar="OUT", help="also write the table as JSON")
    args = ap.parse_args(argv)

    max_glibc = parse_glibc("GLIBC_" + args.glibc)
    if not max_glibc:
        ap.error("--glibc: expected a version such as 2.34")
    overrides = {}
    for item in args.arch_override:
        name, _, arch = item.partition("=")
        if arch not in LOADER_BY_ARCH:
            ap.error("--arch-override %s: ARCH is x86_64 or arm64" % item)
        overrides[name] = arch

    results = []
    for fn in template_functions(args.template, overrides):
        if fn.arch not in LOADER_BY_ARCH:
            raise SystemExit("template: %s declares architecture %r" % (fn.logical_id, fn.arch))
        results.append(check_package(os.path.join(args.build_dir, fn.name), fn, max_glibc))

    header = ("function", "arch", "unzipped MB", "zipped MB", "glibc needed", "loader")
    rows = [(r.name, r.arch, "%.1f" % (r.unzipped / 1048576), "%.1f" % (r.zipped / 1048576),
             fmt_version(r.newest_glibc), r.loader + (" (self-contained)" if r.loader == "shipped" else ""))
            for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"glibc": args.glibc, "functions": [r.row() for r in results]}, f, indent=2)
            f.write("\n")
    failed = [r for r in results if r.problems]
    for r in failed:
        for p in r.problems:
            print("check_packages: %s: %s" % (r.name, p), file=sys.stderr)
    if failed:
        print("check_packages: %d of %d packages fail: %s"
              % (len(failed), len(results), ", ".join(r.name for r in failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
