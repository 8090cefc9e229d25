"""CloudFront's origin access, enforced at the edge as S3 answers CloudFront: a distribution and bucket made
with plain boto3 on the local backend, served by `lab.serve()`, fetched over HTTP like a browser does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shared_labs import delete_distribution, deploy_time, oac_bucket_policy, plain_client

from serverless_lab import Lab

pytestmark = pytest.mark.server
PAGE = b"<!doctype html><title>items</title>"
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
# The single-page app's mapping, as the lab's cdn step writes it: S3's 403 and 404 become /index.html, 200.
SPA_ERRORS = {
    "Quantity": 2,
    "Items": [
        {
            "ErrorCode": code,
            "ResponsePagePath": "/index.html",
            "ResponseCode": "200",
            "ErrorCachingMinTTL": 10,
        }
        for code in (403, 404)
    ],
}


@dataclass
class Site:
    """A bucket with an index page and a script, and its distributions (plain boto3, not the lab)."""

    backend: Any
    lab: Lab
    bucket: str
    made: list[str]
    controls: list[str]

    @property
    def s3(self) -> Any:
        return plain_client(self.backend, "s3")

    @property
    def cloudfront(self) -> Any:
        return plain_client(self.backend, "cloudfront")

    def distribution(self, *, oac: bool, signing: str = "always") -> dict[str, Any]:
        origin: dict[str, Any] = {
            "Id": "site",
            "DomainName": f"{self.bucket}.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        if oac:
            control = {"Name": f"{self.bucket}-{len(self.controls)}", "SigningProtocol": "sigv4",
                       "SigningBehavior": signing, "OriginAccessControlOriginType": "s3"}  # fmt: skip
            origin["OriginAccessControlId"] = self.cloudfront.create_origin_access_control(
                OriginAccessControlConfig=control
            )["OriginAccessControl"]["Id"]
            self.controls.append(origin["OriginAccessControlId"])
        behaviour = {"TargetOriginId": "site", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
                     "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}  # fmt: skip
        created = self.cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": uuid.uuid4().hex,
                "Comment": "origin access",
                "Enabled": True,
                "DefaultRootObject": "index.html",
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": behaviour,
                "CustomErrorResponses": SPA_ERRORS,
            }
        )["Distribution"]
        self.made.append(created["Id"])
        return created

    def get(self, distribution: dict[str, Any], path: str) -> tuple[int, bytes]:
        url = self.lab.serve().distribution_url(distribution["Id"]) + path.lstrip("/")
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def changed(self, distribution: dict[str, Any]) -> None:
        """After a bucket change: the edge reads it now, and an invalidation drops the cached errors (which
        CloudFront keeps for the ErrorCachingMinTTL, 10 s), as one does on AWS to see a fix at once."""
        self.lab.dataplane().control_plane.refresh()
        batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": uuid.uuid4().hex}
        self.cloudfront.create_invalidation(DistributionId=distribution["Id"], InvalidationBatch=batch)


@pytest.fixture
def site(local_backend: Any) -> Iterator[Site]:
    bucket = f"origin-{uuid.uuid4().hex[:10]}"
    lab = Lab(backend=local_backend, student=f"origin-{uuid.uuid4().hex[:6]}")
    made = Site(local_backend, lab, bucket, [], [])
    made.s3.create_bucket(Bucket=bucket)  # private, all four Block Public Access settings on
    made.s3.put_object(Bucket=bucket, Key="index.html", Body=PAGE, ContentType="text/html")
    made.s3.put_object(Bucket=bucket, Key="app.js", Body=b"start()", ContentType="text/javascript")
    try:
        yield made
    finally:
        lab.stop_serving()
        for distribution_id in made.made:
            delete_distribution(made.cloudfront, distribution_id)
        for control in made.controls:
            etag = made.cloudfront.get_origin_access_control(Id=control)["ETag"]
            made.cloudfront.delete_origin_access_control(Id=control, IfMatch=etag)
        for key in ("index.html", "app.js"):
            made.s3.delete_object(Bucket=bucket, Key=key)
        made.s3.delete_bucket(Bucket=bucket)


def public_read_policy(bucket: str) -> str:
    """An S3 website's policy: anyone may GetObject (public, as S3 counts it)."""
    public = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [public]})


def access_denied(answer: tuple[int, bytes]) -> bool:
    status, body = answer
    return status == 403 and b"<Code>AccessDenied</Code>" in body


def test_an_oac_origin_whose_bucket_policy_does_not_let_this_distribution_read_is_403(site: Site) -> None:
    distribution = site.distribution(oac=True)
    # No bucket policy at all: S3 refuses CloudFront, and so does the index page the 403 maps to, so the
    # viewer gets S3's own AccessDenied for the site itself (not the app's page with 200).
    assert access_denied(site.get(distribution, "/"))
    assert access_denied(site.get(distribution, "/app.js"))
    # A policy for another distribution (a copied example, a recreated distribution): still refused.
    other = distribution["ARN"].rsplit("/", 1)[0] + "/E2OTHEREXAMPLE"
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=oac_bucket_policy(site.bucket, other))
    site.changed(distribution)
    assert access_denied(site.get(distribution, "/"))
    # The fix: the documented OAC policy naming this distribution's ARN.
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=oac_bucket_policy(site.bucket, distribution["ARN"]))
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)
    assert site.get(distribution, "/app.js") == (200, b"start()")
    # A missing key is S3's 403 (no s3:ListBucket), which the app's error mapping turns into its page.
    assert site.get(distribution, "/items/42") == (200, PAGE)


