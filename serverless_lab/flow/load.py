"""Load: N virtual users at a given concurrency, bounded in count and in time, with a progress bar.

    plan = LoadPlan(users=40, concurrency=8, think_time_s=0.2, max_duration_s=30)
    result = run_load(flow_sessions(targets), plan)     # or run_flow(lab, users=40, concurrency=8)
    result.summary()                                     # throughput, error rate, cold starts, throttles...
    latency_table(result.spans)                          # p50/p95/p99 per component

A closed model, like a pool of browsers: `concurrency` workers each run one user session after another
until `users` sessions have started or `max_duration_s` has passed; a session that is running when the
time is up stops before its next request. So a run always ends by itself, after at most about
`max_duration_s` plus one request's timeout.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import pandas as pd

from ..errors import UsageError
from .records import RequestRecord, SessionResult, request_counter
from .trace import percentiles, requests_frame, spans_frame
from .user import FlowTargets, SimulatedUser

API_STEPS = ("create", "list", "get", "update", "delete")


@dataclass(frozen=True)
class LoadPlan:
    """How many users, how many at once, how long they think between actions, and the time limit."""

    users: int = 20
    concurrency: int = 4
    think_time_s: float = 0.0
    max_duration_s: float = 60.0

    def __post_init__(self) -> None:
        if self.users < 1 or self.concurrency < 1:
            raise UsageError(
                f"users and concurrency must be at least 1 (got users={self.users}, "
                f"concurrency={self.concurrency}). Fix: for example --users 20 --concurrency 4."
            )
        if self.think_time_s < 0 or self.max_duration_s <= 0:
            raise UsageError(
                f"think_time_s must be >= 0 and max_duration_s > 0 (got {self.think_time_s}, {self.max_duration_s})."
            )


@dataclass(frozen=True)
class SessionSpec:
    """What a session runner gets: which user it is, the run's deadline (a perf_counter reading)..."""

    session: int
    deadline: float
    think_time_s: float
    run: str
    concurrency: int
    request_numbers: Callable[[], int] = field(compare=False, repr=False)


SessionRunner = Callable[[SessionSpec], SessionResult]


def flow_sessions(targets: FlowTargets, *, seed: int = 0, cleanup: bool = True) -> SessionRunner:
    """A session runner doing the whole user flow against `targets` (see user.py)."""

    def run_one(spec: SessionSpec) -> SessionResult:
        user = SimulatedUser(
            targets,
            spec.session,
            think_time_s=spec.think_time_s,
            deadline=spec.deadline,
            request_numbers=spec.request_numbers,
            run=spec.run,
            concurrency=spec.concurrency,
            seed=seed + spec.session,
            cleanup=cleanup,
        )
        return user.run()

    return run_one


@dataclass
class LoadResult:
    """The sessions of one run, and the tables built from them (computed once, on first use)."""

    plan: LoadPlan
    run: str
    sessions: list[SessionResult]
    wall_s: float
    stopped_by_time: bool
    _spans: pd.DataFrame | None = field(default=None, repr=False)
    _requests: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def records(self) -> list[RequestRecord]:
        return [record for session in self.sessions for record in session.requests]

    @property
    def spans(self) -> pd.DataFrame:
        if self._spans is None:
            self._spans = spans_frame(self.records)
        return self._spans

    @property
    def requests(self) -> pd.DataFrame:
        if self._requests is None:
            self._requests = requests_frame(self.records)
        return self._requests

    def refresh(self) -> None:
        """Forget the tables built so far (after spans were added to the records, e.g. from CloudWatch)."""
        self._spans = None
        self._requests = None

    def summary(self) -> dict[str, Any]:
        """One row of numbers about the run (see summarize)."""
        return summarize(self)


