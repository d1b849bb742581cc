#!/usr/bin/env bash
# Approximate Lambda package size of each function: the release binary (stripped, zipped),
# plus, for face-detection and content-updated, the non-glibc shared libraries they load (what
# infra/scripts/bundle-libs.sh ships when the runtime's glibc is new enough: OpenCV; libheif
# with libde265, dav1d, and libaom and libx265, which Debian's libheif1 links whether or not
# they are used) and face-detection's models.
# `make -C infra package` gives the exact deployed sizes.
set -euo pipefail
target=${CARGO_TARGET_DIR:-$HOME/.cache/media-share/target}/release
models=${FACE_MODEL_DIR:-$HOME/.cache/media-share/models}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
printf '| function | binary | shared libraries | models | unzipped total | zipped |\n|---|---|---|---|---|---|\n'
for f in content-updated face-detection update-content-index purge-bucket; do
  [ -x "$target/$f" ] || { echo "| $f | not built | | | | |"; continue; }
  dir="$work/$f"; mkdir -p "$dir/lib" "$dir/models"
  cp "$target/$f" "$dir/bootstrap"; strip "$dir/bootstrap" 2>/dev/null || true
  if [ "$f" = face-detection ] || [ "$f" = content-updated ]; then
    ldd "$target/$f" | awk '/=> \// {print $3}' \
      | grep -vE '/(libc|libm|libpthread|libdl|librt|libresolv|libutil|libmvec)\.so' \
      | while read -r lib; do cp -L "$lib" "$dir/lib/"; done
  fi
  if [ "$f" = face-detection ]; then
    cp "$models/centerface.onnx" /usr/share/opencv4/haarcascades/haarcascade_frontalface_alt.xml "$dir/models/" 2>/dev/null || true
  fi
  size() { du -sb "$1" | cut -f1 | awk '{printf "%.1f MB", $1/1e6}'; }
  nlib=$(ls "$dir/lib" | wc -l)
  (cd "$dir" && python3 -c 'import shutil; shutil.make_archive("../pkg", "zip", ".")')
  printf '| %s | %s | %s (%s files) | %s | %s | %s |\n' "$f" "$(size "$dir/bootstrap")" "$(size "$dir/lib")" "$nlib" \
    "$(size "$dir/models")" "$(size "$dir")" "$(size "$work/pkg.zip")"
  rm -f "$work/pkg.zip"
done
