"""The whole flow on the memory backend, through the real HTTP server: every hop recorded, sane values.

One module-scoped stack (deployed once), two users one after the other, then the REPORT lines the local
runtime wrote to CloudWatch Logs read back as the aws backend reads them, then `serverless-lab demo`.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import pandas as pd
import pytest

from serverless_lab import Lab
from serverless_lab.flow import FLOW_STEPS, LoadResult, run_flow, trace
from serverless_lab.flow.cloudwatch import add_lambda_spans_from_logs, attach_reports, fetch_reports
from serverless_lab.flow.demo import run_demo
from serverless_lab.flow.trace import spans_frame

STUDENT = "flowtest"


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab(backend="memory", student=STUDENT)
    lab.require("api")
    return lab


@pytest.fixture(scope="module")
def flow(lab: Lab) -> LoadResult:
    return run_flow(lab, users=2, concurrency=1, progress=False)


def test_both_users_complete_every_step(flow: LoadResult) -> None:
    assert [s.completed for s in flow.sessions] == [True, True], [s.error for s in flow.sessions]
    for session in flow.sessions:
        steps = list(dict.fromkeys(r.step for r in session.requests))
        assert steps == list(FLOW_STEPS)
    requests = flow.requests
    assert not requests["error"].notna().any()
    expected = {"create": 201, "list": 200, "get": 200, "update": 200, "delete": 204}
    for step, status in expected.items():
        assert set(requests.loc[requests["step"] == step, "status"]) == {status}, step


def test_the_site_is_loaded_with_every_asset_index_html_references(flow: LoadResult) -> None:
    site = flow.requests[(flow.requests["step"] == "site") & (flow.requests["session"] == 0)]
    assert set(site["path"]) == {"/", "/favicon.svg", "/style.css", "/config.js", "/app.js"}
    assert (site["status"] == 200).all() and (site["bytes_received"] > 0).all()


def test_spans_cover_every_component_with_sane_values(flow: LoadResult) -> None:
    spans = flow.spans
    components = set(spans["component"].astype(str))
    assert {"client", "edge", "s3-origin", "cognito", "gateway", "authorizer", "lambda-init", "lambda-handler",
            "dynamodb"} <= components  # fmt: skip
    assert (spans["duration_ms"] >= 0).all()
    hops = spans[spans["component"] != "client"]
    assert (hops["source"] == "dataplane").sum() > 0
    # Every hop starts after its request did and ends (within clock noise) before the client got the answer.
    clients = spans[spans["component"] == "client"].set_index("request")["duration_ms"]
    ends = hops["offset_ms"] + hops["duration_ms"]
    assert (hops["offset_ms"] > -1.0).all()
    assert (ends <= hops["request"].map(clients) + 1.0).all()
    operations = spans[spans["component"] == "dynamodb"].groupby("step")["operation"].agg(set)
    assert operations.to_dict() == {"create": {"PutItem"}, "list": {"Query"}, "get": {"GetItem"},
                                    "update": {"UpdateItem"}, "delete": {"DeleteItem"}}  # fmt: skip
    cognito = set(spans.loc[spans["component"] == "cognito", "operation"])
    assert cognito == {"SignUp", "AdminConfirmSignUp", "InitiateAuth"}


def test_first_invoke_is_cold_and_the_later_ones_warm(flow: LoadResult) -> None:
    handler = flow.spans[flow.spans["component"] == "lambda-handler"].sort_values("start_s")
    assert handler["cold"].tolist() == [True] + [False] * (len(handler) - 1)
    init = flow.spans[flow.spans["component"] == "lambda-init"]
    assert len(init) == 1 and init["duration_ms"].iloc[0] > 0
    assert int(init["request"].iloc[0]) == int(handler["request"].iloc[0])
    assert (handler["billed_ms"] >= handler["duration_ms"].apply(int)).all()
    assert (handler["memory_mb"] > 0).all() and (handler["max_memory_used_mb"] > 0).all()


def test_an_asset_is_a_miss_for_the_first_user_and_a_hit_for_the_second(flow: LoadResult) -> None:
    edge = flow.spans[(flow.spans["component"] == "edge") & (flow.spans["operation"] == "GET /style.css")]
    assert edge.sort_values("start_s")["cache"].tolist() == ["miss", "hit"]
    origin = flow.spans[flow.spans["component"] == "s3-origin"]
    misses = flow.spans[(flow.spans["component"] == "edge") & (flow.spans["cache"] == "miss")]
    assert set(origin["request"]) == set(misses["request"])  # only a miss goes to the S3 origin


def test_trace_entry_point_returns_one_users_spans(lab: Lab) -> None:
    spans = trace(lab)
    assert set(spans["session"]) == {0}
    assert spans["cold"].dropna().eq(False).all()  # the environment of the flow above is still warm


def test_report_lines_in_cloudwatch_rebuild_the_lambda_spans(lab: Lab, flow: LoadResult) -> None:
    """The aws backend's path, run against the REPORT lines the local runtime writes to moto's logs."""
    records = copy.deepcopy(flow.records)
    for record in records:  # what an AWS flow has: client-side spans only
        record.spans = [s for s in record.spans if s["component"] not in ("lambda", "authorizer")]
        record.source = "client"
    start_ms = int(min(r.start_s for r in records) * 1000) - 1000
    end_ms = int(max(r.start_s for r in records) * 1000) + 60_000
    function = lab.outputs["functions"]["functions"]["items"]["function_name"]
    # Lines reach CloudWatch Logs in the background, after the answer (as on Lambda): wait for this flow's.
    lab.dataplane().flush_logs()
    reports = fetch_reports(lab.backend.client("logs"), [function], start_ms, end_ms)
    api_calls = [r for r in records if r.step in ("create", "list", "get", "update", "delete")]
    # This flow's lines only: a REPORT line is written before the client has its answer, and later tests
    # of this module invoke the same function (their lines may reach the logs by now too).
    flow_end_ms = max(c.start_s * 1000 + c.client_ms for c in api_calls)
    ours = [r for r in reports if r.timestamp_ms <= flow_end_ms + 1]
    assert len(ours) == len(api_calls)
    assert [r.cold for r in ours] == [True] + [False] * (len(ours) - 1)
    api_url = api_calls[0].url.split("/items")[0]
    assert attach_reports(records, ours, api_url=api_url) == len(api_calls)
    rebuilt = spans_frame(records)
    handler = rebuilt[rebuilt["component"] == "lambda-handler"]
    assert (handler["source"] == "cloudwatch").all()
    original = flow.spans[flow.spans["component"] == "lambda-handler"]
    by_step = handler.groupby("step")["billed_ms"].sum().sort_index()
    assert by_step.equals(original.groupby("step")["billed_ms"].sum().sort_index())


def test_a_fresh_session_gets_its_lambda_spans_back_from_the_logs(lab: Lab) -> None:
    """What run_flow does on the aws backend, on a session of its own (earlier sessions' lines nearby)."""
    result = run_flow(lab, users=1, progress=False)
    records = copy.deepcopy(result.records)
    for record in records:
        record.spans = [s for s in record.spans if s["component"] not in ("lambda", "authorizer")]
    api_calls = [r for r in records if r.step in ("create", "list", "get", "update", "delete")]
    api_url = api_calls[0].url.split("/items")[0]
    assert add_lambda_spans_from_logs(lab, records, api_url, wait_s=15) == len(api_calls)
    rebuilt = spans_frame(records)
    handler = rebuilt[rebuilt["component"] == "lambda-handler"].set_index("request")["billed_ms"]
    original = result.spans[result.spans["component"] == "lambda-handler"].set_index("request")["billed_ms"]
    assert handler.sort_index().equals(original.sort_index())  # each line went to its own request


def test_demo_deploys_runs_and_writes_charts_and_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(backend="memory", student=STUDENT, region="us-east-1", endpoint_url=None,
                              out=str(tmp_path / "out"), users=4, concurrency=2, keep_running=False)  # fmt: skip
    assert run_demo(args) == 0
    shown = capsys.readouterr().out
    assert "Latency per hop" in shown and "lambda-init" in shown and "cold" in shown and "hit" in shown
    assert "site (CloudFront): http://127.0.0.1:" in shown and "per million user sessions" in shown
    out = tmp_path / "out"
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 7 and all((out / name).stat().st_size > 5_000 for name in pngs)
    spans = pd.read_csv(out / "spans.csv")
    assert set(spans["run"]) == {"c=1", "c=2"}
    assert set(pd.read_csv(out / "runs.csv")["users"]) == {2, 4}
    assert pd.read_csv(out / "cost.csv")["usd"].iloc[-1] > 0
