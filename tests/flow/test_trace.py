"""The tidy tables: columns and dtypes, the Lambda span split, per-request numbers, percentiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sample_records import T0, api_record, edge_record, two_sessions

from serverless_lab.flow.records import COMPONENTS, RequestRecord
from serverless_lab.flow.trace import (
    REQUEST_COLUMNS,
    SPAN_COLUMNS,
    latency_table,
    percentiles,
    requests_frame,
    spans_frame,
)


def ms(value: float) -> object:
    """Offsets come from epoch-second floats: equal to about a microsecond."""
    return pytest.approx(value, abs=1e-3)


def test_spans_frame_has_the_documented_columns_and_dtypes() -> None:
    frame = spans_frame(two_sessions())
    assert list(frame.columns) == list(SPAN_COLUMNS)
    for column, dtype in SPAN_COLUMNS.items():
        assert str(frame[column].dtype) == dtype, column
    assert list(frame["component"].cat.categories[: len(COMPONENTS)]) == list(COMPONENTS)


def test_empty_input_gives_empty_frames_with_the_same_columns() -> None:
    assert list(spans_frame([]).columns) == list(SPAN_COLUMNS)
    assert list(requests_frame([]).columns) == list(REQUEST_COLUMNS)
    assert latency_table(spans_frame([])).empty


def test_a_cold_invoke_becomes_init_then_handler_then_its_sdk_call() -> None:
    frame = spans_frame([api_record(0, 0, T0, cold=True)])
    rows = {str(c): frame[frame["component"] == c].iloc[0] for c in frame["component"].astype(str)}
    assert set(rows) == {"client", "gateway", "authorizer", "lambda-init", "lambda-handler", "dynamodb"}
    init, handler, call = rows["lambda-init"], rows["lambda-handler"], rows["dynamodb"]
    assert init["duration_ms"] == 200.0 and bool(init["cold"]) is True
    assert init["offset_ms"] == ms(2.0)  # the lambda span starts 2 ms after the client did
    assert handler["offset_ms"] == ms(2.0 + 200.0)  # the handler runs after Init
    assert handler["duration_ms"] == 30.0 and handler["billed_ms"] == 230 and handler["memory_mb"] == 256
    assert call["operation"] == "PutItem" and call["offset_ms"] == ms(202.0 + 5.0)
    assert call["function"] == "sl-t-items" and call["status"] == 200
    assert rows["client"]["duration_ms"] == 242.0 and rows["client"]["source"] == "client"


def test_a_warm_invoke_has_no_init_row() -> None:
    frame = spans_frame([api_record(0, 0, T0, cold=False)])
    components = list(frame["component"].astype(str))
    assert "lambda-init" not in components
    assert frame.loc[frame["component"] == "lambda-handler", "cold"].tolist() == [False]


def test_a_throttled_invoke_keeps_the_status_and_the_gateways_view_of_it() -> None:
    frame = spans_frame([api_record(0, 0, T0, cold=False, status=500, lambda_status=429)])
    handler = frame[frame["component"] == "lambda-handler"].iloc[0]
    assert handler["status"] == 429 and handler["duration_ms"] == 35.0
    assert pd.isna(handler["cold"])


def test_edge_rows_carry_the_cache_state_and_misses_the_origin_fetch() -> None:
    frame = spans_frame([edge_record(0, 0, T0, cache="miss"), edge_record(0, 1, T0 + 1, cache="hit")])
    edges = frame[frame["component"] == "edge"]
    assert edges["cache"].tolist() == ["miss", "hit"]
    assert (frame["component"] == "s3-origin").sum() == 1
    clients = frame[frame["component"] == "client"]
    assert clients["cache"].tolist() == ["miss", "hit"]  # from CloudFront's X-Cache header


def test_raw_spans_of_one_request_as_decode_spans_returns_them() -> None:
    record = api_record(0, 0, T0, cold=True)
    frame = spans_frame(record.spans)
    assert set(frame["component"].astype(str)) == {
        "gateway",
        "authorizer",
        "lambda-init",
        "lambda-handler",
        "dynamodb",
    }
    assert frame["offset_ms"].min() == 0.0  # measured from the earliest span


def test_requests_frame_splits_client_time_into_server_and_network() -> None:
    frame = requests_frame(two_sessions())
    assert list(frame.columns) == list(REQUEST_COLUMNS)
    for column, dtype in REQUEST_COLUMNS.items():
        assert str(frame[column].dtype) == dtype, column
    create = frame[frame["step"] == "create"].iloc[0]
    assert create["server_ms"] == 240.0 and create["network_ms"] == ms(2.0)
    assert bool(create["cold"]) is True
    site = frame[frame["step"] == "site"]
    assert site["cache"].tolist() == ["miss", "hit"]
    assert site["path"].tolist() == ["/style.css", "/style.css"]


def test_record_path_drops_scheme_host_and_query() -> None:
    record = RequestRecord(0, 0, "list", "GET", "http://127.0.0.1:9/restapis/x/prod/_user_request_/items?limit=2",
                           T0, 1.0, 200)  # fmt: skip
    assert record.path == "/restapis/x/prod/_user_request_/items"
    assert RequestRecord(0, 0, "site", "GET", "http://h:1", T0, 1.0, 200).path == "/"
    assert RequestRecord(0, 0, "x", "GET", "http://h", T0, 1.0, None).failed


def test_percentiles_of_known_data() -> None:
    values = list(range(1, 101))  # 1..100: linear interpolation between closest ranks
    found = percentiles(values)
    assert found == {"p50": pytest.approx(50.5), "p95": pytest.approx(95.05), "p99": pytest.approx(99.01)}
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0, "p99": 7.0}
    assert percentiles([1.0, None, float("nan"), 3.0])["p50"] == 2.0  # missing values are left out
    assert all(math.isnan(v) for v in percentiles([]).values())
    # The same convention as pandas, so a learner's own quantile() agrees with the table.
    series = pd.Series(np.random.default_rng(1).exponential(10, 500))
    assert percentiles(series)["p95"] == pytest.approx(series.quantile(0.95))


def test_latency_table_splits_lambda_by_cold_and_edge_by_cache() -> None:
    records = [api_record(s, s, T0 + s, cold=(s == 0)) for s in range(5)]
    records += [edge_record(9, 10 + i, T0 + 10 + i, cache="hit" if i else "miss") for i in range(4)]
    table = latency_table(spans_frame(records))
    assert table.loc[("lambda-init", "cold"), "count"] == 1
    assert table.loc[("lambda-handler", "cold"), "count"] == 1
    assert table.loc[("lambda-handler", "warm"), "count"] == 4
    assert table.loc[("edge", "miss"), "p50_ms"] == 4.0 and table.loc[("edge", "hit"), "count"] == 3
    assert table.loc[("client", "all"), "count"] == 9
    gateway = table.loc[("gateway", "all")]
    assert gateway["p50_ms"] == 40.0 and gateway["max_ms"] == 240.0
    assert gateway["p99_ms"] == pytest.approx(np.percentile([240, 40, 40, 40, 40], 99))
    order = list(dict.fromkeys(table.index.get_level_values(0)))
    assert order == [c for c in COMPONENTS if c in order]  # rows in the order a request meets the hops
    flat = latency_table(spans_frame(records), by_phase=False)
    assert flat.loc[("lambda-handler", "all"), "count"] == 5
