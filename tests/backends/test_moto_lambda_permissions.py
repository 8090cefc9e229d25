"""moto_lambda_permissions: a resource policy per function, version and alias, as Lambda keeps them, with
the statements boto3's AddPermission parameters make."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from serverless_lab.backends import moto_fixes
from serverless_lab.backends.moto_lambda_permissions import split_function_name

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
SOURCE = "arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/items"


@pytest.fixture
def function() -> Iterator[tuple[Any, str]]:
    """A function with version 1 and an alias `live` on it; (lambda client, function name)."""
    moto_fixes.apply()
    with mock_aws():
        name = f"perm-{uuid.uuid4().hex[:8]}"
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName=name, AssumeRolePolicyDocument=TRUST
        )["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("f.py", "def handler(event, context):\n    return 1\n")
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="f.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        client.publish_version(FunctionName=name)
        client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        yield client, name


def permit(client: Any, function_name: str, sid: str, **extra: Any) -> dict[str, Any]:
    answer = client.add_permission(
        FunctionName=function_name,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        **extra,
    )
    return json.loads(answer["Statement"])  # type: ignore[no-any-return]


def statements(client: Any, function_name: str, **qualifier: str) -> dict[str, dict[str, Any]]:
    try:
        policy = json.loads(client.get_policy(FunctionName=function_name, **qualifier)["Policy"])
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return {}
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def test_add_permission_writes_source_arn_and_account_as_conditions(function: tuple[Any, str]) -> None:
    client, name = function
    arn = client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    written = permit(client, name, "api", SourceArn=SOURCE, SourceAccount="123456789012")
    assert (
        statements(client, name)["api"]
        == written
        == {
            "Sid": "api",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": arn,
            "Condition": {
                "ArnLike": {"AWS:SourceArn": SOURCE},
                "StringEquals": {"AWS:SourceAccount": "123456789012"},
            },
        }
    )


def test_each_qualifier_has_a_policy_of_its_own(function: tuple[Any, str]) -> None:
    client, name = function
    arn = client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    permit(client, name, "function")
    permit(client, name, "alias", Qualifier="live")
    permit(client, f"{name}:1", "version")  # the qualifier in the name
    permit(client, f"{arn}:live", "alias-by-arn")
    assert set(statements(client, name)) == {"function"}
    assert set(statements(client, name, Qualifier="$LATEST")) == {"function"}  # $LATEST is the function
    live = statements(client, name, Qualifier="live")
    assert set(live) == {"alias", "alias-by-arn"}
    assert {s["Resource"] for s in live.values()} == {f"{arn}:live"}
    assert statements(client, f"{name}:live") == live
    assert {s["Resource"] for s in statements(client, name, Qualifier="1").values()} == {f"{arn}:1"}
    # A published version starts without the function's statements.
    client.update_function_configuration(FunctionName=name, Description="v2")
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert client.publish_version(FunctionName=name)["Version"] == "2"
    assert statements(client, name, Qualifier="2") == {}


def test_remove_permission_takes_the_qualifier(function: tuple[Any, str]) -> None:
    client, name = function
    permit(client, name, "same")
    permit(client, name, "same", Qualifier="live")
    client.remove_permission(FunctionName=name, StatementId="same", Qualifier="live")
    assert (set(statements(client, name)), statements(client, name, Qualifier="live")) == ({"same"}, {})
    with pytest.raises(ClientError) as raised:
        client.remove_permission(FunctionName=name, StatementId="same", Qualifier="live")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_statement_id_in_use_is_a_conflict_and_an_unknown_qualifier_not_found(
    function: tuple[Any, str],
) -> None:
    client, name = function
    permit(client, name, "once")
    with pytest.raises(ClientError) as raised:
        permit(client, name, "once")
    assert raised.value.response["Error"]["Code"] == "ResourceConflictException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "The statement id (once) provided already exists" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        permit(client, name, "nowhere", Qualifier="nope")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_deleting_an_alias_deletes_its_policy(function: tuple[Any, str]) -> None:
    client, name = function
    permit(client, name, "alias", Qualifier="live")
    client.delete_alias(FunctionName=name, Name="live")
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert statements(client, name, Qualifier="live") == {}


def test_function_names_split_as_lambda_reads_them() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:items"
    for given, qualifier, expected in [
        ("items", None, ("items", None)),
        ("items", "live", ("items", "live")),
        ("items:7", None, ("items", "7")),
        ("items", "$LATEST", ("items", None)),
        (arn, None, ("items", None)),
        (f"{arn}:live", None, ("items", "live")),
        ("123456789012:function:items:live", None, ("items", "live")),
    ]:
        assert split_function_name(given, qualifier) == expected
