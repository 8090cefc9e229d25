"""The data plane runs each function as its execution role (an sts:AssumeRole session named after the
function, as Lambda gives it), writes its logs as that role, and with SERVERLESS_LAB_IAM=off gives it the
lab's own keys as before. On the memory backend, with plain boto3 for everything the user would do."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from shared_labs import BASIC_EXECUTION_ROLE, plain_function

from serverless_lab.backends import Backend, make_backend
from serverless_lab.dataplane.service import DataPlane

WHO_AM_I = """
import boto3, os

def handler(event, context):
    arn = boto3.client("sts").get_caller_identity()["Arn"]
    try:
        boto3.client("dynamodb").list_tables()
        tables = "allowed"
    except Exception as error:
        tables = str(error)
    print("handled", flush=True)
    return {"arn": arn, "key": os.environ["AWS_ACCESS_KEY_ID"], "tables": tables}
"""


@pytest.fixture(scope="module")
def backend() -> Backend:
    return make_backend("memory")


@pytest.fixture
def dataplane(backend: Backend) -> Iterator[DataPlane]:
    plane = DataPlane(backend, isolation="inprocess", config_ttl_s=0.0)
    yield plane
    plane.close()


def _log_messages(backend: Backend, name: str) -> list[str]:
    try:
        events = backend.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except backend.client("logs").exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events]


def test_a_function_runs_as_a_session_of_its_role_named_after_it(
    backend: Backend, dataplane: DataPlane
) -> None:
    with plain_function(backend, WHO_AM_I) as name:
        answer = dataplane.invoke(name, {}).payload
        assert answer["arn"] == f"arn:aws:sts::123456789012:assumed-role/{name}/{name}"
        assert answer["key"].startswith("ASIA")
        # AWSLambdaBasicExecutionRole allows logs only: the handler's own DynamoDB call is refused.
        assert answer["tables"] == (
            "An error occurred (AccessDeniedException) when calling the ListTables operation: User: "
            f"arn:aws:sts::123456789012:assumed-role/{name}/{name} is not authorized to perform: "
            "dynamodb:ListTables on resource: arn:aws:dynamodb:us-east-1:123456789012:table/* because no identity-based policy allows the dynamodb:ListTables "
            "action"
        )
        backend.client("iam").put_role_policy(
            RoleName=name,
            PolicyName="tables",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}],
                }
            ),
        )
        # Without a new deployment: the warm environment's next call is allowed.
        assert dataplane.invoke(name, {}).payload["tables"] == "allowed"
        dataplane.flush_logs()
        assert "handled\n" in _log_messages(backend, name)


def test_a_role_that_may_not_write_logs_gets_none(backend: Backend, dataplane: DataPlane) -> None:
    with plain_function(backend, WHO_AM_I, managed_policies=()) as name:
        backend.client("logs").create_log_group(logGroupName=f"/aws/lambda/{name}")
        assert dataplane.invoke(name, {}).payload["arn"].endswith(f"/{name}")  # the function runs
        dataplane.flush_logs()
        assert _log_messages(backend, name) == []  # as on Lambda: no logs:CreateLogStream, no logs
        backend.client("iam").attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION_ROLE)
        dataplane.invoke(name, {})
        dataplane.flush_logs()
        deadline = time.monotonic() + 5
        while "handled\n" not in _log_messages(backend, name) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "handled\n" in _log_messages(backend, name)
        backend.client("iam").detach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION_ROLE)
        backend.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{name}")


def test_with_serverless_lab_iam_off_functions_get_the_lab_s_keys(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVERLESS_LAB_IAM", "off")
    plane = DataPlane(backend, isolation="inprocess", config_ttl_s=0.0)
    try:
        with plain_function(backend, WHO_AM_I) as name:
            answer = plane.invoke(name, {}).payload
    finally:
        plane.close()
    assert answer["key"] == "testing"
    assert answer["tables"] == "allowed"
