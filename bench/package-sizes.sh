#!/usr/bin/env bash
# Size of each function as `make -C infra package` builds it: the `lambda` profile's binary
# (symbols stripped), beside the `release` binary that devstack and the tests use (debuginfo
# stripped, symbols kept), then the approximate Lambda package: the binary as `bootstrap`, plus,
# for face-detection and content-updated, the non-glibc shared libraries they load (what
# infra/scripts/bundle-libs.sh ships when the runtime's glibc is new enough: OpenCV; libheif
# with libde265, dav1d, and libaom and libx265, which Debian's libheif1 links whether or not
# they are used) and face-detection's models, unzipped and zipped.
# Native x86_64 builds (the package cross-builds four of them for arm64).
# The target: every function's binary under 10 MB (face-detection: its own code, the
# OpenCV libraries apart).
set -euo pipefail
target=${CARGO_TARGET_DIR:-$HOME/.cache/media-share/target}
models=${FACE_MODEL_DIR:-$HOME/.cache/media-share/models}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mb() { awk '{printf "%.1f MB", $1/1e6}'; }
size() { du -sb "$1" | cut -f1 | mb; }
printf '| function | `release` binary | `lambda` binary | under 10 MB | shared libraries | models | package unzipped | zipped |\n'
printf '|---|---:|---:|---|---|---:|---:|---:|\n'
for f in content-updated face-detection update-content-index purge-bucket migrate-user repair; do
  release=$target/release/$f lambda=$target/lambda/$f
  [ -x "$lambda" ] || { echo "| $f | | not built | | | | | |"; continue; }
  release_size=$([ -x "$release" ] && stat -c %s "$release" | mb || echo "not built")
  bytes=$(stat -c %s "$lambda")
  under=$([ "$bytes" -lt 10000000 ] && echo yes || echo "no ($(echo $((bytes - 10000000)) | mb) over)")
  dir="$work/$f"; mkdir -p "$dir/lib" "$dir/models"
  cp "$lambda" "$dir/bootstrap"
  if [ "$f" = face-detection ] || [ "$f" = content-updated ]; then
    ldd "$lambda" | awk '/=> \// {print $3}' \
      | grep -vE '/(libc|libm|libpthread|libdl|librt|libresolv|libutil|libmvec)\.so' \
      | while read -r lib; do cp -L "$lib" "$dir/lib/"; done
  fi
  if [ "$f" = face-detection ]; then
    cp "$models/centerface.onnx" /usr/share/opencv4/haarcascades/haarcascade_frontalface_alt.xml "$dir/models/" 2>/dev/null || true
  fi
  nlib=$(ls "$dir/lib" | wc -l)
  libs=$([ "$nlib" = 0 ] && echo none || echo "$(size "$dir/lib") ($nlib files)")
  (cd "$dir" && python3 -c 'import shutil; shutil.make_archive("../pkg", "zip", ".")')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$f" "$release_size" "$(echo "$bytes" | mb)" "$under" "$libs" \
    "$(size "$dir/models")" "$(size "$dir")" "$(size "$work/pkg.zip")"
  rm -f "$work/pkg.zip"
done
