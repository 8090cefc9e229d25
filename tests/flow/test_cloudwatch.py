"""REPORT lines (as the lab's runtime writes them, in Lambda's format) parsed and matched to API calls."""

from __future__ import annotations

import pytest
from sample_records import T0, api_record, edge_record

from serverless_lab.dataplane.lambda_.runtime.logs import report_line
from serverless_lab.flow.cloudwatch import ReportLine, attach_reports, parse_report, report_spans
from serverless_lab.flow.trace import spans_frame

API = "http://127.0.0.1:2/restapis/a/prod/_user_request_"


def report(request_id: str, end_s: float, *, init_ms: float | None = None) -> ReportLine:
    line = report_line(request_id, duration_ms=12.5, billed_ms=13 + int(init_ms or 0), memory_mb=256,
                       max_memory_used_mb=70, init_ms=init_ms)  # fmt: skip
    parsed = parse_report(line, int(end_s * 1000), "sl-t-items")
    assert parsed is not None
    return parsed


def test_report_lines_are_parsed_field_by_field() -> None:
    cold = report("8f5e-1", T0, init_ms=241.37)
    assert (cold.request_id, cold.duration_ms, cold.billed_ms, cold.memory_mb, cold.max_memory_used_mb) == (
        "8f5e-1", 12.5, 254, 256, 70,
    )  # fmt: skip
    assert cold.init_ms == 241.37 and cold.cold
    warm = report("8f5e-2", T0)
    assert warm.init_ms is None and not warm.cold
    # A line as AWS prints it, failure fields included.
    line = "\t".join(["REPORT RequestId: 3f2c", "Duration: 3000.00 ms", "Billed Duration: 3000 ms",
                      "Memory Size: 128 MB", "Max Memory Used: 50 MB", "Status: timeout"])  # fmt: skip
    parsed = parse_report(line, 0, "f")
    assert parsed is not None and parsed.duration_ms == 3000.0 and parsed.init_ms is None
    assert parse_report("START RequestId: 3f2c Version: $LATEST", 0, "f") is None


def test_report_spans_end_at_the_timestamp() -> None:
    spans = report_spans(report("r", T0 + 1, init_ms=100.0))
    init, handler = spans
    assert init["component"] == "lambda-init" and handler["component"] == "lambda-handler"
    assert handler["start"] == pytest.approx(T0 + 1 - 0.0125)
    assert init["start"] == pytest.approx(T0 + 1 - 0.0125 - 0.1)
    assert handler["source"] == "cloudwatch" and handler["billed_ms"] == 113


def test_each_report_goes_to_the_api_call_it_ended_in() -> None:
    first = api_record(0, 0, T0, cold=False)  # 42 ms from T0
    second = api_record(0, 1, T0 + 0.1, cold=False)  # 42 ms from T0 + 0.1
    site = edge_record(0, 2, T0 + 0.2, cache="hit")
    for record in (first, second):
        record.spans = [s for s in record.spans if s["component"] == "gateway"]
        record.url = API + "/items"
    # The line of the first call comes after a neighbour's line that ended just before it started.
    lines = [
        report("neighbour", T0 - 0.01),
        report("one", T0 + 0.040, init_ms=5.0),
        report("two", T0 + 0.120),
    ]
    assert attach_reports([first, second, site], lines, api_url=API) == 2
    frame = spans_frame([first, second, site])
    handlers = frame[frame["component"] == "lambda-handler"].sort_values("request")
    assert handlers["request"].tolist() == [0, 1]
    assert handlers["cold"].tolist() == [True, False]  # "one" carried Init Duration: the cold start
    assert (frame["component"] == "lambda-init").sum() == 1
    assert site.spans and all(s["component"] != "lambda-handler" for s in site.spans)


def test_a_report_far_from_every_call_is_left_out() -> None:
    record = api_record(0, 0, T0, cold=False)
    record.url = API + "/items"
    assert attach_reports([record], [report("late", T0 + 30)], api_url=API) == 0
