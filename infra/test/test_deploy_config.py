"""Tests of the deployment path's configuration: which stack the Makefile's client-config,
client, destroy and deploy targets talk to (samconfig.toml, scripts/samconfig.py), and the
upload of the built client (scripts/client_config.py --publish).

Run with `python3 -m unittest discover -s infra/test` (standard library only: boto3 is
replaced by fakes, make runs with -n so nothing is built or called).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import unittest

INFRA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(INFRA, "scripts")
sys.path.insert(0, SCRIPTS)

import samconfig  # noqa: E402

SAMCONFIG = """\
version = 0.1

[default.deploy.parameters]
stack_name = "photos-prod"
region = "eu-west-1"
confirm_changeset = true
capabilities = "CAPABILITY_IAM"
parameter_overrides = "HostClient=\\"true\\""

[staging.deploy.parameters]
stack_name = "photos-staging"

[staging.global.parameters]
region = "eu-central-1"
"""


class SamconfigLookup(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.path = os.path.join(self.dir, "samconfig.toml")
        with open(self.path, "w") as f:
            f.write(SAMCONFIG)

    def test_deploy_parameters(self):
        self.assertEqual(samconfig.lookup(self.path, "stack_name"), "photos-prod")
        self.assertEqual(samconfig.lookup(self.path, "region"), "eu-west-1")

    def test_global_parameters_and_other_environments(self):
        self.assertEqual(samconfig.lookup(self.path, "stack_name", "staging"), "photos-staging")
        self.assertEqual(samconfig.lookup(self.path, "region", "staging"), "eu-central-1")
        self.assertIsNone(samconfig.lookup(self.path, "region", "nowhere"))

    def test_missing_file_or_key(self):
        self.assertIsNone(samconfig.lookup(os.path.join(self.dir, "absent.toml"), "region"))
        self.assertIsNone(samconfig.lookup(self.path, "s3_bucket"))

    def test_cli_prints_the_default_when_unset_and_fails_on_a_broken_file(self):
        run = lambda *a: subprocess.run([sys.executable, os.path.join(SCRIPTS, "samconfig.py"), *a],
                                        capture_output=True, text=True)
        self.assertEqual(run(self.path, "region", "us-east-1").stdout.strip(), "eu-west-1")
        self.assertEqual(run(os.path.join(self.dir, "absent.toml"), "region", "us-east-1").stdout.strip(), "us-east-1")
        broken = os.path.join(self.dir, "broken.toml")
        with open(broken, "w") as f:
            f.write("[default.deploy.parameters\nstack_name = ")
        r = run(broken, "region", "us-east-1")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")


@unittest.skipUnless(shutil.which("make"), "needs make")
class MakefileStack(unittest.TestCase):
    """`make -n`: the stack name and region each target would pass, nothing run."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.samconfig = os.path.join(self.dir, "samconfig.toml")
        with open(self.samconfig, "w") as f:
            f.write(SAMCONFIG)
        # A stamp newer than the requirements: make -n prints no venv installation.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("STACK_NAME", "REGION", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

    def dry_run(self, target, *assignments, samconfig=None):
        args = ["make", "-s", "-n", "-C", INFRA, target, f"SAMCONFIG={samconfig or self.samconfig}",
                "VENV_STAMP=", "PYTHON=" + sys.executable, *assignments]
        r = subprocess.run(args, capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.replace("\\\n", " ")

    def stacks(self, output, script):
        """(stack name, region) of every call of `script` in the dry run's output."""
        return re.findall(rf"{script} --stack-name (\S+)\s+--region (\S+)", output)

    def test_client_config_follows_samconfig(self):
        self.assertEqual(self.stacks(self.dry_run("client-config"), "client_config.py"), [("photos-prod", "eu-west-1")])

    def test_command_line_wins(self):
        out = self.dry_run("client-config", "STACK_NAME=other", "REGION=us-west-2")
        self.assertEqual(self.stacks(out, "client_config.py"), [("other", "us-west-2")])
        out = self.dry_run("client-config", "REGION=us-west-2")
        self.assertEqual(self.stacks(out, "client_config.py"), [("photos-prod", "us-west-2")])

    def test_environment_also_wins(self):
        self.env["STACK_NAME"] = "from-env"
        self.assertEqual(self.stacks(self.dry_run("client-config"), "client_config.py"), [("from-env", "eu-west-1")])

    def test_defaults_without_samconfig(self):
        out = self.dry_run("client-config", samconfig=os.path.join(self.dir, "absent.toml"))
        self.assertEqual(self.stacks(out, "client_config.py"), [("media-sharing", "us-east-1")])

    def test_other_samconfig_environment(self):
        out = self.dry_run("client-config", "SAMCONFIG_ENV=staging")
        self.assertEqual(self.stacks(out, "client_config.py"), [("photos-staging", "eu-central-1")])

    def test_client_and_destroy_follow_samconfig(self):
        # client: the config, then the upload, both to the saved stack.
        self.assertEqual(self.stacks(self.dry_run("client"), "client_config.py"),
                         [("photos-prod", "eu-west-1"), ("photos-prod", "eu-west-1")])
        out = self.dry_run("destroy")
        self.assertEqual(self.stacks(out, "client_config.py"), [("photos-prod", "eu-west-1")])
        self.assertRegex(out, r"sam delete --stack-name photos-prod --region eu-west-1")

    def test_deploy_proposes_the_saved_stack_and_configures_the_one_deployed(self):
        os.makedirs(os.path.join(self.dir, "build"))
        for f in ("update-content-index", "purge-bucket", "migrate-user", "repair", "face-detection", "content-updated"):
            os.makedirs(os.path.join(self.dir, "build", f))
            path = os.path.join(self.dir, "build", f, "bootstrap")
            open(path, "w").close()
            os.chmod(path, 0o755)
        # Given on the command line, changed at sam's prompt: samconfig.toml has the answer.
        out = self.dry_run("deploy", "STACK_NAME=proposed", f"BUILD={self.dir}/build")
        self.assertRegex(out, r"--stack-name proposed --region eu-west-1")
        self.assertEqual(self.stacks(out, "client_config.py"), [("photos-prod", "eu-west-1")])

    def test_smoke_targets(self):
        out = self.dry_run("smoke")
        self.assertRegex(out, r"smoke\.py --stack-name photos-prod\s+--region eu-west-1")
        self.assertRegex(self.dry_run("smoke", "STACK=another"), r"smoke\.py --stack-name another\s")
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        open(os.path.join(state, "stack.json"), "w").close()
        self.assertRegex(self.dry_run("smoke-local", f"STATE_DIR={state}"), rf"smoke\.py --stack-json {state}/stack\.json")


# ------------------------------------------------------------- the upload


class FakeS3:
    def __init__(self, existing=()):
        self.objects = {k: {} for k in existing}
        self.deleted = []

    def upload_file(self, path, bucket, key, ExtraArgs):
        with open(path, "rb") as f:
            self.objects[key] = {"Body": f.read(), **ExtraArgs}

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        objects = self.objects
        return types.SimpleNamespace(paginate=lambda Bucket: [{"Contents": [{"Key": k} for k in sorted(objects)]}])

    def delete_objects(self, Bucket, Delete):
        for o in Delete["Objects"]:
            self.deleted.append(o["Key"])
            del self.objects[o["Key"]]
        return {}


class FakeCloudFront:
    def __init__(self):
        self.invalidations = []

    def create_invalidation(self, DistributionId, InvalidationBatch):
        self.invalidations.append((DistributionId, InvalidationBatch["Paths"]["Items"]))
        return {"Invalidation": {"Id": "I1", "Status": "InProgress"}}


def import_client_config():
    """client_config.py with stand-ins for boto3 (the test runs without the venv)."""
    fake = types.ModuleType("boto3")
    exceptions = types.ModuleType("botocore.exceptions")
    exceptions.ClientError = type("ClientError", (Exception,), {})
    saved = {k: sys.modules.get(k) for k in ("boto3", "botocore", "botocore.exceptions")}
    sys.modules.update({"boto3": fake, "botocore": types.ModuleType("botocore"), "botocore.exceptions": exceptions})
    try:
        import importlib
        sys.modules.pop("client_config", None)
        return importlib.import_module("client_config")
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


class Publish(unittest.TestCase):
    OUT = {"ClientBucketName": "client-bucket", "ClientDistributionId": "E2QWRUHEXAMPLE",
           "ClientUrl": "https://d111111abcdef8.cloudfront.net"}

    def setUp(self):
        self.cc = import_client_config()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        os.makedirs(os.path.join(self.dir, "assets"))
        for name, body in (("index.html", "<!doctype html>"), ("config.json", "{}"),
                           ("assets/index-3f2a.js", "x"), ("assets/index-9c1b.css", "y")):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(body)

    def publish(self, s3, cf, out=None):
        from contextlib import redirect_stdout
        import io
        buf = io.StringIO()
        with redirect_stdout(buf):
            self.cc.publish(s3, cf, out or self.OUT, self.dir)
        return buf.getvalue()

    def test_uploads_with_types_and_caching_then_invalidates(self):
        s3, cf = FakeS3(existing=["assets/index-old.js", "index.html"]), FakeCloudFront()
        printed = self.publish(s3, cf)
        self.assertEqual(sorted(s3.objects), ["assets/index-3f2a.js", "assets/index-9c1b.css", "config.json", "index.html"])
        self.assertEqual(s3.deleted, ["assets/index-old.js"])
        self.assertEqual(s3.objects["index.html"]["ContentType"], "text/html; charset=utf-8")
        self.assertEqual(s3.objects["index.html"]["CacheControl"], "no-cache")
        self.assertEqual(s3.objects["config.json"]["ContentType"], "application/json")
        self.assertEqual(s3.objects["config.json"]["CacheControl"], "no-cache")
        self.assertEqual(s3.objects["assets/index-3f2a.js"]["ContentType"], "text/javascript; charset=utf-8")
        self.assertIn("immutable", s3.objects["assets/index-3f2a.js"]["CacheControl"])
        self.assertEqual(s3.objects["assets/index-9c1b.css"]["ContentType"], "text/css; charset=utf-8")
        self.assertEqual(cf.invalidations, [("E2QWRUHEXAMPLE", ["/*"])])
        self.assertIn("client: https://d111111abcdef8.cloudfront.net", printed)

    def test_a_stack_without_hosting_is_left_alone(self):
        s3, cf = FakeS3(), FakeCloudFront()
        printed = self.publish(s3, cf, out={"BucketName": "media"})
        self.assertEqual(s3.objects, {})
        self.assertEqual(cf.invalidations, [])
        self.assertIn("HostClient=false", printed)

    def test_refuses_a_directory_without_index_html(self):
        os.remove(os.path.join(self.dir, "index.html"))
        s3, cf = FakeS3(), FakeCloudFront()
        with self.assertRaises(SystemExit):
            self.publish(s3, cf)
        self.assertEqual(s3.objects, {})
        self.assertEqual(cf.invalidations, [])


if __name__ == "__main__":
    unittest.main()
