"""Whether the lab already refuses what AWS refuses in the ways the notebooks show on purpose (issue 17 lands
them one by one), probed on the memory backend, and `waits_on`, which holds a test to that.

    with waits_on(strictness.block_public_policy(), "#17: S3 Block Public Access"):
        assert "AccessDenied" in text

While the refusal has not landed, a failing block is an expected failure (xfail, with the reason); a block
that passes anyway fails the test, and once the refusal has landed the block must pass: a strict xfail that
switches itself off, so no test is left waiting on something that is there.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from serverless_lab import Lab, teaching


@functools.cache
def block_public_policy() -> bool:
    """S3 refuses a public bucket policy while BlockPublicPolicy is on."""
    lab = Lab(backend="memory", student="probe-bpa")
    lab.require("site")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{lab.names.site_bucket}/*"}]}  # fmt: skip
    try:
        lab.backend.client("s3").put_bucket_policy(Bucket=lab.names.site_bucket, Policy=json.dumps(policy))
    except ClientError as error:
        return error.response["Error"]["Code"] == "AccessDenied"
    finally:
        lab.destroy("site")
    return False


@functools.cache
def origin_access_enforced() -> bool:
    """The edge reads S3 as the distribution: without a bucket policy that lets it, 403."""
    lab = Lab(backend="memory", student="probe-oac")
    lab.require("cdn")
    lab.backend.client("s3").delete_bucket_policy(Bucket=lab.names.site_bucket)
    lab.dataplane().control_plane.refresh()
    try:
        return teaching.edge_get(lab, "/app.js").status == 403
    finally:
        lab.destroy()


@functools.cache
def execution_role_enforced() -> bool:
    """A function's call that its role's policy does not allow is refused (AccessDeniedException)."""
    lab = Lab(backend="memory", student="probe-iam")
    lab.require("functions")
    iam, arn = lab.backend.client("iam"), lab.step("functions").policy_arn
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "ItemsTable"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    lab.dataplane().control_plane.refresh()
    event = {"httpMethod": "GET", "resource": "/items",
             "requestContext": {"authorizer": {"claims": {"sub": "probe"}}}}  # fmt: skip
    try:
        return lab.invoke("items", event).payload.get("statusCode") == 500
    finally:
        lab.destroy()


@contextlib.contextmanager
def waits_on(landed: bool, reason: str) -> Iterator[None]:
    """A strict expected failure while `landed` is False (see the module's docstring)."""
    try:
        yield
    except AssertionError:
        if landed:
            raise
        pytest.xfail(f"waits on {reason}")
    if not landed:
        pytest.fail(
            f"passes, but the probe says {reason} has not landed: fix the probe (tests/strictness.py)"
        )
