"""`serverless-lab demo`: the whole lab from one command.

On a fresh machine it starts the backend (the shared local moto server by default), deploys every step,
serves the stack on loopback, runs the user flow at growing concurrency (1, 2, 4 ... up to --concurrency;
the last run has --users users, the earlier ones a few each), then prints a per-hop latency table
(p50/p95/p99; Lambda cold and warm; edge hit and miss), what the workload would cost on AWS, and the URLs of
the running site, and writes the charts (PNG) and the tables (CSV) into --out.

Decisions:
- Its own student, "demo" (when --student is left at its default), so the demo never touches a learner's
  stack. The stack stays deployed: a re-run finds it and deploys nothing (the steps are idempotent), and
  `serverless-lab destroy --student demo` removes it.
- Each simulated user signs up a fresh account and deletes it at the end (AdminDeleteUser), so re-runs do
  not fill the pool; the items it creates are deleted by the flow itself.
- Cold starts are real: a new process has no execution environments, so the first run shows them.
- `--keep-running` keeps serving until Ctrl-C, for a browser.
- On `--backend aws` the same flow runs against the real endpoints (client-side spans plus the REPORT lines
  from CloudWatch Logs); that path deploys real resources and is not exercised by the offline tests.

Exit status: 0 when every session completed without an unexpected answer, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UsageError

DEMO_STUDENT = "demo"
CLI_DEFAULT_STUDENT = "default"


class Steps:
    """Prints one line per stage of the demo: what it does, then how long it took."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total = total
        self.number = 0
        self.stream = stream or sys.stdout

    @contextmanager
    def stage(self, text: str) -> Iterator[None]:
        self.number += 1
        started = time.perf_counter()
        print(f"[{self.number}/{self.total}] {text} ...", file=self.stream, flush=True)
        yield
        print(f"      done in {time.perf_counter() - started:.1f} s", file=self.stream, flush=True)


def concurrency_levels(concurrency: int) -> list[int]:
    """1, 2, 4 ... doubling up to `concurrency`, which is always the last level."""
    levels, level = [], 1
    while level < concurrency:
        levels.append(level)
        level *= 2
    return [*levels, concurrency]


def users_for_level(level: int, concurrency: int, users: int) -> int:
    """The last level runs all `users`; an earlier one just enough to fill its workers twice."""
    return users if level == concurrency else min(users, 2 * level)


