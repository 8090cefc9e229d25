"""`rest_api_from_boto3` on the real boto3 responses for an API built with plain boto3 calls (moto in-process)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from serverless_lab.dataplane.apigateway.model import DEFAULT_TIMEOUT_MS, rest_api_from_boto3
from serverless_lab.dataplane.apigateway.routing import RouteTable

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_rest_api_from_boto3_responses(aws: None) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName="ada-users")["UserPool"]
    lambda_arn = f"arn:aws:lambda:{REGION}:123456789012:function:ada-items"
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{lambda_arn}/invocations"

    apigw = boto3.client("apigateway", region_name=REGION)
    api = apigw.create_rest_api(name="ada-items-api")
    # moto ignores binaryMediaTypes on create and appends a patch's `value`; AWS reads the escaped path.
    apigw.update_rest_api(
        restApiId=api["id"],
        patchOperations=[{"op": "add", "path": "/binaryMediaTypes/image~1png", "value": "image/png"}],
    )
    root_id = next(r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    items = apigw.create_resource(restApiId=api["id"], parentId=root_id, pathPart="items")
    item = apigw.create_resource(restApiId=api["id"], parentId=items["id"], pathPart="{id}")
    authorizer = apigw.create_authorizer(
        restApiId=api["id"],
        name="lab-cognito",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool["Arn"]],
        identitySource="method.request.header.Authorization",
    )
    apigw.put_method(
        restApiId=api["id"],
        resourceId=items["id"],
        httpMethod="GET",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=authorizer["id"],
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=items["id"],
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
        timeoutInMillis=5000,
    )
    apigw.put_method(restApiId=api["id"], resourceId=item["id"], httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=item["id"],
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    apigw.put_method(
        restApiId=api["id"], resourceId=items["id"], httpMethod="OPTIONS", authorizationType="NONE"
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=items["id"],
        httpMethod="OPTIONS",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_method_response(
        restApiId=api["id"],
        resourceId=items["id"],
        httpMethod="OPTIONS",
        statusCode="200",
        responseParameters={"method.response.header.Access-Control-Allow-Origin": False},
    )
    apigw.put_integration_response(
        restApiId=api["id"],
        resourceId=items["id"],
        httpMethod="OPTIONS",
        statusCode="200",
        selectionPattern="",
        responseParameters={"method.response.header.Access-Control-Allow-Origin": "'*'"},
    )
    apigw.put_gateway_response(
        restApiId=api["id"],
        responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    deployment = apigw.create_deployment(restApiId=api["id"], stageName="prod")
    apigw.update_stage(
        restApiId=api["id"],
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/variables/table", "value": "ada-items"}],
    )

    config = rest_api_from_boto3(
        apigw.get_rest_api(restApiId=api["id"]),
        apigw.get_resources(restApiId=api["id"], embed=["methods"])["items"],
        apigw.get_authorizers(restApiId=api["id"])["items"],
        apigw.get_stage(restApiId=api["id"], stageName="prod"),
        gateway_responses=apigw.get_gateway_responses(restApiId=api["id"])["items"],
    )

    assert (config.id, config.name, config.region) == (api["id"], "ada-items-api", REGION)
    assert config.binary_media_types == ("image/png",)
    assert config.stage.name == "prod"
    assert config.stage.deployment_id == deployment["id"]
    assert dict(config.stage.variables) == {"table": "ada-items"}
    assert config.domain_name == f"{api['id']}.execute-api.{REGION}.amazonaws.com"

    cors = config.gateway_responses["DEFAULT_4XX"]
    assert cors.response_parameters == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}

    cognito_authorizer = config.authorizers[authorizer["id"]]
    assert cognito_authorizer.type == "COGNITO_USER_POOLS"
    assert cognito_authorizer.header_name == "Authorization"
    assert cognito_authorizer.issuers == (f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",)

    routes = RouteTable(config.resources)
    get_items = routes.match("GET", "/items")
    assert get_items.method.authorization_type == "COGNITO_USER_POOLS"
    assert get_items.method.authorizer_id == authorizer["id"]
    assert get_items.method.integration.type == "AWS_PROXY"
    assert get_items.method.integration.function_arn == lambda_arn
    assert get_items.method.integration.timeout_in_millis == 5000

    any_item = routes.match("DELETE", "/items/42")
    assert (any_item.resource.path, any_item.path_parameters) == ("/items/{id}", {"id": "42"})
    assert any_item.method.integration.timeout_in_millis == DEFAULT_TIMEOUT_MS

    preflight = routes.match("OPTIONS", "/items").method.integration
    assert preflight.type == "MOCK"
    assert preflight.request_templates == {"application/json": '{"statusCode": 200}'}
    response = preflight.integration_responses["200"]
    assert response.response_parameters == {"method.response.header.Access-Control-Allow-Origin": "'*'"}
