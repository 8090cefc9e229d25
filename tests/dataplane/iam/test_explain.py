"""AWS's AccessDenied messages read back into words: role, action, resource, the reason, what to add."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from serverless_lab.dataplane.iam.evaluation import Outcome, denial_message
from serverless_lab.dataplane.iam.explain import describe_resource, explain_access_denied
from serverless_lab.dataplane.iam.request import Request

CALLER = "arn:aws:sts::123456789012:assumed-role/sl-ada-lambda/sl-ada-items"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/sl-ada-items"
MESSAGE = (
    f"User: {CALLER} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} because no "
    "identity-based policy allows the dynamodb:PutItem action"
)


def test_a_client_error_is_read_into_role_action_resource_and_reason() -> None:
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": MESSAGE}}, "PutItem")
    denial = explain_access_denied(error)
    assert denial is not None
    assert (denial.role, denial.session, denial.action, denial.resource) == (
        "sl-ada-lambda",
        "sl-ada-items",
        "dynamodb:PutItem",
        TABLE,
    )
    assert denial.outcome is Outcome.NO_IDENTITY_ALLOW
    assert denial.cause() == (
        "role sl-ada-lambda (session sl-ada-items, as Lambda names a function's) may not dynamodb:PutItem on "
        f"table sl-ada-items ({TABLE}): no policy of the role allows it"
    )
    fix = denial.fix()
    assert "iam.put_role_policy(RoleName='sl-ada-lambda'" in fix
    document = json.loads(fix.split("PolicyDocument='", 1)[1].split("')", 1)[0])
    assert document["Statement"] == [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE}]


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.ALLOWED])
def test_every_reason_the_evaluator_words_is_read_back(outcome: Outcome) -> None:
    from serverless_lab.dataplane.iam.evaluation import Decision

    message = denial_message(CALLER, Request("s3:GetObject", "arn:aws:s3:::site/a.txt"), Decision(outcome))
    denial = explain_access_denied(message)
    assert denial is not None and denial.outcome is outcome
    assert denial.fix() and "s3:GetObject" in str(denial)


def test_the_message_is_found_in_a_runtime_error_line_and_a_handler_s_json_log() -> None:
    runtime_line = (
        "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the PutItem operation: "
        f"{MESSAGE}\nTraceback (most recent call last):\n\u00a0\u00a0File ..."
    )
    json_line = json.dumps(
        {"level": "ERROR", "error": f"An error occurred (AccessDeniedException) ...: {MESSAGE}"}
    )
    for line in (runtime_line, json_line, [json_line], {"error_message": MESSAGE}):
        denial = explain_access_denied(line)
        assert denial is not None and denial.resource == TABLE, line


def test_explicit_denies_and_s3_s_quoted_resource() -> None:
    denied = explain_access_denied(
        f'User: {CALLER} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::site/a" '
        "with an explicit deny in an identity-based policy"
    )
    assert denied is not None
    assert denied.outcome is Outcome.IDENTITY_DENY and denied.resource == "arn:aws:s3:::site/a"
    assert "A Deny beats every Allow" in denied.fix()


def test_text_without_a_refusal_is_none() -> None:
    assert explain_access_denied("An error occurred (ConditionalCheckFailedException)") is None
    assert explain_access_denied(None) is None


@pytest.mark.parametrize(
    ("arn", "words"),
    [
        (TABLE, f"table sl-ada-items ({TABLE})"),
        (f"{TABLE}/index/byDate", f"index byDate of table sl-ada-items ({TABLE}/index/byDate)"),
        ("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:log-stream:x", "log group /aws/lambda/f"),
        ("arn:aws:s3:::site/a.txt", "object a.txt of bucket site (arn:aws:s3:::site/a.txt)"),
        ("*", "any resource (*)"),
    ],
)
def test_resources_in_words(arn: str, words: str) -> None:
    assert describe_resource(arn).startswith(words)
