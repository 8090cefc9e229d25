"""PutLogEvents' request body written with orjson, the rest of the call left to boto3.

Why not botocore's serializer: it writes a request by walking the operation's input shape member by
member, about 3-5 us per log line here. A busy function ships thousands of lines a second, and the lab
serialized them on a background thread holding the GIL that request threads wait for: a sixth of the lab
process's Python time under a GET /me load. For PutLogEvents (AWS JSON 1.1 protocol) the body botocore
writes is the parameters themselves as JSON: every member's wire name is its parameter name and a
timestamp is a plain integer of epoch milliseconds, so orjson writes the same document (in UTF-8 where
json.dumps escapes non-ASCII characters, which CloudWatch Logs reads the same) in ~0.1 us a line.

How: two handlers on botocore's documented extension events. `before-parameter-build` writes the body and
hands botocore a one-line stand-in to serialize; `before-call` swaps the written body in before the request
is signed. Endpoint, signing, retries and error parsing stay boto3's. Anything unusual (other parameters,
a line orjson refuses such as a lone surrogate) goes through botocore's serializer as before.
"""

from __future__ import annotations

from typing import Any

import orjson

_PARAMETERS = frozenset({"logGroupName", "logStreamName", "logEvents"})
_CONTEXT_KEY = "serverless_lab_put_log_events_body"
# A valid one-event list (botocore may validate it): cheap to serialize, and never sent.
_STAND_IN = [{"timestamp": 0, "message": " "}]


def _write_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if params.keys() != _PARAMETERS or not params["logEvents"]:
        return
    try:
        body = orjson.dumps(params)
    except TypeError:  # orjson.JSONEncodeError: botocore's serializer (json.dumps) writes it instead
        return
    context[_CONTEXT_KEY] = body
    params["logEvents"] = _STAND_IN


def _use_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    body = context.pop(_CONTEXT_KEY, None)
    if body is not None:
        params["body"] = body


def install(logs_client: Any) -> None:
    """Make this boto3 CloudWatch Logs client write PutLogEvents bodies with orjson (idempotent)."""
    events = logs_client.meta.events
    events.register(
        "before-parameter-build.cloudwatch-logs.PutLogEvents", _write_body, unique_id=_CONTEXT_KEY + "-write"
    )
    events.register("before-call.cloudwatch-logs.PutLogEvents", _use_body, unique_id=_CONTEXT_KEY + "-use")
