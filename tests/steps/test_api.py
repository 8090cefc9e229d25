"""The `api` step on the memory backend: REST API, Cognito authorizer, Lambda proxy integrations, CORS
preflight, Lambda permissions, and a deployment made only when the API changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stack_helpers import (
    NOTHING_LEFT,
    ensure_handlers,
    operations,
    users_functions_api_resources,
)

from serverless_lab.errors import StepError
from serverless_lab.lab import Lab

PROXY = ["put_method", "put_integration"]
PREFLIGHT = ["put_method", "put_integration", "put_method_response", "put_integration_response"]
FIRST_APPLY = [
    "create_rest_api",
    "create_resource",  # /items
    "create_resource",  # /items/{id}
    "create_resource",  # /me
    "create_authorizer",
    *PROXY * 2,  # GET, POST /items
    *PREFLIGHT,
    *PROXY * 3,  # GET, PUT, DELETE /items/{id}
    *PREFLIGHT,
    *PROXY,  # GET /me
    *PREFLIGHT,
    "put_gateway_response",  # DEFAULT_4XX: CORS headers on API Gateway's own errors
    "put_gateway_response",  # DEFAULT_5XX
    "put_gateway_response",  # INTEGRATION_FAILURE: a throttled function answers 429
    "add_permission",  # items
    "add_permission",  # me
    "create_deployment",
    "create_stage",
]


@pytest.fixture
def stack(lab: Lab, site_root: Path) -> Lab:
    """A lab with every step before `api` deployed."""
    ensure_handlers(site_root)
    lab.require("functions")
    return lab


def method(lab: Lab, path: str, http_method: str) -> dict:
    apigateway = lab.backend.client("apigateway")
    api_id = lab.outputs["api"]["rest_api_id"]
    resources = apigateway.get_resources(restApiId=api_id)["items"]
    resource_id = next(r["id"] for r in resources if r["path"] == path)
    return apigateway.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method)


def permission_statements(lab: Lab, function_name: str) -> list[dict]:
    client = lab.backend.client("lambda")
    try:
        return json.loads(client.get_policy(FunctionName=function_name)["Policy"])["Statement"]
    except client.exceptions.ResourceNotFoundException:
        return []


def test_api_lifecycle_plan_apply_verify_destroy(stack: Lab) -> None:
    lab = stack
    assert operations(lab.plan("api")) == FIRST_APPLY

    outputs = lab.apply("api")
    assert lab.plan("api") == []
    report = lab.verify("api")
    assert report.passed, str(report)

    api_id = outputs["rest_api_id"]
    assert outputs["stage"] == "prod"
    assert outputs["invoke_url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod"
    port = lab.backend.dataplane_port
    assert outputs["url"] == f"http://127.0.0.1:{port}/restapis/{api_id}/prod/_user_request_"

    lab.destroy("api")
    assert users_functions_api_resources(lab)["rest_apis"] == []
    for function in lab.outputs["functions"]["functions"].values():
        assert permission_statements(lab, function["function_name"]) == []
    lab.destroy("api")  # idempotent
    assert operations(lab.plan("api")) == FIRST_APPLY
    lab.destroy()
    assert users_functions_api_resources(lab) == NOTHING_LEFT


def test_api_methods_authorizer_integrations_and_cors_as_api_gateway_holds_them(stack: Lab) -> None:
    lab = stack
    outputs = lab.apply("api")
    apigateway = lab.backend.client("apigateway")
    api = apigateway.get_rest_api(restApiId=outputs["rest_api_id"])
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    authorizer = apigateway.get_authorizer(restApiId=api["id"], authorizerId=outputs["authorizer_id"])
    assert authorizer["name"] == f"sl-{lab.student}-cognito"
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["providerARNs"] == [lab.outputs["users"]["user_pool_arn"]]
    assert authorizer["identitySource"] == "method.request.header.Authorization"

    functions = lab.outputs["functions"]["functions"]
    for path, http_method, function in [
        ("/items", "GET", "items"),
        ("/items", "POST", "items"),
        ("/items/{id}", "GET", "items"),
        ("/items/{id}", "PUT", "items"),
        ("/items/{id}", "DELETE", "items"),
        ("/me", "GET", "me"),
    ]:
        found = method(lab, path, http_method)
        assert (found["authorizationType"], found["authorizerId"]) == ("COGNITO_USER_POOLS", authorizer["id"])
        integration = found["methodIntegration"]
        assert (integration["type"], integration["httpMethod"], integration["timeoutInMillis"]) == (
            "AWS_PROXY",
            "POST",
            29000,
        )
        assert integration["uri"] == (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"{functions[function]['arn']}/invocations"
        )

    preflight = method(lab, "/items/{id}", "OPTIONS")
    assert preflight["authorizationType"] == "NONE"
    assert preflight["methodIntegration"]["type"] == "MOCK"
    assert preflight["methodIntegration"]["integrationResponses"]["200"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,PUT,DELETE,OPTIONS'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }

    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        response = apigateway.get_gateway_response(restApiId=api["id"], responseType=response_type)
        assert response["responseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
            "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
        }

    for function in functions.values():
        [statement] = permission_statements(lab, function["function_name"])
        assert statement["Sid"] == f"sl-{lab.student}-apigw"
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
            f"arn:aws:execute-api:us-east-1:123456789012:{api['id']}/*/*/*"
        )
    lab.destroy()


def test_api_is_redeployed_when_it_changed_and_only_then(stack: Lab) -> None:
    lab = stack
    outputs = lab.apply("api")
    apigateway = lab.backend.client("apigateway")
    [first] = apigateway.get_deployments(restApiId=outputs["rest_api_id"])["items"]
    assert lab.plan("api") == []

    # Someone deletes GET /me by hand: the plan puts it back and deploys again.
    resource_id = next(
        r["id"]
        for r in apigateway.get_resources(restApiId=outputs["rest_api_id"])["items"]
        if r["path"] == "/me"
    )
    apigateway.delete_method(restApiId=outputs["rest_api_id"], resourceId=resource_id, httpMethod="GET")
    assert not lab.verify("api").passed
    assert operations(lab.plan("api")) == [
        "put_method",
        "put_integration",
        "create_deployment",
        "update_stage",
    ]
    lab.apply("api")
    assert lab.plan("api") == []
    assert lab.verify("api").passed
    deployments = apigateway.get_deployments(restApiId=outputs["rest_api_id"])["items"]
    stage = apigateway.get_stage(restApiId=outputs["rest_api_id"], stageName="prod")
    assert len(deployments) == 2
    assert stage["deploymentId"] in {d["id"] for d in deployments} - {first["id"]}

    # The preflight's Allow-Origin changed by hand: only the integration response is put back.
    items_id = next(
        r["id"]
        for r in apigateway.get_resources(restApiId=outputs["rest_api_id"])["items"]
        if r["path"] == "/items"
    )
    apigateway.put_integration_response(
        restApiId=outputs["rest_api_id"],
        resourceId=items_id,
        httpMethod="OPTIONS",
        statusCode="200",
        responseParameters={"method.response.header.Access-Control-Allow-Origin": "'https://evil.example'"},
    )
    assert operations(lab.plan("api")) == ["put_integration_response", "create_deployment", "update_stage"]
    lab.apply("api")
    assert lab.verify("api").passed

    # A permission removed by hand is added again, without a new deployment (it is not part of the API).
    lab.backend.client("lambda").remove_permission(
        FunctionName=f"sl-{lab.student}-me", StatementId=f"sl-{lab.student}-apigw"
    )
    assert operations(lab.plan("api")) == ["add_permission"]
    lab.apply("api")
    assert lab.verify("api").passed
    lab.destroy()


def test_api_follows_a_recreated_user_pool(stack: Lab) -> None:
    lab = stack
    lab.apply("api")
    lab.destroy("users")
    lab.apply("users")  # a new pool, so a new pool ARN
    plan = operations(lab.plan("api"))
    authorized = 6  # every method except the OPTIONS preflights uses the authorizer
    assert plan == [
        *["delete_method"] * authorized,
        "delete_authorizer",
        "create_authorizer",
        *PROXY * authorized,
        "create_deployment",
        "update_stage",
    ]
    lab.apply("api")
    assert lab.plan("api") == []
    assert lab.verify("api").passed
    lab.destroy()


def test_api_interrupted_apply_is_partial_and_reapply_completes(stack: Lab) -> None:
    lab = stack
    step = lab.step("api")
    plan = step.plan()
    assert operations(plan) == FIRST_APPLY
    # Interrupted after every call in turn: the plan is then exactly the calls not made yet. The last
    # one shows that a stage still missing takes the deployment already made, not a new one.
    for done, call in enumerate(plan[:-1], start=1):
        step.execute(call)
        assert operations(lab.plan("api")) == FIRST_APPLY[done:], f"after {call.operation} (call {done})"
        if done == 9:
            assert lab.status().loc["api", "state"] == "partial"
    lab.apply("api")
    assert lab.plan("api") == []
    assert lab.verify("api").passed
    lab.destroy()


def test_api_apply_without_functions_names_the_fix(lab: Lab) -> None:
    lab.require("users")
    assert operations(lab.plan("api")) == FIRST_APPLY  # shown with placeholders before the functions exist
    with pytest.raises(StepError, match=r"lab.require\('api'\)") as error:
        lab.apply("api")
    assert error.value.status == 409
    assert users_functions_api_resources(lab)["rest_apis"] == []
    lab.destroy()


def test_api_apply_without_a_routed_function_names_the_handler(stack: Lab) -> None:
    lab = stack
    lab.backend.client("lambda").delete_function(FunctionName=f"sl-{lab.student}-me")
    with pytest.raises(StepError, match=r"handlers/me\.py") as error:
        lab.apply("api")
    assert f"sl-{lab.student}-me" in str(error.value)
    assert users_functions_api_resources(lab)["rest_apis"] == []
    lab.destroy()


def test_api_as_deployed_answers_through_the_lab_data_plane(stack: Lab, site_root: Path) -> None:
    """The configuration this step writes is what the gateway core serves: authorizer, proxy, CORS."""
    from serverless_lab.dataplane.http import HttpRequest

    lab = stack
    api_id = lab.apply("api")["rest_api_id"]
    users = lab.outputs["users"]
    user = json.loads((site_root / "data" / "users.json").read_text())[0]
    token = lab.backend.client("cognito-idp").initiate_auth(
        ClientId=users["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )["AuthenticationResult"]["IdToken"]
    gateway = lab.dataplane()

    def call(method: str, path: str, *headers: tuple[str, str]) -> tuple[int, dict[str, str]]:
        answer = gateway.handle_api(
            api_id, "prod", HttpRequest(method, path, headers=(("Host", "api"), *headers))
        )
        return answer.status, {k.lower(): v for k, v in answer.headers}

    status, headers = call("GET", "/items")
    assert status == 401
    assert headers["access-control-allow-origin"] == "*"  # the DEFAULT_4XX gateway response
    status, _ = call("GET", "/me", ("Authorization", token))
    assert status == 200
    status, headers = call("OPTIONS", "/items/42", ("Origin", "http://localhost"))
    assert status == 200
    assert headers["access-control-allow-methods"] == "GET,PUT,DELETE,OPTIONS"
    lab.destroy()


def failed(lab: Lab, starting: str) -> str:
    """The failed check of lab.verify("api") whose description starts so, as a student reads it."""
    [check] = [c for c in lab.verify("api").failures() if c.description.startswith(starting)]
    return str(check)


def test_verify_names_a_route_api_gateway_may_not_invoke_and_the_permission_to_add(stack: Lab) -> None:
    lab = stack
    api_id = lab.apply("api")["rest_api_id"]
    items = f"sl-{lab.student}-items"
    lambda_client = lab.backend.client("lambda")
    lambda_client.remove_permission(FunctionName=items, StatementId=f"sl-{lab.student}-apigw")
    execute_api = f"arn:aws:execute-api:us-east-1:123456789012:{api_id}"
    # A student's own permission, for the one route they tried.
    lambda_client.add_permission(
        FunctionName=items,
        StatementId="mine",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"{execute_api}/*/GET/items",
    )
    text = failed(lab, f"API Gateway may invoke {items}")
    assert "POST /items would answer 500: Invalid permissions on Lambda function" in text
    assert f"SourceArn='{execute_api}/prod/POST/items'" in text and "lab.apply('api')" in text
    # Their permission widened to every route: the check passes, whoever's statement grants it.
    lambda_client.remove_permission(FunctionName=items, StatementId="mine")
    lambda_client.add_permission(
        FunctionName=items,
        StatementId="mine",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"{execute_api}/prod/*",
    )
    assert lab.verify("api").passed
    lab.destroy()


def test_verify_names_routes_the_stage_does_not_serve_until_a_new_deployment(stack: Lab) -> None:
    lab = stack
    api_id = lab.apply("api")["rest_api_id"]
    apigateway = lab.backend.client("apigateway")
    me = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/me")
    saved = method(lab, "/me", "GET")
    # GET /me deleted and deployed by hand, then put back as it was, but not deployed again.
    apigateway.delete_method(restApiId=api_id, resourceId=me, httpMethod="GET")
    apigateway.create_deployment(restApiId=api_id, stageName="prod", description="without /me")
    apigateway.put_method(
        restApiId=api_id,
        resourceId=me,
        httpMethod="GET",
        authorizationType=saved["authorizationType"],
        authorizerId=saved["authorizerId"],
    )
    integration = saved["methodIntegration"]
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=me,
        httpMethod="GET",
        type=integration["type"],
        integrationHttpMethod=integration["httpMethod"],
        uri=integration["uri"],
        timeoutInMillis=integration["timeoutInMillis"],
    )
    text = failed(lab, "stage prod serves")
    assert "GET /me not in deployment" in text and "403 Missing Authentication Token" in text
    assert f"apigateway.create_deployment(restApiId='{api_id}', stageName='prod')" in text
    # The lab's own deployment of this design holds every route: the stage is pointed back at it.
    assert operations(lab.plan("api")) == ["update_stage"]
    lab.apply("api")
    assert lab.verify("api").passed and lab.plan("api") == []
    served = apigateway.get_stage(restApiId=api_id, stageName="prod")["deploymentId"]
    summary = apigateway.get_deployment(restApiId=api_id, deploymentId=served, embed=["apisummary"])
    assert "GET" in summary["apiSummary"]["/me"]
    lab.destroy()
