"""What S3 Block Public Access counts as "public", case by case from the S3 User Guide ("The meaning of
'public'"): a bucket policy is public unless it grants access only to fixed principals or fixed values of
the keys S3 lists; an ACL is public if it grants anything to AllUsers or AuthenticatedUsers."""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.iam.public import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    acl_is_public,
    policy_is_public,
)

BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def anyone(condition: dict | None = None, principal="*", effect="Allow") -> dict:
    statement = {
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
    }
    return statement | ({"Condition": condition} if condition else {})


@pytest.mark.parametrize(
    ("case", "document", "public"),
    [
        ("everyone, no condition (the website policy)", policy(anyone()), True),
        ('{"AWS": "*"} is everyone too', policy(anyone(principal={"AWS": "*"})), True),
        ("a list holding *", policy(anyone(principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]})), True),
        ("a fixed role", policy(anyone(principal={"AWS": "arn:aws:iam::111122223333:role/JohnDoe"})), False),
        ("a fixed account", policy(anyone(principal={"AWS": "111122223333"})), False),
        ("a service principal (the OAC policy)", policy(anyone(principal={"Service": "cloudfront.amazonaws.com"})), False),
        ("everyone from one VPC", policy(anyone({"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), False),
        ("everyone from a set of CIDRs", policy(anyone({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})), False),
        ("everyone from every address", policy(anyone({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), True),
        ("one distribution's ARN", policy(anyone({"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}})), False),
        ("an ARN with a wildcard", policy(anyone({"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::*:distribution/*"}})), True),
        ("a fixed account as the source", policy(anyone({"StringEquals": {"aws:SourceAccount": "111122223333"}})), False),
        ("a fixed organization", policy(anyone({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})), False),
        ("a key S3 does not list", policy(anyone({"Bool": {"aws:SecureTransport": "true"}})), True),
        ("a negated operator pins nothing", policy(anyone({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})), True),
        ("IfExists pins nothing", policy(anyone({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}})), True),
        ("a policy variable is not fixed", policy(anyone({"StringEquals": {"aws:userid": "${aws:username}"}})), True),
        ("aws:userid of any session of a role", policy(anyone({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})), True),
        ("aws:userid of one session", policy(anyone({"StringEquals": {"aws:userid": "AROAEXAMPLEID:ada"}})), False),
        ("a Deny for everyone grants nothing", policy(anyone(effect="Deny")), False),
        ("Allow with NotPrincipal is everyone but some", policy({**anyone(), "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}} | {"Principal": None}), True),
        ("one public statement among private ones", policy(anyone(principal={"Service": "cloudfront.amazonaws.com"}), anyone()), True),
    ],
)  # fmt: skip
def test_a_bucket_policy_is_public_or_not(case: str, document: str, public: bool) -> None:
    data = json.loads(document)
    for statement in data["Statement"]:
        if statement.get("Principal", "") is None:
            del statement["Principal"]
    assert policy_is_public(json.dumps(data)) is public, case


def test_an_acl_is_public_when_it_grants_anything_to_everyone_or_every_aws_account() -> None:
    assert acl_is_public([ALL_USERS])
    assert acl_is_public([AUTHENTICATED_USERS])
    assert not acl_is_public(["http://acs.amazonaws.com/groups/s3/LogDelivery"])
    assert not acl_is_public([])
