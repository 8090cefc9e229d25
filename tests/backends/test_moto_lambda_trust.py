"""Lambda refuses an execution role it cannot assume: plain boto3 over HTTP against the local moto server,
the mistake fails as on AWS and changes nothing, the fix makes it work."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shared_labs import ROLE_POLICY, plain_client, zip_source

from serverless_lab.backends.moto_lambda_trust import CANNOT_ASSUME, role_trusts_lambda

pytestmark = pytest.mark.server
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/items"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:items"


def trust(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume(principal: Any, **extra: Any) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


@pytest.mark.parametrize(
    ("case", "document", "trusted"),
    [
        ("the lab's trust policy", ROLE_POLICY, True),
        ("another service", trust(assume({"Service": "ec2.amazonaws.com"})), False),
        ("Lambda among others", trust(assume({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})), True),
        ("an account, not the service", trust(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), False),
        ("another action", trust(assume({"Service": "lambda.amazonaws.com"}) | {"Action": "sts:TagSession"}), False),
        ("an explicit deny", trust(assume({"Service": "lambda.amazonaws.com"}),
                                   assume({"Service": "lambda.amazonaws.com"}) | {"Effect": "Deny"}), False),
        ("sts:* covers AssumeRole", trust(assume({"Service": "lambda.amazonaws.com"}) | {"Action": "sts:*"}), True),
        ("this account as the source", trust(assume({"Service": "lambda.amazonaws.com"},
                                                    Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})), True),
        ("another account as the source", trust(assume({"Service": "lambda.amazonaws.com"},
                                                       Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})), False),
        ("an empty document", "{}", False),
        ("not JSON", "not json", False),
    ],
)  # fmt: skip
def test_a_trust_policy_lets_lambda_assume_the_role_or_not(case: str, document: str, trusted: bool) -> None:
    assert role_trusts_lambda(document, ROLE, ACCOUNT, FUNCTION) is trusted, case


@pytest.fixture
def clients(local_backend: Any) -> Iterator[tuple[Any, Any]]:
    yield plain_client(local_backend, "iam"), plain_client(local_backend, "lambda")


@pytest.fixture
def roles(clients: tuple[Any, Any]) -> Iterator[dict[str, str]]:
    iam, _ = clients
    suffix = uuid.uuid4().hex[:8]
    documents = {"lambda": ROLE_POLICY, "ec2": trust(assume({"Service": "ec2.amazonaws.com"}))}
    arns = {
        kind: iam.create_role(RoleName=f"trust-{kind}-{suffix}", AssumeRolePolicyDocument=document)["Role"][
            "Arn"
        ]
        for kind, document in documents.items()
    }
    yield arns
    for kind in documents:
        iam.delete_role(RoleName=f"trust-{kind}-{suffix}")


def create(lambda_client: Any, name: str, role: str) -> dict:
    return lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(event, context):\n    return 1\n")},
    )


def refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


CANNOT = (400, "InvalidParameterValueException", CANNOT_ASSUME)


def test_create_function_refuses_a_role_lambda_cannot_assume_and_creates_nothing(
    clients: tuple[Any, Any], roles: dict[str, str]
) -> None:
    iam, lambda_client = clients
    name = f"trust-{uuid.uuid4().hex[:8]}"
    assert refusal(lambda: create(lambda_client, name, roles["ec2"])) == CANNOT
    missing_role = roles["lambda"] + "-gone"  # a role that does not exist: the same words on AWS
    assert refusal(lambda: create(lambda_client, name, missing_role)) == CANNOT
    assert refusal(lambda: lambda_client.get_function(FunctionName=name))[1] == "ResourceNotFoundException"
    # The fix: a trust policy that names lambda.amazonaws.com.
    fixed = trust(assume({"Service": "lambda.amazonaws.com"}))
    iam.update_assume_role_policy(RoleName=roles["ec2"].rsplit("/", 1)[-1], PolicyDocument=fixed)
    try:
        assert create(lambda_client, name, roles["ec2"])["Role"] == roles["ec2"]
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_update_function_configuration_refuses_such_a_role_and_keeps_the_old_one(
    clients: tuple[Any, Any], roles: dict[str, str]
) -> None:
    _, lambda_client = clients
    name = f"trust-{uuid.uuid4().hex[:8]}"
    create(lambda_client, name, roles["lambda"])
    try:
        changed = {"Role": roles["ec2"], "Timeout": 9}
        assert (
            refusal(lambda: lambda_client.update_function_configuration(FunctionName=name, **changed))
            == CANNOT
        )
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        assert (configuration["Role"], configuration["Timeout"]) == (roles["lambda"], 3)  # nothing changed
        # Other settings change as before; a role Lambda can assume is accepted.
        assert lambda_client.update_function_configuration(FunctionName=name, Timeout=9)["Timeout"] == 9
        assert (
            lambda_client.update_function_configuration(FunctionName=name, Role=roles["lambda"])["Role"]
            == (roles["lambda"])
        )
    finally:
        lambda_client.delete_function(FunctionName=name)
