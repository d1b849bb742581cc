#!/usr/bin/env python3
"""The slowest tests of a `make test` log, with their times.

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
        found = sorted(timings(log), reverse=True)
    print(f"slowest {min(how_many, len(found))} of {len(found)} timed tests:")
    for seconds, name in found[:how_many]:
        print(f"{seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main()
