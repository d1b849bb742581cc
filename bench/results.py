"""Where each benchmark step leaves its figures for `targets.py`.

`make bench` sets BENCH_RESULTS to a directory it empties first; each step that measures a
target writes NAME.json there, so the targets table is made from one run's figures only.
Outside `make bench` (BENCH_RESULTS unset) the steps print their tables and write nothing.
"""
import json
import os


def record(name, figures):
    """Write `figures` (JSON-serialisable) as NAME.json in BENCH_RESULTS, if it is set."""
    directory = os.environ.get("BENCH_RESULTS")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{name}.json"), "w") as out:
        json.dump(figures, out, indent=1, sort_keys=True)
