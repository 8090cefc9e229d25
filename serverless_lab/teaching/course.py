"""What the build-first notebooks need around the student's own boto3 calls.

- `aws_errors()`: a `with` block that shows AWS's refusal (code, HTTP status, message) in one line instead
  of a traceback, so a cell that fails on purpose (or a create call run a second time) reads like AWS's
  answer and the notebook goes on;
- `workspace(lab)`: the student's own folder, where a notebook writes the handler the student writes;
- `STATS_STARTER`: the handler 05-functions writes and deploys by hand (GET /items/stats), and the
  catch-up a notebook run on its own makes of it (`catch_up`), so 06 to 09 find what 05 and 06 built;
- `api_url` / `http_call`: the student's API over real HTTP on loopback, with their own ID token.
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError, WaiterError

from ..backends import lab_home
from ..errors import UsageError
from ..steps.api_design import INVOKE_PRINCIPAL, STAGE, lambda_uri
from ..steps.arns import partition

# The notebooks' numbers and the last step each one builds ("" for the ones that build no step).
NOTEBOOK_STEPS = {"01": "site", "02": "cdn", "03": "users", "04": "table", "05": "functions", "06": "api"}
STATS = "stats"  # the student's own function: sl-<student>-stats
STATS_ROUTE = "/items/stats"
STATS_STATEMENT = "stats-route"  # the StatementId 06-api gives the route's permission

# 05-functions writes exactly this into the student's workspace (a test keeps the two the same).
STATS_STARTER = '''"""GET /items/stats: how many items the caller has."""
import json
import os

import boto3

DYNAMODB = boto3.client("dynamodb")  # Init: made once per execution environment, reused while warm


def handler(event, context):
    sub = event["requestContext"]["authorizer"]["claims"]["sub"]  # verified by the Cognito authorizer
    answer = DYNAMODB.query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": sub}},
        Select="COUNT",
    )
    body = {"items": answer["Count"]}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
'''


@dataclass
class AwsErrors:
    """What the `with teaching.aws_errors():` block saw: None, or AWS's code, status and message."""

    code: str | None = None
    status: int | None = None
    message: str = ""
    shown: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.code is not None


@contextlib.contextmanager
def aws_errors() -> Iterator[AwsErrors]:
    """Shows an AWS refusal as AWS states it, in one line, instead of a traceback; other errors propagate."""
    seen = AwsErrors()
    try:
        yield seen
    except ClientError as error:
        details = error.response.get("Error", {})
        seen.code = str(details.get("Code", ""))
        seen.status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        seen.message = str(details.get("Message", ""))
        line = f"AWS answered {seen.code} (HTTP {seen.status}): {seen.message}"
        seen.shown.append(line)
        print(line)
    except ParamValidationError as error:  # botocore refuses before sending anything
        seen.code, seen.message = "ParamValidationError", str(error)
        print(f"boto3 refused the call before sending it: {error}")
    except WaiterError as error:
        seen.code, seen.message = "WaiterError", str(error)
        print(f"The waiter gave up: {error}")


def workspace(lab: Any) -> Path:
    """The student's own folder under the lab home (their handler files live there, not in the course)."""
    folder = lab_home() / "work" / lab.student
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def zip_file(path: Path | str) -> bytes:
    """A deployment package holding one file at its root (what the notebooks build by hand)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(path, Path(path).name)
    return buffer.getvalue()


# --- finding what the student made, by name ------------------------------------------------------------


def user_pool_id(lab: Any) -> str | None:
    pool = lab.step("users").find_pool()
    return str(pool["Id"]) if pool else None


def app_client_id(lab: Any) -> str | None:
    """The id of the student's app client (lab.names.app_client) in their pool, found by name."""
    pool_id = user_pool_id(lab)
    found = lab.step("users").find_client(pool_id) if pool_id else None
    return str(found["ClientId"]) if found else None


def rest_api_id(lab: Any) -> str | None:
    api = lab.step("api").find_api()
    return str(api["id"]) if api else None


def authorizer_id(lab: Any) -> str | None:
    """The id of the student's Cognito authorizer (lab.names.authorizer) on their API, found by name."""
    api_id = rest_api_id(lab)
    found = lab.step("api").find_authorizer(api_id) if api_id else None
    return str(found["id"]) if found else None


def resource_id(lab: Any, path: str) -> str | None:
    api_id = rest_api_id(lab)
    if api_id is None:
        return None
    found = lab.step("api").resources(api_id).get(path)
    return str(found["id"]) if found else None


def oac_id(lab: Any) -> str | None:
    """The id of the student's origin access control, found by its name (lab.names.oac)."""
    found = lab.step("cdn").find_oac()
    return str(found["Id"]) if found else None


def distribution_id(lab: Any) -> str | None:
    found = lab.step("cdn").find_distribution()
    return str(found["Id"]) if found else None


# --- catching up on a fresh kernel ----------------------------------------------------------------------


