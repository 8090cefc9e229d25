"""The whole data plane on the memory backend: configuration is read back from the control plane, so what
plain boto3 creates or changes is served, without a restart."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel
from botocore.exceptions import ClientError
from shared_labs import oac_bucket_policy, plain_function, zip_source

from serverless_lab import Lab
from serverless_lab.backends import Backend, make_backend
from serverless_lab.dataplane.http import HttpRequest
from serverless_lab.dataplane.lambda_.runtime import TooManyRequestsException
from serverless_lab.dataplane.server import DataPlaneServer
from serverless_lab.dataplane.service import DataPlane

FIXTURES = Path(__file__).resolve().parent.parent / "handlers_fixtures"


@pytest.fixture(scope="module")
def backend() -> Backend:
    return make_backend("memory")


@pytest.fixture
def dataplane(backend: Backend) -> Iterator[DataPlane]:
    # A data plane of its own that never caches configuration, so each change shows at once.
    plane = DataPlane(backend, config_ttl_s=0.0, idle_timeout_s=60)
    yield plane
    plane.close()


@pytest.fixture
def function(backend: Backend) -> Iterator[str]:
    """A function made with plain boto3, not through the lab."""
    source = "import os\ndef handler(event, context):\n    return {'greeting': os.environ.get('GREETING'), 'event': event}\n"
    with plain_function(backend, source, Timeout=3, Environment={"Variables": {"GREETING": "hello"}}) as name:
        yield name


def test_a_function_made_with_plain_boto3_is_served_and_changes_take_effect(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    lambda_client = backend.client("lambda")
    first = dataplane.invoke(function, {"n": 1})
    assert first.payload == {"greeting": "hello", "event": {"n": 1}}
    assert first.cold

    lambda_client.update_function_configuration(
        FunctionName=function, Environment={"Variables": {"GREETING": "hi"}}
    )
    changed = dataplane.invoke(function, {"n": 2})
    assert changed.payload["greeting"] == "hi"
    assert changed.cold, "a new configuration means new execution environments, as on Lambda"

    lambda_client.update_function_code(
        FunctionName=function, ZipFile=zip_source("def handler(event, context):\n    return 'new code'\n")
    )
    assert dataplane.invoke(function, {}).payload == "new code"


def test_logs_reach_cloudwatch_logs_on_the_backend(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    invocation = dataplane.invoke(function, {})
    dataplane.flush_logs()
    group = f"/aws/lambda/{function}"
    events = backend.client("logs").filter_log_events(logGroupName=group)["events"]
    messages = [event["message"] for event in events]
    assert f"START RequestId: {invocation.request_id} Version: $LATEST\n" in messages
    assert f"END RequestId: {invocation.request_id}\n" in messages
    # As Lambda writes them: every event ends with its newline, REPORT with a tab before it.
    (report,) = [m for m in messages if m.startswith(f"REPORT RequestId: {invocation.request_id}")]
    assert "\tInit Duration: " in report and report.endswith(" ms\t\n")
    assert all(m.endswith("\n") for m in messages)
    assert [m.rstrip("\t\n") for m in messages] == [line.rstrip("\t") for line in invocation.logs]
    streams = backend.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [invocation.log_stream_name]


def test_a_blank_printed_line_reaches_cloudwatch_as_a_newline_with_the_lines_around_it(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    # Lambda's events keep their newline, so a blank line is "\n" (CloudWatch Logs refuses an empty message).
    source = "def handler(event, context):\n    print('before')\n    print()\n    print('after')\n    return 'ok'\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    invocation = dataplane.invoke(function, {})
    assert invocation.payload == "ok"
    dataplane.flush_logs()
    events = backend.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
    messages = [event["message"] for event in events]
    start = messages.index(f"START RequestId: {invocation.request_id} Version: $LATEST\n")
    assert messages[start + 1 : start + 5] == [
        "before\n",
        "\n",
        "after\n",
        f"END RequestId: {invocation.request_id}\n",
    ]
    lines = invocation.logs  # the lab's own view: the lines without their ends
    assert lines[lines.index(messages[start].rstrip("\n")) + 1 :][:3] == ["before", "", "after"]


def test_cloudwatch_orders_start_before_the_handler_lines_and_end_after_them(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    # CloudWatch Logs returns events by timestamp: START carries the time the invoke began, END and REPORT
    # the time it ended, so a handler that prints and then works reads back between them.
    source = "import time\ndef handler(event, context):\n    print('early')\n    time.sleep(0.05)\n    return 'ok'\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    dataplane.invoke(function, {})  # the cold start's INIT lines out of the way
    invocation = dataplane.invoke(function, {})
    dataplane.flush_logs()
    events = backend.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{function}", logStreamNames=[invocation.log_stream_name]
    )["events"]
    mine = [e for e in events if invocation.request_id in e["message"] or e["message"] == "early\n"][-4:]
    assert [e["message"].split(" RequestId")[0] for e in mine] == ["START", "early\n", "END", "REPORT"]
    stamps = [e["timestamp"] for e in mine]
    assert stamps == sorted(stamps)
    assert stamps[2] - stamps[0] >= 50, "END is stamped when the invoke ends, 50 ms of sleep after START"


def test_reserved_concurrency_zero_throttles(backend: Backend, dataplane: DataPlane, function: str) -> None:
    backend.client("lambda").put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    with pytest.raises(TooManyRequestsException) as raised:
        dataplane.invoke(function, {})
    assert raised.value.status == 429


def test_reserved_concurrency_belongs_to_the_function_whichever_alias_or_version_is_invoked(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    control = backend.client("lambda")
    version = control.publish_version(FunctionName=function)["Version"]
    control.create_alias(FunctionName=function, Name="live", FunctionVersion=version)
    assert dataplane.invoke(f"{function}:live", {}).payload["greeting"] == "hello"
    control.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    for qualified in (f"{function}:live", f"{function}:{version}", f"{function}:$LATEST"):
        with pytest.raises(TooManyRequestsException):
            dataplane.invoke(qualified, {})


def test_each_version_keeps_its_own_warm_environments(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    # A stage on $LATEST and another on version 1 (or a weighted alias): neither retires the other's.
    version = backend.client("lambda").publish_version(FunctionName=function)["Version"]
    first = [dataplane.invoke(name, {}) for name in (function, f"{function}:{version}")]
    again = [dataplane.invoke(name, {}) for name in (function, f"{function}:{version}")]
    assert [i.cold for i in first] == [True, True] and [i.cold for i in again] == [False, False]
    assert [i.environment_id for i in again] == [i.environment_id for i in first]
    # A change to $LATEST brings it new environments; version 1 is immutable and stays warm.
    backend.client("lambda").update_function_configuration(
        FunctionName=function, Environment={"Variables": {"GREETING": "hi"}}
    )
    assert dataplane.invoke(function, {}).cold
    assert not dataplane.invoke(f"{function}:{version}", {}).cold


def test_a_weighted_alias_runs_its_additional_version_for_its_share_of_invokes(
    backend: Backend, dataplane: DataPlane
) -> None:
    source = "def handler(event, context):\n    return {'v': V, 'arn': context.invoked_function_arn}\n"
    with plain_function(backend, "V = 1\n" + source, Timeout=3) as function:
        control = backend.client("lambda")
        control.publish_version(FunctionName=function)
        control.update_function_code(FunctionName=function, ZipFile=zip_source("V = 2\n" + source))
        control.get_waiter("function_updated_v2").wait(FunctionName=function)
        control.publish_version(FunctionName=function)
        # A canary: version 2 gets half of the invokes of "live", version 1 the rest.
        alias_arn = control.create_alias(
            FunctionName=function,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
        )["AliasArn"]
        runs = [dataplane.invoke(f"{function}:live", {}) for _ in range(200)]
        assert {(r.executed_version, r.payload["v"]) for r in runs} == {("1", 1), ("2", 2)}
        assert 0.3 < sum(r.executed_version == "2" for r in runs) / len(runs) < 0.7  # ~6 sigma either way
        assert {r.payload["arn"] for r in runs} == {alias_arn}  # the alias called, whichever version ran
        # The canary promoted: all of "live" goes to version 2; the weights' change takes effect at once.
        control.update_alias(FunctionName=function, Name="live", FunctionVersion="2", RoutingConfig={})
        assert {dataplane.invoke(f"{function}:live", {}).payload["v"] for _ in range(20)} == {2}


def make_api(
    backend: Backend,
    function: str,
    path_part: str,
    *,
    qualifier: str = "",
    variables: dict[str, str] | None = None,
    http_method: str = "GET",
    method_settings: Callable[[str], dict[str, Any]] | None = None,
) -> tuple[str, str]:
    """A REST API made with plain boto3: one resource with an AWS_PROXY method, deployed to stage `dev`
    (with `variables`); the integration invokes the function, with `:qualifier` when one is given, and
    the function (that qualifier's) lets API Gateway invoke it from this API (lambda.add_permission), as
    AWS requires; a qualifier naming a stage variable leaves the permissions to the test.
    `method_settings(api_id)` may create what the method refers to (an authorizer, a validator, models)
    and returns put_method's settings (authorizationType NONE unless it says otherwise)."""
    apigateway = backend.client("apigateway")
    api = apigateway.create_rest_api(name=f"plain-{function}")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart=path_part)["id"]
    arn = backend.client("lambda").get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    arn += f":{qualifier}" if qualifier else ""
    settings = {"authorizationType": "NONE", **(method_settings(api) if method_settings else {})}
    apigateway.put_method(restApiId=api, resourceId=resource, httpMethod=http_method, **settings)
    apigateway.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod=http_method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=lambda_uri(backend, arn),
    )
    if "${" not in qualifier:
        allow_api_gateway(backend, arn, api)
    apigateway.create_deployment(restApiId=api, stageName="dev", variables=variables or {})
    return api, root


