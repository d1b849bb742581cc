"""Thumbnail CPU time per format: content-updated's `thumbnail` command against libvips and Pillow.

The photo set comes from Debian wallpaper packages (real photographs and renders, 6-20 MP):
every 6-20 MP JPEG is classed by its SOF marker; progressive ones the packages lack are made
from baseline ones with `jpegtran -progressive` (lossless, as web pipelines do); three baseline
ones get an EXIF orientation 6 segment (made here, byte by byte, pixels untouched); PNGs are
the packages' large ones. Each tool makes a 200x200-bounded thumbnail (EXIF orientation
applied, no upscaling, JPEG quality 85) of every file. HEIC (8-bit) and AVIF (8- and 10-bit)
copies of four baseline photos are made with Debian's `heif-enc` and `avifenc`; Pillow reads
neither (no plugin installed), libvips reads both through the same libheif as media-core.

CPU time per image, one core (`taskset -c 0`):
- media-core: the `ms` the `thumbnail` command prints (this thread's CPU time for the file,
  the handler's path: decode with shrink-on-load, orient, resize, encode);
- Pillow: `time.process_time()` around `draft` + `exif_transpose` + `thumbnail` + `save`, in one
  process (what a Python Lambda would do per event once warm);
- libvips: one `vipsthumbnail` process per file, its CPU time (rusage) minus the median CPU time
  of the same command on an 8x8 JPEG (the process start-up), since vipsthumbnail cannot time
  itself.
Each runs ROUNDS times; the per-image median of the rounds is taken, then the median over the
class. Ratios are media-core over the faster of libvips and Pillow for that class.

Usage: python bench/thumbnails.py THUMBNAIL_BIN WALLPAPER_DIR WORK_DIR
"""

import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys

from results import record

ROUNDS = 3
PER_CLASS = 12
MIN_MP, MAX_MP = 6.0, 20.0
ONE_CORE = ["taskset", "-c", "0"]

PILLOW = r"""
import json, sys, time
from PIL import Image, ImageOps
out = sys.argv[1]
for path in sys.argv[2:]:
    if path.endswith((".heic", ".avif")):
        continue
    start = time.process_time()
    with Image.open(path) as im:
        im.draft("RGB", (200, 200))  # JPEG DCT scaling: Pillow's shrink-on-load
        im = ImageOps.exif_transpose(im)
        im.thumbnail((200, 200), Image.LANCZOS)
        name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if im.mode in ("RGBA", "LA", "P"):
            im.save(f"{out}/{name}.png")
        else:
            im.convert("RGB").save(f"{out}/{name}.jpg", quality=85)
    print(json.dumps({"file": path, "ms": (time.process_time() - start) * 1000}))
"""


def jpeg_kind(path):
    """('progressive' | 'baseline', width, height) from the SOF marker, or None."""
    data = open(path, "rb").read()
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return ("progressive" if marker == 0xC2 else "baseline"), width, height
        if marker == 0xD8 or marker == 0xFF or 0xD0 <= marker <= 0xD7:
            i += 2 if marker != 0xFF else 1
            continue
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None


def with_orientation_6(src, dst):
    """Copy a JPEG with an EXIF APP1 segment (orientation 6) inserted after SOI."""
    data = open(src, "rb").read()
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    open(dst, "wb").write(data[:2] + segment + data[2:])


