"""IAM policy evaluation, example by example from the IAM User Guide (policy evaluation logic, the policy
element reference, condition operators, and the DynamoDB and CloudFront documentation's own policies)."""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.iam.evaluation import Outcome, denial_message, evaluate
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.request import MalformedPolicyError, Principal, Request

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items"
OTHER_TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/other"
SESSION = Principal.assumed_role(ACCOUNT, "items-role", "items-fn")


def policy(*statements: dict) -> Policy:
    return Policy.parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def outcome(policies, action="dynamodb:PutItem", resource=TABLE, context=None, **kwargs) -> Outcome:
    request = Request(action, resource, SESSION, context or {})
    return evaluate(request, identity=policies, **kwargs).outcome


LEADING_KEYS = {
    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}
}


@pytest.mark.parametrize(
    ("case", "policies", "action", "resource", "context", "expected"),
    [
        ("allow", [policy(allow("dynamodb:PutItem", TABLE))], "dynamodb:PutItem", TABLE, {}, Outcome.ALLOWED),
        (
            "no statement matches",
            [policy(allow("dynamodb:GetItem", TABLE))],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        ("no policies at all", [], "dynamodb:PutItem", TABLE, {}, Outcome.NO_IDENTITY_ALLOW),
        (
            "explicit deny beats allow",
            [policy(allow("*")), policy(deny("dynamodb:PutItem", TABLE))],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.IDENTITY_DENY,
        ),
        (
            "a deny elsewhere does not apply",
            [policy(allow("*"), deny("dynamodb:*", OTHER_TABLE))],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "wildcard action",
            [policy(allow("dynamodb:Get*", TABLE))],
            "dynamodb:GetItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "single-character wildcard",
            [policy(allow("dynamodb:GetIte?", TABLE))],
            "dynamodb:GetItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "actions are case-insensitive",
            [policy(allow("DynamoDB:getitem", TABLE))],
            "dynamodb:GetItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "resources are case-sensitive",
            [policy(allow("dynamodb:GetItem", TABLE.upper()))],
            "dynamodb:GetItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "resource on another table",
            [policy(allow("dynamodb:*", OTHER_TABLE))],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "a table's index is another resource",
            [policy(allow("dynamodb:Query", TABLE))],
            "dynamodb:Query",
            TABLE + "/index/byDate",
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "wildcard resource covers the index",
            [policy(allow("dynamodb:Query", TABLE + "*"))],
            "dynamodb:Query",
            TABLE + "/index/byDate",
            {},
            Outcome.ALLOWED,
        ),
        (
            "NotAction allows everything else",
            [policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "NotAction excludes",
            [policy({"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"})],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "NotResource allows other resources",
            [policy({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OTHER_TABLE})],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "NotResource excludes its own",
            [policy({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": TABLE})],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "deny with NotResource refuses everything else",
            [policy(allow("*"), {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": OTHER_TABLE})],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.IDENTITY_DENY,
        ),
        (
            "leading keys: the caller's own partition",
            [policy(allow("dynamodb:GetItem", TABLE, Condition=LEADING_KEYS))],
            "dynamodb:GetItem",
            TABLE,
            {"cognito-identity.amazonaws.com:sub": "u1", "dynamodb:LeadingKeys": ["u1"]},
            Outcome.ALLOWED,
        ),
        (
            "leading keys: someone else's partition",
            [policy(allow("dynamodb:GetItem", TABLE, Condition=LEADING_KEYS))],
            "dynamodb:GetItem",
            TABLE,
            {"cognito-identity.amazonaws.com:sub": "u1", "dynamodb:LeadingKeys": ["u2"]},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "leading keys: without the variable's value nothing matches",
            [policy(allow("dynamodb:GetItem", TABLE, Condition=LEADING_KEYS))],
            "dynamodb:GetItem",
            TABLE,
            {"dynamodb:LeadingKeys": ["u1"]},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        # "ForAllValues ... returns true if there are no keys in the request" (the documented pitfall): a
        # Scan carries no dynamodb:LeadingKeys, so this policy alone lets it read every partition.
        (
            "ForAllValues with the key missing holds",
            [policy(allow("dynamodb:Scan", TABLE, Condition=LEADING_KEYS))],
            "dynamodb:Scan",
            TABLE,
            {"cognito-identity.amazonaws.com:sub": "u1"},
            Outcome.ALLOWED,
        ),
        (
            "ForAnyValue with the key missing fails",
            [
                policy(
                    allow(
                        "dynamodb:Scan",
                        TABLE,
                        Condition={"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["u1"]}},
                    )
                )
            ],
            "dynamodb:Scan",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "a condition on a missing key fails",
            [
                policy(
                    allow(
                        "dynamodb:PutItem",
                        TABLE,
                        Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
                    )
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "a negated condition on a missing key holds",
            [
                policy(
                    allow("*"), deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.IDENTITY_DENY,
        ),
        (
            "IfExists with the key missing holds",
            [
                policy(
                    allow(
                        "dynamodb:PutItem",
                        TABLE,
                        Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}},
                    )
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {},
            Outcome.ALLOWED,
        ),
        (
            "condition keys are case-insensitive",
            [
                policy(
                    allow(
                        "dynamodb:PutItem",
                        TABLE,
                        Condition={"StringEquals": {"AWS:RequestedRegion": "us-east-1"}},
                    )
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {"aws:requestedregion": "us-east-1"},
            Outcome.ALLOWED,
        ),
        (
            "values of one key: any may match",
            [
                policy(
                    allow(
                        "dynamodb:PutItem",
                        TABLE,
                        Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}},
                    )
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {"aws:RequestedRegion": "us-east-1"},
            Outcome.ALLOWED,
        ),
        (
            "keys of one operator: all must match",
            [
                policy(
                    allow(
                        "dynamodb:PutItem",
                        TABLE,
                        Condition={
                            "StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/team": "a"}
                        },
                    )
                )
            ],
            "dynamodb:PutItem",
            TABLE,
            {"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/team": "b"},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "Null true: the key must be absent",
            [policy(allow("dynamodb:PutItem", TABLE, Condition={"Null": {"aws:TokenIssueTime": "true"}}))],
            "dynamodb:PutItem",
            TABLE,
            {"aws:TokenIssueTime": "2026-12-07T00:00:00Z"},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "Bool",
            [policy(deny("*", Condition={"Bool": {"aws:SecureTransport": "false"}}), allow("*"))],
            "dynamodb:PutItem",
            TABLE,
            {"aws:SecureTransport": False},
            Outcome.IDENTITY_DENY,
        ),
        (
            "Numeric",
            [policy(allow("*", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
            "s3:ListBucket",
            "arn:aws:s3:::b",
            {"s3:max-keys": "11"},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "Date",
            [policy(allow("*", Condition={"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}))],
            "dynamodb:PutItem",
            TABLE,
            {"aws:CurrentTime": "2026-12-07T10:00:00Z"},
            Outcome.ALLOWED,
        ),
        (
            "IpAddress",
            [policy(allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))],
            "dynamodb:PutItem",
            TABLE,
            {"aws:SourceIp": "192.168.1.1"},
            Outcome.NO_IDENTITY_ALLOW,
        ),
        (
            "policy variable in Resource",
            [policy(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))],
            "s3:GetObject",
            "arn:aws:s3:::home/ada/notes.txt",
            {"aws:username": "ada"},
            Outcome.ALLOWED,
        ),
        (
            "policy variable naming another folder",
            [policy(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))],
            "s3:GetObject",
            "arn:aws:s3:::home/bob/notes.txt",
            {"aws:username": "ada"},
            Outcome.NO_IDENTITY_ALLOW,
        ),
    ],
)
def test_policy_evaluation_table(case, policies, action, resource, context, expected) -> None:
    assert outcome(policies, action, resource, context) is expected, case


def test_variables_are_literal_in_the_2008_version() -> None:
    old = Policy.parse(
        {"Version": "2008-10-17", "Statement": [allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")]}
    )
    request = Request("s3:GetObject", "arn:aws:s3:::home/ada/x", SESSION, {"aws:username": "ada"})
    assert evaluate(request, identity=[old]).outcome is Outcome.NO_IDENTITY_ALLOW


def test_a_permissions_boundary_and_a_session_policy_limit_an_identity_allow() -> None:
    identity = [policy(allow("s3:*"))]
    boundary = policy(allow("s3:GetObject"))
    put = Request("s3:PutObject", "arn:aws:s3:::b/k", SESSION)
    get = Request("s3:GetObject", "arn:aws:s3:::b/k", SESSION)
    assert evaluate(put, identity=identity, boundary=boundary).outcome is Outcome.NO_BOUNDARY_ALLOW
    assert evaluate(get, identity=identity, boundary=boundary).outcome is Outcome.ALLOWED
    # A boundary alone grants nothing.
    assert evaluate(get, identity=[], boundary=boundary).outcome is Outcome.NO_IDENTITY_ALLOW
    assert evaluate(put, identity=identity, session=boundary).outcome is Outcome.NO_SESSION_ALLOW
    assert evaluate(get, identity=identity, boundary=policy(deny("s3:Get*"), allow("*"))).outcome is (
        Outcome.BOUNDARY_DENY
    )


# The bucket policy CloudFront's documentation gives for origin access control.
def oac_policy(distribution_arn: str) -> Policy:
    return policy(
        {
            "Sid": "AllowCloudFrontServicePrincipalReadOnly",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }
    )


DISTRIBUTION = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDFDVBD6EXAMPLE"


def cloudfront_reads(bucket_policy: Policy, source_arn: str = DISTRIBUTION) -> Outcome:
    request = Request(
        "s3:GetObject",
        "arn:aws:s3:::site/index.html",
        Principal.service("cloudfront.amazonaws.com"),
        {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT},
    )
    return evaluate(request, resource=bucket_policy).outcome


def test_a_bucket_policy_lets_exactly_its_distribution_read() -> None:
    assert cloudfront_reads(oac_policy(DISTRIBUTION)) is Outcome.ALLOWED
    other = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EOTHER"
    assert cloudfront_reads(oac_policy(DISTRIBUTION), other) is Outcome.NO_RESOURCE_ALLOW
    wildcard = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
            "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"}},
        }
    )
    assert cloudfront_reads(wildcard, other) is Outcome.ALLOWED
    # A statement for another principal does not let CloudFront in, nor one for another action.
    someone = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
        }
    )
    assert cloudfront_reads(someone) is Outcome.NO_RESOURCE_ALLOW
    public = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    )
    assert cloudfront_reads(public) is Outcome.ALLOWED


def test_principals_a_resource_policy_can_name() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/items-role"
    assert SESSION.named_by("AWS", role)
    assert SESSION.named_by("AWS", f"arn:aws:iam::{ACCOUNT}:role/service-role/items-role")
    assert SESSION.named_by("AWS", SESSION.arn)
    assert SESSION.named_by("AWS", ACCOUNT) and SESSION.named_by("AWS", f"arn:aws:iam::{ACCOUNT}:root")
    assert SESSION.named_by("AWS", "*")
    assert not SESSION.named_by("AWS", f"arn:aws:iam::{ACCOUNT}:role/other-role")
    assert not SESSION.named_by("AWS", "arn:aws:iam::999999999999:root")
    assert not SESSION.named_by("Service", "lambda.amazonaws.com")
    assert Principal.service("lambda.amazonaws.com").named_by("Service", "lambda.amazonaws.com")
    # A resource policy's explicit deny of the caller refuses what an identity policy allows.
    bucket = policy({"Effect": "Deny", "Principal": {"AWS": role}, "Action": "s3:*", "Resource": "*"})
    request = Request("s3:GetObject", "arn:aws:s3:::site/a", SESSION)
    assert (
        evaluate(request, identity=[policy(allow("s3:*"))], resource=bucket).outcome is Outcome.RESOURCE_DENY
    )
    # NotPrincipal: everyone except the named.
    others = policy({"Effect": "Deny", "NotPrincipal": {"AWS": role}, "Action": "s3:*", "Resource": "*"})
    assert evaluate(request, identity=[policy(allow("s3:*"))], resource=others).outcome is Outcome.ALLOWED


def test_the_trust_policy_lambda_needs() -> None:
    trust = policy(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    lambda_ = Request(
        "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/items-role", Principal.service("lambda.amazonaws.com")
    )
    ec2 = Request("sts:AssumeRole", lambda_.resource, Principal.service("ec2.amazonaws.com"))
    assert evaluate(lambda_, resource=trust).allowed
    assert not evaluate(ec2, resource=trust).allowed


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        {"Statement": []},
        {"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": 3, "Resource": "*"}]},
        {
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}}
            ]
        },
        {"Version": "2020-01-01", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Principal": {"Robot": "x"}, "Action": "*", "Resource": "*"}]},
    ],
)
def test_malformed_documents_are_refused(document) -> None:
    with pytest.raises(MalformedPolicyError):
        Policy.parse(document if isinstance(document, str) else json.dumps(document))


def test_a_single_statement_object_is_a_policy() -> None:
    single = Policy.parse({"Version": "2012-10-17", "Statement": allow("dynamodb:PutItem", TABLE)})
    assert outcome([single]) is Outcome.ALLOWED


def test_the_words_of_a_refusal_are_aws_own() -> None:
    request = Request("dynamodb:PutItem", TABLE, SESSION)
    decision = evaluate(request, identity=[policy(allow("dynamodb:GetItem", TABLE))])
    assert denial_message(SESSION.arn, request, decision) == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/items-role/items-fn is not authorized to perform: "
        f"dynamodb:PutItem on resource: {TABLE} because no identity-based policy allows the dynamodb:PutItem action"
    )
    denied = evaluate(request, identity=[policy(allow("*"), deny("dynamodb:PutItem"))])
    assert denial_message(SESSION.arn, request, denied).endswith(
        f"on resource: {TABLE} with an explicit deny in an identity-based policy"
    )
    assert denied.explicit_deny and denied.statement is not None and denied.statement.effect == "Deny"