def allow_api_gateway(backend: Backend, function_arn: str, api: str, source: str = "*/*/*") -> None:
    """lambda.add_permission: API Gateway may invoke the function (an ARN, qualified or not) from the API
    (`source`: the rest of the execute-api ARN after the API id: any stage, method and path by default)."""
    backend.client("lambda").add_permission(
        FunctionName=function_arn,
        StatementId=f"apigateway-{api}-{uuid.uuid4().hex[:6]}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{backend.region}:{backend.account_id()}:{api}/{source}",
    )


def lambda_uri(backend: Backend, function_arn: str) -> str:
    return f"arn:aws:apigateway:{backend.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def proxy_source() -> str:
    return (
        "import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'},\n"
        "            'body': json.dumps({'path': event['path'], 'resource': event['resource']})}\n"
    )


def test_the_lambda_span_carries_the_invocation_and_no_span_is_made_unasked(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, _ = make_api(backend, function, "hello")
    request = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/hello")
    spans: list[dict] = []
    assert dataplane.handle(request, spans).status == 200
    lambda_span = next(span for span in spans if span["component"] == "lambda")
    assert lambda_span["detail"]["function"] == function
    assert lambda_span["detail"]["cold"] is True and lambda_span["detail"]["billed_ms"] >= 1
    assert set(lambda_span["detail"]) >= {"request_id", "init_ms", "duration_ms", "environment_id", "calls"}
    again = dataplane.handle(request)  # no spans asked for: the same answer
    assert (again.status, json.loads(again.body)) == (200, {"path": "/hello", "resource": "/hello"})


def test_a_stage_variable_in_the_integration_uri_picks_the_alias_per_stage(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    control = backend.client("lambda")
    versioned = (
        "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps(WHO)}\n"
    )
    control.update_function_code(FunctionName=function, ZipFile=zip_source("WHO = 'one'\n" + versioned))
    control.get_waiter("function_updated_v2").wait(FunctionName=function)
    control.publish_version(FunctionName=function)
    control.update_function_code(FunctionName=function, ZipFile=zip_source("WHO = 'two'\n" + versioned))
    control.get_waiter("function_updated_v2").wait(FunctionName=function)
    control.publish_version(FunctionName=function)
    control.create_alias(FunctionName=function, Name="stable", FunctionVersion="1")
    control.create_alias(FunctionName=function, Name="next", FunctionVersion="2")
    api, _ = make_api(
        backend, function, "who", qualifier="${stageVariables.alias}", variables={"alias": "stable"}
    )
    for alias in ("stable", "next"):  # each alias the stage variable may name needs its own permission
        allow_api_gateway(backend, f"{function}:{alias}", api)
    request = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/who")
    assert (dataplane.handle(request).status, dataplane.handle(request).body) == (200, b'"one"')

    apigateway = backend.client("apigateway")
    apigateway.update_stage(
        restApiId=api,
        stageName="dev",
        patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "next"}],
    )
    time.sleep(1.1)  # the data plane reads the stage again after 1 s; no new deployment is needed
    assert dataplane.handle(request).body == b'"two"'
    # A variable the stage lacks leaves no function to invoke: API Gateway's 500, not a traceback.
    apigateway.update_stage(
        restApiId=api, stageName="dev", patchOperations=[{"op": "remove", "path": "/variables/alias"}]
    )
    dataplane.control_plane.refresh()
    missing = dataplane.handle(request)
    assert (missing.status, missing.body) == (500, b'{"message": "Internal server error"}')


