#!/usr/bin/env python3
"""Reads the deployed stack's outputs.

--output FILE    writes the web client's config.json (the stack's ClientConfig
                 output: region, bucket, table, pool ids, s3ForcePathStyle=false;
                 no endpoint, so the client talks to AWS itself).
--empty-bucket   removes the bucket's notifications and deletes every object
                 (before `sam delete`: CloudFormation cannot delete a non-empty
                 bucket), until no function writes to it any more.

Runs with infra/.venv's python (boto3 comes with aws-sam-cli); uses the usual
AWS credential chain.
"""
import argparse
import json
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack-name", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--output")
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
    if args.empty_bucket:
        empty_bucket(session.client("s3"), out["BucketName"])


if __name__ == "__main__":
    main()
