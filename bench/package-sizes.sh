#!/usr/bin/env bash
# Size of each function's package as a deployer uploads it (`make package`, infra/build/<function>:
# content-updated and face-detection for x86_64 with the shared libraries and loader they ship
# and face-detection's models, the other four for arm64; the `lambda` profile's binary,
# symbols stripped), beside the same function's binary in the local stack's x86_64 package
# (`make package-local`, infra/build/local) and the workspace's `release` binary the tests use
# (debuginfo stripped, symbols kept). The targets (bench/targets.py): content-updated's and
# face-detection's binaries under 10 MB, the others under 8 MB, as deployed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$HOME/.cache/media-share/target}
packages=${PACKAGES_DIR:-$here/../infra/build}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mb() { awk '{printf "%.1f MB", $1/1e6}'; }
size() { if [ -d "$1" ]; then du -sb "$1" | cut -f1 | mb; else echo none; fi; }
printf '| function | `release` binary | local `lambda` binary (x86_64) | deployed `lambda` binary | shared libraries | models | package unzipped | zipped |\n'
printf '|---|---:|---:|---:|---|---:|---:|---:|\n'
for f in content-updated face-detection update-content-index purge-bucket migrate-user repair; do
  dir=$packages/$f
  binary=$dir/bin/$f; [ -x "$binary" ] || binary=$dir/bootstrap
  [ -x "$binary" ] || { echo "| $f | | | not built ($dir) | | | | |"; continue; }
  arch=$(file -b "$binary" | grep -oE 'x86-64|aarch64' | head -1)
  local_binary=$packages/local/$f/bin/$f
  local_size=$([ -x "$local_binary" ] && stat -c %s "$local_binary" | mb || echo "not built")
  release=$target/release/$f
  release_size=$([ -x "$release" ] && stat -c %s "$release" | mb || echo "not built")
  bytes=$(stat -c %s "$binary")
  libs=$([ -d "$dir/lib" ] && echo "$(size "$dir/lib") ($(ls "$dir/lib" | wc -l) files)" || echo none)
  (cd "$dir" && python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", ".")' "$work/pkg")
  printf '| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$f" "$release_size" "$local_size" "$(echo "$bytes" | mb)" "$arch" "$libs" \
    "$(size "$dir/models")" "$(size "$dir")" "$(stat -c %s "$work/pkg.zip" | mb)"
  rm -f "$work/pkg.zip"
  printf '%s\t%s\n' "$f" "$bytes" >> "$work/sizes.tsv"
done
# The lambda binaries' bytes for bench/targets.py (bench/results.py).
if [ -f "$work/sizes.tsv" ]; then
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from results import record
record("package-sizes", {f: int(b) for f, b in (l.split("\t") for l in open(sys.argv[2]).read().splitlines())})' \
    "$here" "$work/sizes.tsv"
fi
