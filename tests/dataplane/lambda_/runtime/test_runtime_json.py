"""The runtime's own JSON (orjson on the hot path) must change nothing a handler or a caller can see.

The event reaches the handler with the values json.dumps would give it (or the same refusal), the payload
reads back as json.loads reads it, frame headers survive whatever a caller puts in them, and the context
object follows the environment variables a handler changes.
"""

from __future__ import annotations

import enum
import json
import os
import threading
import uuid
from collections import OrderedDict

import pytest

from serverless_lab.dataplane.lambda_.runtime import (
    InvalidRequestContentException,
    LambdaRuntime,
    code_sha256,
)
from serverless_lab.dataplane.lambda_.runtime.logs import new_request_id
from serverless_lab.dataplane.lambda_.runtime.outcome import encode_event
from serverless_lab.dataplane.lambda_.runtime.zygote import (
    FrameReader,
    decode_header,
    encode_header,
    write_frame,
)

from .conftest import zip_handlers

ECHO = """
import os


def handler(event, context):
    return {"repr": repr(event), "type": type(event).__name__}


def answer(event, context):
    import decimal
    kind = event["kind"]
    if kind == "big":
        return {"big": 2 ** 70, "negative": -(2 ** 70), "small": 2 ** 60}
    if kind == "decimal":
        return {"price": decimal.Decimal("123456789012345678901234.5")}
    return {"text": "caf\\u00e9 \\U0001f600", "digits": "12345678901234567890123", "float": 0.1}


def rename(event, context):
    seen = {"function_name": context.function_name, "version": context.function_version}
    if event.get("name"):
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = event["name"]
    if event.get("drop_version"):
        del os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
    return seen
"""
ECHO_ZIP = zip_handlers({"echo.py": ECHO})


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str):
    pass


@pytest.fixture(scope="module", params=["process", "inprocess"])
def echo_runtime(request):
    with LambdaRuntime(code_loader=lambda spec: ECHO_ZIP, isolation=request.param) as runtime:
        yield runtime


@pytest.fixture
def echo_spec(make_spec):
    def make(handler: str = "echo.handler"):
        return make_spec(handler, name=handler.replace(".", "-"), code_sha256=code_sha256(ECHO_ZIP))

    return make


@pytest.mark.parametrize(
    "event",
    [
        {"path": "/me", "headers": {"Accept": "*/*"}, "body": None, "isBase64Encoded": False, "n": [1, 2.5]},
        {"text": "caf\u00e9 \U0001f600 \x7f \u2028", "quote": '"\\', "control": "\x00\n\t"},
        {"floats": [0.1, 1e16, 1e-7, -0.0, 1.7976931348623157e308, 5e-324], "ints": [-(2**63), 2**64 - 1]},
        {"nan": float("nan"), "infinity": [float("inf"), float("-inf")]},
        {"tuple": (1, ("a", None))},
        {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
        {"big": 2**64, "negative": -(2**63) - 1},
        {"level": Level.HIGH, "tag": Tag("x"), Tag("key"): 1},
        OrderedDict([("b", 1), ("a", 2)]),
        {"deep": [[[[{"a": [1]}]]]]},
        ["a", "list", "event"],
        "a string event",
        12,
        None,
    ],
)
def test_the_handler_sees_what_json_dumps_gives(echo_runtime, echo_spec, event):
    # The same event sent as the bytes of json.dumps: what the runtime sent before it used orjson.
    reference = echo_runtime.invoke(echo_spec(), json.dumps(event).encode())
    seen = echo_runtime.invoke(echo_spec(), event)
    if reference.error is None:
        assert seen.error is None and seen.payload == reference.payload
        assert seen.payload["repr"] == repr(json.loads(json.dumps(event)))
    else:  # NaN and Infinity: simplejson refuses them by default, as in awslambdaric
        assert reference.error["errorType"] == "Runtime.UnmarshalError"
        assert {**seen.error, "requestId": ""} == {**reference.error, "requestId": ""}


@pytest.mark.parametrize(
    "event", [{"color": Color.RED}, {"id": uuid.UUID(int=7)}, {"set": {1}}, {"s": "\ud800"}]
)
def test_events_json_dumps_refuses_are_refused_with_its_message(event):
    try:
        json.dumps(event)
        expected = None
    except (TypeError, ValueError) as exc:
        expected = f"Could not parse request body into json: {exc}"
    if expected is None:  # json.dumps writes a lone surrogate as an escape; so must the runtime
        assert json.loads(encode_event(event)) == event
        return
    with pytest.raises(InvalidRequestContentException) as refused:
        encode_event(event)
    assert refused.value.message == expected


@pytest.mark.parametrize(
    "event",
    [
        {"headers": {"Accept": "*/*"}, "body": None, "isBase64Encoded": False, "n": 1, "ratio": 0.1},
        {"s": "\ud800", "text": "caf\u00e9"},  # orjson refuses a lone surrogate: json.dumps writes it
        {"big": 2**70},  # beyond orjson's 64 bits
    ],
)
def test_a_json_native_event_reads_back_as_the_event(event):
    # The gateway vouches for its proxy events (json_native): no read-back check, the same values.
    assert json.loads(encode_event(event, json_native=True)) == event


def test_the_payload_limit_counts_what_json_dumps_writes():
    # orjson writes "é" in 2 bytes where json.dumps writes 6 (\u00e9): the limit must see json's size.
    event = {"blob": "\u00e9" * 1_100_000}
    assert len(json.dumps(event)) > 6_291_456
    with pytest.raises(Exception, match="Request must be smaller than 6291456 bytes"):
        encode_event(event)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("big", {"big": 2**70, "negative": -(2**70), "small": 2**60}),
        ("decimal", {"price": 123456789012345678901234.5}),
        ("text", {"text": "caf\u00e9 \U0001f600", "digits": "12345678901234567890123", "float": 0.1}),
    ],
)
def test_payloads_read_back_as_json_loads_reads_them(echo_runtime, echo_spec, kind, expected):
    invocation = echo_runtime.invoke(echo_spec("echo.answer"), {"kind": kind})
    assert invocation.payload == expected == json.loads(invocation.raw_payload)
    assert [type(value) for value in invocation.payload.values()] == [type(v) for v in expected.values()]


