#!/usr/bin/env python3
"""What the stack costs, ours against the book's design, generated into docs/cost.md.

`python3 bench/cost.py` (or `make -C bench cost`) writes docs/cost.md from:
  --load   the load test's counters (`make -C bench load` writes bench/load-counters.json):
           requests, invocations and durations, index reads and writes, objects per upload;
  --scale  the index-scale rows (`make -C bench index-scale` writes bench/index-scale.jsonl):
           what one index regeneration reads and writes at 1,000 ... 1,000,000 items;
  --template infra/template.yaml: each function's memory and architecture, batch sizes,
           batching windows, concurrency, log retention.

Three results: dollars per 1,000 uploads by component; a month's bill of a small and a large
deployment in months 1 and 12; upload-to-visible latency and cost per 1,000 uploads for the
batching windows, from a small simulation of the event source mappings (seeded, so the
output is the same on every run). Request counts per upload, per delete and per stored
picture come from the handlers' code (named where they are used); every assumption is a
named constant below and is printed into cost.md.
"""
import argparse
import datetime
import heapq
import json
import math
import os
import random
import sys

import yaml

from results import record

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# us-east-1 list prices (sources in PRICE_SOURCES, printed into cost.md).
PRICES = {
    "lambda_gb_s_x86_64": 0.0000166667,
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,  # GET, SELECT and all other requests (HEAD among them)
    "s3_gb_month": 0.023,  # S3 Standard, first 50 TB
    "transfer_out_gb": 0.09,  # to the internet, first 10 TB a month (100 GB a month free)
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "ddb_gb_month": 0.25,
    "sns_publish": 0.50 / 1e6,  # standard topic; deliveries to SQS are free
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk of a request
    "logs_ingest_gb": 0.50,  # CloudWatch Logs, Lambda logs (vended), Standard class, first tier
    "logs_store_gb_month": 0.03,
    "alarm_month": 0.10,  # standard-resolution metric alarm
}
PRICES_READ = "2026-11-30"
PRICE_SOURCES = [
    ("Lambda duration x86_64 $0.0000166667 / GB-s, arm64 $0.0000133334 / GB-s (first tier); requests $0.20 / million",
     "https://aws.amazon.com/lambda/pricing/ (us-east-1; as of 2026-11-30 as quoted by https://cloudchipr.com/blog/aws-lambda-pricing)"),
    ("Lambda INIT phase billed like the INVOKE phase for on-demand functions, all runtimes and packages, since 2025-08-01 (custom runtimes such as provided.al2023, ours, were billed for it before too)",
     "https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/ (AWS Compute Blog, April 2025)"),
    ("S3 Standard storage $0.023 / GB-month (first 50 TB); PUT, COPY, POST, LIST $0.005 / 1,000; GET and all other requests (HEAD among them) $0.0004 / 1,000; DELETE free",
     "https://aws.amazon.com/s3/pricing/ (as of 2026-11-30 as quoted by https://www.cloudkaramchari.com/blog/understanding-per-1000-put-copy-post-or-list-requests-in-amazon-s3-pricing/)"),
    ("Data transfer out to the internet $0.09 / GB (first 10 TB a month); the first 100 GB a month free",
     "https://aws.amazon.com/ec2/pricing/on-demand/ (\"Data Transfer\"), https://aws.amazon.com/free/ (not re-read on this machine: as of 2024, when the 100 GB allowance was announced)"),
    ("DynamoDB on-demand $0.625 / million write request units, $0.125 / million read request units; a strongly consistent read of up to 4 KB is 1 RRU, eventually consistent 0.5; a write of up to 1 KB is 1 WRU, and each GSI the write changes costs its own; storage $0.25 / GB-month",
     "https://aws.amazon.com/dynamodb/pricing/on-demand/ (as of 2026-11-30 as quoted by https://airbyte.com/data-engineering-resources/dynamodb-pricing); GSI writes: DynamoDB developer guide, \"Provisioned throughput considerations for Global Secondary Indexes\""),
    ("DynamoDB Streams: GetRecords calls made by a Lambda trigger are not charged",
     "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html"),
    ("SNS standard topic $0.50 / million publishes; SQS standard $0.40 / million requests (each 64 KB chunk a request)",
     "https://aws.amazon.com/sns/pricing/, https://aws.amazon.com/sqs/pricing/ (as of 2026 as quoted by https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ and https://cloudburn.io/blog/amazon-sqs-pricing)"),
    ("CloudWatch Logs: Lambda logs $0.50 / GB ingested (Standard class, first 10 TB; tiered since 2025-05-01), $0.03 / GB-month stored; alarms $0.10 each a month",
     "https://aws.amazon.com/cloudwatch/pricing/ (as of 2025-05 as quoted by https://www.duckbillgroup.com/?p=9080 and https://hykell.com/kb/platform-specific-guides/aws-cloudwatch-logs-pricing)"),
    ("A Lambda function gets one vCPU's worth of CPU at 1,769 MB, proportionally less below",
     "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"),
    ("Always-free allowances used in the \"after free allowances\" line: Lambda 1 million requests and 400,000 GB-s, SQS and SNS 1 million requests each, DynamoDB 25 GB stored, CloudWatch Logs 5 GB, 100 GB transferred out (S3's free tier is for new accounts' first year only and is not used)",
     "https://aws.amazon.com/free/ (as of 2026-11-30; not re-read on this machine)"),
]

# --- Pictures. The load test's pictures are 640x480 (45 KB); a phone's photo is 3-4 MB.
ORIGINAL_BYTES = 3.5e6
# bench/README.md, "Previews": five 9 MP photographs, previews as content-updated writes them.
PREVIEW_BYTES = 355_609 / 5
# The faces copy (the original at most 2048 px, `image`'s JPEG encoder at quality 85) is not
# measured on photographs: the preview's bytes scaled by its pixels ((2048 / 1600)^2) and by the
# two encoders' bytes per pixel on the load test's 640x480 pictures (faces copy / preview, both
# at 640x480: FACES_TO_PREVIEW_AT_SAME_SIZE, from load-counters.json).
MARKED_SIDE, PREVIEW_SIDE = 2048, 1600
# CPU ms per photograph on one core. content-updated: thumbnail and preview together of the five
# 9 MP photographs (bench/README.md, "Previews": 639.6 ms, measured on a loaded machine, so an
# upper bound); the book makes a thumbnail only, with GraphicsMagick (bench/README.md,
# "Thumbnails": mean of progressive and baseline, 6-20 MP). face-detection: decode and detect on
# the 8-18 MP photo set (bench/README.md, "Faces": 133.5 ms) plus the 2048 px copy's resize and
# encode (MARKED_COPY_MS: not measured, an assumption).
IMAGE_MS = {"ours": 639.6, "book": (106.0 + 38.3) / 2}
FACES_MS = 133.5
MARKED_COPY_MS = 60.0
# JSON of an index parsed, built and serialised per second by one full vCPU (serde_json and the
# S3 transfer of it); an assumption, used only to turn index bytes into Lambda time.
INDEX_BYTES_PER_VCPU_SECOND = 100e6
# Wait per AWS request (S3 GET/PUT/HEAD of small objects, DynamoDB calls) inside a function's
# duration; an assumption (same-region requests take milliseconds to tens of milliseconds).
IO_MS_PER_REQUEST = 10
# Reading a 3.5 MB original from S3 inside the function: an assumption (~50 MB/s per stream).
ORIGINAL_READ_MS = 70
FULL_VCPU_MB = 1769
# The book's public index: the latest day's public uploads (per-1,000 table: index-scale's
# public history, 10,000 public uploads a day; the deployments: their own).
PUBLIC_PER_DAY = 10_000
OWNER_SIZES = (1_000, 1_000_000)
# Lambda INIT ms per cold start (bench/README.md, "The packages a deployer uploads": init of
# each package in the sandbox; the arm64 ones under qemu, so an upper bound).
INIT_MS = {"content-updated": 60, "face-detection": 229, "update-content-index": 148, "repair": 136,
           "purge-bucket": 147}
# An execution environment is assumed to be reclaimed after this long idle (AWS does not
# document it; 5-15 minutes is what is commonly observed): a function invoked less often than
# that starts cold every time.
IDLE_RECLAIM_S = 600
# Gallery views: the first screen's thumbnails and the previews opened, and the head polled
# every 2.5 s (client/src/main.ts, POLL_MS) for VIEW_SECONDS; a poll whose head did not change
# is a conditional GET answered 304 (billed as a GET, no body).
VIEW_THUMBNAILS, VIEW_PREVIEWS, VIEW_SECONDS, POLL_S = 30, 2, 60, 2.5
# Lambda platform lines per invocation (START, END, REPORT in text format), bytes.
PLATFORM_LOG_BYTES = 330
# Pictures kept: the load test's mix deletes 200 of every 1,000 uploads.
DAYS_PER_MONTH = 30.4