def test_an_integration_whose_function_is_gone_answers_500(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, _ = make_api(backend, function, "hello")
    request = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/hello")
    assert dataplane.handle(request).status == 200
    backend.client("lambda").delete_function(FunctionName=function)
    dataplane.control_plane.refresh()
    gone = dataplane.handle(request)
    # Lambda refuses the invoke with 404, which API Gateway answers with 500 (a configuration error).
    assert (gone.status, gone.body) == (500, b'{"message": "Internal server error"}')
    assert gone.header("x-amzn-ErrorType") == "InternalServerErrorException"


def test_stage_throttling_set_with_update_stage_answers_429_without_a_new_deployment(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, _ = make_api(backend, function, "hello")
    request = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/hello")
    apigateway = backend.client("apigateway")

    def throttle(path: str, rate: str, burst: str) -> None:
        apigateway.update_stage(
            restApiId=api,
            stageName="dev",
            patchOperations=[
                {"op": "replace", "path": f"{path}/throttling/rateLimit", "value": rate},
                {"op": "replace", "path": f"{path}/throttling/burstLimit", "value": burst},
            ],
        )

    assert [dataplane.handle(request).status for _ in range(5)] == [200] * 5
    throttle("/*/*", "0.001", "2")  # the stage's default for every method
    answers = [dataplane.handle(request) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 429, 429]
    assert json.loads(answers[-1].body) == {"message": "Too Many Requests"}
    assert answers[-1].header("x-amzn-ErrorType") == "TooManyRequestsException"
    throttle("/~1hello/GET", "0.001", "3")  # the method's own limits: a bucket of its own, full
    assert [dataplane.handle(request).status for _ in range(4)] == [200, 200, 200, 429]


def test_api_keys_and_usage_plans_made_with_boto3_guard_a_method(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    source = "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps(event)}\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    api, _ = make_api(backend, function, "keyed", method_settings=lambda api: {"apiKeyRequired": True})
    apigateway = backend.client("apigateway")
    key = apigateway.create_api_key(name=f"student-{function}", enabled=True)
    plan = apigateway.create_usage_plan(
        name=f"plan-{function}",
        apiStages=[{"apiId": api, "stage": "dev"}],
        throttle={"rateLimit": 0.01, "burstLimit": 2},
    )
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    def get(*headers: tuple[str, str]) -> Any:
        return dataplane.handle(
            HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/keyed", headers=headers)
        )

    assert (get().status, get().body) == (403, b'{"message":"Forbidden"}')
    answer = get(("x-api-key", key["value"]))
    assert answer.status == 200
    event = json.loads(answer.body)
    APIGatewayProxyEventModel.model_validate(event)
    assert (
        event["requestContext"]["identity"]["apiKey"],
        event["requestContext"]["identity"]["apiKeyId"],
    ) == (
        key["value"],
        key["id"],
    )
    assert get(("x-api-key", key["value"])).status == 200  # the burst of 2
    throttled = get(("x-api-key", key["value"]))
    assert (throttled.status, throttled.body) == (429, b'{"message":"Too Many Requests"}')
    apigateway.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    time.sleep(1.1)  # the data plane reads the keys again after 1 s
    assert get(("x-api-key", key["value"])).status == 403, "a disabled key is refused"


def test_a_usage_plans_throttle_of_one_method_limits_that_method(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, _ = make_api(backend, function, "keyed", method_settings=lambda api: {"apiKeyRequired": True})
    apigateway = backend.client("apigateway")
    key = apigateway.create_api_key(name=f"method-{function}", enabled=True)
    plan = apigateway.create_usage_plan(
        name=f"method-plan-{function}",
        apiStages=[
            {"apiId": api, "stage": "dev", "throttle": {"/keyed/GET": {"rateLimit": 0.01, "burstLimit": 2}}}
        ],
        throttle={"rateLimit": 0.01, "burstLimit": 5},
    )
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    request = HttpRequest(
        "GET", f"/restapis/{api}/dev/_user_request_/keyed", headers=(("x-api-key", key["value"]),)
    )
    assert [dataplane.handle(request).status for _ in range(4)] == [200, 200, 429, 429]


AUTHORIZER_SOURCE = """
def handler(event, context):
    token = event["authorizationToken"]
    if token == "let-me-in":
        effect = "Allow"
    elif token == "go-away":
        effect = "Deny"
    else:
        raise Exception("Unauthorized")
    return {
        "principalId": "student-7",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"team": "blue", "seats": 3},
    }
"""


def test_a_lambda_token_authorizer_made_with_boto3_guards_a_method(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    source = "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps(event)}\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    with plain_function(backend, AUTHORIZER_SOURCE, prefix="authorizer") as authorizer_function:
        arn = backend.client("lambda").get_function(FunctionName=authorizer_function)["Configuration"][
            "FunctionArn"
        ]

        def token_authorizer(api: str) -> dict[str, Any]:
            authorizer = backend.client("apigateway").create_authorizer(
                restApiId=api,
                name="token-check",
                type="TOKEN",
                authorizerUri=lambda_uri(backend, arn),
                identitySource="method.request.header.Authorization",
                identityValidationExpression="^[a-z-]+$",
                authorizerResultTtlInSeconds=300,
            )
            allow_api_gateway(backend, arn, api, f"authorizers/{authorizer['id']}")
            return {"authorizationType": "CUSTOM", "authorizerId": authorizer["id"]}

        api, _ = make_api(backend, function, "guarded", method_settings=token_authorizer)

        def get(token: str | None) -> Any:
            headers = (("Authorization", token),) if token is not None else ()
            return dataplane.handle(
                HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/guarded", headers=headers)
            )

        allowed = get("let-me-in")
        assert allowed.status == 200
        context = json.loads(allowed.body)["requestContext"]["authorizer"]
        assert (context["principalId"], context["team"], context["seats"]) == ("student-7", "blue", "3")
        denied = get("go-away")
        assert (denied.status, denied.body) == (
            403,
            b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
        )
        assert (get("who-knows").status, get(None).status) == (401, 401)

        def authorizer_invocations() -> int:
            return sum(
                e.invocations for e in dataplane.runtime.environments() if e.function == authorizer_function
            )

        # A token the identityValidationExpression refuses is 401 "without calling the Lambda function"
        # (CreateAuthorizer reference); moto dropped the expression given to create_authorizer (moto_fixes).
        before = authorizer_invocations()
        assert get("Not Valid!").status == 401 and authorizer_invocations() == before


def test_a_request_validator_made_with_boto3_checks_parameters_and_body(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))

    def validated(api: str) -> dict[str, Any]:
        apigateway = backend.client("apigateway")
        validator = apigateway.create_request_validator(
            restApiId=api, name="all", validateRequestBody=True, validateRequestParameters=True
        )
        schema = {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}},
        }
        apigateway.create_model(
            restApiId=api, name="Note", contentType="application/json", schema=json.dumps(schema)
        )
        return {
            "requestValidatorId": validator["id"],
            "requestParameters": {"method.request.querystring.lang": True},
            "requestModels": {"application/json": "Note"},
        }

    api, _ = make_api(backend, function, "notes", http_method="POST", method_settings=validated)

    def post(body: bytes, query: str = "lang=en") -> Any:
        request = HttpRequest(
            "POST",
            f"/restapis/{api}/dev/_user_request_/notes",
            query,
            (("Content-Type", "application/json"),),
            body,
        )
        return dataplane.handle(request)

    assert post(b'{"text": "hi"}').status == 200
    missing = post(b'{"text": "hi"}', query="")
    assert (missing.status, missing.body) == (
        400,
        b'{"message":"Missing required request parameters: [lang]"}',
    )
    invalid = post(b'{"text": ""}')
    assert (invalid.status, invalid.body) == (400, b'{"message":"Invalid request body"}')


def test_an_api_made_with_plain_boto3_is_served_and_only_deployments_change_it(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, root = make_api(backend, function, "hello")
    answer = dataplane.handle(HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/hello"))
    assert answer.status == 200
    assert json.loads(answer.body) == {"path": "/hello", "resource": "/hello"}

    apigateway = backend.client("apigateway")
    added = apigateway.create_resource(restApiId=api, parentId=root, pathPart="later")["id"]
    apigateway.put_method(restApiId=api, resourceId=added, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api,
        resourceId=added,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigateway.put_method_response(restApiId=api, resourceId=added, httpMethod="GET", statusCode="200")
    apigateway.put_integration_response(
        restApiId=api,
        resourceId=added,
        httpMethod="GET",
        statusCode="200",
        responseTemplates={"application/json": '{"mocked": true}'},
    )
    later = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/later")
    assert dataplane.handle(later).status == 403, "an undeployed change is not served, as on API Gateway"
    # Nor by a data plane that reads the stage for the first time now: it reads the deployment's snapshot.
    fresh = DataPlane(backend, config_ttl_s=0.0, idle_timeout_s=60)
    try:
        assert fresh.handle(later).status == 403
        assert fresh.handle(HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/hello")).status == 200
    finally:
        fresh.close()
    apigateway.create_deployment(restApiId=api, stageName="dev")
    served = dataplane.handle(later)
    assert (served.status, json.loads(served.body)) == (200, {"mocked": True})
    urls = dataplane.urls().as_dict()
    assert {"rest_api_id": api, "stage": "dev"}.items() <= next(
        a for a in urls["apis"] if a["rest_api_id"] == api
    ).items()
    apigateway.delete_rest_api(restApiId=api)


def test_throttled_invocations_answer_500_unless_the_api_customises_integration_failure(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(proxy_source()))
    api, _ = make_api(backend, function, "busy")
    backend.client("lambda").put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    request = HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/busy")
    answer = dataplane.handle(request)
    assert (answer.status, json.loads(answer.body)) == (500, {"message": "Internal server error"})
    apigateway = backend.client("apigateway")
    apigateway.put_gateway_response(
        restApiId=api,
        responseType="INTEGRATION_FAILURE",
        statusCode="429",
        responseTemplates={"application/json": '{"message": "Too Many Requests"}'},
    )
    apigateway.create_deployment(restApiId=api, stageName="dev")
    answer = dataplane.handle(request)
    assert (answer.status, json.loads(answer.body)) == (429, {"message": "Too Many Requests"})
    apigateway.delete_rest_api(restApiId=api)


def test_the_integration_timeout_answers_504(backend: Backend, function: str) -> None:
    backend.client("lambda").update_function_code(
        FunctionName=function,
        ZipFile=zip_source(
            "import time\ndef handler(event, context):\n    time.sleep(2)\n    return {'statusCode': 200, 'body': 'late'}\n"
        ),
    )
    api, _ = make_api(backend, function, "slow")
    plane = DataPlane(backend, config_ttl_s=0.0, integration_timeout_s=0.3)
    try:
        started = time.monotonic()
        answer = plane.handle(HttpRequest("GET", f"/restapis/{api}/dev/_user_request_/slow"))
        assert (answer.status, json.loads(answer.body)) == (504, {"message": "Endpoint request timed out"})
        assert time.monotonic() - started < 2, "the gateway must not wait for the function"
    finally:
        plane.close()
        backend.client("apigateway").delete_rest_api(restApiId=api)


def new_bucket(backend: Backend, prefix: str) -> tuple[Any, str]:
    """An S3 client and a new bucket of this test's own (a distribution's origin)."""
    s3 = backend.client("s3")
    bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def plain_distribution(backend: Backend, bucket: str, **behaviour_settings: Any) -> str:
    """A distribution of the bucket made with plain boto3, not through the lab, as AWS needs it to read a
    private bucket: an origin access control, and the bucket policy that lets this distribution read; its id.
    """
    behaviour = {
        "TargetOriginId": "s3",
        "ViewerProtocolPolicy": "allow-all",
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": 3600,
        "MaxTTL": 86400,
        **behaviour_settings,
    }
    cloudfront = backend.client("cloudfront")
    oac = {"Name": f"{bucket}-oac", "SigningProtocol": "sigv4", "SigningBehavior": "always",
           "OriginAccessControlOriginType": "s3"}  # fmt: skip
    oac_id = cloudfront.create_origin_access_control(OriginAccessControlConfig=oac)["OriginAccessControl"][
        "Id"
    ]
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": bucket,
            "Comment": "plain",
            "Enabled": True,
            "DefaultRootObject": "index.html",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": oac_id,
                    }
                ],
            },
            "DefaultCacheBehavior": behaviour,
        }
    )["Distribution"]
    policy = oac_bucket_policy(bucket, distribution["ARN"])
    backend.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy)
    return distribution["Id"]


