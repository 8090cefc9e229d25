"""The step panel: plan, apply, verify and destroy one step of the stack, with its status."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .base import Panel, button


class StepPanel(Panel):
    """Buttons for one step; the last plan, report or state shown below them."""

    title = "step"

    def __init__(self, lab: Any, step: str = "site") -> None:
        super().__init__()
        self.lab = lab
        self.step_picker = widgets.Dropdown(
            options=list(lab.steps), value=lab.step(step).name, description="step"
        )
        self.result_text = ""
        self.set_status(f"{step}: press plan to see the boto3 calls")

    @property
    def step(self) -> str:
        return str(self.step_picker.value)

    def show(self, result: Any) -> None:
        self.result_text = str(result)
        self.set_body(result._repr_html_() if hasattr(result, "_repr_html_") else f"<pre>{result}</pre>")

    def on_plan(self) -> Any:
        plan = self.run(f"plan {self.step}", lambda: self.lab.plan(self.step))
        if plan is not None:
            self.show(plan)
            self.set_status(f"plan {self.step}: {len(plan)} call(s) to make", ok=True)
        return plan

    def on_apply(self) -> Any:
        outputs = self.run(f"apply {self.step}", lambda: self.lab.apply(self.step))
        if outputs is not None:
            self.show(self.lab.plan(self.step))
        return outputs

    def on_verify(self) -> Any:
        report = self.run(f"verify {self.step}", lambda: self.lab.verify(self.step))
        if report is not None:
            self.show(report)
            passed = sum(check.ok for check in report)
            self.set_status(f"verify {self.step}: {passed}/{len(report)} checks passed", ok=report.passed)
        return report

    def on_destroy(self) -> None:
        self.run(f"destroy {self.step}", lambda: self.lab.destroy(self.step))
        self.show(f"{self.step}: {self.lab.step(self.step).state()}")

    def build(self) -> widgets.Widget:
        buttons = widgets.HBox(
            [
                self.step_picker,
                button("plan", self.on_plan),
                button("apply", self.on_apply, "primary"),
                button("verify", self.on_verify, "success"),
                button("destroy", self.on_destroy, "danger"),
            ]
        )
        return widgets.VBox([buttons, self.status_widget, self.body_widget])

    def text(self) -> str:
        return "\n".join(filter(None, [f"[{self.step}] {self.status}", self.result_text]))
