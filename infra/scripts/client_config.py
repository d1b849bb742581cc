#!/usr/bin/env python3
"""Reads the deployed stack's outputs.

--output FILE    writes the web client's config.json (the stack's ClientConfig
                 output: region, bucket, table, pool ids, s3ForcePathStyle=false;
                 no endpoint, so the client talks to AWS itself).
--empty-bucket   deletes every object of the stack's bucket (before `sam delete`:
                 CloudFormation cannot delete a non-empty bucket).

Runs with infra/.venv's python (boto3 comes with aws-sam-cli); uses the usual
AWS credential chain.
"""
import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError


def outputs(cfn, stack_name):
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as e:
        sys.exit(f"stack {stack_name}: {e.response['Error']['Message']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def empty_bucket(s3, bucket):
    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            for err in answer.get("Errors", []):
                print(f"could not delete {err['Key']}: {err['Message']}", file=sys.stderr)
            deleted += len(keys) - len(answer.get("Errors", []))
    print(f"deleted {deleted} objects from {bucket}")


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
