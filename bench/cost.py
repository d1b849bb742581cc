#!/usr/bin/env python3
"""Dollars per 1,000 uploads, ours against the book's design, generated into docs/cost.md.

Inputs (nothing is typed in twice):
  --load   the load test's counters (`make -C bench load` writes bench/load-counters.json):
           requests, invocations and durations, index reads and writes, objects per upload;
  --scale  the index-scale rows (`make -C bench index-scale` writes bench/index-scale.jsonl):
           what one index regeneration reads and writes at 1,000 ... 1,000,000 items;
  --template infra/template.yaml: each function's memory and architecture, batch sizes.

The index term comes from measured counters only (bytes, objects, items read, keys listed per
regeneration, and regenerations per upload), so re-running the load test and the index-scale
example after a change of the index's shape updates every figure here.
"""
import argparse
import datetime
import json
import math
import sys

import yaml

# us-east-1 list prices, read 2026-11-30 (sources in PRICE_SOURCES, printed into cost.md).
PRICES = {
    "lambda_gb_s_x86_64": 0.0000166667,
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,  # GET, SELECT and all other requests
    "s3_delete": 0.0,  # DELETE and CANCEL requests are free
    "s3_gb_month": 0.023,  # S3 Standard, first 50 TB
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "ddb_gb_month": 0.25,
    "sns_publish": 0.50 / 1e6,  # standard topic; deliveries to SQS are free
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk of a request
    "stream_read": 0.0,  # GetRecords by a Lambda trigger is free
}
PRICE_SOURCES = [
    ("Lambda duration x86_64 $0.0000166667 / GB-s, arm64 $0.0000133334 / GB-s (first tier); requests $0.20 / million",
     "https://aws.amazon.com/lambda/pricing/ (us-east-1 figures as quoted by https://cloudchipr.com/blog/aws-lambda-pricing and https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md)"),
    ("S3 Standard storage $0.023 / GB-month (first 50 TB); PUT, COPY, POST, LIST $0.005 / 1,000; GET $0.0004 / 1,000; DELETE free",
     "https://aws.amazon.com/s3/pricing/ (storage tiers as quoted by https://gist.github.com/EverettBerry/a37438006529a55f42da6fdbc44a505c; request price by https://www.cloudkaramchari.com/blog/understanding-per-1000-put-copy-post-or-list-requests-in-amazon-s3-pricing/)"),
    ("DynamoDB on-demand $0.625 / million write request units, $0.125 / million read request units; a strongly consistent read of up to 4 KB is 1 RRU, eventually consistent 0.5; a write of up to 1 KB is 1 WRU; storage $0.25 / GB-month",
     "https://aws.amazon.com/dynamodb/pricing/on-demand/ (units); prices as quoted by https://airbyte.com/data-engineering-resources/dynamodb-pricing"),
    ("DynamoDB Streams: GetRecords calls made by a Lambda trigger are not charged",
     "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html"),
    ("SNS standard topic $0.50 / million publishes; SQS standard $0.40 / million requests (each 64 KB chunk a request)",
     "https://aws.amazon.com/sns/pricing/, https://aws.amazon.com/sqs/pricing/ (as quoted by https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ and https://cloudburn.io/blog/amazon-sqs-pricing, 2026)"),
    ("A Lambda function gets one vCPU's worth of CPU at 1,769 MB, proportionally less below",
     "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"),
]

# Thumbnail CPU ms per 6-20 MP photo on one core (ours: bench/README.md, "Thumbnails"; the
# book's: GraphicsMagick, the tool its function uses), progressive / baseline JPEG; half of each
# in the model.
THUMB_MS = {"ours": (28.8, 18.0), "book": (106.0, 38.3)}
# JSON of an index parsed, built and serialised per second by one full vCPU (serde_json and the
# S3 transfer of it); an assumption, used only to turn index bytes into Lambda time.
INDEX_BYTES_PER_VCPU_SECOND = 100e6
# Wait per AWS request (S3 GET/PUT of small objects, DynamoDB calls) inside a function's
# duration; an assumption (same-region requests take milliseconds to tens of milliseconds).
IO_MS_PER_REQUEST = 10
FULL_VCPU_MB = 1769
# The book's public index: the latest day's public uploads (index-scale's public history has
# 10,000 public uploads a day).
PUBLIC_PER_DAY = 10_000
OWNER_SIZES = (1_000, 1_000_000)