def test_a_distribution_made_with_plain_boto3_is_served_and_invalidations_purge(
    backend: Backend, dataplane: DataPlane
) -> None:
    s3, bucket = new_bucket(backend, "plain")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>one</h1>", ContentType="text/html")
    distribution = plain_distribution(backend, bucket)
    first = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
    assert (first.status, first.body, first.header("X-Cache")) == (
        200,
        b"<h1>one</h1>",
        "Miss from cloudfront",
    )
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>two</h1>", ContentType="text/html")
    cached = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
    assert (cached.body, cached.header("X-Cache")) == (b"<h1>one</h1>", "Hit from cloudfront")
    backend.client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "one"},
    )
    fresh = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
    assert (fresh.body, fresh.header("X-Cache")) == (b"<h1>two</h1>", "Miss from cloudfront")
    assert distribution in [d["id"] for d in dataplane.urls().distributions]


def test_the_edge_passes_on_s3s_headers_and_never_compresses_an_encoded_object(
    backend: Backend, dataplane: DataPlane
) -> None:
    s3, bucket = new_bucket(backend, "encoded")
    script = b"console.log('precompressed');\n" * 200
    s3.put_object(
        Bucket=bucket,
        Key="app.js",
        Body=gzip.compress(script),
        ContentType="application/javascript",
        ContentEncoding="gzip",
        ContentDisposition="inline",
        Metadata={"build": "42"},
    )
    distribution = plain_distribution(backend, bucket, Compress=True)
    request = HttpRequest("GET", "/app.js", headers=(("Accept-Encoding", "gzip"),))
    answer = dataplane.handle_edge(distribution, request)
    # "CloudFront detects that the file is compressed based on the value of the Content-Encoding header
    # and doesn't compress the file again" (Serving compressed files): one layer of gzip, S3's headers kept.
    assert [v for k, v in answer.headers if k.lower() == "content-encoding"] == ["gzip"]
    assert gzip.decompress(answer.body) == script
    assert (answer.header("Content-Disposition"), answer.header("x-amz-meta-build")) == ("inline", "42")


