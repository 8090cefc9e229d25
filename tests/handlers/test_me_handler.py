"""handlers/me.py: the caller's identity exactly as the Cognito user pool authorizer passed it."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
from lambda_test_events import ALICE, BOB, LambdaTestContext, build_rest_proxy_event


@pytest.mark.parametrize("user", [ALICE, BOB])
def test_me_returns_the_authorizer_claims(me: ModuleType, user) -> None:
    response = me.handler(build_rest_proxy_event("GET", "/me", user=user), LambdaTestContext())
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["sub"] == user.sub
    assert body["username"] == user.username
    assert body["email"] == user.email
    assert body["claims"] == user.claims()
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://d111111abcdef8.cloudfront.net"


def test_me_ignores_identity_claims_in_the_request(me: ModuleType) -> None:
    event = build_rest_proxy_event("GET", "/me", user=ALICE, headers={"X-User-Sub": BOB.sub})
    event["queryStringParameters"] = {"sub": BOB.sub}
    body = json.loads(me.handler(event, LambdaTestContext())["body"])
    assert body["sub"] == ALICE.sub


def test_me_without_claims_is_401(me: ModuleType) -> None:
    response = me.handler(build_rest_proxy_event("GET", "/me", user=None), LambdaTestContext())
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"message": "Unauthorized"}


def test_me_other_method_is_405(me: ModuleType) -> None:
    response = me.handler(build_rest_proxy_event("POST", "/me", body={}), LambdaTestContext())
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET"


def test_me_other_route_is_404(me: ModuleType) -> None:
    response = me.handler(build_rest_proxy_event("GET", "/you"), LambdaTestContext())
    assert response["statusCode"] == 404


def test_me_logs_one_json_line_cold_then_warm(me: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    context = LambdaTestContext()
    cold = me.handler(build_rest_proxy_event("GET", "/me"), context)
    warm = me.handler(build_rest_proxy_event("GET", "/me"), LambdaTestContext())
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (first["coldStart"], second["coldStart"]) == (True, False)
    assert (cold["headers"]["X-Cold-Start"], warm["headers"]["X-Cold-Start"]) == ("true", "false")
    assert cold["headers"]["Access-Control-Expose-Headers"] == "X-Cold-Start"
    assert first["requestId"] == context.aws_request_id
    assert (first["route"], first["status"], first["level"]) == ("GET /me", 200, "INFO")
    assert first["duration_ms"] >= 0


def test_malformed_event_is_500_without_details(me: ModuleType) -> None:
    event = build_rest_proxy_event("GET", "/me")
    event["requestContext"]["authorizer"] = "not a dict"  # something the function never expects
    response = me.handler(event, LambdaTestContext())
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal server error"}


def test_me_behind_a_greedy_proxy_resource_is_routed_by_path(me: ModuleType) -> None:
    event = build_rest_proxy_event("GET", "/{proxy+}", path_parameters={"proxy": "me"})
    assert event["path"] == "/me"
    response = me.handler(event, LambdaTestContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["sub"] == ALICE.sub
