"""Execution environments: warm state, concurrency, throttling, idle expiry, retirement, shutdown."""

from __future__ import annotations

import os
import threading
import time

import pytest

from serverless_lab.dataplane.lambda_.runtime import LambdaRuntime, TooManyRequestsException


def _invoke_in_threads(runtime, specs_and_events):
    results: list = [None] * len(specs_and_events)
    errors: list = [None] * len(specs_and_events)

    def run(index, spec, event):
        try:
            results[index] = runtime.invoke(spec, event)
        except Exception as exc:
            errors[index] = exc

    threads = [
        threading.Thread(target=run, args=(i, spec, event))
        for i, (spec, event) in enumerate(specs_and_events)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def _wait_until_busy(runtime, count, limit_s=10.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if sum(1 for env in runtime.environments() if env.state == "busy") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} environment(s) never became busy")


def test_module_state_survives_warm_invokes_of_one_environment(runtime, make_spec):
    spec = make_spec("counter.handler")
    first, second, third = (runtime.invoke(spec, {}) for _ in range(3))
    assert [i.payload["count"] for i in (first, second, third)] == [1, 2, 3]
    assert len({i.payload["token"] for i in (first, second, third)}) == 1
    assert [i.cold for i in (first, second, third)] == [True, False, False]
    assert first.init_ms is not None and second.init_ms is None
    assert first.environment_id == second.environment_id == third.environment_id
    assert first.payload["pid"] != os.getpid()
    [info] = runtime.environments()
    assert (info.id, info.function, info.state, info.invocations) == (
        first.environment_id,
        "counter",
        "idle",
        3,
    )
    assert info.pid == first.payload["pid"] and info.rss_mb is not None and info.rss_mb > 0


def test_concurrent_invokes_get_their_own_environments(runtime, make_spec):
    spec = make_spec("counter.handler")
    results, errors = _invoke_in_threads(runtime, [(spec, {"sleep": 0.5}), (spec, {"sleep": 0.5})])
    assert errors == [None, None]
    assert [r.payload["count"] for r in results] == [1, 1]
    assert results[0].environment_id != results[1].environment_id
    assert results[0].payload["token"] != results[1].payload["token"]
    assert results[0].payload["pid"] != results[1].payload["pid"]
    assert all(r.cold for r in results)
    assert len(runtime.environments()) == 2
    # the next sequential invoke reuses one of the two warm environments
    warm = runtime.invoke(spec, {})
    assert not warm.cold and warm.payload["count"] == 2


def test_functions_never_share_an_environment(runtime, make_spec):
    orders = runtime.invoke(make_spec("counter.handler", name="orders"), {})
    users = runtime.invoke(make_spec("counter.handler", name="users"), {})
    assert orders.payload["count"] == users.payload["count"] == 1
    assert orders.environment_id != users.environment_id


def test_reserved_concurrency_throttles_beyond_the_reservation(runtime, make_spec):
    spec = make_spec("counter.handler", reserved_concurrency=1)
    holder = threading.Thread(target=runtime.invoke, args=(spec, {"sleep": 1.0}))
    holder.start()
    try:
        _wait_until_busy(runtime, 1)
        with pytest.raises(TooManyRequestsException) as throttled:
            runtime.invoke(spec, {})
    finally:
        holder.join()
    assert throttled.value.status == 429
    assert throttled.value.code == "TooManyRequestsException"
    assert throttled.value.message == "Rate Exceeded."
    assert throttled.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert runtime.invoke(spec, {}).payload["count"] == 2  # free again once the first one returned


def test_reserved_concurrency_zero_throttles_every_request(runtime, make_spec, log_sink):
    with pytest.raises(TooManyRequestsException):
        runtime.invoke(make_spec("counter.handler", reserved_concurrency=0), {})
    assert runtime.environments() == [] and log_sink.deliveries == []


def test_account_concurrency_limits_unreserved_functions(handlers_zip, make_spec):
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, account_concurrency=1) as runtime:
        holder = threading.Thread(target=runtime.invoke, args=(make_spec("counter.handler"), {"sleep": 1.0}))
        holder.start()
        try:
            _wait_until_busy(runtime, 1)
            with pytest.raises(TooManyRequestsException) as throttled:
                runtime.invoke(make_spec("counter.handler", name="other"), {})
        finally:
            holder.join()
    assert throttled.value.reason == "ConcurrentInvocationLimitExceeded"


def test_idle_environments_expire_after_the_idle_timeout(handlers_zip, make_spec):
    now = [1000.0]
    with LambdaRuntime(
        code_loader=lambda spec: handlers_zip, idle_timeout_s=60, clock=lambda: now[0]
    ) as runtime:
        spec = make_spec("counter.handler")
        first = runtime.invoke(spec, {})
        now[0] += 59
        assert runtime.reap_idle() == 0
        assert not runtime.invoke(spec, {}).cold
        now[0] += 60
        assert runtime.reap_idle() == 1
        assert runtime.environments() == []
        again = runtime.invoke(spec, {})
    assert again.cold and again.payload["count"] == 1
    assert again.environment_id != first.environment_id


def test_a_new_configuration_or_code_gets_new_environments(runtime, make_spec):
    first = runtime.invoke(make_spec("counter.handler"), {})
    assert runtime.invoke(make_spec("counter.handler"), {}).payload["count"] == 2
    updated = runtime.invoke(make_spec("counter.handler", environment={"STAGE": "v2"}), {})
    assert updated.cold and updated.payload["count"] == 1
    assert updated.environment_id != first.environment_id
    assert [env.id for env in runtime.environments()] == [updated.environment_id]


def test_shutdown_stops_every_environment_and_removes_the_code(handlers_zip, make_spec):
    runtime = LambdaRuntime(code_loader=lambda spec: handlers_zip)
    pid = runtime.invoke(make_spec("counter.handler"), {}).payload["pid"]
    code_root = runtime.code_root
    assert code_root.exists()
    runtime.shutdown()
    assert not code_root.exists()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"environment process {pid} still runs after shutdown")
