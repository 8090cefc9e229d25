"""The exercises of 07-end-to-end, 08-latency, 09-teardown and 10-instructor."""

from __future__ import annotations

from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from ..teaching import classroom
from .base import exercise
from .result import Outcome, not_yet, solved


@exercise("07-end-to-end")
def slowest_hop(lab: Any, spans: pd.DataFrame, answer: str) -> Outcome:
    """07: the component (client left out) with the most time in total in a trace."""
    title = "the slowest hop"
    if spans is None or len(spans) == 0:
        return not_yet(title, "the trace is empty.", "spans = lab.trace()")
    served = spans[spans["component"].astype("string") != "client"]
    totals = served.groupby(served["component"].astype("string"))["duration_ms"].sum()
    expected = str(totals.idxmax())
    if answer == expected:
        return solved(title, f"{expected}: {totals.max():.1f} ms of the trace.")
    return not_yet(
        title,
        f"{answer!r} is not it.",
        "The client rows contain every hop of their request: leave them out.",
        "Group the other rows by component and add up duration_ms.",
        "spans[spans['component'] != 'client'].groupby('component')['duration_ms'].sum().idxmax()",
    )


@exercise("08-latency")
def throttled(lab: Any, spans: pd.DataFrame, function: str = "items") -> Outcome:
    """08: reserved concurrency 1 on a function, and a run in which Lambda throttled some calls (429)."""
    title = f"{function} throttled at a reserved concurrency of 1"
    name = lab.function_name(function)
    hints = (
        "A function's reserved concurrency caps how many environments serve it at once; above it, Lambda "
        "refuses a synchronous call with 429 TooManyRequestsException (it does not queue it).",
        "lambda_.put_function_concurrency(FunctionName=..., ReservedConcurrentExecutions=1), then a sweep at "
        "concurrency 4, and pass its spans.",
        f"lambda_.put_function_concurrency(FunctionName={name!r}, ReservedConcurrentExecutions=1); "
        "run = flow.sweep(runner, [4], users_per_level=4, progress=False); check.throttled(lab, run.spans)",
    )
    try:
        reserved = lab.backend.client("lambda").get_function_concurrency(FunctionName=name)
    except ClientError:
        return not_yet(title, f"there is no function {name}.", "lab.require('functions') first.")
    limit = reserved.get("ReservedConcurrentExecutions")
    if limit != 1:
        detail = (
            "0 refuses every call: that is an off switch, not a limit" if limit == 0 else f"it is {limit}"
        )
        return not_yet(title, f"the reserved concurrency is not 1 ({detail}).", *hints)
    if not isinstance(spans, pd.DataFrame) or not {"component", "status"} <= set(spans.columns):
        return not_yet(title, "pass the spans of a run made after the change (sweep.spans).", *hints)
    handler = spans[spans["component"].astype("string") == "lambda-handler"]
    statuses = set(pd.to_numeric(handler["status"], errors="coerce").dropna().astype(int))
    if 429 not in statuses:
        return not_yet(title, "no call in that run was throttled: run more users at once.", *hints)
    if 200 not in statuses:
        return not_yet(
            title, "every call was throttled: with a limit of 1, one at a time still runs.", *hints
        )
    return solved(title, "one environment served; the calls beyond it were refused with 429, not queued.")


@exercise("09-teardown")
def nothing_left(lab: Any) -> Outcome:
    """09: no resource of the student left on the backend (found by listing, not from the lab's records)."""
    title = "nothing left"
    left = classroom.leftovers(lab)
    if left.empty:
        return solved(title, f"no resource named {lab.names.prefix}-… is left.")
    kinds = ", ".join(f"{row.kind} {row.name}" for row in left.itertuples())
    return not_yet(
        title,
        f"{len(left)} resource(s) left: {kinds}.",
        "teaching.leftovers(lab) lists them: a step removes only what it made; what you made by hand, you "
        "remove by hand.",
        "The stats function of 05: lambda_.delete_function(FunctionName=...); its log group: "
        "logs.delete_log_group(logGroupName=...).",
        "lambda_.delete_function(FunctionName=lab.names.function('stats')); then lab.destroy() for any step.",
    )


@exercise("10-instructor")
def student_reset(lab: Any, student: str) -> Outcome:
    """10: a student reset: nothing of theirs on the backend, no saved outputs."""
    from ..lab import Lab

    title = f"reset {student}"
    left = classroom.leftovers(Lab(backend=lab.backend, student=student))
    if not left.empty:
        return not_yet(
            title,
            f"{len(left)} resource(s) of {student} remain.",
            "teaching.leftovers(Lab(backend=lab.backend, student=...)) shows them.",
            "teaching.reset_student(lab.backend, student)",
        )
    if student in classroom.students(lab.backend):
        return not_yet(title, f"{student}'s saved outputs remain.", "A reset removes the outputs file too.")
    return solved(title, f"nothing of {student} is left.")