# --- Latency model (simulation of the event source mappings).
S3_EVENT_TO_QUEUE_S = 0.5  # S3 -> SNS -> SQS; S3 documents "typically seconds"; an assumption
STREAM_RECORD_S = 0.1  # a table write to its stream record; an assumption
STREAM_POLL_S = 0.25  # Lambda polls a stream shard 4 times a second (with-ddb.html)
INVOKE_OVERHEAD_S = 0.02  # per invocation: the runtime API round trip, an assumption
# A photo's handling time varies with its size (the previews' photographs: 1.4 to 8.9 MB): each
# takes the modelled time times a factor drawn uniformly from this range (an assumption).
SERVICE_SPREAD = (0.5, 1.5)
SIM_SECONDS = 60  # a burst of at least this long, and at least SIM_UPLOADS uploads
SIM_UPLOADS = 300
SIM_OWNERS = 1000


def template_functions(path):
    loader = yaml.SafeLoader
    loader.add_multi_constructor("!", lambda l, suffix, node: None)
    template = yaml.load(open(path), Loader=loader)
    params = template["Parameters"]
    default_arch = params["Architecture"]["Default"]
    out = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        name = props["CodeUri"].strip("/").split("/")[-1]
        arch = (props.get("Architectures") or [None])[0] or default_arch
        batch, concurrency = None, None
        for event in (props.get("Events") or {}).values():
            p = event.get("Properties", {})
            batch = p.get("BatchSize", batch)
            concurrency = (p.get("ScalingConfig") or {}).get("MaximumConcurrency", concurrency)
        out[name] = {"memory_mb": props["MemorySize"], "arch": arch, "batch": batch,
                     "timeout_s": props.get("Timeout"), "concurrency": concurrency}
    windows = {"queue": params["QueueBatchingWindowSeconds"]["Default"],
               "stream": params["StreamBatchingWindowSeconds"]["Default"]}
    alarms = sum(1 for r in template["Resources"].values() if r.get("Type") == "AWS::CloudWatch::Alarm")
    return out, windows, alarms, params["LogRetentionDays"]["Default"]


def vcpu(memory_mb):
    return min(1.0, memory_mb / FULL_VCPU_MB)


def scale_row(rows, index, items):
    """The index-scale row for `items` (the smallest measured below it), or a straight line
    through the two largest measured (the head's page list grows linearly with the collection)."""
    measured = sorted((r for r in rows if r["index"] == index), key=lambda r: r["items"])
    if not measured:
        sys.exit(f"no {index} rows in the index-scale file")
    if items <= measured[0]["items"]:
        return measured[0], False
    for r in measured:
        if r["items"] == items:
            return r, False
    lower = [r for r in measured if r["items"] < items]
    upper = [r for r in measured if r["items"] > items]
    a, b = (lower[-1], upper[0]) if upper else (measured[-2] if len(measured) > 1 else measured[0], measured[-1])
    if a["items"] == b["items"]:
        return b, "extrapolated"
    t = (items - a["items"]) / (b["items"] - a["items"])
    row = {k: (a[k] + t * (b[k] - a[k]) if isinstance(a[k], (int, float)) else a[k]) for k in a}
    return row, "interpolated" if upper else "extrapolated"


def photo_sizes(load):
    """Bytes stored per kept upload: original, thumbnail, preview, faces copy."""
    objects = load["bucket"]["objects"]

    def each(area):
        v = [o for k, o in objects.items() if k.split("/")[1] == area]
        return sum(o["bytes"] for o in v) / max(1, sum(o["count"] for o in v))
    faces_to_preview = each("faces") / each("previews")
    sizes = {
        "original": ORIGINAL_BYTES,
        "thumbnail": each("thumbnails"),
        "preview": PREVIEW_BYTES,
        "faces copy": PREVIEW_BYTES * (MARKED_SIDE / PREVIEW_SIDE) ** 2 * faces_to_preview,
    }
    return sizes, faces_to_preview


def mix(load):
    up = load["uploads"]
    n = up["count"]
    return {"public": up["public"] / n, "edits": load["edits"]["count"] / n, "deletes": load["deletes"]["count"] / n}


def log_line_bytes():
    """Bytes of the JSON lines each handler writes (media_core::telemetry: flattened event, no
    time or target, the span list), rendered from representative values: an identity id of
    `us-east-1:` + a UUID, a phone's file name, a message id."""
    identity = "us-east-1:3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70"
    key = f"public/content/{identity}/IMG_20261130_184512.jpg"
    span = {"event": "ObjectCreated:Put", "key": key, "message_id": "4f7e1c2a-9b8d-4e6f-a1b2-c3d4e5f60718", "name": "change"}

    def line(fields, spans=(span,)):
        d = {"level": "INFO"}
        d.update(fields)
        if spans:
            d["spans"] = list(spans)
        return len(json.dumps(d, separators=(",", ":"))) + 1
    dated = line({"key": key, "upload_date": "2026-11-30T18:45:12.345Z", "moved_from": None, "source": "Event", "message": "upload dated"})
    applied = line({"key": key, "event": "ObjectCreated:Put", "outcome": "Thumbnailed { thumbnail_key: \"public/thumbnails/...\", preview_key: \"public/previews/...\", width: 200, height: 150 }", "message": "change applied"})
    faces = line({"key": key, "event": "ObjectCreated:Put", "detector": "dnn", "outcome": "Marked { faces_key: \"public/faces/...\", face_count: 1 }", "message": "change applied"})
    removed = line({"key": key, "event": "ObjectRemoved:Delete", "outcome": "Removed", "message": "change applied"})
    index_span = {"index": f"private/index/{identity}/content.json", "keys": f"[ItemKey {{ identity_id: \"{identity}\", object_key: \"{key}\" }}]", "name": "index"}
    index = line({"index": f"private/index/{identity}/content.json", "items": 100, "pages": 1, "volumes": 0, "attempts": 1, "changes": 2,
                  "index_bytes_read": 131072, "index_bytes_written": 131072, "objects_read": 2, "objects_written": 2,
                  "items_read": 212, "keys_listed": 312, "read_units": 230, "message": "index written"}, (index_span,))
    return {"content-updated upload": dated + applied, "content-updated delete": removed,
            "face-detection upload": faces, "face-detection delete": removed, "index regeneration": index}


