"""The live latency chart: sliders for users and concurrency; each run adds a point to the chart."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from .base import Panel, button

SHOWN_COLUMNS = [
    "concurrency",
    "users",
    "requests",
    "throughput_rps",
    "cold_starts",
    "api_p50_ms",
    "api_p95_ms",
    "api_p99_ms",
]


class LatencyChart(Panel):
    """Runs the user flow with the sliders' values and draws the API percentiles against concurrency."""

    title = "latency chart"

    def __init__(self, lab: Any, *, users: int = 4, concurrency: int = 2, live: bool = True) -> None:
        super().__init__()
        self.lab = lab
        self.users = widgets.IntSlider(
            value=users, min=1, max=40, description="users", continuous_update=False
        )
        self.concurrency = widgets.IntSlider(value=concurrency, min=1, max=16, description="concurrency",
                                             continuous_update=False)  # fmt: skip
        self.image = widgets.Image(format="png")
        self.runs: list[dict[str, Any]] = []
        if live:  # moving a slider (on release) runs the flow again
            for slider in (self.users, self.concurrency):
                slider.observe(lambda _change: self.on_run(), names="value")
        self.set_status("move a slider or press run")

    def summary(self) -> pd.DataFrame:
        """One row per run so far (flow.summarize's columns)."""
        return pd.DataFrame(self.runs)

    def on_run(self) -> dict[str, Any] | None:
        from .. import flow

        users, concurrency = int(self.users.value), int(self.concurrency.value)
        result = self.run(
            f"{users} users, {concurrency} at a time",
            lambda: flow.run_flow(self.lab, users=users, concurrency=concurrency, progress=False),
        )
        if result is None:
            return None
        summary = result.summary()
        self.runs.append(summary)
        figure = flow.charts.percentiles_vs_concurrency(self.summary())
        self.image.value = figure._repr_png_() if hasattr(figure, "_repr_png_") else b""
        self.set_body(self.summary()[SHOWN_COLUMNS].round(1).to_html(index=False))
        return dict(summary)

    def build(self) -> widgets.Widget:
        controls = widgets.HBox([self.users, self.concurrency, button("run", self.on_run, "primary")])
        return widgets.VBox([controls, self.status_widget, self.image, self.body_widget])

    def text(self) -> str:
        if not self.runs:
            return f"latency chart: {self.status}"
        return f"latency chart: {self.status}\n" + self.summary()[SHOWN_COLUMNS].round(1).to_string(
            index=False
        )
