"""moto_apigateway_deployments: a deployment is a snapshot of the API, as API Gateway keeps it, and the
answers about deployments are AWS's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from serverless_lab.backends import moto_fixes


@pytest.fixture
def api() -> Iterator[tuple[Any, str, str]]:
    """A REST API with `GET /` (MOCK); (apigateway client, API id, root resource id)."""
    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api_id = client.create_rest_api(name="snapshots")["id"]
        root = client.get_resources(restApiId=api_id)["items"][0]["id"]
        mock_method(client, api_id, root, "GET")
        yield client, api_id, root


def mock_method(client: Any, api_id: str, resource_id: str, http_method: str, **settings: Any) -> None:
    client.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        **{"authorizationType": "NONE", **settings},
    )
    client.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )


def summary(client: Any, api_id: str, deployment_id: str) -> dict[str, Any]:
    answer = client.get_deployment(restApiId=api_id, deploymentId=deployment_id, embed=["apisummary"])
    return answer["apiSummary"]  # type: ignore[no-any-return]


def test_get_deployment_embeds_the_api_summary_of_the_snapshot(api: tuple[Any, str, str]) -> None:
    client, api_id, root = api
    first = client.create_deployment(restApiId=api_id, stageName="dev")["id"]
    items = client.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    mock_method(client, api_id, items, "POST", apiKeyRequired=True)
    assert summary(client, api_id, first) == {
        "/": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}
    }
    second = client.create_deployment(restApiId=api_id, stageName="dev")["id"]
    client.delete_method(restApiId=api_id, resourceId=root, httpMethod="GET")
    assert summary(client, api_id, second) == {
        "/": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}},
        "/items": {"POST": {"authorizationType": "NONE", "apiKeyRequired": True}},
    }
    assert "apiSummary" not in client.get_deployment(restApiId=api_id, deploymentId=second)


def test_an_unknown_deployment_is_not_found(api: tuple[Any, str, str]) -> None:
    client, api_id, _ = api
    with pytest.raises(ClientError) as raised:
        client.get_deployment(restApiId=api_id, deploymentId="nope123")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    assert raised.value.response["Error"]["Message"] == "Invalid Deployment identifier specified"


def test_a_deployment_a_stage_points_at_cannot_be_deleted(api: tuple[Any, str, str]) -> None:
    client, api_id, _ = api
    first = client.create_deployment(restApiId=api_id)["id"]
    client.create_stage(restApiId=api_id, stageName="live", deploymentId=first)
    with pytest.raises(ClientError) as raised:
        client.delete_deployment(restApiId=api_id, deploymentId=first)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    assert raised.value.response["Error"]["Message"] == (
        "Active stages pointing to this deployment must be moved or deleted"
    )
    second = client.create_deployment(restApiId=api_id, stageName="live")["id"]  # the stage moves on
    client.delete_deployment(restApiId=api_id, deploymentId=first)
    assert [d["id"] for d in client.get_deployments(restApiId=api_id)["items"]] == [second]


def test_deploying_to_an_existing_stage_keeps_its_settings(api: tuple[Any, str, str]) -> None:
    client, api_id, _ = api
    client.create_deployment(restApiId=api_id, stageName="dev", variables={"table": "t1"})
    client.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "5"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "10"},
            {"op": "replace", "path": "/description", "value": "the students' stage"},
        ],
    )
    second = client.create_deployment(restApiId=api_id, stageName="dev", variables={"mode": "new"})["id"]
    stage = client.get_stage(restApiId=api_id, stageName="dev")
    assert stage["deploymentId"] == second
    assert stage["variables"] == {"table": "t1", "mode": "new"}
    assert stage["description"] == "the students' stage"
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (5.0, 10)