def test_an_object_replaced_within_the_second_is_not_served_stale(
    backend: Backend, dataplane: DataPlane
) -> None:
    s3, bucket = new_bucket(backend, "fresh")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>v1</h1>", ContentType="text/html")
    distribution = plain_distribution(backend, bucket, DefaultTTL=0, MaxTTL=0)  # revalidated every time
    assert dataplane.handle_edge(distribution, HttpRequest("GET", "/")).body == b"<h1>v1</h1>"
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>v2</h1>", ContentType="text/html")
    # The ETag changed, the Last-Modified second may not have: If-None-Match decides, as on S3.
    fresh = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
    assert (fresh.body, fresh.header("X-Cache")) == (b"<h1>v2</h1>", "Miss from cloudfront")
    again = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
    assert (again.body, again.header("X-Cache")) == (b"<h1>v2</h1>", "RefreshHit from cloudfront")


@pytest.mark.parametrize(
    ("policy", "x_caches", "bodies"),
    [
        # CachingOptimized: a day by default, so the changed object is not seen until invalidated.
        ("658327ea-f89d-4fab-a63d-7e88639e58f6", ["Miss", "Hit", "Hit"], [b"one", b"one", b"one"]),
        # CachingDisabled: nothing stored, every request goes to S3.
        ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", ["Miss", "Miss", "Miss"], [b"one", b"two", b"two"]),
    ],
    ids=["CachingOptimized", "CachingDisabled"],
)
def test_a_managed_cache_policy_decides_what_is_cached(
    backend: Backend, dataplane: DataPlane, policy: str, x_caches: list[str], bodies: list[bytes]
) -> None:
    s3, bucket = new_bucket(backend, "policy")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"one", ContentType="text/html")
    # The behaviour's own TTLs (0 here, as moto fills them in) give way to the policy's.
    distribution = plain_distribution(backend, bucket, CachePolicyId=policy, MinTTL=0, DefaultTTL=0, MaxTTL=0)
    seen = []
    for _ in range(3):
        answer = dataplane.handle_edge(distribution, HttpRequest("GET", "/"))
        seen.append((answer.header("X-Cache").split()[0], answer.body))
        s3.put_object(Bucket=bucket, Key="index.html", Body=b"two", ContentType="text/html")
    assert seen == list(zip(x_caches, bodies, strict=True))