def build_set(wallpapers, work):
    """The photo set in WORK/set, deterministic (sorted paths): {class: [files]}."""
    out = os.path.join(work, "set")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    jpegs = {"progressive": [], "baseline": []}
    pngs = []
    seen_sizes = set()
    for root, _, files in sorted(os.walk(wallpapers)):
        for name in sorted(files):
            path = os.path.join(root, name)
            size = os.path.getsize(path)
            if size in seen_sizes:  # the packages ship one picture under several names
                continue
            if name.lower().endswith((".jpg", ".jpeg")):
                kind = jpeg_kind(path)
                if kind and MIN_MP <= kind[1] * kind[2] / 1e6 <= MAX_MP:
                    seen_sizes.add(size)
                    jpegs[kind[0]].append(path)
            elif name.lower().endswith(".png"):
                dims = png_size(path)
                if dims and MIN_MP <= dims[0] * dims[1] / 1e6 <= MAX_MP:
                    seen_sizes.add(size)
                    pngs.append(path)
    classes = {"progressive JPEG": [], "baseline JPEG": [], "EXIF-rotated JPEG": [], "PNG": [],
               "HEIC": [], "AVIF 8-bit": [], "AVIF 10-bit": []}
    for i, path in enumerate(jpegs["baseline"][:PER_CLASS]):
        dst = os.path.join(out, f"baseline-{i:02}.jpg")
        shutil.copy(path, dst)
        classes["baseline JPEG"].append(dst)
    for i, path in enumerate(jpegs["progressive"][:PER_CLASS]):
        dst = os.path.join(out, f"progressive-{i:02}.jpg")
        shutil.copy(path, dst)
        classes["progressive JPEG"].append(dst)
    spare = jpegs["baseline"][PER_CLASS:] + jpegs["baseline"]
    for i, path in enumerate(spare[:PER_CLASS - len(classes["progressive JPEG"])]):
        dst = os.path.join(out, f"progressive-made-{i:02}.jpg")
        subprocess.run(["jpegtran", "-progressive", "-copy", "all", "-outfile", dst, path], check=True)
        classes["progressive JPEG"].append(dst)
    for i, path in enumerate(jpegs["baseline"][-3:]):
        dst = os.path.join(out, f"rotated-{i:02}.jpg")
        with_orientation_6(path, dst)
        classes["EXIF-rotated JPEG"].append(dst)
    for i, path in enumerate(pngs[:4]):
        dst = os.path.join(out, f"png-{i:02}.png")
        shutil.copy(path, dst)
        classes["PNG"].append(dst)
    for i, path in enumerate(jpegs["baseline"][:4]):
        heic, avif8, avif10 = (os.path.join(out, name) for name in (f"heic-{i:02}.heic", f"avif8-{i:02}.avif", f"avif10-{i:02}.avif"))
        subprocess.run(["heif-enc", "-q", "80", path, "-o", heic], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["avifenc", "--speed", "8", path, avif8], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["avifenc", "--speed", "8", "--depth", "10", path, avif10], check=True, stdout=subprocess.DEVNULL)
        classes["HEIC"].append(heic)
        classes["AVIF 8-bit"].append(avif8)
        classes["AVIF 10-bit"].append(avif10)
    return classes


def json_times(command):
    lines = subprocess.run(ONE_CORE + command, check=True, capture_output=True, text=True).stdout.splitlines()
    times = {}
    for line in lines:
        record = json.loads(line)
        if "ms" not in record:
            raise SystemExit(f"failed: {record}")
        times[record["file"]] = record["ms"]
    return times


def process_cpu_ms(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(ONE_CORE + command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def vips_command(path, out):
    return ["vipsthumbnail", path, "--size", "200x200", "-o", f"{out}/%s.jpg[Q=85]"]


def main():
    thumbnail_bin, wallpapers, work = sys.argv[1:4]
    classes = build_set(wallpapers, work)
    files = [f for members in classes.values() for f in members]
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    tiny = os.path.join(work, "tiny.jpg")
    subprocess.run([sys.executable, "-c", "from PIL import Image; import sys; Image.new('RGB', (8, 8)).save(sys.argv[1])", tiny], check=True)

    runs = {"media-core": [], "Pillow": [], "libvips": []}
    for _ in range(ROUNDS):
        runs["media-core"].append(json_times([thumbnail_bin, "--size", "200", "--out", out] + files))
        runs["Pillow"].append(json_times([sys.executable, "-c", PILLOW, out] + files))
        startup = statistics.median(process_cpu_ms(vips_command(tiny, out)) for _ in range(5))
        runs["libvips"].append({f: max(process_cpu_ms(vips_command(f, out)) - startup, 0.0) for f in files})

    per_image = {tool: {f: statistics.median(r[f] for r in rounds) for f in files if f in rounds[0]} for tool, rounds in runs.items()}
    print(f"{len(files)} files, {ROUNDS} rounds, one core; median CPU ms per image")
    print()
    print("| | " + " | ".join(f"{c} ({len(m)})" for c, m in classes.items()) + " |")
    print("|---|" + "---:|" * len(classes))

    def median_of(tool, members):
        times = [per_image[tool][f] for f in members if f in per_image[tool]]
        return statistics.median(times) if times else None

    medians = {tool: {c: median_of(tool, m) for c, m in classes.items()} for tool in runs}
    for tool in runs:
        print(f"| {tool} | " + " | ".join("n/a" if medians[tool][c] is None else f"{medians[tool][c]:.1f}" for c in classes) + " |")
    ratios = {}
    for c in classes:
        anchors = [medians[t][c] for t in ("Pillow", "libvips") if medians[t][c] is not None]
        ratios[c] = medians["media-core"][c] / min(anchors)
    print("| media-core / faster of the two | " + " | ".join(f"{r:.2f}" for r in ratios.values()) + " |")
    record("thumbnails", {"medians": medians, "ratios": ratios})


if __name__ == "__main__":
    main()