def test_the_context_follows_variables_the_handler_changes(handlers_zip, echo_spec):
    # awslambdaric reads the context's fields from os.environ for every invoke. Process mode only: inprocess
    # mode restores the function's variables after each invoke.
    spec = echo_spec("echo.rename")
    with LambdaRuntime(code_loader=lambda spec: ECHO_ZIP) as runtime:
        first = runtime.invoke(spec, {"name": "renamed"}).payload
        second = runtime.invoke(spec, {"drop_version": True}).payload
        third = runtime.invoke(spec, {}).payload
    assert first == {"function_name": "echo-rename", "version": "$LATEST"}
    assert second == {"function_name": "renamed", "version": "$LATEST"}
    assert third == {"function_name": "renamed", "version": None}


@pytest.mark.parametrize(
    ("header", "caller_data"),
    [
        ({"request_id": "r", "deadline_epoch_ms": 1_700_000_000_000, "logs": [(1, "caf\u00e9")]}, False),
        ({"big": 2**64, "message": "lone \ud800 surrogate", "nested": {1: "int key"}}, False),
        ({"client_context": {"custom": {"nan": float("nan"), "big": 2**70}}, "identity": None}, True),
    ],
)
def test_frame_headers_read_back_as_json_reads_them(header, caller_data):
    decoded = decode_header(encode_header(header, caller_data=caller_data))
    expected = json.loads(json.dumps(header))
    assert repr(decoded) == repr(expected)


def test_frames_larger_than_a_pipe_arrive_whole():
    read_fd, write_fd = os.pipe()
    body = bytes(range(256)) * 2048  # 512 KiB: many pipe-fulls
    frames = [({"n": 1}, b""), ({"n": 2, "text": "\u00e9"}, body), ({"n": 3}, b"tail")]

    def write() -> None:
        for header, frame_body in frames:
            write_frame(write_fd, header, frame_body)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reader = FrameReader(read_fd)
        assert [reader.read(deadline=None) for _ in frames] == frames
    finally:
        writer.join()
        os.close(read_fd)
        os.close(write_fd)


def test_request_ids_are_version_4_uuids():
    ids = {new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for request_id in ids:
        parsed = uuid.UUID(request_id)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, request_id)
    assert {request_id[19] for request_id in ids} == set("89ab")