def catch_up(lab: Any, notebook: str) -> dict[str, Any]:
    """Everything the notebooks before `notebook` ("06") built, and nothing of the later ones: their steps
    (lab.require), and from 06 on the stats function 05 deploys by hand, from 07 on the route 06 adds."""
    before = [number for number in NOTEBOOK_STEPS if number < notebook]
    if not before:
        return {}
    outputs = lab.require(NOTEBOOK_STEPS[before[-1]])
    if notebook > "05":
        ensure_stats_function(lab)
    if notebook > "06":
        ensure_stats_route(lab)
        # the stage then serves a deployment made by hand: the api step deploys its design (the stats route
        # included, as it is part of the API) so that lab.verify holds
        outputs = lab.require("api")
    return dict(outputs)


def _has_function(lab: Any, name: str) -> bool:
    try:
        lab.backend.client("lambda").get_function(FunctionName=name)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise


def ensure_stats_function(lab: Any) -> str:
    """The stats function as 05 deploys it, when the student has none (theirs is left as it is)."""
    name = lab.names.function(STATS)
    if _has_function(lab, name):
        return name
    path = workspace(lab) / "stats.py"
    if not path.exists():
        path.write_text(STATS_STARTER)
    lambda_ = lab.backend.client("lambda")
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lab.outputs["functions"]["role_arn"],
        Handler="stats.handler",
        Code={"ZipFile": zip_file(path)},
        Environment={"Variables": {"TABLE_NAME": lab.names.table}},
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def ensure_stats_route(lab: Any) -> None:
    """GET /items/stats on the student's API as 06 wires it, when missing: resource, method with the
    Cognito authorizer, AWS_PROXY integration, the permission, and a deployment to the stage."""
    if resource_id(lab, STATS_ROUTE) is not None:
        return
    api = lab.outputs["api"]
    api_id, region = api["rest_api_id"], lab.region
    gateway = lab.backend.client("apigateway")
    parent = resource_id(lab, "/items")
    stats = gateway.create_resource(restApiId=api_id, parentId=parent, pathPart="stats")["id"]
    gateway.put_method(
        restApiId=api_id, resourceId=stats, httpMethod="GET",
        authorizationType="COGNITO_USER_POOLS", authorizerId=api["authorizer_id"],
    )  # fmt: skip
    function_arn = (
        f"arn:{partition(region)}:lambda:{region}:{lab.names.account_id}:function:{lab.names.function(STATS)}"
    )
    gateway.put_integration(
        restApiId=api_id, resourceId=stats, httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=lambda_uri(partition(region), region, function_arn),
    )  # fmt: skip
    with contextlib.suppress(ClientError):  # a permission of this id is already there
        lab.backend.client("lambda").add_permission(
            FunctionName=function_arn, StatementId=STATS_STATEMENT, Action="lambda:InvokeFunction",
            Principal=INVOKE_PRINCIPAL,
            SourceArn=f"arn:{partition(region)}:execute-api:{region}:{lab.names.account_id}:{api_id}/*/GET{STATS_ROUTE}",
        )  # fmt: skip
    gateway.create_deployment(restApiId=api_id, stageName=STAGE, description="GET /items/stats")


def remove_student_work(lab: Any) -> list[str]:
    """Deletes what the student made by hand beside the steps (the stats function and its log group)."""
    deleted = []
    name = lab.names.function(STATS)
    for client, call, params in (
        ("lambda", "delete_function", {"FunctionName": name}),
        ("logs", "delete_log_group", {"logGroupName": f"/aws/lambda/{name}"}),
    ):
        try:
            getattr(lab.backend.client(client), call)(**params)
            deleted.append(f"{client} {next(iter(params.values()))}")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    return deleted


# --- the API over HTTP ------------------------------------------------------------------------------------


def api_url(lab: Any) -> str:
    """The stage URL of the student's API: AWS's, or offline the lab's data plane served on loopback."""
    from ..flow.user import serve_somewhere

    api = lab.step("api").outputs()
    if not api:
        raise UsageError("There is no API of yours yet. Fix: create it (06-api), or lab.require('api').")
    if not lab.backend.offline:
        return str(api["invoke_url"])
    server = serve_somewhere(lab)
    return f"{server.url}/restapis/{api['rest_api_id']}/{api['stage']}/_user_request_"


@dataclass(frozen=True)
class HttpAnswer:
    """One answer over HTTP: status, headers and the body (JSON decoded when it is JSON)."""

    status: int
    headers: dict[str, str]
    body: Any

    def __str__(self) -> str:
        kind = self.headers.get("x-amzn-ErrorType") or self.headers.get("x-amzn-errortype") or ""
        return f"{self.status} {kind + ' ' if kind else ''}{json.dumps(self.body)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def http_call(method: str, url: str, *, token: str | None = None, body: Any = None) -> HttpAnswer:
    """One HTTP request as the browser app sends it (the ID token in Authorization); errors are answers."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = token
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method.upper(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback or AWS's HTTPS endpoint
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode("utf-8", "replace")
    return HttpAnswer(status, answer_headers, decoded)
