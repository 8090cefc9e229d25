"""What S3 lets CloudFront do as the caller an origin reads as, with the lab's one policy evaluator: the
distribution through its origin access control (aws:SourceArn), a legacy OAI, or an anonymous caller."""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.cloudfront.model import Origin, OriginCaller
from serverless_lab.dataplane.cloudfront.s3_origin import origin_request
from serverless_lab.dataplane.iam.s3_access import BlockPublicAccess, BucketAccess

ACCOUNT = "111122223333"
ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDFDVBD6EXAMPLE"
OTHER = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2OTHEREXAMPLE"
BUCKET = "arn:aws:s3:::ada-site"
OBJECT = f"{BUCKET}/index.html"
CLOUDFRONT = {"Service": "cloudfront.amazonaws.com"}
OAC = OriginCaller(ARN, "E2QWRUHAPOMQZL")
ANONYMOUS = OriginCaller(ARN)
ALL_OFF, ALL_ON = BlockPublicAccess(), BlockPublicAccess.all_on()


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def oac_read(source_arn: str = ARN, operator: str = "StringEquals", action: str = "s3:GetObject") -> dict:
    """The CloudFront Developer Guide's OAC bucket policy statement."""
    return {
        "Sid": "AllowCloudFrontServicePrincipalReadOnly",
        "Effect": "Allow",
        "Principal": CLOUDFRONT,
        "Action": action,
        "Resource": f"{BUCKET}/*",
        "Condition": {operator: {"AWS:SourceArn": source_arn}},
    }


PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}


@pytest.mark.parametrize(
    ("case", "text", "caller", "block", "allowed"),
    [
        ("the documented OAC policy", policy(oac_read()), OAC, ALL_ON, True),
        ("another distribution's ARN", policy(oac_read(OTHER)), OAC, ALL_ON, False),
        ("a wildcard covering this distribution", policy(oac_read(f"arn:aws:cloudfront::{ACCOUNT}:distribution/*", "ArnLike")), OAC, ALL_ON, True),
        ("a wildcard covering another account only", policy(oac_read("arn:aws:cloudfront::999999999999:distribution/*", "ArnLike")), OAC, ALL_ON, False),
        ("StringLike with a wildcard", policy(oac_read(f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDF*", "StringLike")), OAC, ALL_ON, True),
        ("no bucket policy", None, OAC, ALL_ON, False),
        ("the service principal without a condition", policy({**oac_read(), "Condition": {}}), OAC, ALL_ON, True),
        ("an explicit deny wins", policy(oac_read(), {**oac_read(), "Effect": "Deny"}), OAC, ALL_ON, False),
        ("another action only", policy(oac_read(action="s3:PutObject")), OAC, ALL_ON, False),
        ("a public policy lets an OAC read too", policy(PUBLIC_READ), OAC, ALL_OFF, True),
        ("RestrictPublicBuckets keeps service principals in", policy(PUBLIC_READ), OAC, ALL_ON, True),
        ("an origin without OAC reads as anyone: the OAC policy is not for it", policy(oac_read()), ANONYMOUS, ALL_ON, False),
        ("anyone, with a public policy", policy(PUBLIC_READ), ANONYMOUS, ALL_OFF, True),
        ("anyone, with a public policy and RestrictPublicBuckets", policy(PUBLIC_READ), ANONYMOUS, BlockPublicAccess(restrict_public_buckets=True), False),
        ("anyone, with no policy", None, ANONYMOUS, ALL_OFF, False),
    ],
)  # fmt: skip
def test_what_s3_lets_cloudfront_read(case, text, caller, block, allowed) -> None:
    access = BucketAccess(text, block)
    assert access.allows(origin_request(caller, "s3:GetObject", OBJECT)) is allowed, case


@pytest.mark.parametrize(
    ("text", "lists"),
    [
        (policy(oac_read()), False),  # the lab's OAC: GetObject only, so a missing key is 403
        (policy(oac_read(action=["s3:GetObject", "s3:ListBucket"]) | {"Resource": [BUCKET, f"{BUCKET}/*"]}), True),
        (policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "s3:List*", "Resource": BUCKET}), True),
        (policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "S3:listbucket", "Resource": BUCKET}), True),
        (policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}), True),
        (policy({"Effect": "Deny", "Principal": CLOUDFRONT, "Action": "s3:ListBucket", "Resource": BUCKET}), False),
        (policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:ListBucket", "Resource": BUCKET}), False),
        # ListBucket on the objects' ARN is not on the bucket: it lets nobody list.
        (policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "s3:ListBucket", "Resource": f"{BUCKET}/*"}), False),
        ("not json", False),
    ],
)  # fmt: skip
def test_whether_cloudfront_may_list_the_bucket_decides_404_or_403(text: str, lists: bool) -> None:
    assert BucketAccess(text).allows(origin_request(OAC, "s3:ListBucket", BUCKET)) is lists


def test_an_anonymous_read_through_a_public_acl_counts_only_while_acls_do() -> None:
    request = origin_request(ANONYMOUS, "s3:GetObject", OBJECT)
    assert BucketAccess(None, ALL_OFF, acls_enabled=True).allows(request, acl_grants_public_read=True)
    assert not BucketAccess(None, ALL_OFF, acls_enabled=True).allows(request, acl_grants_public_read=False)
    # Object Ownership BucketOwnerEnforced (ACLs disabled), IgnorePublicAcls: the ACL grants nothing.
    assert not BucketAccess(None, ALL_OFF, acls_enabled=False).allows(request, acl_grants_public_read=True)
    ignoring = BlockPublicAccess(ignore_public_acls=True)
    assert not BucketAccess(None, ignoring, acls_enabled=True).allows(request, acl_grants_public_read=True)

    # The ACL is read only when it decides: never for a caller the policy lets in.
    def unexpected() -> bool:
        raise AssertionError("the ACL was read")

    assert BucketAccess(policy(PUBLIC_READ)).allows(request, acl_grants_public_read=unexpected)


def test_the_caller_an_origin_reads_as() -> None:
    oac = Origin("site", "ada-site.s3.us-east-1.amazonaws.com", origin_access_control_id="E2OAC")
    assert oac.caller(ARN).kind == "oac"
    assert (oac.caller(ARN).account_id, oac.caller(ARN).partition) == (ACCOUNT, "aws")
    # An OAC that never signs sends CloudFront's request unsigned: S3 sees an anonymous caller.
    never = Origin("site", oac.domain_name, origin_access_control_id="E2OAC", signing_behavior="never")
    assert never.caller(ARN).kind == "anonymous"
    legacy = Origin("site", oac.domain_name, origin_access_identity="origin-access-identity/cloudfront/E1OAI")
    assert (legacy.caller(ARN).kind, legacy.caller(ARN).origin_access_identity) == ("oai", "E1OAI")
    request = origin_request(legacy.caller(ARN), "s3:GetObject", OBJECT)
    oai_policy = policy(
        PUBLIC_READ
        | {"Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1OAI"}}
    )
    assert BucketAccess(oai_policy, ALL_ON).allows(request)
    assert not BucketAccess(policy(oac_read()), ALL_ON).allows(request)
    assert Origin("site", oac.domain_name).caller(ARN).kind == "anonymous"