def template_functions(path):
    loader = yaml.SafeLoader
    loader.add_multi_constructor("!", lambda l, suffix, node: None)
    template = yaml.load(open(path), Loader=loader)
    default_arch = template["Parameters"]["Architecture"]["Default"]
    out = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        name = props["CodeUri"].strip("/").split("/")[-1]
        arch = (props.get("Architectures") or [None])[0] or default_arch
        batch = None
        for event in (props.get("Events") or {}).values():
            batch = event.get("Properties", {}).get("BatchSize", batch)
        out[name] = {"memory_mb": props["MemorySize"], "arch": arch, "batch": batch, "timeout_s": props.get("Timeout")}
    return out


def vcpu(memory_mb):
    return min(1.0, memory_mb / FULL_VCPU_MB)


def scale_row(rows, index, items):
    """The index-scale row for `items`, or a straight line through the two largest measured
    (the head's page list grows linearly with the collection)."""
    measured = sorted((r for r in rows if r["index"] == index), key=lambda r: r["items"])
    if not measured:
        sys.exit(f"no {index} rows in the index-scale file")
    for r in measured:
        if r["items"] == items:
            return r, False
    a, b = measured[-2:] if len(measured) > 1 else (measured[0], measured[0])
    if a["items"] == b["items"]:
        return b, True
    t = (items - a["items"]) / (b["items"] - a["items"])
    return {k: (a[k] + t * (b[k] - a[k]) if isinstance(a[k], (int, float)) else a[k]) for k in a}, True