def model(load, scale, functions, design, owner_items, public_per_day=PUBLIC_PER_DAY, over=None):
    """Dollars per 1,000 uploads (with the mix's edits and deletes, one month of storage and of
    the repair pass for the pictures kept) by component, and the quantities behind them.
    `over` replaces measured regenerations and invocations (the latency simulation's)."""
    over = over or {}
    m = mix(load)
    up = load["uploads"]
    uploads = up["count"]
    kept = 1 - m["deletes"]
    idx = load["indexTotals"]
    private, public = idx.get("private", {}), idx.get("public", {})
    regen_private = over.get("regen_private", private.get("regenerations", 0) / uploads)
    regen_public = over.get("regen_public", public.get("regenerations", 0) / uploads)
    # Stream records per upload, its edits and deletes included (each a rewrite in the book's).
    records_per_upload = private.get("changes", 0) / uploads
    inv = load["invocations"]
    head = load["bucket"]["largestHead"]
    item_bytes = head["bytes"] / max(1, head["items"])
    sizes, _ = photo_sizes(load)
    ours = design == "ours"
    q, cost = {}, {}
    gb_s = {"x86_64": 0.0, "arm64": 0.0}
    lam_requests = 0.0

    # --- Requests per upload, from the handlers (per delete and per edit below).
    # content-updated, an upload: a consistent GetItem (a later event applied?), the original's
    # GET, the owner's originals listed for the quota (both content prefixes, 1,000 keys a page:
    # content-updated/src/bounds.rs), then each rendition a HEAD and a conditional PUT
    # (media-core/src/derived.rs `put`), the item's conditional UpdateItem.
    # face-detection, an upload: the original's GET, the faces copy's HEAD and PUT, UpdateItem.
    # A delete: content-updated's GetItem, a HEAD of the original (back again?), the tombstone,
    # and a HEAD (and a free DELETE) of each of the three derived objects; face-detection leaves
    # deletes to content-updated. An edit: the client's UpdateItem.
    renditions = 2 if ours else 1  # thumbnail and preview; the book makes a thumbnail only
    heads_before_write = 1 if ours else 0  # the book's writes are unconditional
    per_owner_prefix = max(1, owner_items * kept / 2)
    quota_lists = 2 * math.ceil(per_owner_prefix / 1000) if ours else 0
    s3_put = 1 + renditions + 1  # original (the client's), renditions, faces copy
    s3_head = heads_before_write * (renditions + 1) + m["deletes"] * ((1 + 3) if ours else 0)
    s3_list = quota_lists
    s3_get = 2  # the original, read by content-updated and face-detection
    cu_requests = 1 + 1 + quota_lists + renditions * (1 + heads_before_write) + 1
    fd_requests = 1 + 1 + heads_before_write + 1

    # --- Lambda: the image functions. Duration = CPU per upload at the vCPU share the memory
    # buys, plus a wait per AWS request and the original's read.
    cpu = load.get("cpuSeconds", {})
    events = uploads + load["deletes"]["count"]
    cu, fd = functions["content-updated"], functions["face-detection"]
    cu_cpu = cpu.get("content-updated", 0.0) * 1000 / events + IMAGE_MS[design]
    fd_cpu = FACES_MS + MARKED_COPY_MS
    cu_ms = cu_cpu / vcpu(cu["memory_mb"]) + IO_MS_PER_REQUEST * cu_requests + ORIGINAL_READ_MS
    fd_ms = fd_cpu / vcpu(fd["memory_mb"]) + IO_MS_PER_REQUEST * fd_requests + ORIGINAL_READ_MS
    delete_ms = IO_MS_PER_REQUEST * (1 + 1 + 1 + (3 if ours else 1))
    q["content-updated ms per upload (modelled)"] = cu_ms
    q["face-detection ms per upload (modelled)"] = fd_ms
    gb_s[cu["arch"]] += cu["memory_mb"] / 1024 * (cu_ms + m["deletes"] * delete_ms) / 1000
    gb_s[fd["arch"]] += fd["memory_mb"] / 1024 * fd_ms / 1000
    inv_cu = over.get("inv_content-updated", inv["content-updated"]["invocations"] / uploads)
    inv_fd = over.get("inv_face-detection", inv["face-detection"]["invocations"] / uploads)
    lam_requests += inv_cu + inv_fd

    # --- The index.
    f = functions["update-content-index"]
    measured_bytes = (private.get("index_bytes_read", 0) + private.get("index_bytes_written", 0)
                      + public.get("index_bytes_read", 0) + public.get("index_bytes_written", 0)) / uploads
    if ours:
        p_row, p_extrapolated = scale_row(scale, "private", max(owner_items, 1))
        u_row, _ = scale_row(scale, "public", max(r["items"] for r in scale if r["index"] == "public"))
        index_written = regen_private * p_row["bytesWritten"] + regen_public * u_row["bytesWritten"]
        index_read = regen_private * p_row["bytesRead"] + regen_public * u_row["bytesRead"]
        # Heads, pages and volumes written (index-scale's objectsWritten), each after a GET of
        # the object it replaces (the ETag its If-Match names: docs/indexes.md, "Never going
        # back"); the load test's objects_read per regeneration.
        index_puts = regen_private * p_row["objectsWritten"] + regen_public * u_row["objectsWritten"]
        reads_per_regen = (private.get("objects_read", 0) + public.get("objects_read", 0)) / max(
            1, private.get("regenerations", 0) + public.get("regenerations", 0))
        index_gets = reads_per_regen * (regen_private + regen_public)
        consistent_reads = regen_private * p_row["itemsRead"] + regen_public * u_row["itemsRead"]
        listed = regen_private * p_row["keysListed"] + regen_public * u_row["keysListed"]
        largest_json = max(p_row["largestHead"], p_row["largestPage"], u_row["largestHead"])
        q["index rows used"] = f"private {p_row['items']:,.0f}" + (f" ({p_extrapolated})" if p_extrapolated else "") + f", public {u_row['items']:,.0f}"
        regenerations = regen_private + regen_public
        inv_uci = over.get("inv_update-content-index", inv["update-content-index"]["invocations"] / uploads)
    else:
        # One full rewrite per stream record: the owner's whole private index and, for a public
        # item, the latest day's public index; each from a Query of the table.
        rewrites_public = records_per_upload * m["public"]
        index_written = (records_per_upload * owner_items + rewrites_public * public_per_day) * item_bytes
        index_read = 0.0
        index_puts = records_per_upload + rewrites_public
        index_gets = 0.0
        consistent_reads = 0.0
        listed = records_per_upload * owner_items + rewrites_public * public_per_day
        largest_json = max(owner_items, public_per_day) * item_bytes
        regenerations = records_per_upload + rewrites_public
        inv_uci = max(inv["update-content-index"]["invocations"] / uploads, regenerations / (f["batch"] or 1))
    q["index regenerations per upload"] = regenerations
    q["index objects written per upload (heads, pages, volumes)"] = index_puts
    q["index bytes written per upload"] = index_written
    q["largest index JSON held (MB)"] = largest_json / 1e6
    local_cpu_ms = cpu.get("update-content-index", 0.0) * 1000 / uploads
    extra_bytes = max(0.0, index_written + index_read + listed * item_bytes - measured_bytes)
    index_cpu_ms = local_cpu_ms + extra_bytes / INDEX_BYTES_PER_VCPU_SECOND * 1000
    index_requests = index_gets + index_puts + consistent_reads / 100 + listed * item_bytes / 1e6 + regenerations
    index_ms = index_cpu_ms / vcpu(f["memory_mb"]) + IO_MS_PER_REQUEST * index_requests
    gb_s[f["arch"]] += f["memory_mb"] / 1024 * index_ms / 1000
    lam_requests += inv_uci
    q["update-content-index ms per upload (modelled)"] = index_ms
    q["update-content-index ms per regeneration (modelled)"] = index_ms / max(regenerations, 1e-9)
    per_regeneration_s = index_ms / max(regenerations, 1e-9) / 1000
    if largest_json > f["memory_mb"] * 1e6 or (f["timeout_s"] and per_regeneration_s > f["timeout_s"]):
        q["infeasible"] = (f"one index JSON of {largest_json / 1e6:,.0f} MB against {f['memory_mb']} MB of memory; "
                           f"{per_regeneration_s:,.0f} s per rewrite against a {f['timeout_s']} s timeout")
    cost["Lambda requests"] = lam_requests * PRICES["lambda_request"]
    cost["Lambda duration x86_64"] = gb_s["x86_64"] * PRICES["lambda_gb_s_x86_64"]
    cost["Lambda duration arm64"] = gb_s["arm64"] * PRICES["lambda_gb_s_arm64"]
    q["invocations per upload (content-updated / face-detection / index)"] = f"{inv_cu:.2f} / {inv_fd:.2f} / {inv_uci:.2f}"

    # --- S3.
    puts = s3_put + index_puts
    gets = s3_get + index_gets
    q["S3 PUT per upload (original, renditions, faces copy, index)"] = puts
    q["S3 LIST per upload (quota)"] = s3_list
    q["S3 HEAD per upload (before conditional writes; deletes)"] = s3_head
    q["S3 GET per upload (original twice, index before its writes)"] = gets
    stored = sizes["original"] + sizes["thumbnail"] + sizes["faces copy"] + (sizes["preview"] if ours else 0)
    stored_kept = stored * kept
    q["S3 bytes stored per upload kept"] = stored
    cost["S3 PUT and LIST"] = (puts + s3_list) * PRICES["s3_put"]
    cost["S3 GET and HEAD"] = (gets + s3_head) * PRICES["s3_get"]
    cost["S3 storage, one month"] = stored_kept / 1e9 * PRICES["s3_gb_month"]

    # --- DynamoDB writes: each write of an item of up to 1 KB is 1 WRU, and 1 more per GSI it
    # changes. Owner GSI (identityId-uploadDate-index, KEYS_ONLY): written when the item gets
    # its uploadDate (content-updated's write) and when the tombstone removes it; face-detection's
    # write and an edit change no projected attribute. Public GSI (uploadDay-uploadDate-index,
    # ALL): every write of a public item.
    wru_each = math.ceil(item_bytes / 1024)
    table_writes = 2 + m["edits"] + m["deletes"]
    owner_gsi = 1 + m["deletes"]
    public_gsi = m["public"] * (2 + m["edits"] + m["deletes"])
    wru = wru_each * (table_writes + owner_gsi + public_gsi)
    rru_handlers = 1 + m["deletes"]  # content-updated's consistent GetItem per event
    rru_index = consistent_reads * math.ceil(item_bytes / 4096) + listed * item_bytes / 4096 * 0.5
    rru = rru_handlers + rru_index
    q["DynamoDB WRU per upload (table, owner GSI, public GSI)"] = f"{wru:.2f} ({table_writes:.1f} + {owner_gsi:.1f} + {public_gsi:.1f})"
    q["DynamoDB RRU per upload"] = rru
    cost["DynamoDB writes (table and both GSIs)"] = wru * PRICES["ddb_wru"]
    cost["DynamoDB reads"] = rru * PRICES["ddb_rru"]
    cost["DynamoDB storage, one month"] = item_bytes * kept * (1 + m["public"]) / 1e9 * PRICES["ddb_gb_month"]

    # --- SNS and SQS: one publish per S3 event; per queue a send (by SNS) and a share of the
    # receive and the delete of a batch.
    events_per_upload = 1 + m["deletes"]
    cost["SNS publishes"] = events_per_upload * PRICES["sns_publish"]
    cost["SQS requests"] = (2 * events_per_upload + 2 * (inv_cu + inv_fd)) * PRICES["sqs_request"]

    # --- CloudWatch Logs: the handlers' JSON lines and Lambda's platform lines.
    lines = log_line_bytes()
    log_bytes = (lines["content-updated upload"] + lines["face-detection upload"]
                 + m["deletes"] * (lines["content-updated delete"] + lines["face-detection delete"])
                 + regenerations * lines["index regeneration"]
                 + (inv_cu + inv_fd + inv_uci) * PLATFORM_LOG_BYTES)
    q["log bytes per upload"] = log_bytes
    cost["CloudWatch Logs ingestion"] = log_bytes / 1e9 * PRICES["logs_ingest_gb"]

    # --- The repair pass for the pictures kept, one month (ours only).
    rp = repair_per_picture_day(load, scale, functions, item_bytes, m)
    if ours:
        cost["repair pass, one month"] = kept * rp["dollars"] * DAYS_PER_MONTH
    else:
        cost["repair pass, one month"] = 0.0
    q["_repair"] = rp
    q["_per_upload"] = {"cu_ms": cu_ms, "fd_ms": fd_ms, "regen_ms": index_ms / max(regenerations, 1e-9),
                        "gb_s": gb_s, "invocations": {"content-updated": inv_cu, "face-detection": inv_fd, "update-content-index": inv_uci},
                        "stored": stored, "log_bytes": log_bytes}
    return {k: v * 1000 for k, v in cost.items()}, q


