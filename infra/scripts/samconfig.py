#!/usr/bin/env python3
"""Prints one value `sam deploy --guided` saved in samconfig.toml.

    samconfig.py FILE KEY [DEFAULT] [--env default]

KEY is a deploy parameter such as stack_name or region: looked up in
[ENV.deploy.parameters], then [ENV.global.parameters]. Prints DEFAULT (or
nothing) when the file, the table or the key is missing, so that the Makefile
falls back to its own defaults; an unreadable file is an error, not a silent
fallback to another stack.

Standard library only (Python 3.11's tomllib): runs before any venv exists.
"""
from __future__ import annotations

import argparse
import sys
import tomllib


def lookup(path: str, key: str, env: str = "default") -> str | None:
    """The saved value of `key`, or None when there is none."""
    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except FileNotFoundError:
        return None
    for command in ("deploy", "global"):
        table = config.get(env, {}).get(command, {}).get("parameters", {})
        value = table.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("key")
    ap.add_argument("default", nargs="?", default="")
    ap.add_argument("--env", default="default", help="samconfig environment (sam deploy --config-env)")
    args = ap.parse_args(argv)
    try:
        value = lookup(args.file, args.key, args.env)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    print(value if value is not None else args.default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