def model(load, scale, functions, design, owner_items):
    """Dollars per 1,000 uploads by component, and the quantities behind them."""
    up = load["uploads"]
    uploads, public_share = up["count"], up["public"] / up["count"]
    deletes = load["deletes"]["count"]
    kept = uploads - deletes
    # The whole run's index work (uploads, edits and deletes) per upload: the log lines of one
    # phase can land after the next phase has begun.
    idx = load["indexTotals"]
    private, public = idx.get("private", {}), idx.get("public", {})
    regen_private = private.get("regenerations", 0) / uploads
    regen_public = public.get("regenerations", 0) / uploads
    # Stream records per upload, its edits and deletes included (each record is one "event" of
    # the book's design).
    records_per_upload = private.get("changes", 0) / uploads
    inv = load["invocations"]
    events = uploads + deletes  # S3 events of the run (uploads and deletes)
    q = {}
    cost = {}

    # --- Lambda: requests and GB-seconds. Cloud duration = the CPU the function used locally
    # (per S3 event, or per upload for the index), stretched by the share of a vCPU its memory
    # buys, plus a wait per AWS request it makes.
    cpu = load.get("cpuSeconds", {})
    lam_requests = 0.0
    gb_s = {"x86_64": 0.0, "arm64": 0.0}
    requests_per_event = {"content-updated": 5, "face-detection": 3}  # see the notes in cost.md
    for name in ("content-updated", "face-detection"):
        f, m = functions[name], inv.get(name, {})
        per_event_invocations = m.get("invocations", 0) / events
        cpu_ms = cpu.get(name, 0.0) * 1000 / events
        q[f"{name} local CPU ms per S3 event"] = cpu_ms
        q[f"{name} local REPORT ms per S3 event"] = m.get("meanMs", 0) * per_event_invocations
        if name == "content-updated":
            prog, base = THUMB_MS[design]
            cpu_ms += (prog + base) / 2
        ms = cpu_ms / vcpu(f["memory_mb"]) + IO_MS_PER_REQUEST * requests_per_event[name]
        lam_requests += per_event_invocations
        gb_s[f["arch"]] += f["memory_mb"] / 1024 * ms / 1000
        q[f"{name} modelled ms per upload"] = ms
    f, m = functions["update-content-index"], inv.get("update-content-index", {})
    upload_invocations = m.get("invocations", 0) / uploads
    measured_bytes = (private.get("index_bytes_read", 0) + private.get("index_bytes_written", 0)
                      + public.get("index_bytes_read", 0) + public.get("index_bytes_written", 0)) / uploads
    head = load["bucket"]["largestHead"]
    item_bytes = head["bytes"] / max(1, head["items"])
    if design == "ours":
        p_row, p_extrapolated = scale_row(scale, "private", owner_items)
        u_row, _ = scale_row(scale, "public", max(r["items"] for r in scale if r["index"] == "public"))
        index_written = regen_private * p_row["bytesWritten"] + regen_public * u_row["bytesWritten"]
        index_read = regen_private * p_row["bytesRead"] + regen_public * u_row["bytesRead"]
        index_puts = regen_private * p_row["objectsWritten"] + regen_public * u_row["objectsWritten"]
        index_gets = (private.get("objects_read", 0) + public.get("objects_read", 0)) / uploads
        consistent_reads = regen_private * p_row["itemsRead"] + regen_public * u_row["itemsRead"]
        listed = regen_private * p_row["keysListed"] + regen_public * u_row["keysListed"]
        largest_json = max(p_row["largestHead"], p_row["largestPage"], u_row["largestHead"])
        q["index rows used"] = f"private {p_row['items']:,.0f}" + (" (extrapolated)" if p_extrapolated else "") + f", public {u_row['items']:,.0f}"
        regenerations = regen_private + regen_public
    else:
        # One full rewrite per stream record: the owner's whole private index and, for a public
        # item, the latest day's public index; each from a Query of the table.
        rewrites_public = records_per_upload * public_share
        index_written = (records_per_upload * owner_items + rewrites_public * PUBLIC_PER_DAY) * item_bytes
        index_read = 0.0
        index_puts = records_per_upload + rewrites_public
        index_gets = 0.0
        consistent_reads = 0.0
        listed = records_per_upload * owner_items + rewrites_public * PUBLIC_PER_DAY
        largest_json = max(owner_items, PUBLIC_PER_DAY) * item_bytes
        regenerations = records_per_upload + rewrites_public
    q["index regenerations per upload"] = regenerations
    q["index bytes written per upload"] = index_written
    q["index bytes read per upload (bucket)"] = index_read
    q["largest index JSON held (MB)"] = largest_json / 1e6
    local_cpu_ms = cpu.get("update-content-index", 0.0) * 1000 / uploads
    extra_bytes = max(0.0, index_written + index_read + listed * item_bytes - measured_bytes)
    index_cpu_ms = local_cpu_ms + extra_bytes / INDEX_BYTES_PER_VCPU_SECOND * 1000
    # Requests: the index GETs and PUTs, a BatchGetItem per 100 keys, a Query per 1 MB listed.
    index_requests = index_gets + index_puts + consistent_reads / 100 + listed * item_bytes / 1e6 + regenerations
    index_ms = index_cpu_ms / vcpu(f["memory_mb"]) + IO_MS_PER_REQUEST * index_requests
    lam_requests += upload_invocations if design == "ours" else max(upload_invocations, regenerations / (f["batch"] or 1))
    gb_s[f["arch"]] += f["memory_mb"] / 1024 * index_ms / 1000
    q["update-content-index local CPU ms per upload"] = local_cpu_ms
    q["update-content-index modelled ms per upload"] = index_ms
    per_regeneration_s = index_ms / max(regenerations, 1e-9) / 1000
    if largest_json > f["memory_mb"] * 1e6 or (f["timeout_s"] and per_regeneration_s > f["timeout_s"]):
        q["infeasible"] = (f"one index JSON of {largest_json / 1e6:,.0f} MB against {f['memory_mb']} MB of memory; "
                           f"{per_regeneration_s:,.0f} s per rewrite against a {f['timeout_s']} s timeout")
    cost["Lambda requests"] = lam_requests * PRICES["lambda_request"]
    cost["Lambda GB-s x86_64"] = gb_s["x86_64"] * PRICES["lambda_gb_s_x86_64"]
    cost["Lambda GB-s arm64"] = gb_s["arm64"] * PRICES["lambda_gb_s_arm64"]

    # --- S3 requests and storage.
    objects = load["bucket"]["objects"]
    derived_puts = sum(v["count"] for k, v in objects.items() if k.split("/")[1] in ("thumbnails", "previews", "faces")) / kept
    puts = 1 + derived_puts + index_puts
    gets = 2 + index_gets  # the original, read by content-updated and face-detection
    stored = sum(v["bytes"] for k, v in objects.items() if k.split("/")[1] != "index") / kept
    stored += item_bytes * (1 + public_share)  # each upload's entry in its indexes
    q["S3 PUT per upload"], q["S3 GET per upload"], q["S3 bytes stored per upload"] = puts, gets, stored
    cost["S3 PUT"] = puts * PRICES["s3_put"]
    cost["S3 GET"] = gets * PRICES["s3_get"]
    cost["S3 storage, one month"] = stored / 1e9 * PRICES["s3_gb_month"]

    # --- DynamoDB: the item written by content-updated and face-detection (and its GSI copy
    # when public), the index's reads.
    wru_each = math.ceil(item_bytes / 1024)
    wru = 2 * wru_each * (1 + public_share)
    rru = consistent_reads * math.ceil(item_bytes / 4096) + listed * item_bytes / 4096 * 0.5
    q["DynamoDB WRU per upload"], q["DynamoDB RRU per upload"] = wru, rru
    cost["DynamoDB writes (incl. GSI)"] = wru * PRICES["ddb_wru"]
    cost["DynamoDB reads"] = rru * PRICES["ddb_rru"]
    cost["DynamoDB storage, one month"] = item_bytes * (1 + public_share) / 1e9 * PRICES["ddb_gb_month"]

    # --- SNS and SQS: one publish per S3 event; per queue a send (by SNS) and a share of the
    # receive and the delete of a batch.
    sqs = sum(1 + 2 / (functions[n]["batch"] or 1) for n in ("content-updated", "face-detection"))
    cost["SNS publishes"] = PRICES["sns_publish"]
    cost["SQS requests"] = sqs * PRICES["sqs_request"]
    cost["DynamoDB stream reads (Lambda)"] = 0.0
    return {k: v * 1000 for k, v in cost.items()}, q


