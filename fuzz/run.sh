#!/usr/bin/env bash
# Runs every cargo-fuzz target (README.md here).
#
#   fuzz/run.sh SECONDS           each target for SECONDS; what it finds is kept in
#                                 ~/.cache/media-share/fuzz-corpus/<target> (FUZZ_CORPUS_DIR)
#   fuzz/run.sh --smoke SECONDS   each target for SECONDS from the committed seeds only
#                                 (fuzz/corpus/<target>), nothing kept: part of `make test`
#
# Installs the nightly toolchain and cargo-fuzz when missing, and builds the targets once
# into ~/.cache/media-share/fuzz-target (FUZZ_TARGET_DIR), kept across clones. Nothing is
# downloaded while fuzzing. A crash, a timeout (10 s) or more than 512 MB resident fails the
# run; the input is in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
if [ "${1:-}" = --smoke ]; then
  smoke=1
  shift
fi
seconds=${1:-60}
targets=(keys metadata events index thumbnail)
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/media-share/fuzz-target}"
# The address sanitizer keeps up to 256 MB of freed memory to catch uses after free; 64 MB
# leaves the 512 MB limit to the code under test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}"
corpus_root="${FUZZ_CORPUS_DIR:-$HOME/.cache/media-share/fuzz-corpus}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# -O: release without debug assertions, as the functions are built; address sanitizer on.
cargo +nightly fuzz build -O

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  if [ "$smoke" = 1 ]; then
    work="$scratch/$target"
  else
    work="$corpus_root/$target"
  fi
  mkdir -p "$work"
  log="$scratch/$target.log"
  if ! cargo +nightly fuzz run -O "$target" "$work" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    cat "$log"
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/ (fix it, then add it to fuzz/corpus/$target/)" >&2
    exit 1
  fi
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  echo "fuzz: $target: $(stat number_of_executed_units) executions in ${seconds} s," \
    "$(stat new_units_added) new inputs, peak RSS $(stat peak_rss_mb) MB, corpus $(find "$work" -type f | wc -l) + $(find "fuzz/corpus/$target" -type f | wc -l) seeds"
done