def test_a_wildcard_source_arn_covering_the_distribution_lets_it_read(site: Site) -> None:
    distribution = site.distribution(oac=True)
    statement = json.loads(oac_bucket_policy(site.bucket, distribution["ARN"]))
    account = distribution["ARN"].split(":")[4]
    statement["Statement"][0]["Condition"] = {
        "ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{account}:distribution/*"}
    }
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=json.dumps(statement))
    assert site.get(distribution, "/") == (200, PAGE)


def test_an_origin_without_oac_reads_as_an_anonymous_caller(site: Site) -> None:
    distribution = site.distribution(oac=False)
    # The OAC policy is for CloudFront's service principal; an unsigned request is not that.
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=oac_bucket_policy(site.bucket, distribution["ARN"]))
    assert access_denied(site.get(distribution, "/"))
    policy = public_read_policy(site.bucket)
    with pytest.raises(ClientError) as raised:  # BlockPublicPolicy, on for every new bucket
        site.s3.put_bucket_policy(Bucket=site.bucket, Policy=policy)
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    block = {**ALL_ON, "BlockPublicPolicy": False}
    site.s3.put_public_access_block(Bucket=site.bucket, PublicAccessBlockConfiguration=block)
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=policy)
    site.changed(distribution)
    # Public now, but RestrictPublicBuckets keeps anonymous callers out of a bucket with a public policy.
    assert access_denied(site.get(distribution, "/"))
    block["RestrictPublicBuckets"] = False
    site.s3.put_public_access_block(Bucket=site.bucket, PublicAccessBlockConfiguration=block)
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)


def test_a_distribution_is_served_while_in_progress(local_backend: Any, site: Site) -> None:
    # The lab's edge reads the configuration as it is: a distribution that is still deploying answers
    # (on AWS its domain answers once the change has reached the edge location).
    with deploy_time(local_backend, {"progression": "time", "seconds": 60}):
        distribution = site.distribution(oac=True)
        site.s3.put_bucket_policy(
            Bucket=site.bucket, Policy=oac_bucket_policy(site.bucket, distribution["ARN"])
        )
        status = site.cloudfront.get_distribution(Id=distribution["Id"])["Distribution"]["Status"]
        assert (status, site.get(distribution, "/")) == ("InProgress", (200, PAGE))


def test_an_oac_that_never_signs_reads_as_an_anonymous_caller(site: Site) -> None:
    # SigningBehavior "never": CloudFront sends the request unsigned, so the OAC policy does not apply.
    distribution = site.distribution(oac=True, signing="never")
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=oac_bucket_policy(site.bucket, distribution["ARN"]))
    assert access_denied(site.get(distribution, "/"))
    # The fix: the OAC signs (changed with plain boto3; the edge reads the OAC back).
    (control,) = site.controls
    current = site.cloudfront.get_origin_access_control(Id=control)
    config = {**current["OriginAccessControl"]["OriginAccessControlConfig"], "SigningBehavior": "always"}
    site.cloudfront.update_origin_access_control(
        Id=control, IfMatch=current["ETag"], OriginAccessControlConfig=config
    )
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)


def test_an_explicit_deny_in_the_bucket_policy_refuses_the_distribution(site: Site) -> None:
    distribution = site.distribution(oac=True)
    allow = json.loads(oac_bucket_policy(site.bucket, distribution["ARN"]))
    deny = {**allow["Statement"][0], "Sid": "NoCloudFront", "Effect": "Deny"}
    del deny["Condition"]
    refused = {**allow, "Statement": [*allow["Statement"], deny]}
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=json.dumps(refused))
    assert access_denied(site.get(distribution, "/"))  # a Deny wins over the Allow for this distribution
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=json.dumps(allow))
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)


def test_the_accounts_block_public_access_counts_at_the_edge(local_backend: Any, site: Site) -> None:
    distribution = site.distribution(oac=False)
    site.s3.put_public_access_block(
        Bucket=site.bucket, PublicAccessBlockConfiguration=dict.fromkeys(ALL_ON, False)
    )
    site.s3.put_bucket_policy(Bucket=site.bucket, Policy=public_read_policy(site.bucket))
    assert site.get(distribution, "/") == (200, PAGE)  # a public website, read as anyone
    # The lab's s3control client: a plain one puts the account id before the host, which loopback lacks.
    s3control = local_backend.client("s3control")
    account = distribution["ARN"].split(":")[4]
    s3control.put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
    )
    try:
        site.changed(distribution)
        # "the most restrictive combination of the bucket-level and account-level settings"
        assert access_denied(site.get(distribution, "/"))
    finally:
        s3control.delete_public_access_block(AccountId=account)
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)


def test_a_public_read_acl_lets_an_origin_without_oac_read_only_while_acls_count(site: Site) -> None:
    distribution = site.distribution(oac=False)
    site.s3.put_bucket_ownership_controls(
        Bucket=site.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    site.s3.put_public_access_block(
        Bucket=site.bucket, PublicAccessBlockConfiguration=dict.fromkeys(ALL_ON, False)
    )
    assert access_denied(site.get(distribution, "/"))  # ACLs count now, but the object's is private
    site.s3.put_object_acl(Bucket=site.bucket, Key="index.html", ACL="public-read")
    site.changed(distribution)
    assert site.get(distribution, "/") == (200, PAGE)
    # IgnorePublicAcls: S3 ignores the ACL's grant to everyone again.
    site.s3.put_public_access_block(
        Bucket=site.bucket,
        PublicAccessBlockConfiguration={**dict.fromkeys(ALL_ON, False), "IgnorePublicAcls": True},
    )
    site.changed(distribution)
    assert access_denied(site.get(distribution, "/"))
