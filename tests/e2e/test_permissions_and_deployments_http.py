"""The mistakes people make building an API by hand, with plain boto3 against `serverless-lab serve` on the
local backend, over HTTP: API Gateway without permission to invoke the function (or with a permission for
another method, or for the function when the integration names an alias), a Lambda authorizer without
one, and a route added after the deployment. Each fails as AWS fails, and the fix makes it work within
seconds, with no restart: the data plane reads the control plane again about once a second."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"
INTERNAL_ERROR = {"message": "Internal server error"}
MISSING_TOKEN = {"message": "Missing Authentication Token"}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ECHO = """
import json
WHO = {who!r}
def handler(event, context):
    return {{"statusCode": 200, "body": json.dumps({{"who": WHO, "resource": event["resource"],
             "stageVariables": event.get("stageVariables"), "arn": context.invoked_function_arn}})}}
"""
GATEKEEPER = """
def handler(event, context):
    if event["authorizationToken"] != "let-me-in":
        raise Exception("Unauthorized")
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    return {"principalId": "ada", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
"""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Served:
    """`serve` running on the local backend: plain boto3 clients of the backend and the data plane's URL."""

    endpoint: str
    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def call(self, api: str, stage: str, method: str, path: str, **headers: str) -> Answer:
        request = urllib.request.Request(
            f"{self.url}/restapis/{api}/{stage}/_user_request_{path}", method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, head, raw = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, head, raw = error.code, error.headers, error.read()
        return Answer(status, {k.lower(): v for k, v in head.items()}, json.loads(raw) if raw else None)


@pytest.fixture(scope="module")
def served(local_backend: Any) -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, "-m", "serverless_lab.cli", "serve", "--student", "strict"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "serving the data plane at http://127.0.0.1:" in line, process.stderr and process.stderr.read()
        url = line.split(" at ", 1)[1].split()[0]
        yield Served(local_backend.endpoint_url, url)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def eventually(ask: Callable[[], Answer], status: int, within_s: float = 10.0) -> Answer:
    """The answer once it has `status`, asked again until then (the data plane rereads in about 1 s)."""
    deadline = time.monotonic() + within_s
    while True:
        answer = ask()
        if answer.status == status or time.monotonic() > deadline:
            assert answer.status == status, answer
            return answer
        time.sleep(0.2)


def still(ask: Callable[[], Answer], status: int) -> Answer:
    """The answer after the data plane had time to read the control plane again (1 s), unchanged."""
    time.sleep(1.5)
    answer = ask()
    assert answer.status == status, answer
    return answer


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def new_function(served: Served, source: str) -> str:
    """A function made with plain boto3; its unqualified ARN."""
    name = f"strict-{uuid.uuid4().hex[:8]}"
    role = served.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    configuration = served.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped(source)},
    )
    return str(configuration["FunctionArn"])


def uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def proxy_method(
    served: Served, api: str, resource: str, http_method: str, function_arn: str, **auth: Any
) -> None:
    apigateway = served.client("apigateway")
    apigateway.put_method(
        restApiId=api, resourceId=resource, httpMethod=http_method, **{"authorizationType": "NONE", **auth}
    )
    apigateway.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod=http_method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri(function_arn),
    )


def new_api(served: Served, function_arn: str, path_part: str = "hello") -> tuple[str, str, str]:
    """An API with `GET /<path_part>` -> the function, deployed to `dev`; (api id, root id, resource id)."""
    apigateway = served.client("apigateway")
    api = apigateway.create_rest_api(name=f"strict-{uuid.uuid4().hex[:6]}")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart=path_part)["id"]
    proxy_method(served, api, resource, "GET", function_arn)
    apigateway.create_deployment(restApiId=api, stageName="dev")
    return api, root, resource


def permit(served: Served, function: str, source_arn: str, **qualifier: str) -> None:
    served.client("lambda").add_permission(
        FunctionName=function,
        StatementId=f"apigateway-{uuid.uuid4().hex[:6]}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source_arn,
        **qualifier,
    )


def execute_api(api: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}"


def test_an_integration_runs_only_with_lambdas_permission_for_its_method(served: Served) -> None:
    function = new_function(served, ECHO.format(who="one"))
    api, _, _ = new_api(served, function)
    deployments = served.client("apigateway").get_deployments(restApiId=api)["items"]

    def get() -> Answer:
        return served.call(api, "dev", "GET", "/hello")

    refused = get()
    assert (refused.status, refused.body) == (500, INTERNAL_ERROR)
    assert refused.headers["x-amzn-errortype"] == "InternalServerErrorException"
    permit(served, function, f"{execute_api(api)}/*/POST/hello")  # another method's permission
    refused = still(get, 500)
    assert refused.body == INTERNAL_ERROR
    permit(served, function, f"{execute_api(api)}/*/GET/hello")
    allowed = eventually(get, 200)  # within seconds, without a new deployment
    assert allowed.body["who"] == "one"
    assert served.client("apigateway").get_deployments(restApiId=api)["items"] == deployments


def test_a_permission_belongs_to_the_qualifier_the_integration_names(served: Served) -> None:
    function = new_function(served, ECHO.format(who="v1"))
    lambda_client = served.client("lambda")
    lambda_client.publish_version(FunctionName=function)
    alias_arn = lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")[
        "AliasArn"
    ]
    api, _, _ = new_api(served, alias_arn)

    def get() -> Answer:
        return served.call(api, "dev", "GET", "/hello")

    permit(served, function, f"{execute_api(api)}/*")  # the function's, not the alias's
    assert still(get, 500).body == INTERNAL_ERROR
    permit(served, function, f"{execute_api(api)}/*", Qualifier="live")
    assert eventually(get, 200).body == {
        "who": "v1",
        "resource": "/hello",
        "stageVariables": None,
        "arn": alias_arn,
    }


