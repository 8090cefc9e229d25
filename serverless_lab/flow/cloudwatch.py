"""Lambda spans from the functions' REPORT lines in CloudWatch Logs, for flows against real AWS.

On AWS nothing sends the lab's spans back with an answer, but Lambda writes one REPORT line per invoke to
the function's log group (/aws/lambda/<function>), "REPORT RequestId: ... Duration: 12.34 ms Billed
Duration: 13 ms Memory Size: 256 MB Max Memory Used: 80 MB Init Duration: 250.00 ms" (Init Duration on
cold starts only; lambda-runtime-environment.html, "Lambda execution environment lifecycle"). The flow
reads them with FilterLogEvents and attaches each to the API request it belongs to.

Matching: API Gateway does not tell the client the Lambda request id, so a REPORT line is matched by time:
its event timestamp is the end of the invoke, which falls inside the client's request (start, start +
total) of exactly one API call of that function when the calls of a user are sequential. Clock skew
between the client and AWS is absorbed by a tolerance; a line that matches no request is left out.

The offline runtime writes the same lines to the backend's CloudWatch Logs, which is how this module is
tested; against real AWS it is not exercised by the lab's tests (the lab never calls AWS in tests).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..dataplane.iam.explain import AccessDenied, explain_access_denied
from .records import RequestRecord

REPORT_PATTERN = re.compile(
    r"REPORT RequestId: (?P<request_id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<memory>\d+) MB\s+"
    r"Max Memory Used: (?P<used>\d+) MB(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
)
# CloudWatch Logs filter patterns (a quoted term matches the exact phrase): the REPORT line, and the
# platform.report record of a function with the JSON log format. Two queries rather than one pattern of
# "?" terms, which moto does not read (it would answer every event of the group).
REPORT_FILTERS = ('"REPORT RequestId"', '"platform.report"')


@dataclass(frozen=True)
class ReportLine:
    """One REPORT line: what Lambda measured for one invoke."""

    function: str
    request_id: str
    timestamp_ms: int
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None


def _parse_report_record(message: str, timestamp_ms: int, function: str) -> ReportLine | None:
    """A platform.report record (LoggingConfig LogFormat JSON): {"time", "type", "record": {"requestId",
    "metrics": {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"?}}}."""
    try:
        document = json.loads(message)
        record, metrics = document["record"], document["record"]["metrics"]
        if document.get("type") != "platform.report":
            return None
        init = metrics.get("initDurationMs")
        return ReportLine(
            function=function,
            request_id=str(record["requestId"]),
            timestamp_ms=int(timestamp_ms),
            duration_ms=float(metrics["durationMs"]),
            billed_ms=int(metrics["billedDurationMs"]),
            memory_mb=int(metrics["memorySizeMB"]),
            max_memory_used_mb=int(metrics["maxMemoryUsedMB"]),
            init_ms=float(init) if init is not None else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def parse_report(message: str, timestamp_ms: int, function: str) -> ReportLine | None:
    """The REPORT line (or platform.report record) in a log message, or None when the message is not one."""
    if message.startswith("{"):
        return _parse_report_record(message, timestamp_ms, function)
    found = REPORT_PATTERN.search(message)
    if found is None:
        return None
    return ReportLine(
        function=function,
        request_id=found["request_id"],
        timestamp_ms=int(timestamp_ms),
        duration_ms=float(found["duration"]),
        billed_ms=int(found["billed"]),
        memory_mb=int(found["memory"]),
        max_memory_used_mb=int(found["used"]),
        init_ms=float(found["init"]) if found["init"] else None,
    )


def fetch_reports(logs_client: Any, functions: Iterable[str], start_ms: int, end_ms: int) -> list[ReportLine]:
    """Every REPORT line (or platform.report record) of the functions between two epoch-millisecond
    times, from their log groups /aws/lambda/<function> (FilterLogEvents, paged)."""
    reports: list[ReportLine] = []
    for function in functions:
        for pattern in REPORT_FILTERS:
            params: dict[str, Any] = {
                "logGroupName": f"/aws/lambda/{function}",
                "startTime": start_ms,
                "endTime": end_ms,
                "filterPattern": pattern,
            }
            while True:
                try:
                    page = logs_client.filter_log_events(**params)
                except logs_client.exceptions.ResourceNotFoundException:
                    break  # the function never ran: no log group yet
                for event in page.get("events", []):
                    report = parse_report(event["message"], event["timestamp"], function)
                    if report is not None:
                        reports.append(report)
                token = page.get("nextToken")
                if not token:
                    break
                params["nextToken"] = token
    return sorted(reports, key=lambda report: report.timestamp_ms)


def report_spans(report: ReportLine) -> list[dict[str, Any]]:
    """lambda-init (cold starts) and lambda-handler spans in the tidy vocabulary, ending at the timestamp."""
    end_s = report.timestamp_ms / 1000
    handler_start = end_s - report.duration_ms / 1000
    common = {"function": report.function, "cold": report.cold, "status": 200, "source": "cloudwatch"}
    spans = []
    if report.init_ms is not None:
        spans.append({**common, "component": "lambda-init", "operation": "Init",
                      "start": handler_start - report.init_ms / 1000, "duration_ms": report.init_ms})  # fmt: skip
    spans.append(
        {
            **common,
            "component": "lambda-handler",
            "operation": "Invoke",
            "start": handler_start,
            "duration_ms": report.duration_ms,
            "billed_ms": report.billed_ms,
            "memory_mb": report.memory_mb,
            "max_memory_used_mb": report.max_memory_used_mb,
        }
    )
    return spans


def match_reports(
    records: Sequence[RequestRecord], reports: Iterable[ReportLine], *, api_url: str, tolerance_s: float = 1.0
) -> list[tuple[float, ReportLine, RequestRecord]]:
    """(distance, report, API call) pairs, each report and each call at most once; changes nothing.

    Every (report, call) pair gets a distance: 0 when the report's timestamp falls inside the call, else
    how far outside it is (up to `tolerance_s`). Pairs are taken nearest first, so a line that ended
    inside a call is never lost to one that merely ended near it (a neighbour's invoke, another flow's).
    """
    candidates = [r for r in records if r.url.startswith(api_url) and r.status is not None]
    pairs: list[tuple[float, int, int]] = []
    reports = list(reports)
    for report_index, report in enumerate(reports):
        end_s = report.timestamp_ms / 1000
        for record_index, record in enumerate(candidates):
            start, finish = record.start_s, record.start_s + record.client_ms / 1000
            distance = 0.0 if start <= end_s <= finish else min(abs(end_s - start), abs(end_s - finish))
            if distance <= tolerance_s:
                pairs.append((distance, report_index, record_index))
    used_reports: set[int] = set()
    used_records: set[int] = set()
    matches = []
    for distance, report_index, record_index in sorted(pairs):
        if report_index in used_reports or record_index in used_records:
            continue
        used_reports.add(report_index)
        used_records.add(record_index)
        matches.append((distance, reports[report_index], candidates[record_index]))
    return matches


def attach_reports(
    records: Sequence[RequestRecord], reports: Iterable[ReportLine], *, api_url: str, tolerance_s: float = 1.0
) -> int:
    """Adds each report's spans to the API call it ended in (see match_reports); returns how many."""
    matches = match_reports(records, reports, api_url=api_url, tolerance_s=tolerance_s)
    for _, report, record in matches:
        record.spans.extend(report_spans(report))
    return len(matches)


def collect_reports(
    logs_client: Any,
    functions: Sequence[str],
    records: Sequence[RequestRecord],
    *,
    api_url: str,
    wait_s: float = 30.0,
    poll_s: float = 1.0,
) -> int:
    """Waits (up to wait_s) for the REPORT lines of the flow's API calls to reach CloudWatch, attaches them.

    CloudWatch Logs shows a function's lines after a delay (seconds on AWS; the lab's runtime batches
    them briefly too). It polls until every API call has its line: inside the call, or, when the clocks
    disagree, near it and unchanged since the previous poll. Returns the number attached.
    """
    api_calls = [r for r in records if r.url.startswith(api_url) and r.status is not None]
    if not api_calls:
        return 0
    start_ms = int(min(r.start_s for r in api_calls) * 1000) - 5_000
    end_ms = int(max(r.start_s + r.client_ms / 1000 for r in api_calls) * 1000) + 5_000
    deadline = time.monotonic() + wait_s
    previous: set[str] = set()
    while True:
        reports = fetch_reports(logs_client, functions, start_ms, end_ms)
        matches = match_reports(records, reports, api_url=api_url)
        matched = {report.request_id for _, report, _ in matches}
        every_call = len(matches) == len(api_calls)
        settled = all(distance == 0 for distance, _, _ in matches) or matched == previous
        if (every_call and settled) or time.monotonic() >= deadline:
            return attach_reports(records, reports, api_url=api_url)
        previous = matched
        time.sleep(poll_s)


def add_lambda_spans_from_logs(
    lab: Any, records: Sequence[RequestRecord], api_url: str, wait_s: float = 30.0
) -> int:
    """For a flow against real AWS: the lab's functions' REPORT lines attached to `records` (see above)."""
    functions = [entry["function_name"] for entry in lab.outputs["functions"]["functions"].values()]
    return collect_reports(lab.backend.client("logs"), functions, records, api_url=api_url, wait_s=wait_s)


# AWS's AccessDenied sentence, as a function's log shows it in the ClientError it raised or logged.
ACCESS_DENIED_FILTER = '"is not authorized to perform"'


def refusals_in_logs(
    logs_client: Any, function: str, start_ms: int, end_ms: int | None = None
) -> list[AccessDenied]:
    """The AccessDenied refusals a function's log reports between two times (epoch ms), in words: the
    role, the action, the resource and what to add (dataplane/iam/explain.py). The same on AWS and offline."""
    found: list[AccessDenied] = []
    params: dict[str, Any] = {
        "logGroupName": f"/aws/lambda/{function}",
        "startTime": start_ms,
        "filterPattern": ACCESS_DENIED_FILTER,
    }
    if end_ms is not None:
        params["endTime"] = end_ms
    for page in logs_client.get_paginator("filter_log_events").paginate(**params):
        for event in page.get("events", []):
            denial = explain_access_denied(event.get("message", ""))
            if denial is not None and denial not in found:
                found.append(denial)
    return found
