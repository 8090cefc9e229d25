"""The load runner: bounded in count and in time, never more users at once than asked, honest summary."""

from __future__ import annotations

import io
import threading
import time

import pytest
from sample_records import api_record

from serverless_lab.errors import UsageError
from serverless_lab.flow.load import LoadPlan, SessionSpec, run_load, sweep
from serverless_lab.flow.records import SessionResult


class CountingWorkload:
    """A session runner that takes `seconds` per session and records how many run at once."""

    def __init__(self, seconds: float = 0.01, *, cold_first: bool = False, fail_every: int = 0) -> None:
        self.seconds = seconds
        self.cold_first = cold_first
        self.fail_every = fail_every
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, spec: SessionSpec) -> SessionResult:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            result = SessionResult(session=spec.session, username=f"u{spec.session}", started_s=time.time())
            for _ in range(2):
                if time.perf_counter() >= spec.deadline:
                    result.error = "stopped: the run's time limit passed"
                    return result
                time.sleep(self.seconds / 2)
                failing = self.fail_every and spec.session % self.fail_every == 0
                record = api_record(spec.session, spec.request_numbers(), time.time(),
                                    cold=self.cold_first and spec.session == 0,
                                    status=500 if failing else 201)  # fmt: skip
                record.run, record.concurrency = spec.run, spec.concurrency
                result.requests.append(record)
            result.completed = True
            return result
        finally:
            with self.lock:
                self.running -= 1


def test_stops_after_the_number_of_users_and_never_exceeds_the_concurrency() -> None:
    workload = CountingWorkload(0.02)
    result = run_load(workload, LoadPlan(users=9, concurrency=3), progress=False)
    assert [s.session for s in result.sessions] == list(range(9))
    assert workload.most_at_once == 3
    assert not result.stopped_by_time
    numbers = [r.request for r in result.records]
    assert sorted(numbers) == list(range(18))  # request numbers unique across the users of a run


def test_stops_on_the_time_limit_by_itself() -> None:
    workload = CountingWorkload(0.2)
    started = time.perf_counter()
    result = run_load(workload, LoadPlan(users=1_000, concurrency=2, max_duration_s=0.3), progress=False)
    elapsed = time.perf_counter() - started
    assert result.stopped_by_time
    assert len(result.sessions) < 10
    assert elapsed < 2.0  # the limit plus at most one session's step, with room for a slow machine
    assert result.summary()["sessions_completed"] < len(result.sessions) + 1


def test_summary_counts_requests_errors_cold_starts_and_throttles() -> None:
    result = run_load(CountingWorkload(0.0, cold_first=True, fail_every=2), LoadPlan(users=4, concurrency=1),
                      run="known", progress=False)  # fmt: skip
    summary = result.summary()
    assert summary["run"] == "known" and summary["requests"] == 8
    assert summary["error_rate"] == pytest.approx(4 / 8)  # sessions 0 and 2 answered 500 twice each
    assert summary["cold_starts"] == 2  # both invokes of session 0 were built as cold
    assert summary["throttles"] == 0
    assert summary["throughput_rps"] == pytest.approx(8 / summary["wall_s"])
    assert summary["api_p50_ms"] == pytest.approx(result.requests["client_ms"].median())


def test_throttled_invokes_are_counted() -> None:
    def throttled(spec: SessionSpec) -> SessionResult:
        record = api_record(spec.session, spec.request_numbers(), time.time(), cold=False, status=500,
                            lambda_status=429)  # fmt: skip
        return SessionResult(session=spec.session, username="t", requests=[record], completed=False)

    assert run_load(throttled, LoadPlan(users=3, concurrency=3), progress=False).summary()["throttles"] == 3


def test_a_failing_runner_is_recorded_not_raised() -> None:
    def broken(spec: SessionSpec) -> SessionResult:
        raise RuntimeError("boom")

    result = run_load(broken, LoadPlan(users=2, concurrency=2), progress=False)
    assert [s.error for s in result.sessions] == ["RuntimeError: boom", "RuntimeError: boom"]


def test_progress_bar_reports_every_user() -> None:
    stream = io.StringIO()
    run_load(CountingWorkload(0.15), LoadPlan(users=3, concurrency=1), progress=True, progress_file=stream)
    shown = stream.getvalue()
    assert "3 users, 1 at a time" in shown and "0/3" in shown
    assert "2/3" in shown or "1/3" in shown  # tqdm redraws at most every 0.1 s


def test_sweep_runs_one_level_after_another() -> None:
    result = sweep(CountingWorkload(0.0), [1, 2, 4], users_per_level=lambda level: 2 * level, progress=False)
    summary = result.summary()
    assert summary["concurrency"].tolist() == [1, 2, 4]
    assert summary["sessions_started"].tolist() == [2, 4, 8]
    assert set(result.spans["run"]) == {"c=1", "c=2", "c=4"}


@pytest.mark.parametrize(
    "plan", [{"users": 0}, {"concurrency": 0}, {"think_time_s": -1}, {"max_duration_s": 0}]
)
def test_bad_plans_are_refused(plan: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        LoadPlan(**plan)  # type: ignore[arg-type]
