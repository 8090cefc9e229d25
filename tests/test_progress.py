"""Waits show what they wait for, in AWS's seconds (serverless_lab/progress.py), and instant ones nothing."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from serverless_lab.backends.quotas import ControlPlanePacer
from serverless_lab.progress import pause, waiting


def test_an_instant_wait_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with waiting("DynamoDB table t to be ACTIVE", "seconds") as shown:
        shown.tick("ACTIVE")
    assert capsys.readouterr().err == ""


def test_a_long_wait_says_what_it_waits_for_and_counts_aws_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    pause(60, "DeleteRestApi: API Gateway allows one every 30 s per account", scale=0.01)  # 0.6 s of ours
    assert 0.55 <= time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "DeleteRestApi: API Gateway allows one every 30 s per account" in err
    shown = [int(part.split(" s")[0]) for part in err.split("per account: ")[1:]]
    assert max(shown) >= 50  # AWS's seconds, not the 0.6 s the test waited


def test_the_typical_duration_is_shown_beside_the_wait(capsys: pytest.CaptureFixture[str]) -> None:
    with waiting("CloudFront distribution E1 to be Deployed", "a few minutes", scale=0.01) as shown:
        time.sleep(0.05)
        shown.tick("InProgress")
    assert (
        "CloudFront distribution E1 to be Deployed (AWS: typically a few minutes)" in capsys.readouterr().err
    )


def operation(name: str) -> SimpleNamespace:
    return SimpleNamespace(service_model=SimpleNamespace(service_name="apigateway"), name=name)


def test_the_pacer_spaces_each_operation_by_its_quota(capsys: pytest.CaptureFixture[str]) -> None:
    pacer = ControlPlanePacer(SimpleNamespace(time_scale=0.01))  # 30 AWS seconds: 0.3 s of ours
    passed = []
    for name in ("DeleteRestApi", "CreateRestApi", "DeleteRestApi", "DeleteRestApi"):
        pacer._before_call(operation(name))
        passed.append((name, time.monotonic()))
        if len(passed) == 2:
            assert pacer.waited_s == 0  # CreateRestApi has a quota of its own: not held up
    deletes = [moment for name, moment in passed if name == "DeleteRestApi"]
    # The n-th DeleteRestApi goes no sooner than n-1 quota intervals after the first.
    assert deletes[1] - deletes[0] >= 0.3 - 0.01
    assert deletes[2] - deletes[0] >= 0.6 - 0.01
    assert 29 <= pacer.waited_s <= 61  # AWS seconds waited (less the time a late wake-up already spent)
    assert "DeleteRestApi: API Gateway allows one every 30 s per account" in capsys.readouterr().err
