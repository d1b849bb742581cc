"""Peak memory of content-updated's image path on the two files the memory targets name.

- the largest JPEG of the photo set within 20 MP, made progressive with `jpegtran
  -progressive` (lossless, as thumbnails.py does): the thumbnail alone (`thumbnail --size
  200`, the DC-only decoder's path, media-imaging/src/jpeg/dc.rs) and the function's
  renditions (`thumbnail` without --size: thumbnail and 1,600-px preview); and the thumbnail
  of the same picture at a camera's quality (Pillow, quality 85, 4:2:0, progressive);
- an 8000x8000 16-bit RGBA PNG (a gradient with alpha, made here once): the function's
  renditions (media-imaging/src/png_shrink.rs streams its rows).

Each case runs in a fresh process on one core; `maxRssKb` is the process's peak resident set
(VmHWM) as the `thumbnail` command reports it, so it includes the binary, its libraries and
the file's bytes, which the command reads whole as the function holds the object it got.

Usage: python bench/memory.py THUMBNAIL_BIN WALLPAPER_DIR WORK_DIR
"""
import json
import os
import struct
import subprocess
import sys
import zlib

from results import record
from thumbnails import ONE_CORE, jpeg_kind

MAX_MP = 20.5
PNG_SIDE = 8000


def largest_jpeg(wallpapers):
    best = None
    for root, _, files in sorted(os.walk(wallpapers)):
        for name in sorted(files):
            if not name.lower().endswith((".jpg", ".jpeg")):
                continue
            path = os.path.join(root, name)
            kind = jpeg_kind(path)
            if kind and kind[1] * kind[2] <= MAX_MP * 1e6 and (best is None or kind[1] * kind[2] > best[0]):
                best = (kind[1] * kind[2], path)
    if best is None:
        raise SystemExit(f"no JPEG of at most {MAX_MP} MP under {wallpapers}")
    return best[1]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def gradient_png(path, side=PNG_SIDE):
    """A side x side 16-bit RGBA PNG: red across, green down, blue and alpha diagonal, each row
    with the Sub filter, so the gradients compress to a few MB as an exporter's would."""
    import numpy as np
    x = np.arange(side, dtype=np.uint32)[None, :] * 8
    y = np.arange(side, dtype=np.uint32)[:, None] * 8
    pixels = np.empty((side, side, 4), dtype=">u2")
    pixels[..., 0] = x
    pixels[..., 1] = y
    pixels[..., 2] = (x + y) // 2
    pixels[..., 3] = 65535 - (x + y) // 4
    raw = pixels.view(np.uint8).reshape(side, side * 8)
    rows = np.empty((side, 1 + side * 8), dtype=np.uint8)
    rows[:, 0] = 1  # Sub: each byte minus the same byte of the pixel to its left
    rows[:, 1:9] = raw[:, :8]
    rows[:, 9:] = raw[:, 8:] - raw[:, :-8]
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    with open(path + ".tmp", "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
                  + png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + png_chunk(b"IEND", b""))
    os.replace(path + ".tmp", path)


def measure(thumbnail_bin, path, thumbnail_only):
    args = [thumbnail_bin] + (["--size", "200"] if thumbnail_only else []) + [path]
    line = subprocess.run(ONE_CORE + args, capture_output=True, text=True).stdout.strip().splitlines()
    result = json.loads(line[-1]) if line else {"error": "no output"}
    return {"maxRssMb": result.get("maxRssKb", 0) / 1024, "ms": result.get("ms"), "error": result.get("error"),
            "file": os.path.basename(path), "fileMb": os.path.getsize(path) / 2**20}


def main():
    thumbnail_bin, wallpapers, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    source = largest_jpeg(wallpapers)
    progressive = os.path.join(work, "largest-progressive.jpg")
    subprocess.run(["jpegtran", "-progressive", "-copy", "all", "-outfile", progressive, source], check=True)
    _, width, height = jpeg_kind(progressive)
    # The same picture as a camera writes it (quality 85, 4:2:0), made progressive too.
    from PIL import Image
    camera = os.path.join(work, "camera-quality-progressive.jpg")
    with Image.open(source) as im:
        im.convert("RGB").save(camera, quality=85, subsampling=2, progressive=True)
    png = os.path.join(work, f"rgba16-{PNG_SIDE}x{PNG_SIDE}.png")
    if not os.path.exists(png):
        gradient_png(png)
    cases = {
        "progressive JPEG, thumbnail": measure(thumbnail_bin, progressive, thumbnail_only=True),
        "progressive JPEG, renditions": measure(thumbnail_bin, progressive, thumbnail_only=False),
        "progressive JPEG at quality 85, thumbnail": measure(thumbnail_bin, camera, thumbnail_only=True),
        "16-bit RGBA PNG, renditions": measure(thumbnail_bin, png, thumbnail_only=False),
    }
    sizes = {"progressive JPEG": f"{width}x{height} ({width * height / 1e6:.1f} MP, {os.path.getsize(progressive) / 2**20:.1f} MB, "
                                 f"from {os.path.basename(source)})",
             "progressive JPEG at quality 85": f"the same picture re-encoded by Pillow ({os.path.getsize(camera) / 2**20:.1f} MB)",
             "16-bit RGBA PNG": f"{PNG_SIDE}x{PNG_SIDE} ({os.path.getsize(png) / 2**20:.1f} MB)"}
    print("one core, a fresh process each; peak resident set of the whole process")
    print()
    print("| case | file | peak MB | CPU ms | outcome |")
    print("|---|---|---:|---:|---|")
    for case, r in cases.items():
        print(f"| {case} | {sizes[case.split(',')[0]]} | {r['maxRssMb']:.1f} | {r['ms'] or 0:.0f} | {r['error'] or 'made'} |")
    record("memory", {"cases": cases, "sizes": sizes, "megapixels": width * height / 1e6})


if __name__ == "__main__":
    main()
