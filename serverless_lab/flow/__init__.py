"""The user flow: simulated users, their traces as tidy tables, load, latency charts and cost.

    from serverless_lab import Lab, flow
    lab = Lab(student="ada")
    spans = flow.trace(lab)                          # one user, every hop: a pandas DataFrame
    result = flow.run_flow(lab, users=20, concurrency=4)
    flow.latency_table(result.spans)                 # p50/p95/p99 per hop, cold/warm, hit/miss
    flow.charts.waterfall(result.spans)              # a Figure, shown inline in a notebook
    flow.cost_table(flow.measure_workload(result.spans))

`serverless-lab demo` (flow/demo.py) does all of it from one command.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..dataplane.iam.explain import AccessDenied, explain_access_denied
from . import charts
from .cloudwatch import refusals_in_logs
from .cost import PriceBook, Workload, cost_by_service, cost_table, load_prices, measure_workload
from .load import LoadPlan, LoadResult, SweepResult, flow_sessions, run_load, summarize, sweep
from .records import COMPONENTS, FLOW_STEPS, RequestRecord, SessionResult
from .trace import latency_table, percentiles, refusals, requests_frame, spans_frame
from .user import FlowTargets, SimulatedUser, run_session, targets_for

trace_frame = spans_frame


def run_flow(
    lab: Any,
    *,
    users: int = 1,
    concurrency: int = 1,
    think_time_s: float = 0.0,
    max_duration_s: float = 60.0,
    progress: bool = True,
    run: str | None = None,
    cloudwatch_wait_s: float = 30.0,
) -> LoadResult:
    """`users` simulated users doing the whole flow against the lab's stack, `concurrency` at a time.

    Offline the stack is served on loopback first and the spans come from the data plane. On the `aws`
    backend the requests go to CloudFront, Cognito and API Gateway, and the Lambda spans are read back
    from the functions' REPORT lines in CloudWatch Logs (waiting up to `cloudwatch_wait_s` for them);
    that path is not exercised by the offline tests.
    """
    targets = targets_for(lab)
    plan = LoadPlan(
        users=users, concurrency=concurrency, think_time_s=think_time_s, max_duration_s=max_duration_s
    )
    result = run_load(flow_sessions(targets), plan, run=run, progress=progress)
    if not lab.backend.offline:
        from .cloudwatch import add_lambda_spans_from_logs

        add_lambda_spans_from_logs(lab, result.records, targets.api_url, wait_s=cloudwatch_wait_s)
        result.refresh()  # the tables are rebuilt with the Lambda spans
    return result


def trace(lab: Any, *, users: int = 1, concurrency: int = 1, **options: Any) -> pd.DataFrame:
    """The spans of `users` simulated user sessions, one row per hop (columns: see trace.py)."""
    return run_flow(lab, users=users, concurrency=concurrency, progress=False, **options).spans


__all__ = [
    "COMPONENTS",
    "FLOW_STEPS",
    "AccessDenied",
    "FlowTargets",
    "LoadPlan",
    "LoadResult",
    "PriceBook",
    "RequestRecord",
    "SessionResult",
    "SimulatedUser",
    "SweepResult",
    "Workload",
    "charts",
    "cost_by_service",
    "cost_table",
    "explain_access_denied",
    "flow_sessions",
    "latency_table",
    "load_prices",
    "measure_workload",
    "percentiles",
    "refusals",
    "refusals_in_logs",
    "requests_frame",
    "run_flow",
    "run_load",
    "run_session",
    "spans_frame",
    "summarize",
    "sweep",
    "targets_for",
    "trace",
    "trace_frame",
]