def summarize(result: LoadResult) -> dict[str, Any]:
    """Throughput, error rate, cold starts, throttles and client-side percentiles of one run.

    throughput_rps counts every request the users sent (site, Cognito, API) per second of wall time;
    error_rate is the share of requests without the expected answer. Cold starts are Lambda invocations
    that created an execution environment; throttles are Lambda 429s (the client sees API Gateway's 500).
    api_p50_ms... are the client-side totals of the API calls (create, list, get, update, delete).
    """
    requests = result.requests
    spans = result.spans
    component = spans["component"].astype("string")
    handler = spans[component == "lambda-handler"]
    api = requests[requests["step"].isin(API_STEPS)]["client_ms"]
    count = len(requests)
    failed = int((requests["status"].isna() | (requests["status"].fillna(0) >= 400)).sum())
    summary = {
        "run": result.run,
        "concurrency": result.plan.concurrency,
        "users": result.plan.users,
        "sessions_started": len(result.sessions),
        "sessions_completed": sum(session.completed for session in result.sessions),
        "requests": count,
        "wall_s": result.wall_s,
        "throughput_rps": count / result.wall_s if result.wall_s > 0 else float("nan"),
        "sessions_per_s": len(result.sessions) / result.wall_s if result.wall_s > 0 else float("nan"),
        "error_rate": failed / count if count else float("nan"),
        "cold_starts": int(handler["cold"].fillna(False).sum()),
        "throttles": int((handler["status"].fillna(0) == 429).sum()),
        "stopped_by_time": result.stopped_by_time,
    }
    for name, value in percentiles(requests["client_ms"]).items():
        summary[f"all_{name}_ms"] = value
    for name, value in percentiles(api).items():
        summary[f"api_{name}_ms"] = value
    return summary


def run_load(
    runner: SessionRunner,
    plan: LoadPlan,
    *,
    run: str | None = None,
    progress: bool = True,
    progress_file: IO[str] | None = None,
) -> LoadResult:
    """Runs `plan.users` sessions, `plan.concurrency` at a time, for at most `plan.max_duration_s`."""
    from tqdm.auto import tqdm

    label = run if run is not None else f"c={plan.concurrency}"
    started = time.perf_counter()
    deadline = started + plan.max_duration_s
    session_numbers = itertools.count()
    request_numbers = request_counter()
    results: list[SessionResult] = []
    lock = threading.Lock()
    stopped_by_time = threading.Event()
    bar = tqdm(
        total=plan.users,
        desc=f"{plan.users} users, {plan.concurrency} at a time",
        unit="user",
        disable=not progress,
        file=progress_file or sys.stderr,
        leave=False,
    )

    def worker() -> None:
        while True:
            with lock:
                number = next(session_numbers)
            if number >= plan.users:
                return
            if time.perf_counter() >= deadline:
                stopped_by_time.set()
                return
            spec = SessionSpec(number, deadline, plan.think_time_s, label, plan.concurrency, request_numbers)
            try:
                session = runner(spec)
            except Exception as error:  # a broken runner must not hang the run: record and go on
                session = SessionResult(session=number, username="", error=f"{type(error).__name__}: {error}")
            with lock:
                results.append(session)
                bar.update(1)
            if session.error and session.error.startswith("stopped"):
                stopped_by_time.set()

    threads = [
        threading.Thread(target=worker, name=f"virtual-user-{index}", daemon=True)
        for index in range(min(plan.concurrency, plan.users))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bar.close()
    wall_s = time.perf_counter() - started
    results.sort(key=lambda session: session.session)
    return LoadResult(plan, label, results, wall_s, stopped_by_time.is_set())


@dataclass
class SweepResult:
    """Several runs at growing concurrency: one summary row per run, and all spans together."""

    runs: list[LoadResult]

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([run.summary() for run in self.runs])

    @property
    def spans(self) -> pd.DataFrame:
        return pd.concat([run.spans for run in self.runs], ignore_index=True) if self.runs else pd.DataFrame()

    @property
    def requests(self) -> pd.DataFrame:
        frames = [run.requests for run in self.runs]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sweep(
    runner: SessionRunner,
    levels: Sequence[int],
    *,
    users_per_level: int | Callable[[int], int] = 8,
    think_time_s: float = 0.0,
    max_duration_s: float = 60.0,
    progress: bool = True,
    progress_file: IO[str] | None = None,
) -> SweepResult:
    """One run per concurrency level, in order: what percentiles and throughput do as users grow."""
    runs = []
    for level in levels:
        users = users_per_level(level) if callable(users_per_level) else users_per_level
        plan = LoadPlan(users, level, think_time_s, max_duration_s)
        runs.append(run_load(runner, plan, progress=progress, progress_file=progress_file))
    return SweepResult(runs)
