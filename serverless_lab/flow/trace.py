"""Tidy tables of the flow: one row per span, one row per request, latency percentiles per hop.

`spans_frame(records)` — one row per hop of every request (plus one `client` row per request):

| column              | dtype                | meaning                                                              |
|---------------------|----------------------|----------------------------------------------------------------------|
| run                 | string               | label of the run (e.g. "c=4"), "" for a single trace                 |
| concurrency         | Int64                | virtual users running at once in that run                            |
| session             | Int64                | virtual user number                                                  |
| request             | Int64                | request number, unique within a run                                  |
| step                | string               | flow step: site, sign-up, confirm, sign-in, create, list, get, ...   |
| component           | category             | client, edge, s3-origin, cognito, gateway, authorizer, lambda-init,  |
|                     |                      | lambda-handler, dynamodb (see records.COMPONENTS)                    |
| operation           | string               | e.g. "GET /index.html", "InitiateAuth", "PutItem"                    |
| start_s             | float64              | epoch seconds when the hop started                                   |
| offset_ms           | float64              | start of the hop after the client started the request, in ms         |
| duration_ms         | float64              | how long the hop took, in ms                                         |
| status              | Int64                | HTTP status of the hop (SDK calls: the HTTP status DynamoDB answered)|
| cold                | boolean              | lambda rows: True on a cold start (a new execution environment)      |
| cache               | string               | edge rows: hit, miss, refresh-hit or error (CloudFront's X-Cache)    |
| function            | string               | lambda rows: the function name                                       |
| billed_ms           | Int64                | lambda-handler rows: Lambda's Billed Duration (init included)        |
| memory_mb           | Int64                | lambda-handler rows: configured memory                               |
| max_memory_used_mb  | Int64                | lambda-handler rows: Max Memory Used                                 |
| bytes               | Int64                | client rows: bytes of the answer's body                              |
| source              | string               | dataplane (the lab's own spans), client, or cloudwatch (REPORT lines)|
| error               | string               | SDK rows: the error code the service answered (AccessDeniedException)|
| cause               | string               | SDK rows refused by IAM: which role may not do what on which resource,|
|                     |                      | why, and what to add (dataplane/iam/explain.py)                      |

`requests_frame(records)` — one row per request: run, concurrency, session, request, step, method, path,
status, start_s, client_ms, server_ms (the outermost server-side hop: edge, gateway or cognito), network_ms
(client_ms − server_ms: sockets, HTTP parsing, the trace header), cold (a cold start happened in it), cache,
bytes_sent, bytes_received, error.

Percentiles are numpy's default (linear interpolation between closest ranks), the same as
`pandas.Series.quantile`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..dataplane.iam.explain import explain_access_denied
from .records import COMPONENTS, RequestRecord

SPAN_COLUMNS: dict[str, str] = {
    "run": "string",
    "concurrency": "Int64",
    "session": "Int64",
    "request": "Int64",
    "step": "string",
    "component": "category",
    "operation": "string",
    "start_s": "float64",
    "offset_ms": "float64",
    "duration_ms": "float64",
    "status": "Int64",
    "cold": "boolean",
    "cache": "string",
    "function": "string",
    "billed_ms": "Int64",
    "memory_mb": "Int64",
    "max_memory_used_mb": "Int64",
    "bytes": "Int64",
    "source": "string",
    "error": "string",
    "cause": "string",
}

REQUEST_COLUMNS: dict[str, str] = {
    "run": "string",
    "concurrency": "Int64",
    "session": "Int64",
    "request": "Int64",
    "step": "string",
    "method": "string",
    "path": "string",
    "status": "Int64",
    "start_s": "float64",
    "client_ms": "float64",
    "server_ms": "float64",
    "network_ms": "float64",
    "cold": "boolean",
    "cache": "string",
    "bytes_sent": "Int64",
    "bytes_received": "Int64",
    "error": "string",
}

PERCENTILES: tuple[int, ...] = (50, 95, 99)
# The hops a request enters the server side through: their duration is the server's share of the total.
OUTERMOST = ("edge", "gateway", "cognito")


# --- spans ---------------------------------------------------------------------------------------------


def flatten_spans(raw_spans: Iterable[dict[str, Any]], request_start_s: float) -> list[dict[str, Any]]:
    """The data plane's spans of one request in the tidy vocabulary.

    The gateway records one `lambda` span per invoke whose detail carries the invocation: it becomes a
    `lambda-init` row (cold starts only: Init Duration, before the handler runs, as in the REPORT line)
    and a `lambda-handler` row (Duration), and each AWS SDK call the handler made (timed inside the
    execution environment with botocore's before-call/after-call hooks) becomes a row of its service.
    """
    rows: list[dict[str, Any]] = []
    for span in raw_spans:
        component = str(span.get("component", "")).lower()
        start = float(span.get("start") or request_start_s)
        base = {
            "operation": str(span.get("operation", "")),
            "start_s": start,
            "duration_ms": float(span.get("duration_ms") or 0.0),
            "status": span.get("status"),
            "source": span.get("source", "dataplane"),
        }
        if component == "lambda":
            rows += _lambda_rows(span, base)
            continue
        row = {**base, "component": component}
        if component == "edge":
            row["cache"] = span.get("cache")
        if component in ("lambda-init", "lambda-handler"):  # already tidy (rebuilt from REPORT lines)
            for key in ("cold", "function", "billed_ms", "memory_mb", "max_memory_used_mb"):
                row[key] = span.get(key)
        rows.append(row)
    for row in rows:
        row["offset_ms"] = (row["start_s"] - request_start_s) * 1000
    return rows


def _lambda_rows(span: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    detail = span.get("detail") or {}
    function = detail.get("function") or str(detail.get("function_arn", "")).rsplit(":", 1)[-1]
    cold = detail.get("cold")
    init_ms = float(detail.get("init_ms") or 0.0)
    start = base["start_s"]
    rows: list[dict[str, Any]] = []
    common = {"function": function, "cold": cold, "source": base["source"]}
    if cold and init_ms > 0:
        rows.append(
            {
                **common,
                "component": "lambda-init",
                "operation": "Init",
                "start_s": start,
                "duration_ms": init_ms,
                "status": base["status"],
            }
        )
    handler_start = start + init_ms / 1000
    handler_ms = detail.get("duration_ms")
    rows.append(
        {
            **common,
            "component": "lambda-handler",
            "operation": "Invoke",
            "start_s": handler_start,
            # A throttled or timed-out invoke has no REPORT: keep the gateway's view of the attempt.
            "duration_ms": float(handler_ms if handler_ms is not None else base["duration_ms"]),
            "status": base["status"],
            "billed_ms": detail.get("billed_ms"),
            "memory_mb": detail.get("memory_mb"),
            "max_memory_used_mb": detail.get("max_memory_used_mb"),
        }
    )
    for call in detail.get("calls") or []:
        denial = explain_access_denied(call) if call.get("error_message") else None
        rows.append(
            {
                "component": str(call.get("service", "sdk")),
                "operation": str(call.get("operation", "")),
                "start_s": handler_start + float(call.get("start_ms") or 0.0) / 1000,
                "duration_ms": float(call.get("duration_ms") or 0.0),
                "status": call.get("http_status"),
                "function": function,
                "source": base["source"],
                "error": call.get("error_code") or call.get("error"),
                "cause": str(denial) if denial is not None else None,
            }
        )
    return rows


def spans_frame(records: Iterable[RequestRecord] | Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per hop (see the module docstring). Takes RequestRecords, or the raw span dicts of one
    request as `decode_spans()` returns them (then the run, session and request columns are empty)."""
    items = list(records)
    rows: list[dict[str, Any]] = []
    if items and isinstance(items[0], dict):
        start = min(float(span.get("start") or 0.0) for span in items)  # type: ignore[union-attr]
        rows = flatten_spans(items, start)  # type: ignore[arg-type]
    else:
        for record in items:
            rows += record_rows(record)  # type: ignore[arg-type]
    return _typed(rows, SPAN_COLUMNS, categories={"component": _component_order(rows)})


def record_rows(record: RequestRecord) -> list[dict[str, Any]]:
    """The tidy rows of one request: its client row, then its server-side hops."""
    context = {
        "run": record.run,
        "concurrency": record.concurrency,
        "session": record.session,
        "request": record.request,
        "step": record.step,
    }
    client = {
        "component": "client",
        "operation": f"{record.method} {record.path}",
        "start_s": record.start_s,
        "offset_ms": 0.0,
        "duration_ms": record.client_ms,
        "status": record.status,
        "bytes": record.bytes_received,
        "cache": _cache_from_x_cache(record.x_cache),
        "source": "client",
    }
    hops = flatten_spans(record.spans, record.start_s)
    for hop in hops:
        if hop["source"] == "dataplane" and record.source != "dataplane":
            hop["source"] = record.source
    return [{**context, **row} for row in [client, *hops]]


def _cache_from_x_cache(x_cache: str | None) -> str | None:
    """CloudFront's X-Cache header ("Hit from cloudfront", "RefreshHit ...", "Miss ...") as hit/miss."""
    if not x_cache:
        return None
    word = x_cache.split(" ", 1)[0].lower()
    return {"hit": "hit", "refreshhit": "refresh-hit", "miss": "miss", "error": "error"}.get(word, word)


def _component_order(rows: Sequence[dict[str, Any]]) -> list[str]:
    extra = sorted({str(row["component"]) for row in rows} - set(COMPONENTS))
    return [*COMPONENTS, *extra]


def _typed(
    rows: list[dict[str, Any]], columns: dict[str, str], categories: dict[str, list[str]]
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for column, dtype in columns.items():
        if dtype == "category":
            frame[column] = pd.Categorical(frame[column], categories=categories[column], ordered=True)
        elif dtype == "float64":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif dtype == "Int64":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").round().astype("Int64")
        elif dtype == "boolean":
            frame[column] = (
                frame[column].astype("object").where(frame[column].notna(), None).astype("boolean")
            )
        else:
            frame[column] = frame[column].astype("object").where(frame[column].notna(), None).astype("string")
    return frame


# --- requests ------------------------------------------------------------------------------------------


def requests_frame(records: Iterable[RequestRecord]) -> pd.DataFrame:
    """One row per request (see the module docstring)."""
    rows = []
    for record in records:
        hops = flatten_spans(record.spans, record.start_s)
        outer = [hop["duration_ms"] for hop in hops if hop["component"] in OUTERMOST]
        server_ms = max(outer) if outer else None
        colds = [hop.get("cold") for hop in hops if hop["component"] == "lambda-handler"]
        caches = [hop.get("cache") for hop in hops if hop["component"] == "edge"]
        rows.append(
            {
                "run": record.run,
                "concurrency": record.concurrency,
                "session": record.session,
                "request": record.request,
                "step": record.step,
                "method": record.method,
                "path": record.path,
                "status": record.status,
                "start_s": record.start_s,
                "client_ms": record.client_ms,
                "server_ms": server_ms,
                "network_ms": record.client_ms - server_ms if server_ms is not None else None,
                "cold": any(bool(c) for c in colds) if colds else None,
                "cache": caches[0] if caches else _cache_from_x_cache(record.x_cache),
                "bytes_sent": record.bytes_sent,
                "bytes_received": record.bytes_received,
                "error": record.error,
            }
        )
    return _typed(rows, REQUEST_COLUMNS, categories={})


# --- percentiles -----------------------------------------------------------------------------------------


def percentiles(values: Iterable[float], points: Sequence[float] = PERCENTILES) -> dict[str, float]:
    """{"p50": ..., "p95": ..., "p99": ...} of the values (linear interpolation); NaN when empty."""
    array = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype="float64")
    if array.size == 0:
        return {f"p{p:g}": float("nan") for p in points}
    found = np.percentile(array, list(points))
    return {f"p{p:g}": float(value) for p, value in zip(points, found, strict=True)}


def phase_of(row: pd.Series) -> str:
    """cold / warm for Lambda rows, hit / miss / refresh-hit for the edge, "all" for everything else."""
    if row["component"] in ("lambda-init", "lambda-handler") and not pd.isna(row["cold"]):
        return "cold" if row["cold"] else "warm"
    if row["component"] in ("edge", "client") and not pd.isna(row["cache"]):
        return str(row["cache"])
    return "all"


def latency_table(spans: pd.DataFrame, *, by_phase: bool = True) -> pd.DataFrame:
    """Per hop: count, mean, p50, p95, p99 and max of duration_ms (client rows included as "client").

    With `by_phase`, Lambda rows are split into cold and warm and edge rows into hit and miss (the
    other components have the single phase "all"). Index: (component, phase); sorted in flow order.
    """
    columns = ["count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"]
    if spans.empty:
        return pd.DataFrame(
            columns=columns, index=pd.MultiIndex.from_tuples([], names=["component", "phase"])
        )
    frame = spans.copy()
    frame["phase"] = frame.apply(phase_of, axis=1) if by_phase else "all"
    if by_phase:
        # The client rows of site requests also carry the edge's cache state: keep them as one "all" row.
        frame.loc[frame["component"] == "client", "phase"] = "all"
    rows = []
    for (component, phase), group in frame.groupby(["component", "phase"], observed=True, sort=True):
        durations = group["duration_ms"].astype("float64")
        found = percentiles(durations)
        rows.append(
            {
                "component": component,
                "phase": phase,
                "count": len(durations),
                "mean_ms": float(durations.mean()),
                "p50_ms": found["p50"],
                "p95_ms": found["p95"],
                "p99_ms": found["p99"],
                "max_ms": float(durations.max()),
            }
        )
    table = pd.DataFrame(rows).set_index(["component", "phase"])
    return table[columns]


# --- refusals ------------------------------------------------------------------------------------------


def refusals(spans: pd.DataFrame) -> pd.DataFrame:
    """The SDK calls IAM refused in a spans frame, one row each: step, function, component, operation,
    status, error and the cause in words (which role may not do what on which resource, and what to add)."""
    columns = ["step", "function", "component", "operation", "status", "error", "cause"]
    if spans.empty:
        return pd.DataFrame(columns=columns)
    found = spans[spans["cause"].notna()]
    return found[columns].astype({"component": "string"}).reset_index(drop=True)
