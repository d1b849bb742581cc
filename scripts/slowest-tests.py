#!/usr/bin/env python3
"""Each stage's time and the slowest tests of a `make test` log.

Stages: the Makefile's "== make test: stage NAME starts at EPOCH" lines and the closing
"== make test: passed at EPOCH" line (a run that failed has none: its last stage is open).

Reads what the runners print: cargo's test binaries ("Running tests/x.rs (...)" then
"finished in 1.23s"; stable libtest times a binary, not each test in it), the browser tests'
TAP ("ok 3 - name" then "duration_ms: 4600.8") and the spec reporter of the infrastructure
tests ("✔ name (123.4ms)"). Usage: slowest-tests.py LOG [HOW_MANY]
"""
import re
import sys

RUST_BINARY = re.compile(r"^\s+Running (\S+) \(.*/deps/([^-/]+)-[0-9a-f]+\)")
RUST_RESULT = re.compile(r"^test result: \w+\. (\d+) passed.*finished in ([\d.]+)s")
TAP_OK = re.compile(r"^ok \d+ - (.+)$")
TAP_DURATION = re.compile(r"^\s+duration_ms: ([\d.]+)")
SPEC_OK = re.compile(r"^\s*✔ (.+) \(([\d.]+)ms\)$")
STAGE = re.compile(r"^== make test: stage (\S+) starts at (\d+)")
PASSED = re.compile(r"^== make test: passed at (\d+)")


def stages(lines):
    """[(stage, seconds)] in order, and the whole run's seconds (None if it did not pass)."""
    starts, end = [], None
    for line in lines:
        if m := STAGE.match(line):
            starts.append((m.group(1), int(m.group(2))))
        elif m := PASSED.match(line):
            end = int(m.group(1))
    if not starts or end is None:
        return [(name, None) for name, _ in starts], None
    ends = [at for _, at in starts[1:]] + [end]
    return [(name, stop - at) for (name, at), stop in zip(starts, ends)], end - starts[0][1]


def timings(lines):
    binary, tap_name = None, None
    for line in lines:
        line = line.rstrip("\n")
        if m := RUST_BINARY.match(line):
            binary = f"cargo {m.group(2)} ({m.group(1)})"
        elif (m := RUST_RESULT.match(line)) and binary:
            if int(m.group(1)) > 0:
                yield float(m.group(2)), f"{binary}, {m.group(1)} tests"
            binary = None
        elif m := TAP_OK.match(line):
            tap_name = m.group(1)
        elif (m := TAP_DURATION.match(line)) and tap_name:
            yield float(m.group(1)) / 1000, f"browser: {tap_name}"
            tap_name = None
        elif m := SPEC_OK.match(line):
            yield float(m.group(2)) / 1000, f"node: {m.group(1)}"


def main():
    path = sys.argv[1]
    how_many = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = log.readlines()
    found = sorted(timings(lines), reverse=True)
    per_stage, total = stages(lines)
    if total is not None:
        print(f"make test took {total / 60:.1f} min: " + ", ".join(f"{name} {s / 60:.1f}" for name, s in per_stage))
    print(f"slowest {min(how_many, len(found))} of {len(found)} timed tests:")
    for seconds, name in found[:how_many]:
        print(f"{seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main()
