"""The notebooks' helpers: tokens, requests to the gateway and the edge, extras, and the classroom."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from shared_labs import deployed_memory_lab

from serverless_lab import Lab
from serverless_lab.errors import InvalidStudentError, UsageError
from serverless_lab.teaching import (
    api_request,
    call_api,
    calls_table,
    claims_table,
    decode_token,
    deploy_authorizer_api,
    deploy_echo_api,
    deploy_function,
    edge_get,
    function_logs,
    leftovers,
    progress,
    remove_extras,
    sign_in,
    step_states,
    student,
    students,
    tamper_token,
)
from serverless_lab.teaching.deployed import StepNotDeployedError, deployed
from serverless_lab.teaching.extras import SLEEPY_SOURCE, find_echo_api, find_extra_api

_RUN = uuid.uuid4().hex[:4]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return deployed_memory_lab("tch", _RUN)


def signed_token(**claims: object) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "abc", "exp": int(time.time()) + 60, **claims}, key, algorithm="RS256",
                      headers={"kid": "k1"})  # fmt: skip


# --- identity (no backend) --------------------------------------------------------------------------------


def test_student_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVERLESS_LAB_STUDENT", raising=False)
    assert student() == "student"
    monkeypatch.setenv("SERVERLESS_LAB_STUDENT", "team-7")
    assert student() == "team-7"
    monkeypatch.setenv("SERVERLESS_LAB_STUDENT", "Not Valid")
    with pytest.raises(InvalidStudentError):
        student()


def test_decode_and_tamper_keep_header_and_signature() -> None:
    token = signed_token(email="ada@example.com")
    decoded = decode_token(token)
    assert decoded["header"]["kid"] == "k1" and decoded["claims"]["email"] == "ada@example.com"
    forged = tamper_token(token, sub="mallory")
    assert forged.split(".")[0] == token.split(".")[0] and forged.split(".")[2] == token.split(".")[2]
    assert decode_token(forged)["claims"] == {**decoded["claims"], "sub": "mallory"}
    table = claims_table(token)
    assert "UTC" in table.loc["exp", "value"] and "immutable" in table.loc["sub", "meaning"]


@pytest.mark.parametrize("bad", ["", "not-a-token", "a.b.c"])
def test_bad_tokens_are_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError):
        tamper_token(bad)


def test_api_request_is_what_the_web_app_sends() -> None:
    request = api_request("post", "/items", token="t0k", body={"title": "x"}, query="?limit=2")
    assert (request.method, request.path, request.query) == ("POST", "/items", "limit=2")
    assert request.header("authorization") == "t0k" and request.header("Content-Type") == "application/json"
    assert json.loads(request.body) == {"title": "x"}
    assert api_request("GET", "/me").header("Authorization") is None
    for timeout, memory in ((0, 128), (3, 64)):  # refused before anything is created or changed
        with pytest.raises(UsageError, match="a Lambda function's"):
            deploy_function(None, "sleepy", "def handler(e, c): pass", timeout=timeout, memory=memory)
    for method, path in ((None, "/me"), ("GET", None), ("GET", "me"), ("G E T", "/me")):
        with pytest.raises(UsageError):
            api_request(method, path)  # type: ignore[arg-type]


# --- against a deployed stack ---------------------------------------------------------------------------------


def test_sign_in_and_the_gateway(lab: Lab) -> None:
    tokens = sign_in(lab, "ada")
    claims = decode_token(tokens.id_token)["claims"]
    assert claims["token_use"] == "id" and claims["cognito:username"] == "ada"
    with pytest.raises(UsageError, match="not a sample user"):
        sign_in(lab, "nobody")
    good = call_api(lab, "GET", "/me", token=tokens.id_token)
    forged = call_api(lab, "GET", "/me", token=tamper_token(tokens.id_token, sub="x"))
    assert good.status == 200 and good.json()["sub"] == claims["sub"]
    assert forged.status == 401 and forged.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    table = calls_table([good, forged])
    assert list(table["status"]) == [200, 401] and list(table["token"]) == ["yes", "yes"]
    # Another stage of the student's API: API Gateway's answer for a stage that does not exist.
    assert call_api(lab, "GET", "/me", token=tokens.id_token, stage="nope").status == 403


def test_edge_get_reports_the_cache(lab: Lab) -> None:
    lab.dataplane().edge.purge(lab.outputs["cdn"]["distribution_id"])
    first, second = edge_get(lab, "/favicon.svg"), edge_get(lab, "/favicon.svg")
    assert (first.x_cache, second.x_cache) == ("Miss from cloudfront", "Hit from cloudfront")
    assert second.age != "" and "max-age" in second.cache_control and "Hit" in str(second)


def test_echo_api_shows_the_proxy_event_and_extras_are_removed(lab: Lab) -> None:
    api_id = deploy_echo_api(lab)
    assert deploy_echo_api(lab) == api_id  # idempotent
    echo = call_api(lab, "PUT", "/a/b", user="grace", query="q=1", body="raw", rest_api_id=api_id)
    event = echo.json()
    assert echo.status == 200 and event["resource"] == "/{proxy+}" and event["path"] == "/a/b"
    assert event["queryStringParameters"] == {"q": "1"} and event["body"] == "raw"
    assert event["requestContext"]["authorizer"]["claims"]["cognito:username"] == "grace"
    deploy_function(lab, "sleepy", SLEEPY_SOURCE, timeout=1)
    slow = lab.invoke("sleepy", {"seconds": 2})
    assert slow.timed_out and slow.error["errorType"] == "Sandbox.Timedout"
    assert any("Status: timeout" in line for line in function_logs(lab, "sleepy"))
    removed = remove_extras(lab)
    assert any("rest api" in item for item in removed) and find_echo_api(lab) is None
    assert set(leftovers(lab)["name"]).isdisjoint({lab.names("echo"), lab.names("sleepy")})


def test_the_gatekeeper_api_shows_a_lambda_authorizer_and_its_policy_cache(lab: Lab) -> None:
    api_id = deploy_authorizer_api(lab)
    assert deploy_authorizer_api(lab) == api_id  # idempotent

    def call(method: str, token: str | None) -> Any:
        return call_api(lab, method, "/hello", token=token, rest_api_id=api_id)

    allowed = call("GET", "student-ada")
    authorizer = allowed.json()["requestContext"]["authorizer"]
    assert allowed.status == 200 and (authorizer["principalId"], authorizer["seat"]) == ("student-ada", "7")
    # The cached policy names GET only: the same token is refused on POST until the cache entry expires.
    assert call("POST", "student-ada").status == 403
    assert call("POST", "student-grace").status == 200  # a new token: a new call, a new policy
    assert (call("GET", "blocked").status, call("GET", "nobody").status, call("GET", None).status) == (
        403,
        401,
        401,
    )
    removed = remove_extras(lab)
    assert find_extra_api(lab, "gatekeeper-api") is None and any("gatekeeper" in item for item in removed)
    assert set(leftovers(lab)["name"]).isdisjoint({lab.names("gatekeeper")})


def test_deployed_reads_without_applying(lab: Lab) -> None:
    assert deployed(lab, "table")["table_name"] == lab.names("items")
    with pytest.raises(StepNotDeployedError, match=r"lab.require\('cdn'\)"):
        deployed(Lab(backend="memory", student=f"none-{_RUN}"), "cdn")


def test_classroom_tells_students_apart_by_prefix() -> None:
    first = Lab(backend="memory", student=f"cls-{_RUN}")
    second = Lab(backend="memory", student=f"cls-{_RUN}-2")  # the first's prefix is a prefix of its names
    second.require("table")
    assert second.student in students(second.backend)
    assert leftovers(first).empty
    assert {"dynamodb", "cognito-idp", "s3", "cloudfront"} <= set(leftovers(second)["service"])
    table = step_states(second.backend, [first.student, second.student])
    assert table.loc[second.student, "table"] == "deployed" and table.loc[second.student, "api"] == "absent"
    assert table.loc[first.student, "deployed"] == "0/6"
    # The instructor's view reads the same deployment state from one inventory of the backend.
    deployment = progress(second.backend, [first.student, second.student], exercises={})["deployed"]
    assert deployment.loc[second.student, "table"] == "deployed"
    assert deployment.loc[second.student, "api"] == "absent"
    assert (deployment.loc[first.student] == "absent").all()


def test_without_permission_refuses_the_route_that_needs_it_and_puts_the_policy_back(lab: Lab) -> None:
    from serverless_lab import flow
    from serverless_lab.teaching import without_permission

    iam = lab.backend.client("iam")
    policy_arn = lab.outputs["functions"]["policy_arn"]
    before = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    with without_permission(lab, "dynamodb:PutItem") as narrowed:
        assert "dynamodb:PutItem" not in json.dumps(narrowed)
        refused = call_api(lab, "POST", "/items", user="ada", body={"title": "milk"})
        assert call_api(lab, "GET", "/items", user="ada").status == 200  # Query is still allowed
    assert refused.status == 500
    [cause] = flow.refusals(flow.spans_frame(refused.spans))["cause"]
    assert "may not dynamodb:PutItem on table" in cause and "put_role_policy" in cause
    assert call_api(lab, "POST", "/items", user="ada", body={"title": "milk"}).status == 201
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"] == before
    assert len(iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]) == 1
    with (
        pytest.raises(UsageError, match="does not grant 's3:GetObject'"),
        without_permission(lab, "s3:GetObject"),
    ):
        pass
