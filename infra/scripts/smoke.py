#!/usr/bin/env python3
"""Post-deployment smoke test: one user's whole path through a deployed stack.

    smoke.py --stack-name media-sharing --region eu-west-1     # a stack on AWS
    smoke.py --stack-json .devstack/stack.json                 # the local stack

Signs a throw-away user up (AdminCreateUser, permanent password) and in
(USER_PASSWORD_AUTH, as the web client), takes the identity pool's credentials
for it and, with those only, as the client does: uploads a private and a public
JPEG, waits for their thumbnails and for both indexes to list them, makes the
public one private (copy to the private prefix, then delete the old key), waits
for the public index to drop it, deletes both and waits for the private index to
be empty. Then, with the deployer's credentials, deletes the user, its identity
and anything of it left in the bucket, whatever happened before.

Each step prints one line with its duration; a failure names its step and the
exit status is 1. Waits are bounded by --timeout seconds each.

The stack is found by its outputs (CloudFormation DescribeStacks). With
--stack-json (what devstack writes: endpoint, region, access keys, stack name)
every call goes to the emulator's endpoint; --endpoint-url alone does the same
for any endpoint with the usual credentials.

Runs with infra/.venv's python (boto3 comes with aws-sam-cli).
"""
from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# A 32x24 baseline JPEG (fuzz/corpus/thumbnail/jpeg-baseline.jpg).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD/wAARCAAYACADAREAAhEBAxEB/9sAQwAIBgYHBgUIBwcHCQkICgwUDQwLCwwZEhMPFB0a"
    "Hx4dGhwcICQuJyAiLCMcHCg3KSwwMTQ0NB8nOT04MjwuMzQy/9sAQwEJCQkMCwwYDQ0YMiEcITIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDxGG26cVhKdjShUNKG29qylOx7FCoaMNt0"
    "4rKU7Hs0KhpQ23TispTsexQqGFDbe1bynY/J6FQ0IbbpxXHKdj2aFQ1Ibb2qpTsevQqGhDbe1ccp2PaoVDEhtvau2U7H5LQq"
    "GlDbdOKylOx7NCoXobbpxXmSnY9qhUNGG26cVnKdj2KFQ//Z"
)
PRIVATE_FILE = "smoke.jpg"
PUBLIC_FILE = "smoke-public.jpg"
DERIVED = ("content", "thumbnails", "previews", "faces")


class StepFailed(Exception):
    pass