def run_demo(args: argparse.Namespace) -> int:
    from ..lab import Lab
    from . import charts
    from .cost import cost_by_service, cost_table, load_prices, measure_workload
    from .load import LoadPlan, flow_sessions, run_load
    from .trace import latency_table
    from .user import targets_for

    wall = time.perf_counter()
    student = DEMO_STUDENT if args.student == CLI_DEFAULT_STUDENT else args.student
    out = Path(args.out)
    if out.exists() and not out.is_dir():  # checked before minutes of work, not when the charts are written
        raise UsageError(f"--out {args.out!r} is a file, not a folder. Fix: name a folder (it is created).")
    plan_check = LoadPlan(users=args.users, concurrency=args.concurrency)  # refuses bad numbers up front
    steps = Steps(total=6 if args.backend != "aws" else 7)

    with steps.stage(f"starting the {args.backend} backend"):
        lab = Lab(
            backend=args.backend,
            student=student,
            region=args.region,
            endpoint_url=args.endpoint_url,
            profile=getattr(args, "profile", None),
        )
    from ..preview import confirmed

    if not confirmed(lab, None, yes=getattr(args, "yes", False), require=False):
        return 2
    with steps.stage(f"deploying the stack of student {student!r} (steps already deployed are left alone)"):
        for name in lab.steps:
            started = time.perf_counter()
            calls = len(lab.plan(name))
            if calls:
                lab.apply(name, confirm=True)  # on aws the whole plan was shown and confirmed above
            state = f"applied ({calls} calls)" if calls else "already deployed"
            print(f"      {name:<10} {state:<22} {time.perf_counter() - started:5.1f} s", flush=True)
    with steps.stage("serving it on 127.0.0.1" if lab.backend.offline else "reading the AWS endpoints"):
        targets = targets_for(lab)
        print(f"      site: {targets.site_url}", flush=True)

    levels = concurrency_levels(plan_check.concurrency)
    runner = flow_sessions(targets)
    runs = []
    with steps.stage(f"running the user flow at concurrency {', '.join(map(str, levels))}"):
        for level in levels:
            plan = LoadPlan(users_for_level(level, plan_check.concurrency, plan_check.users), level)
            runs.append(run_load(runner, plan))
            summary = runs[-1].summary()
            print(
                f"      {plan.users:>3} users, {level} at a time: {summary['requests']} requests in "
                f"{summary['wall_s']:.1f} s ({summary['throughput_rps']:.0f} req/s), "
                f"{summary['cold_starts']} cold starts, {summary['error_rate']:.0%} errors",
                flush=True,
            )
    if not lab.backend.offline:
        from .cloudwatch import add_lambda_spans_from_logs

        with steps.stage("reading the functions' REPORT lines from CloudWatch Logs"):
            records = [record for run in runs for record in run.records]
            found = add_lambda_spans_from_logs(lab, records, targets.api_url)
            print(f"      {found} invocations matched to API calls", flush=True)
            for run in runs:
                run.refresh()
    spans = pd.concat([run.spans for run in runs], ignore_index=True)
    requests = pd.concat([run.requests for run in runs], ignore_index=True)
    runs_table = pd.DataFrame([run.summary() for run in runs])

    with steps.stage("computing latency percentiles and cost"):
        latency = latency_table(spans)
        prices = load_prices()
        cost = cost_table(measure_workload(spans), prices)
    with steps.stage(f"writing charts and tables into {out}/"):
        figures = charts.all_charts(spans, runs_table, cost, as_of=prices.as_of)
        written = charts.save_charts(figures, out)
        for name, frame in (("spans", spans), ("requests", requests), ("runs", runs_table), ("cost", cost)):
            frame.to_csv(out / f"{name}.csv", index=False)
            written.append(out / f"{name}.csv")
        latency.to_csv(out / "latency.csv")
        written.append(out / "latency.csv")

    _print_report(lab, targets, latency, runs_table, cost, cost_by_service(cost), prices.as_of, written)
    ok = bool((runs_table["error_rate"] == 0).all()) and all(
        session.completed for run in runs for session in run.sessions
    )
    print(
        f"\nDemo finished in {time.perf_counter() - wall:.1f} s: {'all sessions completed' if ok else 'SOME SESSIONS FAILED (see requests.csv)'}."
    )
    if args.keep_running:
        if lab.backend.offline:
            print(f"Serving the site at {targets.site_url} until Ctrl-C.", flush=True)
            lab.serve().serve_forever()
        else:
            print("--keep-running has nothing to do on AWS: the site stays up at the URL above.")
    return 0 if ok else 1


def _print_report(
    lab: Any,
    targets: Any,
    latency: pd.DataFrame,
    runs: pd.DataFrame,
    cost: pd.DataFrame,
    by_service: pd.Series,
    as_of: str,
    written: list[Path],
) -> None:
    print("\nLatency per hop, every run together (ms; cold/warm = Lambda, hit/miss = edge cache):")
    shown = latency.copy()
    shown["count"] = shown["count"].astype(int)
    print(shown.to_string(float_format=lambda v: f"{v:8.2f}"))

    print("\nRuns (client side; api_* = the API calls create/list/get/update/delete):")
    columns = ["concurrency", "users", "requests", "wall_s", "throughput_rps", "error_rate", "cold_starts",
               "throttles", "api_p50_ms", "api_p95_ms", "api_p99_ms"]  # fmt: skip
    print(runs[columns].to_string(index=False, float_format=lambda v: f"{v:8.2f}"))

    total = float(cost.loc[cost["service"] == "total", "usd"].iloc[0])
    print(
        f"\nOn AWS (us-east-1 list prices of {as_of}; check them), per million user sessions: ${total:,.2f}"
    )
    for service, usd in by_service.items():
        print(f"  {service:<22} ${usd:>12,.2f}")
    print("  (every session signs up a new user: one Cognito monthly active user each)")

    print("\nThe stack (served while this command runs; `serverless-lab serve` or --keep-running serves it):")
    print(f"  site (CloudFront): {targets.site_url}")
    print(f"  API (API Gateway): {targets.api_url}")
    print(f"  Cognito:           {targets.cognito_url}")
    print(f"  student {lab.student!r} on the {lab.backend.name} backend; remove with "
          f"`serverless-lab destroy --student {lab.student} --backend {lab.backend.name}`")  # fmt: skip
    print("\nWritten:")
    for path in written:
        print(f"  {path}")