def repair_per_picture_day(load, scale, functions, item_bytes, m):
    """What the daily pass costs per stored picture (repair/src/lib.rs):
    * content steps: a list page of 1,000 originals, a consistent BatchGetItem of their items
      (1 RRU each), then `stored`: HEADs of the thumbnail, preview and faces copy (3 HEADs);
    * table step: a consistent Scan (item bytes / 4 KB each) and, per live item, `exists` of its
      original (1 HEAD); then every owner's private index rebuilt: every page and volume read
      (a GET per 250 items), a Query of the keys-only owner GSI and a consistent BatchGetItem of
      every item (1 RRU each); nothing written when nothing changed;
    * derived steps: a list page of 1,000 per derived prefix, and per derived object `exists` of
      its original (3 HEADs);
    * the public index rebuilt like a private one (its GSI projects ALL: item bytes per key).
    So 7 HEADs, 4 / 1,000 LISTs and about 2.7 RRU per picture, all one after another."""
    page_items = 250
    heads = 3 + 1 + 3
    lists = 4 / 1000
    gets = (1 + m["public"]) / page_items
    owner_key_bytes = 150
    rru = (1 + item_bytes / 4096 + 1 + owner_key_bytes / 4096 * 0.5
           + m["public"] * (1 + item_bytes / 4096 * 0.5))
    requests = heads + lists + gets + (2 + m["public"]) / 100 + 1 / 100
    f = functions["repair"]
    cpu_ms = (item_bytes * 3 + 560 * (1 + m["public"])) / INDEX_BYTES_PER_VCPU_SECOND * 1000
    ms = cpu_ms / vcpu(f["memory_mb"]) + IO_MS_PER_REQUEST * requests
    price = PRICES[f"lambda_gb_s_{f['arch']}"]
    dollars = (heads + gets) * PRICES["s3_get"] + lists * PRICES["s3_put"] + rru * PRICES["ddb_rru"] \
        + f["memory_mb"] / 1024 * ms / 1000 * price
    return {"heads": heads, "lists": lists, "gets": gets, "rru": rru, "ms": ms, "dollars": dollars,
            "per_day_limit": 86400 * 1000 / ms}


# ------------------------------------------------------------------ deployments, a month

DEPLOYMENTS = [
    ("small", 50, 20, 500),  # people, uploads a day each, gallery views a day
    ("large", 1000, 20, 10_000),
]
MONTHS = (1, 12)


def monthly(load, scale, functions, alarms, retention_days, design, people, per_day, views, month, over=None):
    m = mix(load)
    uploads_day = people * per_day
    uploads_month = uploads_day * DAYS_PER_MONTH
    kept = 1 - m["deletes"]
    # Pictures stored on average over the month, and per owner.
    stored_pictures = uploads_day * DAYS_PER_MONTH * kept * (month - 0.5)
    owner_items = per_day * DAYS_PER_MONTH * kept * (month - 0.5)
    public_per_day = uploads_day * m["public"]
    per1000, q = model(load, scale, functions, design, owner_items, public_per_day, over if design == "ours" else None)
    pu = q["_per_upload"]
    head = load["bucket"]["largestHead"]
    item_bytes = head["bytes"] / max(1, head["items"])
    c = {}
    flows = [k for k in per1000 if "one month" not in k]
    for k in flows:
        c[k] = per1000[k] / 1000 * uploads_month
    c["S3 storage"] = stored_pictures * pu["stored"] / 1e9 * PRICES["s3_gb_month"]
    c["DynamoDB storage"] = stored_pictures * item_bytes * (1 + m["public"]) / 1e9 * PRICES["ddb_gb_month"]
    if design == "ours":
        rp = q["_repair"]
        c["repair pass"] = stored_pictures * DAYS_PER_MONTH * rp["dollars"]
        repair_hours = stored_pictures * rp["ms"] / 1000 / 3600
    else:
        c["repair pass"] = 0.0
        repair_hours = 0.0
    # Gallery views: half the owner's own gallery, half the public one.
    sizes, _ = photo_sizes(load)
    if design == "ours":
        index_bytes = head["bytes"]
    else:
        index_bytes = item_bytes * (owner_items + public_per_day) / 2
    polls = VIEW_SECONDS / POLL_S
    view_gets = 1 + polls + VIEW_THUMBNAILS + VIEW_PREVIEWS
    view_bytes = index_bytes + VIEW_THUMBNAILS * sizes["thumbnail"] + VIEW_PREVIEWS * (sizes["preview"] if design == "ours" else sizes["original"])
    views_month = views * DAYS_PER_MONTH
    c["gallery views: S3 GETs"] = views_month * view_gets * PRICES["s3_get"]
    transfer_gb = views_month * view_bytes / 1e9
    c["gallery views: data transfer out"] = transfer_gb * PRICES["transfer_out_gb"]
    # INIT: each function starts cold at most once per IDLE_RECLAIM_S per concurrent environment.
    init_gb_s = {"x86_64": 0.0, "arm64": 0.0}
    for name, per_upload in pu["invocations"].items():
        f = functions[name]
        invocations_day = per_upload * uploads_day
        colds_day = min(invocations_day, 86400 / IDLE_RECLAIM_S * (f["concurrency"] or 1))
        init_gb_s[f["arch"]] += colds_day * DAYS_PER_MONTH * INIT_MS[name] / 1000 * f["memory_mb"] / 1024
    rf = functions["repair"]
    repair_invocations = max(1.0, math.ceil(repair_hours * 3600 / (rf["timeout_s"] * 0.9))) * DAYS_PER_MONTH
    init_gb_s[rf["arch"]] += repair_invocations * INIT_MS["repair"] / 1000 * rf["memory_mb"] / 1024
    pf = functions["purge-bucket"]
    purge_runs = 24 * DAYS_PER_MONTH
    init_gb_s[pf["arch"]] += purge_runs * INIT_MS["purge-bucket"] / 1000 * pf["memory_mb"] / 1024
    c["Lambda INIT (cold starts)"] = sum(init_gb_s[a] * PRICES[f"lambda_gb_s_{a}"] for a in init_gb_s)
    # Fixed: purge-bucket hourly (one LIST, ~50 ms), the alarms, Lambda's idle long polls of the
    # two queues (assumed 5 pollers a queue, 20 s long polls), log storage.
    idle_receives = 2 * 5 * 3 * 60 * 24 * DAYS_PER_MONTH
    c["fixed: queue polls, purge, alarms"] = (idle_receives * PRICES["sqs_request"]
                                             + purge_runs * (PRICES["s3_put"] + PRICES["lambda_request"]
                                                             + pf["memory_mb"] / 1024 * 0.05 * PRICES[f"lambda_gb_s_{pf['arch']}"])
                                             + alarms * PRICES["alarm_month"])
    log_gb = uploads_month * pu["log_bytes"] / 1e9
    c["CloudWatch Logs storage"] = log_gb * retention_days / DAYS_PER_MONTH * PRICES["logs_store_gb_month"]
    total = sum(c.values())
    # Always-free allowances.
    lam_req = sum(pu["invocations"].values()) * uploads_month + repair_invocations + purge_runs
    lam_gb_s = sum(pu["gb_s"].values()) * uploads_month
    free = (min(lam_req, 1e6) * PRICES["lambda_request"]
            + min(lam_gb_s, 400_000) * PRICES["lambda_gb_s_x86_64"]
            + min(c["SQS requests"] + idle_receives * PRICES["sqs_request"], 1e6 * PRICES["sqs_request"])
            + min(c["SNS publishes"], 1e6 * PRICES["sns_publish"])
            + min(c["DynamoDB storage"], 25 * PRICES["ddb_gb_month"])
            + min(c["CloudWatch Logs ingestion"], 5 * PRICES["logs_ingest_gb"])
            + min(c["gallery views: data transfer out"], 100 * PRICES["transfer_out_gb"]))
    info = {"stored": stored_pictures, "owner_items": owner_items, "uploads": uploads_month,
            "repair_hours": repair_hours, "transfer_gb": transfer_gb, "stored_tb": stored_pictures * pu["stored"] / 1e12,
            "infeasible": q.get("infeasible"), "after_free": max(0.0, total - free),
            "repair_limit": q["_repair"]["per_day_limit"]}
    return c, total, info


