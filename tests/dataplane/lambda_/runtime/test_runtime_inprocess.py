"""isolation="inprocess": handlers run on threads of the lab process, still one namespace per environment."""

from __future__ import annotations

import logging
import os
import sys
import threading

from serverless_lab.dataplane.lambda_.runtime import LambdaRuntime


def test_inprocess_environments_keep_their_own_module_state(handlers_zip, make_spec):
    lab_environ = dict(os.environ)
    lab_root_level = logging.getLogger().level
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation="inprocess") as runtime:
        spec = make_spec("counter.handler")
        first, second = runtime.invoke(spec, {}), runtime.invoke(spec, {})
        other = runtime.invoke(make_spec("counter.handler", name="other"), {})
        printed = runtime.invoke(make_spec("printer.handler"), {"who": "ada"})
    assert [first.payload["count"], second.payload["count"], other.payload["count"]] == [1, 2, 1]
    assert first.payload["token"] == second.payload["token"] != other.payload["token"]
    assert first.payload["pid"] == os.getpid()
    assert first.cold and not second.cold
    assert "counter" not in sys.modules and "printer" not in sys.modules  # the lab's import table stays clean
    assert dict(os.environ) == lab_environ
    assert (
        logging.getLogger().level == lab_root_level
    )  # the handler's setLevel(INFO) stays in its environment
    assert printed.logs[1] == "init: loading printer"
    assert "hello from print" in printed.logs and any("info via logging ada" in line for line in printed.logs)


def test_inprocess_concurrent_invokes_still_get_separate_environments(handlers_zip, make_spec):
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation="inprocess") as runtime:
        spec = make_spec("counter.handler")
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(runtime.invoke(spec, {"sleep": 0.2})))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len({r.environment_id for r in results}) == 2
    assert [r.payload["count"] for r in results] == [1, 1]


def test_inprocess_errors_timeouts_and_environment(handlers_zip, make_spec):
    with LambdaRuntime(
        code_loader=lambda spec: handlers_zip,
        isolation="inprocess",
        base_environment={"AWS_ACCESS_KEY_ID": "testing"},
    ) as runtime:
        failed = runtime.invoke(make_spec("raiser.handler"), {})
        timed_out = runtime.invoke(make_spec("sleeper.handler", timeout_s=1), {"seconds": 1.5})
        seen = runtime.invoke(
            make_spec("introspect.handler", environment={"TABLE_NAME": "items"}), {}
        ).payload
    assert failed.error["errorType"] == "OrderRejected" and failed.error["requestId"] == failed.request_id
    assert timed_out.timed_out and timed_out.error["errorType"] == "Sandbox.Timedout"
    assert seen["environ"]["TABLE_NAME"] == "items" and seen["environ"]["AWS_ACCESS_KEY_ID"] == "testing"
    assert seen["context"]["function_name"] == "introspect"
    assert "TABLE_NAME" not in os.environ


def test_inprocess_handlers_never_use_the_labs_boto3_session(handlers_zip, make_spec, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "LAB-OWN-KEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-own-secret")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session(region_name="ap-south-1")
    lab_session = boto3.DEFAULT_SESSION
    assert lab_session.get_credentials().access_key == "LAB-OWN-KEY"
    base = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with LambdaRuntime(
        code_loader=lambda spec: handlers_zip, isolation="inprocess", base_environment=base
    ) as runtime:
        seen = runtime.invoke(make_spec("whoami.handler", region="eu-west-1"), {}).payload
    assert seen == {"access_key": "testing", "region": "eu-west-1"}
    assert boto3.DEFAULT_SESSION is lab_session


def test_environ_swap_sets_only_the_function_variables_and_restores_the_labs(monkeypatch):
    import subprocess

    from serverless_lab.dataplane.lambda_.runtime.workers import EnvironSwap

    monkeypatch.setenv("LAB_ONLY", "lab")
    monkeypatch.setenv("SHARED", "same")
    monkeypatch.setenv("CHANGED", "lab-value")
    lab_environ = dict(os.environ)
    function_environ = {
        "SHARED": "same",
        "CHANGED": "function-value",
        "TABLE_NAME": "items",
        "PATH": "/usr/bin:/bin",
    }
    swap = EnvironSwap(function_environ)
    undo = swap.apply()
    try:
        assert dict(os.environ) == function_environ
        # child processes get the C environment: the function's variables, none of the lab's own
        shown = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout.splitlines()
        assert {f"{k}={v}" for k, v in function_environ.items()} <= set(shown)
        assert "LAB_ONLY=lab" not in shown and "CHANGED=lab-value" not in shown
        os.environ["HANDLER_ADDED"] = "1"  # what a handler may do during its invoke
        os.environ["SHARED"] = "changed by the handler"
        del os.environ["TABLE_NAME"]
    finally:
        swap.restore(undo)
    assert dict(os.environ) == lab_environ
    assert "HANDLER_ADDED" not in subprocess.run(["env"], capture_output=True, text=True, check=True).stdout


def test_inprocess_sys_exit_ends_the_environment_not_the_lab(handlers_zip, make_spec):
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation="inprocess") as runtime:
        spec = make_spec("sys_exiter.handler")
        exited = runtime.invoke(spec, {"code": 2})  # no SystemExit reaches the caller
        at_init = runtime.invoke(make_spec("sys_exiter.handler", environment={"EXIT_AT_INIT": "4"}), {})
        again = runtime.invoke(spec, {"code": 0})
    assert exited.error["errorMessage"].endswith("Error: Runtime exited with error: exit status 2")
    assert "before exit" in exited.logs
    assert at_init.error["errorMessage"].endswith("Error: Runtime exited with error: exit status 4")
    assert again.cold  # the exited environment was dropped
