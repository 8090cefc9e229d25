"""Whether a bucket policy or an ACL is "public", as S3 Block Public Access decides it.

S3 User Guide, "Blocking public access to your Amazon S3 storage", The meaning of "public":

- An ACL is public if it grants any permission to the predefined AllUsers or AuthenticatedUsers groups.
- A bucket policy is assumed public, and is non-public only if every Allow statement grants access to
  fixed values (no wildcard, no policy variable) of a principal (an AWS principal, user, role or service
  principal, e.g. aws:PrincipalOrgID), or of one of the condition keys: aws:SourceIp (a set of CIDRs),
  aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
  s3:x-amz-server-side-encryption-aws-kms-key-id, aws:userid outside the pattern "AROLEID:*",
  s3:DataAccessPointArn, s3:DataAccessPointAccount.

So `"Principal": "*"` with no condition is public; the same statement with
`"StringEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}` is not,
and neither is an Allow for `{"Service": "cloudfront.amazonaws.com"}` (a fixed service principal).
A condition pins a key only when it must hold for every request: a negated operator (StringNotEquals),
`...IfExists` and `ForAllValues:` (both true when the key is missing) pin nothing; `StringLike` and
`ArnLike` pin a value only without `*` or `?`; `aws:SourceIp` pins a set of CIDRs, not 0.0.0.0/0 or ::/0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from serverless_lab.dataplane.iam.conditions import Condition
from serverless_lab.dataplane.iam.policy import Policy, Statement
from serverless_lab.dataplane.iam.request import MalformedPolicyError

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})

# The condition keys that narrow an Allow for everyone to a fixed set of callers (lower case: IAM's keys
# are case-insensitive). aws:Principal* keys pin the principal itself ("e.g. aws:PrincipalOrgID").
PINNING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceIp",
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "aws:userid",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
    )
)
_EQUALITY_OPERATORS = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}
)
_EVERY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})


def policy_is_public(document: str | Policy | Any) -> bool:
    """Whether S3 counts this bucket policy as public (a document S3 could not parse counts as public)."""
    try:
        policy = document if isinstance(document, Policy) else Policy.parse(document)
    except MalformedPolicyError:
        return True
    return any(statement_is_public(statement) for statement in policy.statements)


def statement_is_public(statement: Statement) -> bool:
    """Whether one statement grants access beyond fixed principals or fixed values of the pinning keys."""
    if statement.effect != "Allow":
        return False
    if statement.principals is not None and not statement.not_principal and not _names_anyone(statement):
        return False  # fixed principals: accounts, roles, users, service principals
    return not any(_pins(condition) for condition in statement.conditions)


def acl_is_public(grantee_uris: Iterable[str]) -> bool:
    """Whether an ACL with these grantees' group URIs grants anything to AllUsers or AuthenticatedUsers."""
    return any(uri in PUBLIC_GROUPS for uri in grantee_uris)


def _names_anyone(statement: Statement) -> bool:
    return any(value == "*" for _, value in statement.principals or ())


def _pins(condition: Condition) -> bool:
    if condition.key.lower() not in PINNING_KEYS or condition.operator not in _EQUALITY_OPERATORS:
        return False
    if condition.if_exists or condition.qualifier == "ForAllValues" or not condition.values:
        return False
    for value in condition.values:
        if "${" in value:
            return False  # a policy variable is not a fixed value
        # StringLike and the Arn operators read * and ? as wildcards (so "AROLEID:*", any session of a
        # role, pins nothing); StringEquals compares them as characters.
        if condition.operator in ("StringLike", "ArnLike", "ArnEquals") and ("*" in value or "?" in value):
            return False
        if condition.operator == "IpAddress" and value.strip() in _EVERY_ADDRESS:
            return False
    return True