# ------------------------------------------------------------------ latency

def esm_queue(avail, batch, window, concurrency, service_s, rng):
    """An SQS event source mapping: `avail` sorted times messages become visible; a batch goes
    when `batch` messages are in or `window` seconds have passed since its first (window 0: at
    once, with whatever is there); at most `concurrency` batches run; a batch handles its
    messages one after another, each taking `service_s` times a factor drawn from SERVICE_SPREAD.
    Returns each message's finish time and the invocations."""
    free = [0.0] * concurrency
    heapq.heapify(free)
    done, i, n, invocations = [0.0] * len(avail), 0, len(avail), 0
    while i < n:
        slot = heapq.heappop(free)
        t0 = max(slot, avail[i])
        last = i + batch - 1
        close = t0 if window == 0 else max(t0, min(t0 + window, avail[last] if last < n else math.inf))
        j = i
        while j < n and j - i < batch and avail[j] <= close:
            j += 1
        t = close + INVOKE_OVERHEAD_S
        for k in range(i, j):
            t += service_s * rng.uniform(*SERVICE_SPREAD)
            done[k] = t
        heapq.heappush(free, t)
        invocations += 1
        i = j
    return done, invocations


def simulate(rate, queue_window, stream_window, functions, cu_s, fd_s, regen_s, owners=SIM_OWNERS, seconds=SIM_SECONDS, seed=7):
    rng = random.Random(seed)
    t, ups = 0.0, []
    while True:
        t += rng.expovariate(rate)
        if t > seconds:
            break
        ups.append((t, rng.randrange(owners), rng.random() < 0.5))
    avail = [u[0] + S3_EVENT_TO_QUEUE_S for u in ups]
    cu = functions["content-updated"]
    fd = functions["face-detection"]
    cu_done, cu_inv = esm_queue(avail, cu["batch"], queue_window, cu["concurrency"], cu_s, rng)
    fd_done, fd_inv = esm_queue(avail, fd["batch"], queue_window, fd["concurrency"], fd_s, rng)
    recs = sorted([(cu_done[i] + STREAM_RECORD_S, i, True) for i in range(len(ups))]
                  + [(fd_done[i] + STREAM_RECORD_S, i, False) for i in range(len(ups))])
    batch = functions["update-content-index"]["batch"]
    visible = [math.inf] * len(ups)
    t_free, i, n = 0.0, 0, len(recs)
    regen_private = regen_public = stream_inv = 0
    while i < n:
        t0 = max(t_free, recs[i][0])
        tick = math.ceil(t0 / STREAM_POLL_S) * STREAM_POLL_S
        last = i + batch - 1
        close = tick if stream_window == 0 else max(tick, min(tick + stream_window, recs[last][0] if last < n else math.inf))
        j = i
        while j < n and j - i < batch and recs[j][0] <= close:
            j += 1
        owners_hit = {ups[r[1]][1] for r in recs[i:j]}
        public_hit = any(ups[r[1]][2] for r in recs[i:j])
        regens = len(owners_hit) + (1 if public_hit else 0)
        finish = close + INVOKE_OVERHEAD_S + regens * regen_s
        for r in recs[i:j]:
            if r[2]:
                visible[r[1]] = min(visible[r[1]], finish)
        regen_private += len(owners_hit)
        regen_public += 1 if public_hit else 0
        stream_inv += 1
        t_free = finish
        i = j
    lat = sorted(visible[k] - ups[k][0] for k in range(len(ups)))
    n_up = len(ups)
    cap = cu["concurrency"] / cu_s
    return {"uploads": n_up, "p50": lat[n_up // 2], "p95": lat[min(n_up - 1, int(n_up * 0.95))],
            "regen_private": regen_private / n_up, "regen_public": regen_public / n_up,
            "inv_cu": cu_inv / n_up, "inv_fd": fd_inv / n_up, "inv_uci": stream_inv / n_up,
            "saturated": rate > cap, "capacity": cap, "concurrency": cu["concurrency"]}


def overrides_from(s, load, m):
    """Regenerations and invocations per upload of a simulation, with the edits' and deletes'
    regenerations from the load test (the simulation has uploads only)."""
    tot, upl, n = load["indexTotals"], load["uploads"]["index"], load["uploads"]["count"]
    return {"regen_private": s["regen_private"] + (tot["private"]["regenerations"] - upl["private"]["regenerations"]) / n,
            "regen_public": s["regen_public"] + (tot["public"]["regenerations"] - upl["public"]["regenerations"]) / n,
            "inv_content-updated": s["inv_cu"] * (1 + m["deletes"]),
            "inv_face-detection": s["inv_fd"] * (1 + m["deletes"]),
            "inv_update-content-index": s["inv_uci"] * (1 + m["edits"] + m["deletes"])}


def money(x):
    if x == 0:
        return "$0"
    return f"${x:.4f}" if x < 1 else f"${x:,.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--load", default=os.path.join(HERE, "load-counters.json"))
    ap.add_argument("--scale", default=os.path.join(HERE, "index-scale.jsonl"))
    ap.add_argument("--template", default=os.path.join(ROOT, "infra", "template.yaml"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "cost.md"))
    args = ap.parse_args()
    load = json.load(open(args.load))
    scale = [json.loads(line) for line in open(args.scale) if line.strip()]
    functions, windows, alarms, retention = template_functions(args.template)
    m = mix(load)
    sizes, faces_to_preview = photo_sizes(load)

    columns = [(d, n) for n in OWNER_SIZES for d in ("ours", "book")]
    results = {c: model(load, scale, functions, *c) for c in columns}
    components = list(results[columns[0]][0])
    totals = {c: sum(results[c][0].values()) for c in columns}
    # Latency and the windows: the simulation at each rate, for each set of windows.
    base = results[("ours", 1_000)][1]["_per_upload"]
    cu_s, fd_s, regen_s = base["cu_ms"] / 1000, base["fd_ms"] / 1000, base["regen_ms"] / 1000
    default_windows = (windows["queue"], windows["stream"])
    rates = [(people * per_day / 86400, f"{name} deployment's mean", people) for name, people, per_day, _ in DEPLOYMENTS]
    rates += [(r, "", SIM_OWNERS) for r in (1, 10, 100)]
    window_sets = list(dict.fromkeys([(0, 0), (1, 2), (0, 1), (0, 2), default_windows]))
    lat = {}
    for rate, _, owners in rates:
        for wset in window_sets:
            s = simulate(rate, wset[0], wset[1], functions, cu_s, fd_s, regen_s, owners=owners,
                         seconds=max(SIM_SECONDS, SIM_UPLOADS / rate))
            s["over"] = overrides_from(s, load, m)
            c, _ = model(load, scale, functions, "ours", 1_000, over=s["over"])
            s["flow_cost"] = sum(v for k, v in c.items() if "one month" not in k)
            lat[(rate, wset)] = s
    small_rate, large_rate = rates[0][0], rates[1][0]

    deploy = {}
    for (name, people, per_day, views), (rate, _, _) in zip(DEPLOYMENTS, rates):
        for month in MONTHS:
            for design in ("ours", "book"):
                deploy[(name, month, design)] = monthly(load, scale, functions, alarms, retention, design, people,
                                                        per_day, views, month, lat[(rate, default_windows)]["over"])

    out = []
    w = out.append
    ours1, book1 = totals[("ours", 1_000)], totals[("book", 1_000)]
    sm1, sm12 = deploy[("small", 1, "ours")], deploy[("small", 12, "ours")]
    lg12 = deploy[("large", 12, "ours")]
    w("# What it costs (generated)")
    w("")
    w("The AWS bill of this stack, from measured counters and the handlers' code, against the book's design "
      "computed the same way: per 1,000 uploads, per month for a small and a large deployment, and the "
      "upload-to-visible latency the batching windows buy. us-east-1 list prices; sources and every "
      "assumption at the end.")
    w("")
    w(f"Generated by `bench/cost.py` (`python3 bench/cost.py`, or `make -C bench cost`) from the load test's counters "
      f"(`{os.path.basename(args.load)}`, run of {load['date']}), the index-scale rows (`{os.path.basename(args.scale)}`), "
      "`infra/template.yaml` and the constants at the top of the script. Do not edit by hand.")
    w("")
    w("**Headline figures**")
    w("")
    w(f"* **Per 1,000 uploads** of 3.5 MB photos (half public, with {m['edits']*1000:.0f} edits and {m['deletes']*1000:.0f} deletes), "
      f"including a month of storage and of the repair pass for the pictures kept: **{money(ours1)}** ours, "
      f"{money(book1)} the book's (1,000 pictures per owner); at 1,000,000 per owner {money(totals[('ours', 1_000_000)])} "
      f"against {money(totals[('book', 1_000_000)])}" + (" (which cannot run: its index does not fit)." if "infeasible" in results[("book", 1_000_000)][1] else ".")
      + " Largest terms (ours, 1,000 per owner): "
      + ", ".join(f"{k} {money(v)}" for k, v in sorted(results[("ours", 1_000)][0].items(), key=lambda kv: -kv[1])[:4])
      + f"; without a month of storage and repair, the upload itself costs "
      f"{money(sum(v for k, v in results[('ours', 1_000)][0].items() if 'one month' not in k))} per 1,000. At 1,000,000 per "
      f"owner ours is dominated by the storage quota's listing of the owner's originals "
      f"({results[('ours', 1_000_000)][1]['S3 LIST per upload (quota)']:,} LISTs per upload).")
    w(f"* **Small deployment** (50 people x 20 uploads a day, 500 gallery views a day): **{money(sm1[1])}** in month 1, "
      f"**{money(sm12[1])}** in month 12 ({money(sm1[2]['after_free'])} and {money(sm12[2]['after_free'])} after the always-free allowances). "
      f"The book's: {money(deploy[('small', 1, 'book')][1])} and {money(deploy[('small', 12, 'book')][1])}.")
    w(f"* **Large deployment** (1,000 people x 20 uploads a day, 10,000 views a day): {money(deploy[('large', 1, 'ours')][1])} in month 1, "
      f"**{money(lg12[1])}** in month 12; the book's {money(deploy[('large', 1, 'book')][1])} and {money(deploy[('large', 12, 'book')][1])}.")
    large_per_month = DEPLOYMENTS[1][1] * DEPLOYMENTS[1][2] * DAYS_PER_MONTH * (1 - m["deletes"])
    w(f"* **What grows**: storage and the daily repair pass, both per stored picture. The repair pass costs "
      f"{money(sm12[0]['repair pass'])} of month 12's {money(sm12[1])} for the small deployment "
      f"({sm12[2]['repair_hours']:.1f} hours of Lambda a day; without it, {money(sm12[1] - sm12[0]['repair pass'])} against the "
      f"book's {money(deploy[('small', 12, 'book')][1])}), and one pass cannot finish in a day beyond about "
      f"{sm12[2]['repair_limit'] / 1e6:.1f} million stored pictures (the large deployment passes that in month "
      f"{math.ceil(sm12[2]['repair_limit'] / large_per_month)}).")
    d = default_windows
    rs0, rsd = lat[(small_rate, (0, 0))], lat[(small_rate, d)]
    w(f"* **Batching windows**: {d[0]} s on the S3-event queues, {d[1]} s on the table stream (the template's defaults). "
      f"At the small deployment's rate a picture is in its index {rsd['p50']:.1f} s after its upload (p50; "
      f"{rs0['p50']:.1f} s with no windows), for {money(rsd['flow_cost'])} per 1,000 uploads ({money(rs0['flow_cost'])} "
      "with none): the stream's window puts an upload's two table writes into one index rebuild.")
    w("")

    w("## Per 1,000 uploads")
    w("")
    w("\"Book\" is the book's design computed the same way: one full index rewrite per stream record (the owner's "
      "whole private index, and for a public item the public index of the latest day, here 10,000 public uploads a "
      "day), a thumbnail by GraphicsMagick and no preview, unconditional writes (no HEAD first), no storage quota, "
      "no repair pass; everything else as ours (the same face detection, queues, table). Lambda INIT, gallery views "
      "and the fixed monthly costs depend on the deployment and are in the monthly table.")
    w("")
    w("| per 1,000 uploads | " + " | ".join(f"{d}, {n:,} per owner" for d, n in columns) + " |")
    w("|---|" + "---:|" * len(columns))
    for comp in components:
        w(f"| {comp} | " + " | ".join(money(results[c][0][comp]) for c in columns) + " |")
    w("| **total** | " + " | ".join(f"**{money(totals[c])}**" for c in columns) + " |")
    w("")
    for c in columns:
        if "infeasible" in results[c][1]:
            w(f"**{c[0]}, {c[1]:,} per owner, cannot run as configured**: {results[c][1]['infeasible']}; "
              "its column is what it would cost if memory and time were no limit.")
            w("")
    w("What the figures rest on, per upload:")
    w("")
    keys = [k for k in results[columns[0]][1] if k != "infeasible" and not k.startswith("_")]
    w("| quantity | " + " | ".join(f"{d}, {n:,}" for d, n in columns) + " |")
    w("|---|" + "---:|" * len(columns))
    for k in keys:
        cells = []
        for c in columns:
            v = results[c][1].get(k, "")
            cells.append(f"{v:,.1f}" if isinstance(v, float) else str(v))
        w(f"| {k} | " + " | ".join(cells) + " |")
    w("")

    w("## A month of a small and a large deployment")
    w("")
    w("Small: 50 people, 20 uploads a day each (1,000 a day), 500 gallery views a day. Large: 1,000 people, 20 a day "
      "each (20,000 a day, 10,000 of them public: the public history of the index-scale rows), 10,000 views a day. "
      f"The load test's mix throughout (a fifth of the uploads deleted again), so month *m* stores on average "
      f"{(1 - m['deletes']) * DAYS_PER_MONTH * (1 - 0.5):,.1f} x (2*m* - 1) pictures per person-upload-a-day. List prices; "
      "the last line takes off the always-free allowances.")
    w("")
    cols = [(n, mo, d) for n, *_ in DEPLOYMENTS for mo in MONTHS for d in ("ours", "book")]
    w("| per month | " + " | ".join(f"{n} m{mo}, {d}" for n, mo, d in cols) + " |")
    w("|---|" + "---:|" * len(cols))
    comps = list(deploy[cols[0]][0])
    for comp in comps:
        w(f"| {comp} | " + " | ".join(money(deploy[c][0][comp]) for c in cols) + " |")
    w("| **total** | " + " | ".join(f"**{money(deploy[c][1])}**" for c in cols) + " |")
    w("| after always-free allowances | " + " | ".join(money(deploy[c][2]["after_free"]) for c in cols) + " |")
    w("| pictures stored (mean of the month) | " + " | ".join(f"{deploy[c][2]['stored']:,.0f}" for c in cols) + " |")
    w("| TB stored | " + " | ".join(f"{deploy[c][2]['stored_tb']:,.2f}" for c in cols) + " |")
    w("| repair pass, Lambda hours a day | " + " | ".join(f"{deploy[c][2]['repair_hours']:,.1f}" for c in cols) + " |")
    w("| GB transferred out to viewers | " + " | ".join(f"{deploy[c][2]['transfer_gb']:,.0f}" for c in cols) + " |")
    w("")
    bad = [c for c in cols if deploy[c][2]["infeasible"]]
    if bad:
        w("Cannot run as configured: " + "; ".join(f"{n} m{mo} {d} ({deploy[(n, mo, d)][2]['infeasible']})" for n, mo, d in bad) + ".")
        w("")
    big = [c for c in cols if c[2] == "ours" and deploy[c][2]["repair_hours"] > 24]
    if big:
        w("The repair pass as written cannot finish a day's pass in a day for "
          + ", ".join(f"{n} m{mo}" for n, mo, _ in big)
          + f": it walks the bucket and the table one request after another, {results[('ours', 1_000)][1]['_repair']['heads']} HEADs per picture, "
          f"about {results[('ours', 1_000)][1]['_repair']['ms']:.0f} ms of Lambda per stored picture, so at most about "
          f"{sm12[2]['repair_limit'] / 1e6:.1f} million pictures a day. Its cost is still what the table says; its "
          "schedule is what breaks.")
        w("")
    w(f"Storage quota: `StorageQuotaBytes` defaults to 2 GiB of originals per person, which 20 photos a day of "
      f"{ORIGINAL_BYTES / 1e6:.1f} MB fill in about {2 * 1024**3 / (ORIGINAL_BYTES * 20 * (1 - m['deletes'])):.0f} days; "
      "the months above assume the deployer raised it (otherwise content-updated refuses, and deletes, every "
      "later upload).")
    w("")

    w("## Latency and the batching windows")
    w("")
    w("Upload to the picture's entry in its index (public or private head written), from a simulation of the event "
      "source mappings with the template's batch sizes and concurrency (content-updated "
      f"{functions['content-updated']['batch']} a batch, at most {functions['content-updated']['concurrency']} at once; "
      f"face-detection {functions['face-detection']['batch']} / {functions['face-detection']['concurrency']}; the stream "
      f"{functions['update-content-index']['batch']} a batch, one shard) and the modelled times: content-updated "
      f"{cu_s:.2f} s per photo, face-detection {fd_s:.2f} s, {regen_s * 1000:.0f} ms per index regeneration. "
      f"Poisson arrivals for {SIM_SECONDS} s or {SIM_UPLOADS} uploads, whichever is longer, of {SIM_OWNERS:,} owners (a "
      "deployment's own rate: its own people), half public; each photo's handling time varies by "
      f"x{SERVICE_SPREAD[0]}-{SERVICE_SPREAD[1]}; seeded, so each run gives the same figures. The client then sees it at its next poll of the head (up to {POLL_S} s more). Cost: per "
      "1,000 uploads with the simulated invocations and regenerations (edits' and deletes' from the load test), "
      "without storage and repair.")
    w("")
    w("| uploads / s | windows (queues / stream) | p50 s | p95 s | index regenerations per upload | invocations per upload (cu / fd / index) | $ per 1,000 uploads |")
    w("|---|---|---:|---:|---:|---|---:|")
    for rate, label, _ in rates:
        for wset in window_sets:
            s = lat[(rate, wset)]
            name = f"{rate:.3f} ({label})" if label else f"{rate:g}"
            sat = f" (saturated: content-updated drains {s['capacity']:.1f} / s)" if s["saturated"] else ""
            mark = " (default)" if wset == default_windows else ""
            w(f"| {name}{sat} | {wset[0]} s / {wset[1]} s{mark} | {s['p50']:.1f} | {s['p95']:.1f} | "
              f"{s['regen_private'] + s['regen_public']:.2f} | {s['inv_cu']:.2f} / {s['inv_fd']:.2f} / {s['inv_uci']:.2f} | {money(s['flow_cost'])} |")
    w("")
    w("How the windows act (AWS Lambda developer guide, \"Lambda event source mappings\", batching behaviour: "
      "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching): "
      "a batch is sent when the window has elapsed, the batch size is reached, or the payload reaches 6 MB (never here: an S3 "
      "event is ~2 KB, a stream record ~1 KB). With a window of 0 an SQS batch goes with what the long poll returned "
      "(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html, default 0). Lambda polls a stream's "
      "shards 4 times a second (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, \"Polling and batching "
      "streams\"), so a window of 0 still groups what arrived in the last 250 ms, and a batch waiting behind a running "
      "one groups everything that arrived meanwhile. Each invocation costs a request and its platform log lines; each "
      "regeneration an index read and write (\"Per 1,000 uploads\").")
    w("")
    w(decision_text(lat, small_rate, large_rate, default_windows, deploy_uploads=[p * u * DAYS_PER_MONTH for _, p, u, _ in DEPLOYMENTS]))
    w("")

    w("## Assumptions and sources")
    w("")
    sizes_txt = ", ".join(f"{k} {v / 1e3:,.1f} KB" for k, v in sizes.items())
    rp = results[("ours", 1_000)][1]["_repair"]
    lines = log_line_bytes()
    w(f"* **Pictures**: {sizes_txt} per upload kept. Original: 3-4 MB, a phone's photo (assumed {ORIGINAL_BYTES / 1e6:.1f} MB). "
      "Thumbnail: the load test's mean. Preview: the mean of the five photographs' previews (bench/README.md, \"Previews\"). "
      f"Faces copy (at most {MARKED_SIDE} px, not measured on photographs): the preview scaled by its pixels and by the "
      f"two encoders' bytes per pixel measured on the load test's pictures ({faces_to_preview:.2f}x).")
    w(f"* **Image CPU** per photo on one core: content-updated {IMAGE_MS['ours']} ms (thumbnail and preview, bench/README.md, "
      f"\"Previews\", a loaded machine: an upper bound), the book's GraphicsMagick thumbnail {IMAGE_MS['book']:.1f} ms; "
      f"face-detection {FACES_MS} ms (decode and detection on the 8-18 MP set, \"Faces\") + {MARKED_COPY_MS:.0f} ms for the "
      f"marked copy (an assumption). Stretched by the vCPU share of the function's memory (memory / {FULL_VCPU_MB} MB: "
      + ", ".join(f"{n} {f['memory_mb']} MB {f['arch']}" for n, f in sorted(functions.items()) if n in ("content-updated", "face-detection", "update-content-index", "repair"))
      + f"), plus {IO_MS_PER_REQUEST} ms per AWS request (an assumption) and {ORIGINAL_READ_MS} ms to read the original.")
    w("* **Requests per upload** (from the code): content-updated a consistent GetItem, the original's GET, the quota's "
      "LISTs of the owner's originals (both content prefixes, 1,000 keys a page: `content-updated/src/bounds.rs`), a HEAD "
      "and a conditional PUT per rendition (`media-core/src/derived.rs`), the item's UpdateItem; face-detection the "
      "original's GET, the faces copy's HEAD and PUT, an UpdateItem. A delete: GetItem, a HEAD of the original, the "
      "tombstone's UpdateItem, a HEAD and a (free) DELETE of each derived object. An edit: one UpdateItem by the client. "
      "Tombstones expire by TTL after 14 days (deletes by TTL are free).")
    w("* **Index** (ours): regenerations per upload from the load test's log (uploads, edits and deletes); per "
      "regeneration the heads, pages and volumes written (each after a GET of the object it replaces, for its ETag), "
      "consistent item reads and keys listed from the index-scale rows at the owner's size. The emulator ignores the "
      "windows, so the load test's batches, and its regenerations per upload, are those of windows 0 under a backlog. "
      f"Index bytes beyond what the load run measured cost Lambda time at {INDEX_BYTES_PER_VCPU_SECOND / 1e6:.0f} MB per "
      "vCPU-second (an assumption).")
    w("* **DynamoDB writes**: 1 WRU per item write (items ~0.7 KB), plus the owner GSI (`identityId-uploadDate-index`, "
      "KEYS_ONLY) when content-updated's write gives the item its `uploadDate` and when the tombstone takes it away, plus "
      "the public GSI (`uploadDay-uploadDate-index`, ALL) on every write of a public item (both writes of the upload, "
      "edits, the tombstone).")
    w(f"* **Repair pass** (`repair/src/lib.rs`), per stored picture per day: {rp['heads']} HEADs (3 in `stored` for the "
      "thumbnail, preview and faces copy; 1 `exists` of the original in the table step; 1 `exists` per derived object in "
      f"the derived steps), {rp['lists'] * 1000:.0f} LISTs per 1,000 (one page of 1,000 per prefix walked), "
      f"{rp['gets'] * 1000:.1f} GETs per 1,000 (every index page and volume read by the rebuilds, 250 items a page), "
      f"{rp['rru']:.2f} RRU (1 for the content step's consistent BatchGetItem, the consistent Scan at item bytes / 4 KB, 1 for "
      "the private rebuild's BatchGetItem plus its keys-only Query, half a picture's worth for the public rebuild), nothing "
      f"written when nothing is wrong; {rp['ms']:.0f} ms of Lambda at {functions['repair']['memory_mb']} MB, all requests one after "
      f"another at {IO_MS_PER_REQUEST} ms each ({rp['ms'] + rp['heads'] * 5:.0f} ms if a HEAD takes 15 ms). {money(rp['dollars'] * DAYS_PER_MONTH * 1000)} "
      "per 1,000 stored pictures a month, mostly the HEADs.")
    w(f"* **Lambda INIT**: billed for every cold start (AWS Compute Blog, below). INIT ms per function from the packages' "
      f"sandbox start (bench/README.md, \"The packages a deployer uploads\": "
      + ", ".join(f"{k} {v}" for k, v in INIT_MS.items())
      + f" ms; arm64 under qemu, an upper bound). Cold starts: at most one per concurrent environment per {IDLE_RECLAIM_S // 60} "
      "minutes idle (an assumption: AWS does not document when it reclaims an environment), so a function invoked "
      "less often starts cold every time; the repair pass one per hand-over (every ~13 minutes of work), purge-bucket one an hour.")
    w(f"* **CloudWatch Logs**: bytes per upload from the JSON lines the handlers write (`media_core::telemetry`: "
      "flattened events, no timestamp, the span list), rendered with representative values by `log_line_bytes()` "
      "in the script: " + ", ".join(f"{k} {v} B" for k, v in lines.items())
      + f"; plus {PLATFORM_LOG_BYTES} B of START/END/REPORT lines per invocation. Stored for {retention} days (`LogRetentionDays`), "
      "counted uncompressed (an upper bound: storage is billed compressed).")
    w(f"* **Gallery views**: the head, {VIEW_THUMBNAILS} thumbnails and {VIEW_PREVIEWS} previews (the book: originals, it has no preview), "
      f"the head polled every {POLL_S} s for {VIEW_SECONDS} s (conditional GETs); the book's client fetches its whole index. Half "
      "the views are of one's own gallery, half of the public one. Data transfer out is counted at list price; the "
      "first 100 GB a month are free.")
    w("* **Fixed**: purge-bucket hourly (a LIST and ~50 ms), the template's alarms, Lambda's idle long polls of the two "
      "S3-event queues (assumed 5 pollers a queue, a 20 s long poll each: not documented), log storage. Cognito "
      "(50 or 1,000 monthly active users, inside its free tier), CloudFront for the client and KMS are left out.")
    w("* **SNS / SQS**: one publish per S3 event; per queue one send, and a receive and a delete per batch.")
    w(f"* **Latency model**: S3 to the queue {S3_EVENT_TO_QUEUE_S} s, a table write to its stream record "
      f"{STREAM_RECORD_S} s, {INVOKE_OVERHEAD_S * 1000:.0f} ms per invocation (all assumptions); the stream polled every "
      f"{STREAM_POLL_S} s; a batch's messages handled one after another (`media_core::events::process_sqs_batch`); each "
      "stream batch regenerates each index it touches once (the owners' private heads, the public head). Face-detection "
      "is not on the path to the index (the entry needs content-updated's write) but its write is a stream record too.")
    w("")
    w(f"Prices (us-east-1, read {PRICES_READ}; the AWS pages could not be re-read from this machine, so each says where the figure was last confirmed):")
    w("")
    w("| price | source |")
    w("|---|---|")
    for what, source in PRICE_SOURCES:
        w(f"| {what} | {source} |")
    w("")
    text = "\n".join(out)
    open(args.out, "w").write(text)
    print(text)
    ours_q = results[("ours", 1_000)][1]
    record("cost", {
        "load_date": load["date"],
        "pipeline_per_1000_uploads": sum(v for k, v in results[("ours", 1_000)][0].items() if "one month" not in k),
        "repair_per_1000_stored_month": ours_q["_repair"]["dollars"] * DAYS_PER_MONTH * 1000,
        "small": {"m1": sm1[1], "m12": sm12[1]},
        "large": {"m1": deploy[("large", 1, "ours")][1], "m12": lg12[1]},
        "windows": {"default": list(d), "p50_default_s": rsd["p50"], "p50_none_s": rs0["p50"],
                    "cost_default": rsd["flow_cost"], "cost_none": rs0["flow_cost"]},
        "components": components,
    })


