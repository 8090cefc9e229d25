"""Request records shaped as the data plane returns them (span dicts of edge.py, gateway.py, service.py),
with round numbers so the tests can work out the expected tables by hand."""

from __future__ import annotations

from typing import Any

from serverless_lab.flow.records import RequestRecord

T0 = 1_700_000_000.0  # epoch seconds of the first request


def edge_record(
    session: int, request: int, start: float, *, cache: str, path: str = "/style.css"
) -> RequestRecord:
    spans: list[dict[str, Any]] = []
    if cache == "miss":
        spans.append({"component": "s3-origin", "operation": "GetObject", "start": start + 0.001,
                      "duration_ms": 3.0, "status": 200, "bucket": "b", "key": path.lstrip("/")})  # fmt: skip
    spans.append({"component": "edge", "operation": f"GET {path}", "start": start + 0.0005,
                  "duration_ms": 4.0 if cache == "miss" else 0.5, "status": 200, "cache": cache})  # fmt: skip
    return RequestRecord(session=session, request=request, step="site", method="GET",
                         url=f"http://127.0.0.1:1{path}", start_s=start, client_ms=5.0 if cache == "miss" else 1.0,
                         status=200, bytes_received=1000, x_cache=f"{cache.capitalize()} from cloudfront",
                         spans=spans, run="r")  # fmt: skip


def api_record(
    session: int,
    request: int,
    start: float,
    *,
    step: str = "create",
    cold: bool,
    operation: str = "PutItem",
    status: int = 201,
    lambda_status: int = 200,
) -> RequestRecord:
    """An API call: gateway 40 ms (cold: 240 ms) > authorizer 1 ms > lambda (init 200 ms) > one SDK call."""
    init_ms = 200.0 if cold else None
    lambda_start = start + 0.002
    detail: dict[str, Any] = {
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:sl-t-items",
        "function_error": None, "throttled": lambda_status == 429, "timed_out": False,
        "function": "sl-t-items", "request_id": f"req-{request}", "cold": cold, "init_ms": init_ms,
        "duration_ms": 30.0, "billed_ms": 30 + (200 if cold else 0), "max_memory_used_mb": 60, "memory_mb": 256,
        "environment_id": "env-1",
        "calls": [{"service": "dynamodb", "operation": operation, "start_ms": 5.0, "duration_ms": 10.0,
                   "http_status": 200, "error": None}],
    }  # fmt: skip
    if lambda_status == 429:
        detail = {"function_arn": detail["function_arn"], "throttled": True}
    spans = [
        {"component": "authorizer", "operation": "sl-t-cognito", "start": start + 0.001, "duration_ms": 1.0,
         "status": 200, "detail": {}},
        {"component": "lambda", "operation": detail["function_arn"], "start": lambda_start,
         "duration_ms": 35.0 + (init_ms or 0.0), "status": lambda_status, "detail": detail},
        {"component": "gateway", "operation": "POST /items", "start": start + 0.0005,
         "duration_ms": 40.0 + (init_ms or 0.0), "status": status, "detail": {}},
    ]  # fmt: skip
    return RequestRecord(session=session, request=request, step=step, method="POST",
                         url="http://127.0.0.1:2/restapis/a/prod/_user_request_/items", start_s=start,
                         client_ms=42.0 + (init_ms or 0.0), status=status, bytes_sent=20, bytes_received=200,
                         spans=spans, run="r")  # fmt: skip


def cognito_record(session: int, request: int, start: float) -> RequestRecord:
    spans = [{"component": "cognito", "operation": "InitiateAuth", "start": start + 0.0002, "duration_ms": 6.0,
              "status": 200, "detail": {}}]  # fmt: skip
    return RequestRecord(session=session, request=request, step="sign-in", method="POST",
                         url="http://127.0.0.1:2/cognito-idp/", start_s=start, client_ms=7.0, status=200,
                         bytes_sent=150, bytes_received=2000, spans=spans, run="r")  # fmt: skip


def two_sessions() -> list[RequestRecord]:
    """Session 0: site miss, sign-in, cold create. Session 1: site hit, sign-in, warm get."""
    return [
        edge_record(0, 0, T0, cache="miss"),
        cognito_record(0, 1, T0 + 1),
        api_record(0, 2, T0 + 2, cold=True),
        edge_record(1, 3, T0 + 3, cache="hit"),
        cognito_record(1, 4, T0 + 4),
        api_record(1, 5, T0 + 5, step="get", cold=False, operation="GetItem", status=200),
    ]
