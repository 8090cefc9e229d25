"""A stage's method throttling (methodSettings): one token bucket per method, its own limits or the stage's."""

from __future__ import annotations

import pytest

from serverless_lab.dataplane.apigateway.errors import StageThrottled
from serverless_lab.dataplane.apigateway.model import RestApiConfig, StageConfig, stage_throttles
from serverless_lab.dataplane.apigateway.stage_throttling import StageThrottle, method_setting_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def api(throttles: dict[str, tuple[float, int]], stage: str = "dev", api_id: str = "a1") -> RestApiConfig:
    return RestApiConfig(
        id=api_id, name="x", region="us-east-1", stage=StageConfig(stage, throttles=throttles)
    )


def admitted(throttle: StageThrottle, config: RestApiConfig, path: str, method: str, times: int) -> int:
    count = 0
    for _ in range(times):
        try:
            throttle.admit(config, path, method)
            count += 1
        except StageThrottled:
            pass
    return count


def test_the_method_setting_key_escapes_slashes_as_api_gateway_does() -> None:
    assert method_setting_key("/items/{id}", "GET") == "~1items~1{id}/GET"
    assert method_setting_key("/", "ANY") == "~1/ANY"


def test_the_stage_default_gives_each_method_its_own_bucket_which_refills_at_the_rate() -> None:
    clock = Clock()
    throttle = StageThrottle(clock)
    config = api({"*/*": (2.0, 3)})
    assert admitted(throttle, config, "/items", "GET", 5) == 3  # the burst, then 429
    assert admitted(throttle, config, "/items", "POST", 5) == 3  # another method: a bucket of its own
    assert admitted(throttle, api({"*/*": (2.0, 3)}, stage="prod"), "/items", "GET", 5) == 3  # another stage
    clock.now += 1.0  # two tokens at 2 a second
    assert admitted(throttle, config, "/items", "GET", 5) == 2
    clock.now += 100.0  # never more than the burst
    assert admitted(throttle, config, "/items", "GET", 5) == 3


def test_a_methods_own_limits_override_the_stage_default_and_no_setting_means_no_throttle() -> None:
    clock = Clock()
    throttle = StageThrottle(clock)
    config = api({"*/*": (0.0, 1), "~1items~1{id}/GET": (0.0, 4)})
    assert admitted(throttle, config, "/items/{id}", "GET", 10) == 4
    assert admitted(throttle, config, "/items/{id}", "DELETE", 10) == 1
    assert admitted(throttle, api({"~1me/GET": (0.0, 0)}), "/me", "GET", 3) == 0  # burst 0: every request
    assert admitted(throttle, api({"~1me/GET": (0.0, 0)}), "/items", "GET", 3) == 3  # no default: no limit
    assert admitted(throttle, api({}), "/items", "GET", 100) == 100


def test_throttled_is_api_gateways_429_too_many_requests() -> None:
    throttle = StageThrottle(Clock())
    with pytest.raises(StageThrottled) as raised:
        throttle.admit(api({"*/*": (0.0, 0)}), "/", "GET")
    error = raised.value
    assert (error.status, error.body_message, error.response_type) == (429, "Too Many Requests", "THROTTLED")


def test_stage_throttles_read_from_get_stage_skip_settings_without_throttling_or_with_negative_limits() -> (
    None
):
    stage = {
        "stageName": "dev",
        "methodSettings": {
            "*/*": {"throttlingRateLimit": 10.0, "throttlingBurstLimit": 5, "metricsEnabled": False},
            "~1items/GET": {"throttlingRateLimit": -1.0, "throttlingBurstLimit": -1},
            "~1me/GET": {"metricsEnabled": True},
        },
    }
    assert stage_throttles(stage) == {"*/*": (10.0, 5)}
    assert stage_throttles({"stageName": "dev"}) == {}