def decision_text(lat, small_rate, large_rate, d, deploy_uploads):
    """The defaults and the figures they rest on, in three sentences: the queue window against
    none and the stream window against none at the deployments' rates, then saturation."""
    regen = lambda s: s["regen_private"] + s["regen_public"]
    s_none, s_def = lat[(small_rate, (0, 0))], lat[(small_rate, d)]
    l_none, l_def = lat[(large_rate, (0, 0))], lat[(large_rate, d)]
    s_q1, s_q0 = lat[(small_rate, (1, d[1]))], lat[(small_rate, (0, d[1]))]
    l_q1, l_q0 = lat[(large_rate, (1, d[1]))], lat[(large_rate, (0, d[1]))]
    s_w1 = lat[(small_rate, (d[0], 1))]
    ten_none, ten_def = lat[(10, (0, 0))], lat[(10, d)]
    saved_small = (s_none["flow_cost"] - s_def["flow_cost"]) / 1000 * deploy_uploads[0]
    saved_large = (l_none["flow_cost"] - l_def["flow_cost"]) / 1000 * deploy_uploads[1]
    return (
        f"**Windows: {d[0]} s on the queues, {d[1]} s on the stream** (`QueueBatchingWindowSeconds`, "
        f"`StreamBatchingWindowSeconds`, the template's defaults): at the expected rates ({small_rate * 3600:.0f} and "
        f"{large_rate * 3600:,.0f} uploads an hour) a queue batch holds one message whatever its window, so a 1 s queue "
        f"window only waits (p50 {s_q1['p50']:.1f} s against {s_q0['p50']:.1f} s, large {l_q1['p50']:.1f} against "
        f"{l_q0['p50']:.1f}; {regen(s_q1):.2f} against {regen(s_q0):.2f} regenerations per upload, "
        f"{money(s_q1['flow_cost'])} against {money(s_q0['flow_cost'])} per 1,000 uploads). "
        f"The stream's {d[1]} s put an upload's two table writes (face-detection's, then content-updated's about a "
        f"second later) into one batch: {regen(s_def):.2f} index regenerations per upload against {regen(s_none):.2f} "
        f"with no window, {money(s_def['flow_cost'])} against {money(s_none['flow_cost'])} per 1,000 uploads "
        f"({money(saved_small)} a month for the small deployment, {money(saved_large)} for the large one), for "
        f"{s_def['p50'] - s_none['p50']:.1f} s of p50 ({s_none['p50']:.1f} s against {s_def['p50']:.1f} s; a 1 s window "
        f"catches the pair less often: {regen(s_w1):.2f} regenerations, p50 {s_w1['p50']:.1f} s). "
        f"At 10 and 100 uploads a second content-updated is saturated (it drains {ten_def['capacity']:.1f} a second at "
        f"its concurrency of {ten_def['concurrency']}), the backlog fills every batch and no window matters (p50 "
        f"{ten_none['p50']:.0f} s against {ten_def['p50']:.0f} s after a minute at 10 a second): the lever there is its "
        "concurrency (`docs/decisions/throttling.md`).")


if __name__ == "__main__":
    main()
