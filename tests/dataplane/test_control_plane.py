"""The control-plane cache: reads in use are refreshed in the background, never served older than ttl_s,
and refresh() makes the next request read the control plane itself."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from shared_labs import plain_function

from serverless_lab.backends import Backend, make_backend
from serverless_lab.dataplane.config import ControlPlane, NotFound, unqualified_function_name

TTL_S = 0.1  # the refresher reads a used entry 0.01 s before it expires, at 0.09 s


class Clock:
    """The control plane's clock, moved by the test: entries expire only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the background refresh never came"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def backend() -> Backend:
    return make_backend("memory")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def plane(backend: Backend, clock: Clock) -> Iterator[ControlPlane]:
    control_plane = ControlPlane(backend, ttl_s=TTL_S, clock=clock)
    yield control_plane
    control_plane.refresh()  # nothing left in use: the refresher thread ends


@pytest.fixture
def function(backend: Backend) -> Iterator[str]:
    with plain_function(
        backend, "def handler(event, context):\n    return event\n", "config", Timeout=3
    ) as name:
        yield name


@pytest.fixture
def lambda_reads(backend: Backend) -> Iterator[list[str]]:
    """The thread of every GetFunctionConfiguration the lab's Lambda client sends."""
    threads: list[str] = []

    def record(**_: Any) -> None:
        threads.append(threading.current_thread().name)

    events = backend.client("lambda").meta.events
    events.register("before-call.lambda.GetFunctionConfiguration", record)
    yield threads
    events.unregister("before-call.lambda.GetFunctionConfiguration", record)


def test_a_function_in_use_is_read_again_in_the_background_before_it_expires(
    backend: Backend, plane: ControlPlane, clock: Clock, function: str, lambda_reads: list[str]
) -> None:
    assert plane.function(function).timeout_s == 3  # the first request reads it
    assert plane.function(function).timeout_s == 3  # the next one is served from the cache: in use
    backend.client("lambda").update_function_configuration(FunctionName=function, Timeout=7)
    clock.now += 0.095  # past the refresh point, not yet expired
    wait_until(lambda: plane.function(function).timeout_s == 7)
    clock.now += 0.05  # past the first read's expiry: the background read is served, no request waits
    assert plane.function(function).timeout_s == 7
    assert lambda_reads == ["MainThread", "config-refresh"]


def test_an_entry_nobody_used_since_it_was_read_is_left_to_expire(
    plane: ControlPlane, clock: Clock, function: str, lambda_reads: list[str]
) -> None:
    plane.function(function)
    clock.now += TTL_S
    plane.function(function)  # expired, never refreshed: this request reads it
    assert lambda_reads == ["MainThread", "MainThread"]


class BlockingSource:
    """A configuration value read by ControlPlane.cached; reads on the refresher thread can be held."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.readers: list[str] = []
        self.hold = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def read(self) -> str:
        value = self.value  # what the control plane holds when the read starts
        name = threading.current_thread().name
        self.readers.append(name)
        if name == "config-refresh" and self.hold.is_set():
            self.held.set()
            assert self.release.wait(30)
        if self.fail:
            raise NotFound("gone")
        return value


def start_a_held_background_read(plane: ControlPlane, clock: Clock, source: BlockingSource) -> None:
    assert plane.cached(("thing",), source.read) == source.value
    source.hold.set()
    assert plane.cached(("thing",), source.read) == source.value  # in use
    clock.now += 0.095
    assert source.held.wait(30)


def test_refresh_drops_a_background_read_that_started_before_it(plane: ControlPlane, clock: Clock) -> None:
    source, after = BlockingSource("old"), BlockingSource("other")
    assert plane.cached(("after",), after.read) == "other"
    assert plane.cached(("after",), after.read) == "other"  # in use too: refreshed after "thing"
    start_a_held_background_read(plane, clock, source)  # it read "old"
    source.value = "new"  # a change made with boto3, then refresh(), as a notebook cell does
    plane.refresh()
    assert plane.cached(("thing",), source.read) == "new"  # read by this request, at once
    assert plane.cached(("thing",), source.read) == "new"
    source.release.set()
    wait_until(lambda: after.readers == ["MainThread", "config-refresh"])  # the held read is done with
    assert plane.cached(("thing",), source.read) == "new"
    assert source.readers == ["MainThread", "config-refresh", "MainThread"]


def test_a_request_that_finds_its_entry_expired_waits_for_the_background_read(
    plane: ControlPlane, clock: Clock
) -> None:
    source = BlockingSource("old")
    start_a_held_background_read(plane, clock, source)
    source.value = "new"
    clock.now += 0.01  # the entry read first has expired; the background read began before
    answers: list[str] = []
    request = threading.Thread(target=lambda: answers.append(plane.cached(("thing",), source.read)))
    request.start()
    source.release.set()
    request.join(timeout=30)
    # The background read began before the change: its value, read 0.015 s ago, is what is served.
    assert answers == ["old"]
    assert source.readers == ["MainThread", "config-refresh"]  # the request made no read of its own


def test_a_failed_background_read_leaves_the_entry_to_expire(plane: ControlPlane, clock: Clock) -> None:
    source = BlockingSource("there")
    start_a_held_background_read(plane, clock, source)
    source.fail = True  # deleted meanwhile
    source.release.set()
    assert plane.cached(("thing",), source.read) == "there"  # not expired yet: still served
    clock.now += 0.01
    with pytest.raises(NotFound):  # expired: this request reads the control plane and gets its answer
        plane.cached(("thing",), source.read)


def test_log_lines_go_out_in_batches_within_put_log_events_limits(backend: Backend) -> None:
    plane = ControlPlane(backend)
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["logEvents"]))

    events = backend.client("logs", validate=False).meta.events  # the client write_logs writes with
    events.register("provide-client-params.logs.PutLogEvents", record)
    group = f"/aws/lambda/limits-{uuid.uuid4().hex[:8]}"
    try:
        now = int(time.time() * 1000)
        plane.write_logs(group, "many", [(now + n % 7, f"line {n}") for n in range(10_001)])
        big = "x" * 400_000  # three of these are more than a megabyte
        plane.write_logs(group, "big", [(now, big), (now, big), (now, big)])
    finally:
        events.unregister("provide-client-params.logs.PutLogEvents", record)
    assert sizes == [10_000, 1, 2, 1]
    logs = backend.client("logs")
    stored = logs.get_log_events(logGroupName=group, logStreamName="many", startFromHead=True)["events"]
    timestamps = [event["timestamp"] for event in stored]
    assert timestamps == sorted(timestamps)  # chronological, as CloudWatch Logs requires of each batch
    logs.delete_log_group(logGroupName=group)


@pytest.mark.parametrize(
    ("name_or_arn", "function"),
    [
        ("items", "items"),
        ("items:live", "items"),
        ("myfunction:7", "myfunction"),  # "function" in a name is not the ARN's ":function:"
        ("items:$LATEST", "items"),
        ("123456789012:function:items:3", "123456789012:function:items"),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:items",
            "arn:aws:lambda:eu-west-1:123456789012:function:items",
        ),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:items:live",
            "arn:aws:lambda:eu-west-1:123456789012:function:items",
        ),
    ],
)
def test_a_qualified_name_is_told_from_the_function_it_qualifies(name_or_arn: str, function: str) -> None:
    assert unqualified_function_name(name_or_arn) == function
