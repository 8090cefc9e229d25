"""The cost model: the price file, what is measured from spans, the arithmetic per million sessions."""

from __future__ import annotations

import json
import re

import pytest
from sample_records import T0, api_record, edge_record, two_sessions

from serverless_lab.errors import UsageError
from serverless_lab.flow.cost import (
    PRICES_FILE,
    Workload,
    cost_by_service,
    cost_table,
    load_prices,
    measure_workload,
)
from serverless_lab.flow.trace import spans_frame


def test_every_price_names_its_source_page_and_date() -> None:
    document = json.loads(PRICES_FILE.read_text())
    assert document["region"] == "us-east-1" and document["as_of"]
    assert "check" in document["note"].lower()
    for key, price in document["prices"].items():
        assert price["source"].startswith("https://aws.amazon.com/"), key
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", price["date"]), key
        assert price["usd"] > 0 and price["per"] > 0, key
    prices = load_prices()
    # The figures the lab teaches with (checked by hand against the pricing pages on the date given).
    assert prices["lambda_requests"].cost(1_000_000) == pytest.approx(0.20)
    assert prices["dynamodb_write_request_units"].cost(1_000_000) == pytest.approx(0.625)
    assert prices["dynamodb_read_request_units"].cost(1_000_000) == pytest.approx(0.125)
    assert prices["apigateway_rest_requests"].cost(1_000_000) == pytest.approx(3.50)


def test_workload_is_measured_per_session_from_the_spans() -> None:
    workload = measure_workload(spans_frame(two_sessions()))
    assert workload.sessions == 2
    assert workload.lambda_requests == 1.0  # two invokes over two sessions
    # billed 230 ms (cold, init billed) + 30 ms, at 256 MB: (0.230 + 0.030) * 0.25 GB-s over two sessions
    assert workload.lambda_gb_seconds == pytest.approx((0.230 + 0.030) * 0.25 / 2)
    assert workload.api_requests == 1.0
    assert workload.dynamodb_write_units == 0.5  # one PutItem
    assert workload.dynamodb_read_units == 0.25  # one eventually consistent GetItem: half a unit
    assert workload.edge_requests == 1.0 and workload.origin_requests == 0.5
    assert (
        workload.edge_bytes_out == 1000.0 and workload.api_bytes_out == 200.0
    )  # Cognito's bytes are not billed here


def test_cost_arithmetic_on_a_known_workload() -> None:
    workload = Workload(sessions=10, lambda_requests=5, lambda_gb_seconds=0.1, api_requests=5, api_bytes_out=0,
                        dynamodb_read_units=2, dynamodb_write_units=3, edge_requests=10,
                        edge_bytes_out=1024**3 / 1_000_000, origin_requests=1)  # fmt: skip
    table = cost_table(workload, sessions=1_000_000)
    usd = dict(zip(table["price"], table["usd"], strict=True))
    assert usd["lambda_requests"] == pytest.approx(5 * 0.20)  # 5 M Lambda requests
    assert usd["lambda_gb_seconds_x86"] == pytest.approx(100_000 * 0.0000166667)
    assert usd["apigateway_rest_requests"] == pytest.approx(5 * 3.50)
    assert usd["dynamodb_read_request_units"] == pytest.approx(2 * 0.125)
    assert usd["dynamodb_write_request_units"] == pytest.approx(3 * 0.625)
    assert usd["cloudfront_https_requests"] == pytest.approx(10_000_000 / 10_000 * 0.01)
    assert usd["cloudfront_transfer_out_gb"] == pytest.approx(
        1 * 0.085
    )  # exactly 1 GB over a million sessions
    assert usd["s3_get_requests"] == pytest.approx(1_000 * 0.0004)
    assert usd["cognito_mau_essentials"] == pytest.approx(1_000_000 * 0.015)
    assert usd["data_transfer_out_gb"] == 0.0
    lambda_row = table[table["price"] == "lambda_requests"].iloc[0]
    assert (
        lambda_row["usd_per_unit_block"] == "$0.2 per 1,000,000 requests"
        and lambda_row["quantity"] == 5_000_000
    )
    total = table[table["service"] == "total"]["usd"].iloc[0]
    assert total == pytest.approx(sum(v for k, v in usd.items() if isinstance(k, str)))
    assert table[table["service"] != "total"]["share"].sum() == pytest.approx(1.0)


def test_options_change_the_lines_they_name() -> None:
    workload = measure_workload(spans_frame(two_sessions()))
    base = cost_by_service(cost_table(workload))
    lite = cost_by_service(cost_table(workload, cognito_plan="lite", sessions_per_user=10))
    assert lite["Amazon Cognito"] == pytest.approx(100_000 * 0.0055)
    assert base["Amazon Cognito"] == pytest.approx(1_000_000 * 0.015)
    arm = cost_by_service(cost_table(workload, architecture="arm"))
    assert arm["AWS Lambda"] < base["AWS Lambda"]
    assert lite.drop("Amazon Cognito").equals(base.drop("Amazon Cognito"))
    half = cost_by_service(cost_table(workload, sessions=500_000))
    assert half["Amazon DynamoDB"] == pytest.approx(base["Amazon DynamoDB"] / 2)


def test_bad_options_and_empty_spans_are_refused_with_the_fix() -> None:
    workload = measure_workload(
        spans_frame([api_record(0, 0, T0, cold=False), edge_record(0, 1, T0, cache="hit")])
    )
    with pytest.raises(UsageError, match="essentials"):
        cost_table(workload, cognito_plan="plus-ultra")
    with pytest.raises(UsageError, match="x86"):
        cost_table(workload, architecture="sparc")
    with pytest.raises(UsageError, match="positive"):
        cost_table(workload, sessions_per_user=0)
    with pytest.raises(UsageError, match="run the flow first"):
        measure_workload(spans_frame([]))
