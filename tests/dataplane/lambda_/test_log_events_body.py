"""PutLogEvents bodies written with orjson: the same lines reach CloudWatch Logs as with botocore's own
serializer, which still writes what orjson refuses."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import orjson
import pytest

from serverless_lab.backends import Backend, make_backend
from serverless_lab.dataplane.config import ControlPlane
from serverless_lab.dataplane.lambda_ import log_events_body


@pytest.fixture(scope="module")
def backend() -> Backend:
    return make_backend("memory")


def test_lines_read_back_as_written_whichever_serializer_wrote_them(backend: Backend) -> None:
    plane = ControlPlane(backend)
    bodies: list[bytes] = []

    def record(request: Any, **_: Any) -> None:
        bodies.append(request.body)

    events = backend.client("logs", validate=False).meta.events  # the client write_logs writes with
    events.register("before-send.cloudwatch-logs.PutLogEvents", record)
    group = f"/aws/lambda/body-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)
    plain = [
        (now, "START RequestId: 1 Version: $LATEST\n"),
        (now + 1, "caf\u00e9 \u2603\tdone\n"),
        (now + 2, "\n"),
    ]
    surrogate = [(now + 3, "a lone \ud800 surrogate\n")]  # orjson refuses it; json.dumps escapes it
    try:
        plane.write_logs(group, "plain", plain)
        plane.write_logs(group, "again", plain)  # write_logs installs its handlers each time: still once
        plane.write_logs(group, "surrogate", surrogate)
    finally:
        events.unregister("before-send.cloudwatch-logs.PutLogEvents", record)
    streams = (("plain", plain), ("again", plain), ("surrogate", surrogate))
    sent = [
        dict(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": t, "message": m} for t, m in lines],
        )
        for stream, lines in streams
    ]
    assert bodies[:2] == [orjson.dumps(sent[0]), orjson.dumps(sent[1])]  # written by orjson, in UTF-8
    assert json.loads(bodies[2]) == sent[2] and b"\\ud800" in bodies[2]  # botocore's serializer
    logs = backend.client("logs")
    for stream, lines in streams:
        stored = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
        assert [(e["timestamp"], e["message"]) for e in stored] == lines
    logs.delete_log_group(logGroupName=group)


def test_other_parameters_are_left_to_botocore() -> None:
    params: dict[str, Any] = {"logGroupName": "g", "logStreamName": "s", "logEvents": [], "entity": {}}
    context: dict[str, Any] = {}
    log_events_body._write_body(params, context)  # a parameter it does not know: untouched
    assert context == {} and params["logEvents"] == []
    request = {"body": b"botocore's"}
    log_events_body._use_body(request, context)
    assert request == {"body": b"botocore's"}