def money(x):
    return f"${x:.4f}" if x < 1 else f"${x:,.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    load = json.load(open(args.load))
    scale = [json.loads(line) for line in open(args.scale) if line.strip()]
    functions = template_functions(args.template)

    columns = [(d, n) for n in OWNER_SIZES for d in ("ours", "book")]
    results = {c: model(load, scale, functions, *c) for c in columns}
    components = list(results[columns[0]][0])
    out = []
    w = out.append
    w("# Cost per 1,000 uploads (generated)")
    w("")
    w(f"Per 1,000 uploads of the load test's mix: half public, with {load['edits']['count'] * 1000 // load['uploads']['count']:,} "
      f"edits and {load['deletes']['count'] * 1000 // load['uploads']['count']:,} deletes per 1,000 uploads, at 1,000 and at "
      "1,000,000 pictures per owner (the index term differs; the public history is the index-scale example's "
      "1,000,000 public pictures in both).")
    w("")
    w(f"Generated by `bench/cost.py` (`make -C bench cost`) on {datetime.date.today().isoformat()} from "
      f"the load test's counters (`{args.load.split('/')[-1]}`, run of {load['date']}: {load['uploads']['count']:,} uploads "
      f"of {load['uploads']['width']}x{load['uploads']['height']} JPEGs by {load['users']} users, half public), "
      f"the index-scale rows (`{args.scale.split('/')[-1]}`) and the memory settings of `infra/template.yaml`. "
      "Do not edit by hand: re-run the load test and `make -C bench cost`.")
    w("")
    w("\"Book\" is the book's design computed the same way: one full index rewrite per stream record "
      "(the owner's whole private index; the public index holds the latest day only, here 10,000 public "
      "uploads a day), GraphicsMagick's thumbnail time, everything else as ours. Purging `tmp/` is left out "
      "of both: S3 DELETE requests are free, so the book's one DELETE per object costs what our one "
      "DeleteObjects per 1,000 costs in requests, and `tmp/` objects come from direct face-detection calls, "
      "not from uploads.")
    w("")
    header = "| per 1,000 uploads | " + " | ".join(f"{'ours' if d == 'ours' else 'book'}, {n:,} per owner" for d, n in columns) + " |"
    w(header)
    w("|---|" + "---:|" * len(columns))
    for comp in components:
        w(f"| {comp} | " + " | ".join(money(results[c][0][comp]) for c in columns) + " |")
    w("| **total** | " + " | ".join(f"**{money(sum(results[c][0].values()))}**" for c in columns) + " |")
    w("")
    for c in columns:
        if "infeasible" in results[c][1]:
            w(f"**{c[0]}, {c[1]:,} per owner, cannot run as configured**: {results[c][1]['infeasible']}; "
              "its column is what it would cost if memory and time were no limit.")
            w("")
    w("What the figures rest on, per upload:")
    w("")
    keys = [k for k in results[columns[0]][1] if k != "infeasible"]
    w("| quantity | " + " | ".join(f"{d}, {n:,}" for d, n in columns) + " |")
    w("|---|" + "---:|" * len(columns))
    for k in keys:
        cells = []
        for c in columns:
            v = results[c][1].get(k, "")
            cells.append(f"{v:,.1f}" if isinstance(v, float) else str(v))
        w(f"| {k} | " + " | ".join(cells) + " |")
    w("")
    w("How each term is computed:")
    w("")
    w("* **Lambda**: requests = invocations per S3 event (content-updated, face-detection) or per "
      "stream change (update-content-index) counted from the emulator's REPORT lines in the load run. "
      "Duration = the CPU each function's processes used in the load run (from /proc), per S3 event or per "
      "upload, divided by the share of a vCPU the function's memory buys (memory / 1,769 MB; "
      + ", ".join(f"{n} {f['memory_mb']} MB {f['arch']}" for n, f in sorted(functions.items()) if n in ("content-updated", "face-detection", "update-content-index"))
      + f"), plus {IO_MS_PER_REQUEST} ms per AWS request the function makes (an assumption: content-updated "
      "5 per event: GET, two PUTs, a read and a write of the item; face-detection 3). The load's pictures are "
      "640x480, so content-updated also gets the CPU of a real 6-20 MP photo's thumbnail: the mean of progressive "
      f"and baseline from bench/README.md (ours {sum(THUMB_MS['ours'])/2:.1f} ms, GraphicsMagick "
      f"{sum(THUMB_MS['book'])/2:.1f} ms). The emulator's own REPORT durations are listed for reference only: "
      "they include its Python overhead and the queueing of 2 shared cores.")
    w(f"* **Index**: ours from measured counters only: regenerations per upload from the load test's log, "
      f"bytes, objects, consistent item reads and listed keys per regeneration from the index-scale rows at "
      f"the owner's size (public: the public-history row; a size not measured is extrapolated linearly from the "
      f"two largest measured, as the head's list of pages grows linearly). The emulator ignores the stream's "
      f"batching window (bench/README.md), so its batches, and our regenerations per upload, are an upper "
      f"bound for the cloud's. Index bytes beyond what the load run measured "
      f"cost Lambda time at {INDEX_BYTES_PER_VCPU_SECOND/1e6:.0f} MB per vCPU-second (an assumption, "
      f"not measured) at update-content-index's memory.")
    w("* **S3**: one PUT of the original, the thumbnails, previews and faces copies per kept upload "
      "(the bucket after the run), the index PUTs; GETs of the original by both image functions and the "
      "index GETs. Storage: every object's bytes per kept upload, for one month.")
    w("* **DynamoDB**: content-updated's item write and face-detection's update, each also written to the "
      "`uploadDay` GSI when public; the index's consistent BatchGetItem reads (1 RRU each) and the listed "
      "keys (Query, eventually consistent: 0.5 RRU per 4 KB). Item size: the index entry's size.")
    w("* **SNS / SQS**: one publish per S3 event; per queue one send, and a receive and a delete per batch "
      "(BatchSize from the template). Lambda's idle long polls of the two queues cost a fixed amount a month, "
      "not per upload, and are left out. Stream reads by Lambda are free.")
    w("")
    w("Prices (us-east-1, read 2026-11-30):")
    w("")
    w("| price | source |")
    w("|---|---|")
    for what, source in PRICE_SOURCES:
        w(f"| {what} | {source} |")
    w("")
    open(args.out, "w").write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
