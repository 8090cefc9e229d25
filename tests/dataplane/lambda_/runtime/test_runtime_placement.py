"""Environments on the CPUs the served data plane leaves them, and polling instead of sleeping only where
it cannot slow anything down (cpu_placement, LambdaRuntime._spin_budgets, FrameReader's spin_s)."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from serverless_lab.dataplane import cpu_placement
from serverless_lab.dataplane.lambda_.runtime import FunctionSpec, LambdaRuntime, service
from serverless_lab.dataplane.lambda_.runtime.service import NEXT_REQUEST_SPIN_LIMIT_S, SPIN_LIMIT_S
from serverless_lab.dataplane.lambda_.runtime.zygote import FrameReader, write_frame

ALLOWED = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
needs_two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="CPU placement needs two CPUs")
SERVER_CPU = frozenset({max(ALLOWED)}) if ALLOWED else frozenset()
ENVIRONMENT_CPUS = ALLOWED - SERVER_CPU


def on_server_cpu(call: Callable[[], Any]) -> Any:
    """Runs `call` on a thread placed as the served data plane places its threads."""
    result: dict[str, Any] = {}

    def run() -> None:
        cpu_placement.place_current_thread(SERVER_CPU)
        try:
            result["value"] = call()
        except BaseException as error:  # re-raised in the test's thread
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@needs_two_cpus
def test_environments_run_on_the_cpus_they_are_kept_on_those_started_before_too(
    runtime: LambdaRuntime, make_spec: Callable[..., FunctionSpec]
) -> None:
    spec = make_spec("counter.handler")
    before = runtime.invoke(spec, {}).payload["pid"]
    assert os.sched_getaffinity(before) == ALLOWED
    runtime.keep_environments_on(ENVIRONMENT_CPUS)
    assert os.sched_getaffinity(before) == ENVIRONMENT_CPUS
    # two at once: the second is a new environment, forked by the placed zygote
    pids = set()
    threads = [
        threading.Thread(target=lambda: pids.add(runtime.invoke(spec, {"sleep": 0.3}).payload["pid"]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pids) == 2 and (pids - {before})
    assert all(os.sched_getaffinity(pid) == ENVIRONMENT_CPUS for pid in pids)
    runtime.keep_environments_on(None)  # the data plane stopped serving
    assert all(os.sched_getaffinity(pid) == ALLOWED for pid in pids)


@needs_two_cpus
def test_back_to_back_invokes_that_poll_stay_warm_correct_and_still_time_out(
    runtime: LambdaRuntime, make_spec: Callable[..., FunctionSpec], monkeypatch: Any
) -> None:
    # Limits no machine misses, so that both polls run here however slow the machine (the real limits,
    # and what polling gains, are for benchmarks/bench_dataplane.py).
    monkeypatch.setattr(service, "SPIN_LIMIT_S", 0.5)
    monkeypatch.setattr(service, "NEXT_REQUEST_SPIN_LIMIT_S", 0.5)
    budgets = []
    spin_budgets = runtime._spin_budgets
    monkeypatch.setattr(
        runtime, "_spin_budgets", lambda env: budgets.append(spin_budgets(env)) or budgets[-1]
    )
    runtime.keep_environments_on(ENVIRONMENT_CPUS)
    spec = make_spec("counter.handler")

    def run() -> list[dict[str, Any]]:
        return [runtime.invoke(spec, {}).payload for _ in range(40)]

    payloads = on_server_cpu(run)
    assert [p["count"] for p in payloads] == list(range(1, 41))
    assert len({p["pid"] for p in payloads}) == 1
    assert (0.5, 0.5) in budgets  # both sides polled
    # the environment is polling for its next request when this one outlives its timeout
    slow = on_server_cpu(lambda: runtime.invoke(spec, {"sleep": 5}))
    assert slow.timed_out and slow.error is not None and slow.error["errorType"] == "Sandbox.Timedout"
    assert budgets[-1] == (0.5, 0.5)
    again = on_server_cpu(lambda: runtime.invoke(spec, {}))
    assert again.cold and again.payload["count"] == 1


def _budgets(runtime: LambdaRuntime, **state: Any) -> tuple[float, float]:
    env = runtime._acquire(FunctionSpec(**_SPEC))
    try:
        for name, value in state.items():
            setattr(env, name, value)
        return on_server_cpu(lambda: runtime._spin_budgets(env))
    finally:
        runtime._release(env)


_SPEC = {
    "name": "f",
    "arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
    "runtime": "python3.12",
    "handler": "counter.handler",
    "code_sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # of nothing: never run here
    "memory_mb": 128,
    "timeout_s": 3.0,
}


@needs_two_cpus
def test_polling_only_where_placed_alone_and_quick(runtime: LambdaRuntime) -> None:
    quick = {"alone": True, "turnaround_s": SPIN_LIMIT_S / 2, "gap_s": NEXT_REQUEST_SPIN_LIMIT_S / 2}
    assert _budgets(runtime, **quick) == (0.0, 0.0)  # not placed: environments may share our CPU
    runtime.keep_environments_on(ENVIRONMENT_CPUS)
    assert _budgets(runtime, **quick) == (SPIN_LIMIT_S, NEXT_REQUEST_SPIN_LIMIT_S)
    assert _budgets(runtime, **{**quick, "alone": False}) == (0.0, 0.0)  # another invoke could use the CPU
    assert _budgets(runtime, **{**quick, "turnaround_s": 0.003}) == (0.0, 0.0)  # waits on DynamoDB
    assert _budgets(runtime, **{**quick, "turnaround_s": math.inf}) == (0.0, 0.0)  # never measured
    assert _budgets(runtime, **{**quick, "gap_s": 0.002}) == (SPIN_LIMIT_S, 0.0)  # requests far apart
    # a thread that may run on the environments' CPUs (a notebook's own) never polls
    env = runtime._acquire(FunctionSpec(**_SPEC))
    try:
        for name, value in quick.items():
            setattr(env, name, value)
        assert runtime._spin_budgets(env) == (0.0, 0.0)
    finally:
        runtime._release(env)


def test_a_read_polls_for_a_frame_then_sleeps_until_its_deadline() -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    try:
        reader = FrameReader(read_fd)
        timer = threading.Timer(0.002, write_frame, (write_fd, {"n": 1}, b"body"))
        timer.start()
        assert reader.read(time.monotonic() + 5, spin_s=0.5) == ({"n": 1}, b"body")
        timer.join()
        timer = threading.Timer(0.05, write_frame, (write_fd, {"n": 2}))
        timer.start()  # after the poll gave up: the sleep in poll() gets it
        assert reader.read(time.monotonic() + 5, spin_s=0.001) == ({"n": 2}, b"")
        timer.join()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            reader.read(started + 0.05, spin_s=0.01)
        assert time.monotonic() - started >= 0.05
        write_frame(write_fd, {"n": 3})
        assert reader.read(None, spin_s=0.001) == ({"n": 3}, b"")  # no deadline: poll, then read
        os.close(write_fd)
        write_fd = -1
        with pytest.raises(EOFError):
            reader.read(time.monotonic() + 5, spin_s=0.01)
    finally:
        os.close(read_fd)
        if write_fd != -1:
            os.close(write_fd)
