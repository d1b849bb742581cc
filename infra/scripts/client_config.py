#!/usr/bin/env python3
"""Reads the deployed stack's outputs.

--output FILE    writes the web client's config.json (the stack's ClientConfig
                 output: region, bucket, table, pool ids, s3ForcePathStyle=false;
                 no endpoint, so the client talks to AWS itself).
--publish DIR    uploads DIR (the built client with its config.json) to the
                 stack's client bucket (output ClientBucketName), deletes what
                 DIR no longer has, invalidates the distribution (/*) and prints
                 the client's URL; says so and does nothing on a stack that does
                 not host the client (HostClient=false).
--empty-bucket   removes the bucket's notifications and deletes every object
                 (before `sam delete`: CloudFormation cannot delete a non-empty
                 bucket), until no function writes to it any more; empties the
                 client bucket too.

Runs with infra/.venv's python (boto3 comes with aws-sam-cli); uses the usual
AWS credential chain.
"""
import argparse
import json
import mimetypes
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError


def outputs(cfn, stack_name):
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as e:
        sys.exit(f"stack {stack_name}: {e.response['Error']['Message']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete_all(s3, bucket):
    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            for err in answer.get("Errors", []):
                print(f"could not delete {err['Key']}: {err['Message']}", file=sys.stderr)
            deleted += len(keys) - len(answer.get("Errors", []))
    return deleted


def empty_bucket(s3, bucket, settle_seconds=20, rounds=15):
    """Empties the bucket and keeps it empty until the pipeline is quiet.

    The bucket's notifications are removed first, so that deleting the
    pictures does not run content-updated and face-detection for each one;
    functions already running may still write a thumbnail or an index, so the
    bucket is emptied again until two checks in a row find nothing.
    """
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    print(f"removed the notifications of {bucket}")
    quiet = 0
    for _ in range(rounds):
        deleted = delete_all(s3, bucket)
        print(f"deleted {deleted} objects from {bucket}")
        quiet = quiet + 1 if deleted == 0 else 0
        if quiet >= 2:
            return
        time.sleep(settle_seconds)
    sys.exit(f"{bucket} keeps receiving objects; stop the writers and retry")


# Content types of what the client's build holds; served with nosniff, so they must be right.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
}
# Vite names everything under assets/ by its content hash: cached for good. The rest
# (index.html, config.json) is revalidated on every load, so a new build shows at once.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def content_type(name):
    ext = os.path.splitext(name)[1].lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def client_files(directory):
    """(key, path) of every file under directory, keys with / separators."""
    files = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            files.append((os.path.relpath(path, directory).replace(os.sep, "/"), path))
    return sorted(files)


def publish(s3, cloudfront, out, directory):
    bucket = out.get("ClientBucketName")
    if not bucket:
        print("this stack does not host the client (HostClient=false): serve "
              f"{directory} from the ClientOrigin parameter's origin")
        return
    files = client_files(directory)
    if not any(key == "index.html" for key, _ in files):
        sys.exit(f"{directory} has no index.html (build the client first)")
    for key, path in files:
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.upload_file(path, bucket, key, ExtraArgs={"ContentType": content_type(key), "CacheControl": cache})
    print(f"uploaded {len(files)} files to s3://{bucket}")
    keep = {key for key, _ in files}
    stale = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
             for o in page.get("Contents", []) if o["Key"] not in keep]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i:i + 1000]], "Quiet": True})
    if stale:
        print(f"deleted {len(stale)} files of the previous build")
    invalidation = cloudfront.create_invalidation(
        DistributionId=out["ClientDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"make-client-{time.time_ns()}"},
    )["Invalidation"]
    print(f"invalidated /* on {out['ClientDistributionId']} ({invalidation['Id']}, {invalidation['Status']})")
    print(f"client: {out['ClientUrl']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack-name", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--output")
    ap.add_argument("--publish", metavar="DIR")
    ap.add_argument("--empty-bucket", action="store_true")
    args = ap.parse_args()

    session = boto3.Session(region_name=args.region)
    out = outputs(session.client("cloudformation"), args.stack_name)
    if args.output:
        config = json.loads(out["ClientConfig"])
        config["endpoint"] = ""
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
    if args.publish:
        publish(session.client("s3"), session.client("cloudfront"), out, args.publish)
    if args.empty_bucket:
        if out.get("ClientBucketName"):
            # Nothing writes there but `make client`: once is enough.
            print(f"deleted {delete_all(session.client('s3'), out['ClientBucketName'])} objects from {out['ClientBucketName']}")
        empty_bucket(session.client("s3"), out["BucketName"])


if __name__ == "__main__":
    main()