def test_query_string_cache_keys_limit_the_cache_key_to_their_names(
    backend: Backend, dataplane: DataPlane
) -> None:
    s3, bucket = new_bucket(backend, "query")
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"v1", ContentType="application/javascript")
    forwarded = {
        "QueryString": True,
        "Cookies": {"Forward": "none"},
        "QueryStringCacheKeys": {"Quantity": 1, "Items": ["v"]},
    }
    distribution = plain_distribution(backend, bucket, ForwardedValues=forwarded)

    def x_cache(query: str) -> str:
        return dataplane.handle_edge(distribution, HttpRequest("GET", "/app.js", query=query)).header(
            "X-Cache"
        )

    # "... but only caches based on the query string parameters that you specify" (API reference).
    assert [x_cache("v=1&utm=a"), x_cache("v=1&utm=b"), x_cache("v=2")] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    x_cache("")  # /app.js without a query string, cached under a key of its own

    def invalidate(path: str) -> None:
        backend.client("cloudfront").create_invalidation(
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [path]},
                "CallerReference": uuid.uuid4().hex,
            },
        )

    # "You must include the query strings when invalidating files", or end the path with a *.
    invalidate("/app.js")
    assert [x_cache(""), x_cache("v=1"), x_cache("v=2")] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Hit from cloudfront",
    ]
    invalidate("/app.js*")
    assert [x_cache("v=1"), x_cache("v=2")] == ["Miss from cloudfront", "Miss from cloudfront"]


