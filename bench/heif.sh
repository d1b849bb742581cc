#!/usr/bin/env bash
# HEIC and AVIF thumbnail speed: the bench photographs (Debian's ukui-wallpapers) encoded
# with Debian's heif-enc (HEIC, 8-bit) and avifenc (AVIF, 8-bit and 10-bit), then
# media-core's thumbnail path against libvips' vipsthumbnail (which reads both through the
# same libheif) on the same files, with thumbnails.py.
# Usage: bench/heif.sh THUMBNAILS_BIN PYTHON IMAGE...
set -euo pipefail
bin=${1:?thumbnails binary}; python=${2:?python}; shift 2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/heic" "$work/avif8" "$work/avif10"
for image in "$@"; do
  name=$(basename "${image%.*}")
  heif-enc -q 80 "$image" -o "$work/heic/$name.heic" >/dev/null
  avifenc --speed 8 --jobs 2 "$image" "$work/avif8/$name.avif" >/dev/null
  avifenc --speed 8 --jobs 2 --depth 10 "$image" "$work/avif10/$name.avif" >/dev/null
done
for set in heic avif8 avif10; do
  echo "== $set: $(du -sh "$work/$set" | cut -f1)"
  "$python" "$(dirname "$0")/thumbnails.py" "$bin" "$work/$set"/*
done
