"""LoggingConfig set with plain boto3 takes effect in the data plane: the JSON log format reaches CloudWatch
Logs (read back with the logs client), in the log group it names, and a change applies without a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from shared_labs import plain_function

from serverless_lab.backends import Backend, make_backend
from serverless_lab.dataplane.service import DataPlane
from serverless_lab.flow.cloudwatch import parse_report

SOURCE = """
import logging
logging.getLogger().info("init done")
def handler(event, context):
    logging.getLogger().info("handling %s", event.get("n"))
    print("a plain line")
    return {"n": event.get("n")}
"""


@pytest.fixture(scope="module")
def backend() -> Backend:
    return make_backend("memory")


@pytest.fixture
def dataplane(backend: Backend) -> Iterator[DataPlane]:
    plane = DataPlane(backend, config_ttl_s=0.0, idle_timeout_s=60)
    yield plane
    plane.close()


def _messages(backend: Backend, group: str) -> list[str]:
    events = backend.client("logs").filter_log_events(logGroupName=group)["events"]
    # By timestamp, and within a millisecond in the order CloudWatch returns them (ingestion order): the
    # eventId is a string, and "10" sorts before "9".
    return [event["message"] for event in sorted(events, key=lambda e: e["timestamp"])]


def test_json_format_and_a_custom_group_set_with_boto3_reach_cloudwatch_logs(
    backend: Backend, dataplane: DataPlane
) -> None:
    with plain_function(
        backend, SOURCE, LoggingConfig={"LogFormat": "JSON", "LogGroup": "/workshop/shared"}
    ) as name:
        invocation = dataplane.invoke(name, {"n": 1})
        assert invocation.payload == {"n": 1}
        dataplane.flush_logs()
        messages = _messages(backend, "/workshop/shared")
        # Each event as Lambda writes it: one JSON object (or a printed line) and its newline.
        assert all(message.endswith("\n") for message in messages)
        documents = [json.loads(m) if m.startswith("{") else m.rstrip("\n") for m in messages]
        types = [d["type"] for d in documents if isinstance(d, dict) and "type" in d]
        assert types == ["platform.initStart", "platform.start", "platform.report"]
        records = [d for d in documents if isinstance(d, dict) and "message" in d]
        assert [r["message"] for r in records] == ["init done", "handling 1"]
        assert records[1]["requestId"] == invocation.request_id
        assert "a plain line" in documents
        # The flow's REPORT reader understands the JSON record too.
        report = parse_report(messages[-1], 0, name)
        assert report is not None and report.request_id == invocation.request_id and report.cold

        # Back to the text format with plain boto3: the next invoke writes START / END / REPORT lines.
        backend.client("lambda").update_function_configuration(
            FunctionName=name, LoggingConfig={"LogFormat": "Text"}
        )
        text = dataplane.invoke(name, {"n": 2})
        assert any(line.startswith("REPORT RequestId: ") for line in text.logs)
        assert not any(line.startswith("{") for line in text.logs)  # the root logger is back at WARNING


def test_a_function_without_logging_config_still_logs_to_its_own_group(
    backend: Backend, dataplane: DataPlane
) -> None:
    with plain_function(backend, SOURCE) as name:
        invocation = dataplane.invoke(name, {"n": 3})
        dataplane.flush_logs()
        assert invocation.log_group_name == f"/aws/lambda/{name}"
        assert invocation.log_stream_name.split("/")[3].startswith("[$LATEST]")
        assert any(m.startswith("START RequestId: ") for m in _messages(backend, f"/aws/lambda/{name}"))


def test_a_deleted_custom_group_is_made_again_and_the_flow_reads_json_reports(
    backend: Backend, dataplane: DataPlane
) -> None:
    import time

    from serverless_lab.flow.cloudwatch import fetch_reports

    with plain_function(
        backend, SOURCE, LoggingConfig={"LogFormat": "JSON", "LogGroup": "/workshop/again"}
    ) as name:
        dataplane.invoke(name, {"n": 1})
        dataplane.flush_logs()
        backend.client("logs").delete_log_group(logGroupName="/workshop/again")
        dataplane.invoke(name, {"n": 2})
        dataplane.flush_logs()
        # As Lambda does for a function that still exists, the group and its stream are created again.
        assert any("handling 2" in message for message in _messages(backend, "/workshop/again"))

    with plain_function(backend, SOURCE, LoggingConfig={"LogFormat": "JSON"}) as name:
        start_ms = int(time.time() * 1000) - 1000
        invocation = dataplane.invoke(name, {"n": 1})
        dataplane.flush_logs()
        reports = fetch_reports(backend.client("logs"), [name], start_ms, int(time.time() * 1000) + 1000)
        assert [report.request_id for report in reports] == [invocation.request_id]