def test_a_missing_key_is_404_when_the_bucket_policy_lets_cloudfront_list_the_bucket(
    backend: Backend, dataplane: DataPlane
) -> None:
    s3, bucket = new_bucket(backend, "listing")
    distribution = plain_distribution(backend, bucket)
    # GetObject only (as the lab's own OAC policy): S3 hides whether the key exists, 403.
    assert dataplane.handle_edge(distribution, HttpRequest("GET", "/dashboard")).status == 403
    cloudfront = {"Service": "cloudfront.amazonaws.com"}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": cloudfront,
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Effect": "Allow",
                "Principal": cloudfront,
                "Action": ["s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    # "If you have the s3:ListBucket permission on the bucket, Amazon S3 returns ... 404 Not Found".
    missing = dataplane.handle_edge(distribution, HttpRequest("GET", "/settings"))
    assert missing.status == 404 and b"<Code>NoSuchKey</Code>" in missing.body


@pytest.mark.parametrize(
    ("method", "target", "body", "error"),
    [
        ("GET", None, b"", "UnknownOperationException"),  # the backend behind: its bucket list, before
        ("POST", "DynamoDB_20120810.ListTables", b"{}", "UnknownOperationException"),
        ("POST", None, b"{}", "UnknownOperationException"),
        ("POST", "AWSCognitoIdentityProviderService.InitiateAuth", b"{not json", "SerializationException"),
    ],
)
def test_the_cognito_route_passes_on_cognito_operations_only(
    dataplane: DataPlane, method: str, target: str | None, body: bytes, error: str
) -> None:
    headers = (("X-Amz-Target", target),) if target else ()
    answer = dataplane.handle(
        HttpRequest(method, "/cognito-idp/", headers=(*headers, ("Origin", "http://x")), body=body)
    )
    assert (answer.status, json.loads(answer.body)["__type"]) == (400, error)
    assert answer.header("Access-Control-Allow-Origin") == "*"  # the browser can read the error, as Cognito's


def test_the_cognito_route_answers_a_browsers_preflight_as_cognito_does(dataplane: DataPlane) -> None:
    # Passed on, moto's server took the preflight for S3 (no signature, no target) and answered 500.
    answer = dataplane.handle(
        HttpRequest(
            "OPTIONS",
            "/cognito-idp/",
            headers=(("Origin", "http://127.0.0.1:9"), ("Access-Control-Request-Method", "POST"),
                     ("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")),
        )
    )  # fmt: skip
    assert answer.status == 200
    assert answer.header("Access-Control-Allow-Origin") == "*"
    assert answer.header("Access-Control-Allow-Headers") == "content-type,x-amz-target,x-amz-user-agent"
    assert answer.header("Access-Control-Allow-Methods") == "POST"
    assert answer.header("Access-Control-Max-Age") == "172800"


def test_cognitos_own_answers_and_errors_carry_cognitos_cors_headers(
    backend: Backend, dataplane: DataPlane
) -> None:
    idp = backend.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"cors-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]

    def call(operation: str, body: dict[str, Any]) -> Any:
        headers = (("Origin", "http://127.0.0.1:9"), ("Content-Type", "application/x-amz-json-1.1"),
                   ("X-Amz-Target", f"AWSCognitoIdentityProviderService.{operation}"))  # fmt: skip
        return dataplane.handle(
            HttpRequest(
                "POST",
                "/cognito-idp/",
                headers=headers,
                body=json.dumps({"ClientId": client, **body}).encode(),
            )
        )

    signed_up = call("SignUp", {"Username": "ada", "Password": "Passw0rd!x"})
    refused = call(
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "ada", "PASSWORD": "x"}},
    )
    assert signed_up.status == 200 and json.loads(signed_up.body)["UserConfirmed"] is False
    assert (refused.status, json.loads(refused.body)["__type"]) == (400, "NotAuthorizedException")
    for answer in (signed_up, refused):
        assert answer.header("Access-Control-Allow-Origin") == "*"
        assert answer.header("Access-Control-Expose-Headers") == (
            "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
        )
        assert answer.header("Vary") is None  # flask-cors' Vary: Origin went with its echoed origin
        assert answer.header("status") is None  # moto's own header


def test_a_new_distribution_is_listed_at_its_own_port_without_waiting_for_the_servers_poll(
    backend: Backend, dataplane: DataPlane
) -> None:
    server = DataPlaneServer(dataplane, port=0, poll_s=3600).start()
    try:
        _, bucket = new_bucket(backend, "late")
        distribution = plain_distribution(backend, bucket)
        (listed,) = [d for d in dataplane.urls().distributions if d["id"] == distribution]
        assert urlsplit(listed["url"]).path == "/", "its own root URL, not /_edge/<id>/ on the main port"
    finally:
        server.stop()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="CPU placement needs two CPUs")
def test_a_served_data_plane_keeps_its_environments_off_its_own_cpu(
    dataplane: DataPlane, function: str
) -> None:
    server = DataPlaneServer(dataplane, port=0, poll_s=3600).start()
    try:
        assert server.placement is not None
        dataplane.invoke(function, {})
        (environment,) = dataplane.runtime.environments()
        assert environment.pid is not None
        assert os.sched_getaffinity(environment.pid) == server.placement.environment_cpus
        assert server.placement.server_cpus.isdisjoint(server.placement.environment_cpus)
    finally:
        server.stop()
    assert os.sched_getaffinity(environment.pid) == os.sched_getaffinity(0)  # every CPU again
    assert DataPlaneServer(dataplane, port=0, place_cpus=False).placement is None


def test_late_logs_of_a_destroyed_function_do_not_bring_its_log_group_back(
    backend: Backend, dataplane: DataPlane, function: str
) -> None:
    dataplane.invoke(function, {})
    dataplane.flush_logs()
    group = f"/aws/lambda/{function}"
    logs = backend.client("logs")
    logs.delete_log_group(logGroupName=group)
    dataplane.invoke(function, {})  # the function still exists: Lambda makes its log group again
    dataplane.flush_logs()
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    logs.delete_log_group(logGroupName=group)
    dataplane.control_plane.write_logs(group, "2026/01/01/[$LATEST]0", [(0, "late line")])
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]  # function exists: recreated
    logs.delete_log_group(logGroupName=group)
    backend.client("lambda").delete_function(FunctionName=function)
    dataplane.control_plane.write_logs(group, "2026/01/01/[$LATEST]0", [(0, "after destroy")])
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


# --- Lambda's Invoke API with boto3: moto keeps the function, the lab runs it ------------------------------


@pytest.fixture
def lambda_client(backend: Backend) -> Any:
    Lab(backend=backend, student="invoker")  # a lab wires its backend's Invoke to the local runtime
    return backend.client("lambda")


