"""Previews: sizes against the originals, time against libvips, JPEG against WebP.

1. content-updated's image path (the `thumbnail` command: one decode, the 1600x1600 preview,
   the 200x200 thumbnail from it) on every picture: preview bytes against original bytes.
2. Time, one process per tool per round, rounds alternating: that command against libvips
   as a user would call it for the same two files (`vipsthumbnail` at 1600, then at 200,
   each shrinking on load from the original). Ratios are taken within each round.
3. The preview's format: libvips writes each picture's 1600 px resize as JPEG (Q80,
   libjpeg-turbo, baseline) and lossy WebP (Q80) from the same pixels; bytes of each and of
   media-core's previews (mozjpeg, Q80, progressive), and Chromium's decode time of each,
   measured by bench/preview-decode.mjs.

Usage: python bench/previews.py THUMBNAIL_BIN IMAGE...
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = 5
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    command, images = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as out:
        lines = subprocess.run([command, "--out", out] + images, check=True, capture_output=True, text=True).stdout
        rows = [json.loads(line) for line in lines.splitlines()]
        total_original = total_preview = 0
        print("| picture | original | bytes | preview | bytes | preview / original |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            original = os.path.getsize(row["file"])
            total_original += original
            total_preview += row["previewBytes"]
            width, height = _size(row["file"])
            print(f"| {os.path.basename(row['file'])} | {width}x{height} | {original:,} | "
                  f"{row['previewWidth']}x{row['previewHeight']} | {row['previewBytes']:,} | {row['previewBytes'] / original:.3f} |")
        print(f"| all {len(rows)} | | {total_original:,} | | {total_preview:,} | {total_preview / total_original:.3f} |")

        vips_preview = ["vipsthumbnail", "--size", "1600x1600", "-o", f"{out}/%s.vips-preview.jpg[Q=80,strip]"] + images
        vips_thumb = ["vipsthumbnail", "--size", "200x200", "-o", f"{out}/%s.vips-thumb.jpg[Q=85,strip]"] + images
        tools = {"media-core": [[command] + images], "libvips": [vips_preview, vips_thumb]}
        times = {}
        for runs in tools.values():
            for run in runs:
                subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
        for _ in range(ROUNDS):
            for name, runs in tools.items():
                started = time.perf_counter()
                for run in runs:
                    subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
                times.setdefault(name, []).append(time.perf_counter() - started)
        ratio = statistics.median(a / b for a, b in zip(times["media-core"], times["libvips"]))
        print(f"\nthumbnail + preview, {len(images)} images, {ROUNDS} rounds:")
        for name, runs in times.items():
            print(f"  {name:12s} median {statistics.median(runs) / len(images) * 1000:7.1f} ms/image")
        print(f"  media-core / libvips = {ratio:.2f}")

        formats = {"jpeg": "jpg[Q=80,strip]", "webp": "webp[Q=80,strip]"}
        sizes = {}
        for name, suffix in formats.items():
            subprocess.run(["vipsthumbnail", "--size", "1600x1600", "-o", f"{out}/%s.fmt.{suffix}"] + images, check=True)
            files = sorted(f for f in os.listdir(out) if f.endswith(f".fmt.{suffix.split('[')[0]}"))
            sizes[name] = [os.path.join(out, f) for f in files]
        sizes["media-core jpeg"] = [os.path.join(out, f) for f in sorted(os.listdir(out)) if f.endswith(".preview.jpg")]
        print("\npreview format, quality 80:")
        for name, files in sizes.items():
            print(f"  {name}: {sum(os.path.getsize(f) for f in files):,} bytes for {len(files)} previews")
        files = sizes["media-core jpeg"] + sizes["jpeg"] + sizes["webp"]
        decode = subprocess.run(["node", os.path.join(HERE, "preview-decode.mjs")] + files, check=True, capture_output=True, text=True)
        print(decode.stdout)


def _size(path):
    field = lambda f: int(subprocess.run(["vipsheader", "-f", f, path], capture_output=True, text=True, check=True).stdout)
    return field("width"), field("height")


if __name__ == "__main__":
    main()
