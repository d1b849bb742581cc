"""Thumbnail speed: this project's thumbnail path against libvips and Pillow.

Each tool makes a 200x200-bounded thumbnail (EXIF orientation applied, no upscaling, JPEG
quality 85) of every picture in the set, as one process per tool per run. Runs alternate
between tools; the median of the runs is reported per image, with ratios taken within
each round so that machine noise cancels.

Usage: python bench/thumbnails.py RUST_BIN IMAGE...
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = 5

PILLOW = r"""
import sys
from PIL import Image, ImageOps
out = sys.argv[1]
for path in sys.argv[2:]:
    with Image.open(path) as im:
        im.draft("RGB", (200, 200))  # JPEG DCT scaling: what makes Pillow fast here
        im = ImageOps.exif_transpose(im)
        im.thumbnail((200, 200), Image.LANCZOS)
        name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if im.mode in ("RGBA", "LA", "P"):
            im.save(f"{out}/{name}.png")
        else:
            im.convert("RGB").save(f"{out}/{name}.jpg", quality=85)
"""


def commands(rust_bin, images, out):
    tools = {
        "media-core (Rust)": [rust_bin, out] + images,
        "libvips (vipsthumbnail)": ["vipsthumbnail", "--size", "200x200", "-o", f"{out}/%s.jpg[Q=85]"] + images,
        "Pillow": [sys.executable, "-c", PILLOW, out] + images,
    }
    # Pillow reads neither HEIC nor AVIF without plugins; libvips reads both through libheif.
    if any(p.endswith((".heic", ".avif")) for p in images):
        del tools["Pillow"]
    return tools


def main():
    rust_bin, images = sys.argv[1], sys.argv[2:]
    times = {}
    with tempfile.TemporaryDirectory() as out:
        tools = commands(rust_bin, images, out)
        for name, command in tools.items():  # warm-up, and a check that each works
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        for _ in range(ROUNDS):
            for name, command in tools.items():
                started = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                times.setdefault(name, []).append(time.perf_counter() - started)
    megapixels = sum(_megapixels(p) for p in images)
    print(f"{len(images)} images, {megapixels:.0f} MP in all, {ROUNDS} rounds, one process per tool per round")
    ours = times["media-core (Rust)"]
    for name, runs in times.items():
        ratio = statistics.median(a / b for a, b in zip(ours, runs))
        print(f"  {name:26s} median {statistics.median(runs) / len(images) * 1000:7.1f} ms/image   media-core / this = {ratio:.2f}")


def _megapixels(path):
    out = subprocess.run(["vipsheader", "-f", "width", path], capture_output=True, text=True, check=True).stdout
    width = int(out)
    height = int(subprocess.run(["vipsheader", "-f", "height", path], capture_output=True, text=True, check=True).stdout)
    return width * height / 1e6


if __name__ == "__main__":
    main()