def test_boto3_invoke_runs_a_plain_boto3_function_with_its_log_tail(
    lambda_client: Any, function: str
) -> None:
    answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"n": 1}), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(answer["Payload"].read()) == {"greeting": "hello", "event": {"n": 1}}
    request_id = answer["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(answer["LogResult"]).decode().splitlines()
    assert log[0].startswith("INIT_START Runtime Version: python:3.12")
    assert log[1:3] == [f"START RequestId: {request_id} Version: $LATEST", f"END RequestId: {request_id}"]
    assert log[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ") and "\tInit Duration: " in log[3]


def test_boto3_invoke_reports_function_errors_and_lambdas_own_errors(
    backend: Backend, lambda_client: Any, function: str
) -> None:
    source = "def handler(event, context):\n    raise ValueError('no such thing')\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    failed = lambda_client.invoke(FunctionName=function)
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "no such thing")

    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException, match=":function:no-such-fn"):
        lambda_client.invoke(FunctionName="no-such-fn")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException, match=f":function:{function}:7$"):
        lambda_client.invoke(FunctionName=function, Qualifier="7")
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException, match="Could not parse"):
        lambda_client.invoke(FunctionName=function, Payload=b"{not json")
    with pytest.raises(lambda_client.exceptions.RequestTooLargeException, match="smaller than 6291456 bytes"):
        lambda_client.invoke(FunctionName=function, Payload=json.dumps({"x": "a" * 6_291_456}))
    assert lambda_client.invoke(FunctionName=function, InvocationType="DryRun")["StatusCode"] == 204

    backend.client("lambda").put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    time.sleep(1.1)  # the lab's data plane reads configuration back with a 1 s cache
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as throttled:
        lambda_client.invoke(FunctionName=function)
    assert throttled.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_boto3_invoke_takes_a_partial_arn(backend: Backend, lambda_client: Any, function: str) -> None:
    # "123456789012:function:my-function" is one of the FunctionName forms of Lambda's Invoke reference.
    account = backend.account_id()
    answer = lambda_client.invoke(FunctionName=f"{account}:function:{function}", Payload=b'{"n": 1}')
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["event"] == {"n": 1}


def test_boto3_invoke_of_an_alias_runs_its_version_and_tells_the_handler_the_arn_it_was_called_by(
    backend: Backend, lambda_client: Any, function: str
) -> None:
    source = "def handler(event, context):\n    return {'arn': context.invoked_function_arn, 'v': VERSION}\n"
    control = backend.client("lambda")
    control.update_function_code(FunctionName=function, ZipFile=zip_source("VERSION = 1\n" + source))
    control.get_waiter("function_updated_v2").wait(FunctionName=function)
    control.publish_version(FunctionName=function)
    control.update_function_code(FunctionName=function, ZipFile=zip_source("VERSION = 2\n" + source))
    control.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    arn = control.get_function_configuration(FunctionName=function)["FunctionArn"]

    aliased = lambda_client.invoke(FunctionName=function, Qualifier="live")
    # Invoke API reference: X-Amz-Executed-Version is "the version of the function that executed".
    assert aliased["ExecutedVersion"] == "1"
    assert json.loads(aliased["Payload"].read()) == {"arn": f"{arn}:live", "v": 1}
    latest = lambda_client.invoke(FunctionName=function)
    assert latest["ExecutedVersion"] == "$LATEST"
    assert json.loads(latest["Payload"].read()) == {"arn": arn, "v": 2}
    by_arn = lambda_client.invoke(FunctionName=f"{arn}:1")
    assert by_arn["ExecutedVersion"] == "1"
    assert json.loads(by_arn["Payload"].read()) == {"arn": f"{arn}:1", "v": 1}


def test_a_function_made_with_plain_boto3_imports_from_its_layers(
    backend: Backend, lambda_client: Any
) -> None:
    control = backend.client("lambda")

    def publish(source: str) -> str:
        content = zip_source(source, "python/greeting.py")  # a layer's Python code goes under python/
        return control.publish_layer_version(LayerName="greeting", Content={"ZipFile": content})[
            "LayerVersionArn"
        ]

    first = publish("WORD = 'hello from layer 1'\n")
    source = "import greeting\ndef handler(event, context):\n    return greeting.WORD\n"
    with plain_function(backend, source, Layers=[first]) as function:
        answer = lambda_client.invoke(FunctionName=function)
        assert json.loads(answer["Payload"].read()) == "hello from layer 1"
        second = publish("WORD = 'hello from layer 2'\n")
        control.update_function_configuration(FunctionName=function, Layers=[second])
        time.sleep(1.1)  # the data plane reads the configuration again after 1 s: new environments
        assert (
            json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read()) == "hello from layer 2"
        )


def test_boto3_event_invoke_answers_202_and_runs_the_function_later(
    backend: Backend, lambda_client: Any, function: str
) -> None:
    source = "def handler(event, context):\n    print('queued run', event['n'])\n"
    backend.client("lambda").update_function_code(FunctionName=function, ZipFile=zip_source(source))
    answer = lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=b'{"n": 5}')
    assert answer["StatusCode"] == 202 and answer["Payload"].read() == b""
    logs = backend.client("logs")
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline and "queued run 5\n" not in messages:
        time.sleep(0.2)
        Lab(backend=backend, student="invoker").dataplane().flush_logs()
        with contextlib.suppress(ClientError):  # the log group appears with the first line
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
            messages = [event["message"] for event in events]
    assert "queued run 5\n" in messages
