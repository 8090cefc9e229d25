"""moto_fixes: each fix keeps moto's answers and mends what it names."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from moto.core.responses import BaseResponse

from serverless_lab.backends import moto_fixes


def response(body: str | None, querystring: dict[str, list[str]] | None = None, uri_match: Any = None) -> Any:
    answer = BaseResponse("logs")
    answer.body = body
    answer.querystring = querystring or {}
    answer.uri_match = uri_match
    return answer


class CountingJson:
    """Stands in for the json module inside moto_fixes: counts the parses."""

    def __init__(self) -> None:
        self.parses = 0

    def loads(self, text: Any) -> Any:
        self.parses += 1
        return json.loads(text)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> CountingJson:
    moto_fixes.apply()
    counting = CountingJson()
    monkeypatch.setattr(moto_fixes, "json", counting)
    return counting


def test_a_json_body_is_parsed_once_for_all_its_parameters(parses: CountingJson) -> None:
    body = json.dumps(
        {"logGroupName": "/g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "m"}]}
    )
    answer = response(body)
    assert answer._get_param("logGroupName") == "/g"
    assert answer._get_param("logStreamName") == "s"
    assert answer._get_param("logEvents") == [{"timestamp": 1, "message": "m"}]
    assert parses.parses == 1
    other = response(json.dumps({"logGroupName": "/other"}))  # a new request parses its own body
    assert other._get_param("logGroupName") == "/other" and parses.parses == 2


def test_the_answers_are_moto_s_querystring_first_then_body_then_uri_match_then_the_default(
    parses: CountingJson,
) -> None:
    answer = response(json.dumps({"a": "body", "b": "body"}), {"a": ["query"]}, {"b": "uri", "c": "uri"})
    assert answer._get_param("a") == "query"
    assert answer._get_param("b") == "body"
    assert answer._get_param("c") == "uri"
    assert answer._get_param("d", if_none="default") == "default"
    assert response("not json", uri_match={"x": "uri"})._get_param("x") == "uri"
    assert response(json.dumps(["a", "list"]))._get_param("a", if_none=0) == 0
    assert response(None)._get_param("a", if_none=1) == 1


def test_log_lines_are_kept_slim_and_untracked_and_read_back_as_moto_reads_them() -> None:
    import boto3
    from moto import mock_aws
    from moto.logs import models

    moto_fixes.apply()
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName="/aws/lambda/f")
        logs.create_log_stream(logGroupName="/aws/lambda/f", logStreamName="s")
        now = int(time.time() * 1000)  # CloudWatch Logs refuses lines older than 14 days
        lines = [{"timestamp": now + n, "message": f"line {n}\n"} for n in range(3)]
        logs.put_log_events(logGroupName="/aws/lambda/f", logStreamName="s", logEvents=lines)
        events = logs.get_log_events(logGroupName="/aws/lambda/f", logStreamName="s")["events"]
        filtered = logs.filter_log_events(logGroupName="/aws/lambda/f")["events"]
    assert [(e["timestamp"], e["message"]) for e in events] == [(x["timestamp"], x["message"]) for x in lines]
    assert [e["message"] for e in filtered] == [x["message"] for x in lines]
    ids = [int(e["eventId"]) for e in filtered]
    assert ids == sorted(set(ids))  # distinct, in order
    event = models.LogEvent(1, {"timestamp": 2, "message": "m"})
    assert not hasattr(event, "__dict__")
    assert not hasattr(models.LogEvent, "instances_tracked")
    # Lines of the same millisecond share one int object (as parsed from JSON, each has its own).
    stamp = now * 1000 + 7  # beyond CPython's cache of small ints
    first = models.LogEvent(1, {"timestamp": int(str(stamp)), "message": "a"})
    second = models.LogEvent(1, {"timestamp": int(str(stamp)), "message": "b"})
    later = models.LogEvent(1, {"timestamp": int(str(stamp + 1)), "message": "c"})
    assert first.timestamp is second.timestamp and (first.timestamp, later.timestamp) == (stamp, stamp + 1)


def test_a_stage_method_setting_made_by_any_patch_gets_the_accounts_default_throttling() -> None:
    import boto3
    from moto import mock_aws

    moto_fixes.apply()
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="us-east-1")
        api = apigateway.create_rest_api(name="x")["id"]
        root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
        apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigateway.create_deployment(restApiId=api, stageName="dev")
        apigateway.update_stage(
            restApiId=api,
            stageName="dev",
            patchOperations=[
                {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"},
                {"op": "replace", "path": "/~1/GET/throttling/burstLimit", "value": "7"},
            ],
        )
        settings = apigateway.get_stage(restApiId=api, stageName="dev")["methodSettings"]
    # as AWS answers GetStage after such patches: 10,000 a second, burst 5,000, unless set
    assert (settings["*/*"]["throttlingRateLimit"], settings["*/*"]["throttlingBurstLimit"]) == (
        10000.0,
        5000,
    )
    assert (settings["~1/GET"]["throttlingRateLimit"], settings["~1/GET"]["throttlingBurstLimit"]) == (
        10000.0,
        7,
    )


def test_moto_s_own_packages_are_listed_once_with_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import moto
    from moto import backends

    moto_fixes.apply()
    folder = os.path.dirname(moto.__file__)
    expected = [
        entry
        for entry in sorted(os.listdir(folder))
        if os.path.isdir(os.path.join(folder, entry)) and not entry.startswith("__")
    ]
    listings = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listings.append(path) or real_listdir(path))
    first, second = backends.list_of_moto_modules(), backends.list_of_moto_modules()
    assert list(first) == list(second) == expected
    assert "dynamodb" in first and "awslambda" in first
    assert len(listings) <= 1  # the first call of the process may list; no later one does
