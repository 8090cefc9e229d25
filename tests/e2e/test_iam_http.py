"""Issue #17's first row over real HTTP, with plain boto3 against `serve` on the local backend: a function
whose execution role may not dynamodb:PutItem (no statement allows it, or only on another table, or a
Deny) gets AWS's AccessDeniedException, the API answers 502 as API Gateway does for an unhandled error, the
function's log shows the error as Lambda's Python runtime prints it, the trace names the cause in words;
and the fix, put_role_policy, works on the next request, without a new deployment."""

from __future__ import annotations

import http.client
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from serverless_lab import Lab, flow
from serverless_lab.dataplane.server import TRACE_HEADER, decode_spans

pytestmark = pytest.mark.server

REGION, ACCOUNT = "us-east-1", "123456789012"
# A handler as a student writes it: the SDK call's error is not caught, so Lambda reports it (Unhandled).
SOURCE = """
import os
import boto3

dynamodb = boto3.client("dynamodb")


def handler(event, context):
    dynamodb.put_item(TableName=os.environ["TABLE_NAME"], Item={"pk": {"S": context.aws_request_id}})
    return {"statusCode": 200, "body": "saved"}
"""
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass
class Stack:
    lab: Lab
    name: str
    table_arn: str
    other_arn: str
    host: str
    port: int
    path: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.lab.backend.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def save(self) -> tuple[int, bytes, list[dict[str, Any]]]:
        """POST /save with the lab's trace header: (status, body, the data plane's spans)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", self.path, body=b"{}", headers={TRACE_HEADER: "1"})
            answer = connection.getresponse()
            return answer.status, answer.read(), decode_spans(answer.getheader(TRACE_HEADER))
        finally:
            connection.close()

    def set_policy(self, *statements: dict[str, Any]) -> None:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        self.client("iam").put_role_policy(RoleName=self.name, PolicyName="table", PolicyDocument=document)


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stack(local_backend: Any) -> Iterator[Stack]:
    """Built with plain boto3, as a student builds it: two tables, a role (logs only, the Lambda guide's
    AWSLambdaBasicExecutionRole), the function, a REST API POST /save -> AWS_PROXY, a deployment."""
    lab = Lab(backend=local_backend, student=f"iam-{uuid.uuid4().hex[:6]}")
    name = f"iam-http-{uuid.uuid4().hex[:8]}"
    stack = Stack(lab, name, "", "", "", 0, "")
    ddb, iam, lam, apigw = (stack.client(s) for s in ("dynamodb", "iam", "lambda", "apigateway"))
    arns = []
    for table in (name, f"{name}-other"):
        arns.append(
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )["TableDescription"]["TableArn"]
        )
    stack.table_arn, stack.other_arn = arns
    role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName=name, PolicyArn=basic)
    function_arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": _zip(SOURCE)},
        Environment={"Variables": {"TABLE_NAME": name}},
    )["FunctionArn"]
    api = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigw.create_resource(restApiId=api, parentId=root, pathPart="save")["id"]
    apigw.put_method(restApiId=api, resourceId=resource, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*/POST/save",
    )
    apigw.create_deployment(restApiId=api, stageName="dev")
    server = lab.serve()
    stack.host, port = server.url.removeprefix("http://").split(":")
    stack.port, stack.path = int(port), f"/restapis/{api}/dev/_user_request_/save"
    yield stack
    server.stop()
    local_backend.services.pop("server", None)
    lab.dataplane().flush_logs()
    lam.delete_function(FunctionName=name)
    apigw.delete_rest_api(restApiId=api)
    iam.delete_role_policy(RoleName=name, PolicyName="table")
    iam.detach_role_policy(RoleName=name, PolicyArn=basic)
    iam.delete_role(RoleName=name)
    for table in (name, f"{name}-other"):
        ddb.delete_table(TableName=table)
    stack.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{name}")


@pytest.mark.parametrize(
    ("mistake", "statements", "reason"),
    [
        (
            "no statement allows PutItem",
            lambda s: [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": s.table_arn}],
            "because no identity-based policy allows the dynamodb:PutItem action",
        ),
        (
            "PutItem allowed on another table only",
            lambda s: [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": s.other_arn}],
            "because no identity-based policy allows the dynamodb:PutItem action",
        ),
        (
            "an explicit Deny",
            lambda s: [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": s.table_arn},
            ],
            "with an explicit deny in an identity-based policy",
        ),
    ],
)
def test_a_role_that_may_not_put_item_fails_as_on_aws_and_the_fix_works_at_once(
    stack: Stack, mistake: str, statements: Any, reason: str
) -> None:
    stack.set_policy(*statements(stack))
    started_ms = int(time.time() * 1000)
    status, body, spans = stack.save()
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"}), mistake
    message = (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{stack.name}/{stack.name} is not authorized to perform: "
        f"dynamodb:PutItem on resource: {stack.table_arn} {reason}"
    )
    # The function's log: Lambda's Python runtime's line for the unhandled ClientError.
    stack.lab.dataplane().flush_logs()
    events = stack.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{stack.name}", startTime=started_ms, filterPattern='"[ERROR]"'
    )["events"]
    assert any(
        e["message"].startswith(
            "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the PutItem operation: "
            + message
        )
        for e in events
    ), [e["message"][:300] for e in events]
    [denied] = flow.refusals_in_logs(stack.client("logs"), stack.name, started_ms)
    assert (denied.role, denied.action, denied.resource) == (stack.name, "dynamodb:PutItem", stack.table_arn)
    # The lab's trace: the SDK call's row names the cause in words and what to add.
    refused = flow.refusals(flow.spans_frame(spans))
    assert list(refused["operation"]) == ["PutItem"] and list(refused["error"]) == ["AccessDeniedException"]
    cause = refused["cause"][0]
    assert f"role {stack.name}" in cause and "may not dynamodb:PutItem on table" in cause
    assert (
        ("put_role_policy" in cause)
        if "no identity-based" in reason
        else ("A Deny beats every Allow" in cause)
    )
    # The fix, with plain boto3: the next request works, with no new deployment of anything.
    stack.set_policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": stack.table_arn})
    status, body, _ = stack.save()
    assert (status, body) == (200, b"saved")


def test_with_the_policy_as_a_user_would_write_it_the_call_succeeds(stack: Stack) -> None:
    stack.set_policy(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": stack.table_arn}
    )
    assert stack.save()[:2] == (200, b"saved")
