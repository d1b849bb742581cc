"""Face detection per image: face-detection's CenterFace path against the same model in Python
OpenCV (`opencv-python-headless` from PyPI), on the same images, one core, one run each.

Images: the photo set's JPEGs of at least MIN_MP megapixels (Debian wallpaper packages, `make
images`; identical files counted once) and the labelled face set (`make test-data`).

What each side does per image, both timed in CPU ms of the whole process (OpenCV's threads
included) from the file's path to the face boxes in the original's pixels:
- ours: the `faces` example (face-detection/examples/faces.rs): read the bytes, decode shrunk on
  load (media-core's JPEG DCT scaling) and oriented, then the detector: resize to fit the
  INPUT_SIDE square, pad to the smallest of the detector's input shapes holding that (one network
  each, built on the first picture of its shape: the files go through twice in one process and
  the second pass is timed), forward, decode the heatmap, NMS;
- Python: what a Python user writes: `cv2.imread` (full-size decode), `cv2.resize` (INTER_AREA)
  to fit the same square, `cv2.copyMakeBorder` to pad it to the square, `cv2.dnn.blobFromImage`,
  `net.forward` on the four outputs, the same heatmap decoding and greedy NMS in numpy (the
  model's reference code), boxes scaled back. The network is built once, before the timing.

The median over the images of each set is reported, with the ratio ours / Python.

Usage: python bench/faces_opencv.py FACES_BIN WALLPAPER_DIR FACE_DATA_DIR MODEL
       python bench/faces_opencv.py --detect MODEL INPUT_SIDE FILE...   (one JSON line per file)
"""

import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

from results import record

MIN_MP = 8.0
ONE_CORE = ["taskset", "-c", "0"]
SCORE_THRESHOLD = 0.5
NMS_THRESHOLD = 0.3
OUTPUTS = ["537", "538", "539", "540"]


def detect_main(model, side, files):
    import cv2
    import numpy as np

    net = cv2.dnn.readNetFromONNX(model)
    net.setInput(np.zeros((1, 3, side, side), np.float32))
    net.forward(OUTPUTS)  # builds the network: not part of any image's time

    def nms(boxes, scores):
        order = np.argsort(-scores, kind="stable")
        kept = []
        for i in order:
            b = boxes[i]
            ok = True
            for k in kept:
                iw = max(0.0, min(k[2], b[2]) - max(k[0], b[0]))
                ih = max(0.0, min(k[3], b[3]) - max(k[1], b[1]))
                inter = iw * ih
                union = (k[2] - k[0]) * (k[3] - k[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
                if union > 0 and inter / union >= NMS_THRESHOLD:
                    ok = False
                    break
            if ok:
                kept.append(b)
        return kept

    for path in files:
        start = time.process_time()
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        scale = min(1.0, side / max(h, w))
        if scale < 1.0:
            nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
            small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        else:
            nw, nh, small = w, h, img
        padded = cv2.copyMakeBorder(small, 0, side - nh, 0, side - nw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        blob = cv2.dnn.blobFromImage(padded, 1.0, (side, side), (0, 0, 0), swapRB=True, crop=False)
        net.setInput(blob)
        heatmap, scales, offsets, _landmarks = net.forward(OUTPUTS)
        heatmap, s0, s1 = heatmap[0, 0], scales[0, 0], scales[0, 1]
        o0, o1 = offsets[0, 0], offsets[0, 1]
        rows, cols = np.where(heatmap > SCORE_THRESHOLD)
        sh = np.minimum(np.exp(s0[rows, cols]) * 4, 1e6)
        sw = np.minimum(np.exp(s1[rows, cols]) * 4, 1e6)
        x1 = np.clip((cols + o1[rows, cols] + 0.5) * 4 - sw / 2, 0, nw)
        y1 = np.clip((rows + o0[rows, cols] + 0.5) * 4 - sh / 2, 0, nh)
        boxes = np.stack([x1, y1, np.minimum(x1 + sw, nw), np.minimum(y1 + sh, nh)], axis=1)
        kept = nms(boxes, heatmap[rows, cols])
        faces = [[round(v / (nw / w)) for v in b] for b in kept]
        ms = (time.process_time() - start) * 1000
        print(json.dumps({"file": path, "ms": round(ms, 3), "faces": len(faces), "width": w, "height": h}), flush=True)


def jpeg_size(path):
    """(width, height) from the SOF marker, without decoding."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[at + 7 : at + 9], "big"), int.from_bytes(data[at + 5 : at + 7], "big")
        at += 2 + length
    return None


def photos(wallpapers):
    seen, chosen = set(), []
    for root, _, names in sorted(os.walk(wallpapers)):
        for name in sorted(names):
            if not name.lower().endswith((".jpg", ".jpeg")):
                continue
            path = os.path.join(root, name)
            size = jpeg_size(path)
            if not size or size[0] * size[1] < MIN_MP * 1e6:
                continue
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                chosen.append((path, size))
    return chosen


def run(command):
    out = subprocess.run(ONE_CORE + command, check=True, capture_output=True, text=True).stdout
    return {line["file"]: line for line in map(json.loads, out.splitlines())}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--detect":
        detect_main(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return
    faces_bin, wallpapers, face_data, model = sys.argv[1:5]
    side = int(subprocess.run([faces_bin, "--input-side"], check=True, capture_output=True, text=True).stdout)
    labels = [l.split("\t")[:2] for l in open(os.path.join(os.path.dirname(__file__), "../face-detection/data/labels.tsv")).read().splitlines()[1:] if l.strip()]
    sets = {
        "photos": [p for p, _ in photos(wallpapers)],
        "labelled": [os.path.join(face_data, f) for f, _ in labels],
    }
    files = sets["photos"] + sets["labelled"]
    # Twice in one process, the second pass kept (the last line per file): every input shape's
    # network is built by then, as Python's one is before its timing.
    ours = run([faces_bin] + files + files)
    python = run([sys.executable, __file__, "--detect", model, str(side)] + files)
    import cv2

    print(f"CenterFace, pictures shrunk to fit {side}x{side}, letterboxed into face-detection's input shapes and "
          f"into the square for Python (opencv-python-headless {cv2.__version__}); "
          f"median CPU ms per image, one core, decode included\n")
    print("| set | images | sizes (MP) | face-detection | Python OpenCV | ratio |")
    print("|---|---:|---|---:|---:|---:|")
    medians = {}
    for name, paths in sets.items():
        mp = [ours[p]["width"] * ours[p]["height"] / 1e6 for p in paths]
        a = statistics.median(ours[p]["ms"] for p in paths)
        b = statistics.median(python[p]["ms"] for p in paths)
        print(f"| {name} | {len(paths)} | {min(mp):.1f}-{max(mp):.1f} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
        medians[name] = {"face-detection": a, "Python OpenCV": b}
    print("\nFaces found on the labelled set (labelled / ours / Python):")
    print("| image | labelled | face-detection | Python OpenCV |")
    print("|---|---:|---:|---:|")
    for (f, n), p in zip(labels, sets["labelled"]):
        print(f"| {f} | {n} | {ours[p]['faces']} | {python[p]['faces']} |")
    found = sum(ours[p]["faces"] for p in sets["photos"]), sum(python[p]["faces"] for p in sets["photos"])
    print(f"\nFaces found on the photo set: face-detection {found[0]}, Python OpenCV {found[1]}")
    record("faces-opencv", medians)


if __name__ == "__main__":
    main()