class Smoke:
    def __init__(self, args):
        self.args = args
        self.endpoint = args.endpoint_url
        creds = {}
        self.stack_name = args.stack_name
        region = args.region
        if args.stack_json:
            with open(args.stack_json, encoding="utf-8") as f:
                local = json.load(f)
            self.endpoint = self.endpoint or local["endpoint"]
            region = region or local["region"]
            self.stack_name = self.stack_name or local["stackName"]
            creds = {"aws_access_key_id": local["accessKeyId"], "aws_secret_access_key": local["secretAccessKey"]}
        if not self.stack_name:
            sys.exit("--stack-name or --stack-json is required")
        self.region = region
        self.session = boto3.Session(region_name=region, **creds)
        self.s3_config = Config(s3={"addressing_style": "path" if self.endpoint else "auto"},
                                retries={"max_attempts": 3, "mode": "standard"})
        self.out: dict[str, str] = {}
        self.email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
        # The pool's policy: 8+ characters, upper, lower and digits.
        self.password = f"Smoke-{secrets.token_hex(8)}-Aa1"
        self.user_created = False
        self.identity_id: str | None = None
        self.user_s3 = None
        self.failed: str | None = None

    def client(self, service, session=None, **kw):
        return (session or self.session).client(service, endpoint_url=self.endpoint, **kw)

    # ------------------------------------------------------------ the steps

    def step(self, name, fn):
        started = time.monotonic()
        try:
            note = fn()
        except (StepFailed, ClientError, BotoCoreError, KeyError, ValueError) as e:
            print(f"FAIL {name:<22} {time.monotonic() - started:6.1f}s  {e}", flush=True)
            self.failed = name
            raise
        print(f"ok   {name:<22} {time.monotonic() - started:6.1f}s  {note or ''}".rstrip(), flush=True)

    def outputs(self):
        cfn = self.client("cloudformation")
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        self.out = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for k in ("BucketName", "UserPoolId", "UserPoolClientId", "IdentityPoolId"):
            if not self.out.get(k):
                raise StepFailed(f"the stack has no {k} output")
        self.bucket = self.out["BucketName"]
        return f"{self.stack_name} ({stack['StackStatus']}) in {self.region}" + (f" at {self.endpoint}" if self.endpoint else "")

    def sign_up(self):
        idp = self.client("cognito-idp")
        idp.admin_create_user(
            UserPoolId=self.out["UserPoolId"], Username=self.email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": self.email}, {"Name": "email_verified", "Value": "true"}],
        )
        self.user_created = True
        idp.admin_set_user_password(UserPoolId=self.out["UserPoolId"], Username=self.email,
                                    Password=self.password, Permanent=True)
        return self.email

    def sign_in(self):
        # What the web client does; the app client has no secret.
        r = self.client("cognito-idp").initiate_auth(
            ClientId=self.out["UserPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.email, "PASSWORD": self.password},
        )
        if "AuthenticationResult" not in r:
            raise StepFailed(f"sign-in answered a challenge: {r.get('ChallengeName')}")
        self.id_token = r["AuthenticationResult"]["IdToken"]
        return "USER_PASSWORD_AUTH"

    def identity(self):
        cid = self.client("cognito-identity")
        provider = f"cognito-idp.{self.region}.amazonaws.com/{self.out['UserPoolId']}"
        logins = {provider: self.id_token}
        self.identity_id = cid.get_id(IdentityPoolId=self.out["IdentityPoolId"], Logins=logins)["IdentityId"]
        c = cid.get_credentials_for_identity(IdentityId=self.identity_id, Logins=logins)["Credentials"]
        user = boto3.Session(region_name=self.region, aws_access_key_id=c["AccessKeyId"],
                             aws_secret_access_key=c["SecretKey"], aws_session_token=c["SessionToken"])
        self.user_s3 = self.client("s3", session=user, config=self.s3_config)
        return self.identity_id

    def key(self, visibility, kind, name):
        return f"{visibility}/{kind}/{self.identity_id}/{name}"

    def upload(self):
        for visibility, name in (("private", PRIVATE_FILE), ("public", PUBLIC_FILE)):
            meta = {"isPublic": visibility == "public", "title": "smoke", "description": ""}
            self.user_s3.put_object(Bucket=self.bucket, Key=self.key(visibility, "content", name), Body=JPEG,
                                    ContentType="image/jpeg", Metadata={"data": json.dumps(meta)})
        return f"{self.key('private', 'content', PRIVATE_FILE)}, {self.key('public', 'content', PUBLIC_FILE)}"

    def index_keys(self, key):
        """The object keys an index's head lists; None while it cannot be read."""
        try:
            body = self.user_s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as e:
            # A missing key reads as 403 to whoever may not list its prefix.
            if e.response["Error"]["Code"] in ("NoSuchKey", "AccessDenied", "404", "403"):
                self.last = f"{key}: {e.response['Error']['Code']}"
                return None
            raise
        doc = json.loads(body)
        return {item["objectKey"] for item in doc.get("items", [])}

    def wait(self, what, done):
        """Polls done() (True, or a falsy value while not yet) until it holds or time runs out."""
        self.last = ""
        deadline = time.monotonic() + self.args.timeout
        while True:
            if done():
                return
            if time.monotonic() > deadline:
                raise StepFailed(f"{what}: not after {self.args.timeout:g} s" + (f" (last: {self.last})" if self.last else ""))
            time.sleep(self.args.poll)

    def exists(self, key):
        try:
            self.user_s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as e:
            self.last = f"{key}: {e.response['Error']['Code']}"
            return False

    def thumbnails(self):
        keys = [self.key("private", "thumbnails", PRIVATE_FILE), self.key("public", "thumbnails", PUBLIC_FILE)]
        self.wait("thumbnails", lambda: all(self.exists(k) for k in keys))
        return ", ".join(keys)

    def private_index(self):
        return f"private/index/{self.identity_id}/content.json"

    def indexes(self):
        public_key = self.key("public", "content", PUBLIC_FILE)
        private_key = self.key("private", "content", PRIVATE_FILE)

        def listed():
            public = self.index_keys("public/index/content.json")
            if public is None or public_key not in public:
                self.last = self.last or f"public index without {public_key}"
                return False
            mine = self.index_keys(self.private_index())
            if mine != {public_key, private_key}:
                self.last = self.last or f"private index lists {sorted(mine or [])}"
                return False
            return True

        self.wait("both indexes", listed)
        return "public lists the public picture, private lists both"

    def make_private(self):
        source = self.key("public", "content", PUBLIC_FILE)
        target = self.key("private", "content", PUBLIC_FILE)
        meta = {"isPublic": False, "title": "smoke", "description": ""}
        # As client/src/move.ts: copy with new metadata, refused if the target exists; then delete.
        self.user_s3.copy_object(Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source},
                                 MetadataDirective="REPLACE", Metadata={"data": json.dumps(meta)},
                                 ContentType="image/jpeg", IfNoneMatch="*")
        self.user_s3.delete_object(Bucket=self.bucket, Key=source)
        return f"{source} -> {target}"

    def public_index_drops(self):
        source = self.key("public", "content", PUBLIC_FILE)
        moved = {self.key("private", "content", PRIVATE_FILE), self.key("private", "content", PUBLIC_FILE)}

        def dropped():
            public = self.index_keys("public/index/content.json")
            if public is None or source in public:
                self.last = self.last or f"public index still lists {source}"
                return False
            mine = self.index_keys(self.private_index())
            if mine != moved:
                self.last = self.last or f"private index lists {sorted(mine or [])}"
                return False
            return True

        self.wait("the public index to drop the picture", dropped)
        return "public index without it, private index lists both as private"

    def delete(self):
        for name in (PRIVATE_FILE, PUBLIC_FILE):
            self.user_s3.delete_object(Bucket=self.bucket, Key=self.key("private", "content", name))

        def empty():
            mine = self.index_keys(self.private_index())
            if mine:
                self.last = f"private index lists {sorted(mine)}"
            return mine is not None and not mine

        self.wait("the private index to empty", empty)
        return "private index lists nothing"

    # -------------------------------------------------------------- cleanup

    def cleanup(self):
        """The deployer's credentials: the user, its identity and its objects, whatever is left."""
        notes, errors = [], []
        if self.user_created:
            try:
                self.client("cognito-idp").admin_delete_user(UserPoolId=self.out["UserPoolId"], Username=self.email)
                notes.append("user deleted")
            except (ClientError, BotoCoreError) as e:
                errors.append(f"user {self.email}: {e}")
        if self.identity_id:
            try:
                self.client("cognito-identity").delete_identities(IdentityIdsToDelete=[self.identity_id])
                notes.append("identity deleted")
            except (ClientError, BotoCoreError) as e:
                # Not fatal: an identity without logins holds nothing and costs nothing (and
                # the local emulator has no DeleteIdentities).
                notes.append(f"identity kept ({e})")
            s3 = self.client("s3", config=self.s3_config)
            prefixes = [f"{v}/{kind}/{self.identity_id}/" for v in ("public", "private") for kind in DERIVED]
            prefixes.append(f"private/index/{self.identity_id}/")
            deleted = 0
            try:
                for prefix in prefixes:
                    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                        for o in page.get("Contents", []):
                            s3.delete_object(Bucket=self.bucket, Key=o["Key"])
                            deleted += 1
                notes.append(f"{deleted} leftover objects deleted")
            except (ClientError, BotoCoreError) as e:
                errors.append(f"leftovers: {e}")
        if errors:
            raise StepFailed("; ".join(errors))
        return ", ".join(notes) or "nothing to clean"

    def run(self):
        steps = [
            ("outputs", self.outputs), ("sign-up", self.sign_up), ("sign-in", self.sign_in),
            ("identity", self.identity), ("upload", self.upload), ("thumbnails", self.thumbnails),
            ("indexes", self.indexes), ("make-private", self.make_private),
            ("public-index-drops-it", self.public_index_drops), ("delete", self.delete),
        ]
        started = time.monotonic()
        try:
            for name, fn in steps:
                self.step(name, fn)
        except (StepFailed, ClientError, BotoCoreError, KeyError, ValueError):
            pass
        finally:
            if self.out:
                try:
                    self.step("cleanup", self.cleanup)
                except (StepFailed, ClientError, BotoCoreError):
                    self.failed = self.failed or "cleanup"
        total = time.monotonic() - started
        if self.failed:
            print(f"smoke test FAILED at step {self.failed} ({total:.1f}s)", file=sys.stderr)
            return 1
        print(f"smoke test passed ({total:.1f}s)")
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack-name")
    ap.add_argument("--region")
    ap.add_argument("--stack-json", help="a local stack's stack.json (devstack's state directory)")
    ap.add_argument("--endpoint-url", help="send every call here (an emulator)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds each wait may take (default 120)")
    ap.add_argument("--poll", type=float, default=1.0, help="seconds between checks (default 1)")
    args = ap.parse_args(argv)
    if not args.stack_json and not args.region:
        ap.error("--region is required without --stack-json")
    return Smoke(args).run()


if __name__ == "__main__":
    sys.exit(main())
