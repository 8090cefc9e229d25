"""API keys and usage plans: the pure meter (token bucket, quota periods) and the gateway's answers, with
AWS's statuses, bodies and error types (403 Forbidden, 429 Too Many Requests, 429 Limit Exceeded)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from gateway_helpers import FakeLambda, lambda_method, make_api, make_gateway

from serverless_lab.dataplane.apigateway.errors import QuotaExceeded, UsagePlanThrottled
from serverless_lab.dataplane.apigateway.gateway import Gateway
from serverless_lab.dataplane.apigateway.model import GatewayResponseConfig, ResourceConfig, RestApiConfig
from serverless_lab.dataplane.apigateway.usage_plans import ApiKeyGrant, UsagePlanMeter, quota_period_index
from serverless_lab.dataplane.http import HttpRequest

KEY = "k" * 40


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_throttle_is_a_token_bucket_of_burst_tokens_refilled_at_the_rate() -> None:
    clock = Clock()
    meter = UsagePlanMeter(clock=clock)
    grant = ApiKeyGrant("key1", "plan1", rate_limit=2.0, burst_limit=3)
    for _ in range(3):
        meter.admit(grant)
    with pytest.raises(UsagePlanThrottled):
        meter.admit(grant)
    clock.now += 0.5  # one token back at 2 per second
    meter.admit(grant)
    with pytest.raises(UsagePlanThrottled):
        meter.admit(grant)
    other_key = dataclasses.replace(grant, key_id="key2")
    meter.admit(other_key)  # each key has its own bucket


def test_a_methods_own_throttle_in_the_plan_limits_that_method_and_the_plans_still_limits_the_key() -> None:
    meter = UsagePlanMeter(clock=Clock())
    grant = ApiKeyGrant(
        "key1", "plan1", rate_limit=0.0, burst_limit=5, method_throttles={"/items/{id}/GET": (0.0, 2)}
    )

    def admitted(method: str | None, times: int) -> int:
        count = 0
        for _ in range(times):
            try:
                meter.admit(grant, method)
                count += 1
            except UsagePlanThrottled:
                pass
        return count

    assert admitted("/items/{id}/GET", 4) == 2  # its own limit
    assert admitted("/items/GET", 5) == 3  # the plan's burst of 5, less the method's two
    assert admitted(None, 1) == 0


def test_the_quota_counts_per_period_and_throttled_requests_do_not_count() -> None:
    clock, wall = Clock(), Clock(datetime(2026, 12, 4, 23, 59, tzinfo=UTC).timestamp())
    meter = UsagePlanMeter(clock=clock, wall_clock=wall)
    grant = ApiKeyGrant("key1", "plan1", rate_limit=1.0, burst_limit=1, quota_limit=2, quota_period="DAY")
    meter.admit(grant)
    with pytest.raises(UsagePlanThrottled):
        meter.admit(grant)  # the bucket is empty: not counted against the quota
    clock.now += 1
    meter.admit(grant)
    clock.now += 1
    with pytest.raises(QuotaExceeded):
        meter.admit(grant)
    wall.now += 120  # past midnight UTC: a new day, a new quota
    clock.now += 1
    meter.admit(grant)


def test_quota_periods_start_where_api_gateway_starts_them() -> None:
    def at(*date: int) -> float:
        return datetime(*date, tzinfo=UTC).timestamp()

    saturday, sunday, monday = at(2026, 12, 5, 23), at(2026, 12, 6, 1), at(2026, 12, 7, 1)
    assert quota_period_index("WEEK", 0, saturday) != quota_period_index("WEEK", 0, sunday)  # 0: Sunday
    assert quota_period_index("WEEK", 0, sunday) == quota_period_index("WEEK", 0, monday)
    assert quota_period_index("WEEK", 1, sunday) != quota_period_index("WEEK", 1, monday)  # 1: Monday
    assert quota_period_index("MONTH", 0, at(2026, 12, 1)) != quota_period_index("MONTH", 0, at(2026, 11, 30))
    assert quota_period_index("MONTH", 3, at(2026, 12, 3)) == quota_period_index("MONTH", 3, at(2026, 11, 30))
    assert quota_period_index("DAY", 0, at(2026, 12, 4, 0)) == quota_period_index(
        "DAY", 0, at(2026, 12, 4, 23)
    )
    with pytest.raises(ValueError, match="DAY, WEEK and MONTH"):
        quota_period_index("YEAR", 0, 0.0)


def keyed_api(**options: object) -> RestApiConfig:
    api = make_api(**options)  # type: ignore[arg-type]
    keyed = ResourceConfig(
        id="res09",
        path="/keyed",
        path_part="keyed",
        parent_id="root",
        methods={"GET": dataclasses.replace(lambda_method("GET"), api_key_required=True)},
    )
    return dataclasses.replace(api, resources=(*api.resources, keyed))


def gateway_for(api: RestApiConfig, grants: dict[str, ApiKeyGrant]) -> tuple[Gateway, FakeLambda]:
    gateway, fake, _ = make_gateway(api, FakeLambda(), api_keys=grants)
    return gateway, fake


def get(gateway: Gateway, *headers: tuple[str, str]) -> tuple[int, bytes, str | None]:
    answer = gateway.handle(HttpRequest("GET", "/keyed", headers=headers), "a1b2c3d4e5", "prod")
    return answer.status, answer.body, answer.header("x-amzn-ErrorType")


def test_a_method_that_requires_an_api_key_answers_403_without_a_valid_one() -> None:
    gateway, fake = gateway_for(keyed_api(), {KEY: ApiKeyGrant("keyid1", "plan1")})
    forbidden = (403, b'{"message":"Forbidden"}', "ForbiddenException")
    assert get(gateway) == forbidden
    assert get(gateway, ("x-api-key", "not-a-key")) == forbidden
    assert fake.calls == []
    assert get(gateway, ("X-API-Key", KEY))[0] == 200
    identity = fake.last_event["requestContext"]["identity"]
    assert (identity["apiKey"], identity["apiKeyId"]) == (KEY, "keyid1")
    gateway.handle(HttpRequest("GET", "/items/special"), "a1b2c3d4e5", "prod")  # no key required
    assert "apiKey" not in fake.last_event["requestContext"]["identity"]


def test_usage_plan_limits_answer_429_and_the_responses_can_be_customised() -> None:
    cors = GatewayResponseConfig(
        response_type="DEFAULT_4XX",
        response_parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    throttled = ApiKeyGrant("keyid1", "plan1", rate_limit=0.001, burst_limit=1)
    gateway, _ = gateway_for(keyed_api(gateway_responses=(cors,)), {KEY: throttled})
    assert get(gateway, ("x-api-key", KEY))[0] == 200
    assert get(gateway, ("x-api-key", KEY)) == (
        429,
        b'{"message":"Too Many Requests"}',
        "TooManyRequestsException",
    )
    quota = ApiKeyGrant("keyid2", "plan2", quota_limit=1, quota_period="MONTH")
    gateway, _ = gateway_for(keyed_api(gateway_responses=(cors,)), {KEY: quota})
    assert get(gateway, ("x-api-key", KEY))[0] == 200
    answer = gateway.handle(HttpRequest("GET", "/keyed", headers=(("x-api-key", KEY),)), "a1b2c3d4e5", "prod")
    assert (answer.status, answer.body) == (429, b'{"message":"Limit Exceeded"}')
    assert answer.header("x-amzn-ErrorType") == "LimitExceededException"
    assert answer.header("Access-Control-Allow-Origin") == "*"  # DEFAULT_4XX applies to QUOTA_EXCEEDED