def test_a_lambda_authorizer_without_permission_is_a_configuration_error(served: Served) -> None:
    function = new_function(served, ECHO.format(who="guarded"))
    gatekeeper = new_function(served, GATEKEEPER)
    apigateway = served.client("apigateway")
    api = apigateway.create_rest_api(name=f"strict-{uuid.uuid4().hex[:6]}")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    authorizer = apigateway.create_authorizer(
        restApiId=api,
        name="gatekeeper",
        type="TOKEN",
        authorizerUri=uri(gatekeeper),
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=0,
    )["id"]
    proxy_method(served, api, root, "GET", function, authorizationType="CUSTOM", authorizerId=authorizer)
    permit(served, function, f"{execute_api(api)}/*/*/*")
    apigateway.create_deployment(restApiId=api, stageName="dev")

    def get() -> Answer:
        return served.call(api, "dev", "GET", "/", Authorization="let-me-in")

    refused = get()
    assert (refused.status, refused.body) == (500, {"message": None})
    assert refused.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"
    permit(served, gatekeeper, f"{execute_api(api)}/*/*/*")  # an integration's ARN: not the authorizer's
    assert still(get, 500).body == {"message": None}
    permit(served, gatekeeper, f"{execute_api(api)}/authorizers/{authorizer}")
    assert eventually(get, 200).body["who"] == "guarded"
    assert served.call(api, "dev", "GET", "/", Authorization="intruder").status == 401


def test_a_stage_serves_its_deployment_until_it_points_at_another(served: Served) -> None:
    function = new_function(served, ECHO.format(who="first"))
    api, root, hello = new_api(served, function)
    permit(served, function, f"{execute_api(api)}/*/*/*")
    apigateway = served.client("apigateway")
    first = apigateway.get_stage(restApiId=api, stageName="dev")["deploymentId"]
    # Added after the deployment, before anyone called the stage: a resource, and a method on a deployed
    # resource. Removed: GET /hello. What the stage serves is the deployment, whenever it is first read.
    later = apigateway.create_resource(restApiId=api, parentId=root, pathPart="later")["id"]
    proxy_method(served, api, later, "GET", function)
    proxy_method(served, api, hello, "POST", function)
    apigateway.delete_method(restApiId=api, resourceId=hello, httpMethod="GET")
    assert eventually(lambda: served.call(api, "dev", "GET", "/hello"), 200).body["resource"] == "/hello"
    for method, path in (("GET", "/later"), ("POST", "/hello")):
        answer = still(lambda method=method, path=path: served.call(api, "dev", method, path), 403)
        assert answer.body == MISSING_TOKEN
        assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert served.call(api, "dev", "GET", "/hello").status == 200, "the deployment still has GET /hello"
    summary = apigateway.get_deployment(restApiId=api, deploymentId=first, embed=["apisummary"])["apiSummary"]
    assert summary == {"/hello": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}}

    second = apigateway.create_deployment(restApiId=api, stageName="dev", description="with /later")["id"]
    assert eventually(lambda: served.call(api, "dev", "GET", "/later"), 200).body["resource"] == "/later"
    assert served.call(api, "dev", "POST", "/hello").status == 200
    assert served.call(api, "dev", "GET", "/hello").body == MISSING_TOKEN
    assert apigateway.get_deployment(restApiId=api, deploymentId=second, embed=["apisummary"])[
        "apiSummary"
    ] == {
        "/hello": {"POST": {"authorizationType": "NONE", "apiKeyRequired": False}},
        "/later": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}},
    }

    # Back to the first deployment with update_stage: its snapshot is served again.
    apigateway.update_stage(
        restApiId=api,
        stageName="dev",
        patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first}],
    )
    assert eventually(lambda: served.call(api, "dev", "GET", "/later"), 403).body == MISSING_TOKEN
    assert served.call(api, "dev", "GET", "/hello").status == 200
    # A deployment the stage uses cannot be deleted; the one it left can.
    with pytest.raises(ClientError) as raised:
        apigateway.delete_deployment(restApiId=api, deploymentId=first)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    assert raised.value.response["Error"]["Message"] == (
        "Active stages pointing to this deployment must be moved or deleted"
    )
    apigateway.delete_deployment(restApiId=api, deploymentId=second)


def test_stage_variables_take_effect_without_a_new_deployment(served: Served) -> None:
    function = new_function(served, ECHO.format(who="variables"))
    api, _, _ = new_api(served, function)
    permit(served, function, f"{execute_api(api)}/*/*/*")
    apigateway = served.client("apigateway")
    assert eventually(lambda: served.call(api, "dev", "GET", "/hello"), 200).body["stageVariables"] is None
    apigateway.update_stage(
        restApiId=api,
        stageName="dev",
        patchOperations=[{"op": "replace", "path": "/variables/table", "value": "t2"}],
    )
    deadline = time.monotonic() + 10
    while (answer := served.call(api, "dev", "GET", "/hello")).body["stageVariables"] is None:
        assert time.monotonic() < deadline, answer
        time.sleep(0.2)
    assert answer.body["stageVariables"] == {"table": "t2"}
    assert len(apigateway.get_deployments(restApiId=api)["items"]) == 1
