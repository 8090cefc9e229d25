"""The panels' logic without a browser: the tests press the buttons by calling their callbacks.

Labs run on the in-process `memory` backend (moto in this process, the lab's own data plane), one student
per module, so nothing here needs the moto server.
"""

from __future__ import annotations

import uuid
from typing import Any

import ipywidgets as widgets
import pytest
from shared_labs import deployed_memory_lab

from serverless_lab import Lab
from serverless_lab.errors import UsageError
from serverless_lab.widgets import (
    HEADLESS_VARIABLE,
    ApiExplorer,
    CacheInspector,
    LatencyChart,
    StepPanel,
    headless,
)
from serverless_lab.widgets.api_explorer import NO_TOKEN, TAMPERED

_RUN = uuid.uuid4().hex[:4]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return deployed_memory_lab("wid")


def fresh_lab(name: str) -> Lab:
    return Lab(backend="memory", student=f"{name}-{uuid.uuid4().hex[:6]}")


# --- headless ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("0", False), ("false", False)])
def test_headless_follows_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv(HEADLESS_VARIABLE, value)
    assert headless() is expected


def test_plain_python_is_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HEADLESS_VARIABLE, raising=False)
    assert headless() is True  # pytest is not an IPython kernel


def test_headless_display_prints_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(HEADLESS_VARIABLE, "1")
    panel = StepPanel(fresh_lab("show"), "table")
    panel._ipython_display_()
    assert "[table] table: press plan" in capsys.readouterr().out


# --- step panel -------------------------------------------------------------------------------------------


def test_step_panel_plans_applies_verifies_and_destroys() -> None:
    lab = fresh_lab("panel")
    panel = StepPanel(lab, "site")
    plan = panel.on_plan()
    assert plan and panel.ok is True and f"{len(plan)} call(s)" in panel.status
    panel.on_apply()
    assert panel.ok is True and lab.plan("site") == []
    assert "nothing to do" in panel.text()
    report = panel.on_verify()
    assert report.passed and panel.ok is True and "checks passed" in panel.status
    assert "✓ bucket" in panel.text()
    panel.on_destroy()
    assert lab.step("site").state() == "absent" and "site: absent" in panel.text()


def test_step_panel_shows_an_error_instead_of_raising() -> None:
    panel = StepPanel(fresh_lab("broken"), "cdn")
    assert panel.on_apply() is None
    assert panel.ok is False and "apply cdn failed" in panel.status and "lab.apply('site')" in panel.status
    assert "❌" in panel.status_widget.value


def test_step_panel_follows_its_step_picker(lab: Lab) -> None:
    panel = StepPanel(lab, "site")
    panel.step_picker.value = "api"
    assert panel.on_plan() == [] and panel.step == "api"
    assert isinstance(panel.widget, widgets.VBox)


# --- API explorer ---------------------------------------------------------------------------------------


def test_api_explorer_sends_as_each_user(lab: Lab) -> None:
    explorer = ApiExplorer(lab)
    call = explorer.on_send()
    assert call is not None and call.status == 200 and explorer.ok is True
    components = list(call.trace()["component"])
    assert components[:2] == ["authorizer", "lambda"] and components[-1] == "gateway"
    assert "<table>" in explorer.body_widget.value and "authorizer" in explorer.trace_widget.value
    assert "GET /items -> 200" in explorer.text()

    for user in (NO_TOKEN, TAMPERED):
        explorer.user.value = user
        call = explorer.on_send()
        assert call is not None and call.status == 401 and explorer.ok is False
        assert call.json() == {"message": "Unauthorized"}


def test_api_explorer_posts_a_body(lab: Lab) -> None:
    explorer = ApiExplorer(lab, user="grace", method="POST")
    explorer.body.value = '{"title": "From the explorer"}'
    created = explorer.on_send()
    assert created is not None and created.status == 201 and created.json()["title"] == "From the explorer"
    explorer.body.value = "{not json"
    refused = explorer.on_send()
    assert refused is not None and refused.status == 400 and "→ 400" in explorer.status
    assert isinstance(explorer.widget, widgets.VBox)
    with pytest.raises(UsageError, match=r"'nobody' is not one of the explorer's users: .*ada"):
        ApiExplorer(lab, user="nobody")


# --- cache inspector ----------------------------------------------------------------------------------------


def test_cache_inspector_shows_miss_hit_and_invalidation(lab: Lab) -> None:
    inspector = CacheInspector(lab, "/app.js")
    lab.dataplane().edge.purge(lab.outputs["cdn"]["distribution_id"])
    first, second = inspector.on_fetch(), inspector.on_fetch()
    assert first is not None and first.x_cache == "Miss from cloudfront"
    assert second is not None and second.x_cache == "Hit from cloudfront" and second.hit
    assert "/app.js" in inspector.body_widget.value and "Hit from cloudfront" in inspector.status
    assert inspector.on_invalidate() is not None and inspector.ok is True
    third = inspector.on_fetch()
    assert third is not None and third.x_cache == "Miss from cloudfront"
    assert "/app.js|" in inspector.text()
    assert isinstance(inspector.widget, widgets.VBox)


# --- latency chart ----------------------------------------------------------------------------------------------


def test_latency_chart_runs_from_the_button_and_the_sliders(lab: Lab) -> None:
    chart = LatencyChart(lab, users=2, concurrency=1)
    summary: dict[str, Any] | None = chart.on_run()
    assert summary is not None and summary["users"] == 2 and summary["error_rate"] == 0
    assert bytes(chart.image.value).startswith(b"\x89PNG")
    chart.concurrency.value = 2  # a live panel runs again when a slider moves
    assert list(chart.summary()["concurrency"]) == [1, 2]
    assert "api_p95_ms" in chart.text() and isinstance(chart.widget, widgets.VBox)
