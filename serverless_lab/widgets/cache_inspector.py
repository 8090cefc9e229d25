"""The cache inspector: fetch a path through the edge, invalidate it, and see what the edge holds."""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets

from ..teaching.deployed import deployed
from ..teaching.traffic import EdgeAnswer, cache_table, edge_get
from .base import Panel, button


class CacheInspector(Panel):
    """The student's distribution at the lab's edge location: X-Cache of each fetch, the cached entries."""

    title = "cache inspector"

    def __init__(self, lab: Any, path: str = "/style.css") -> None:
        super().__init__()
        self.lab = lab
        self.path = widgets.Text(value=path, description="path")
        self.answers: list[EdgeAnswer] = []
        self.invalidation_ids: list[str] = []
        self.set_status("press fetch")

    def on_fetch(self) -> EdgeAnswer | None:
        answer = self.run(f"GET {self.path.value}", lambda: edge_get(self.lab, self.path.value))
        if answer is not None:
            self.answers.append(answer)
            self.set_status(str(answer), ok=answer.status < 400)
            self.render_cache()
        return answer

    def on_invalidate(self) -> str | None:
        def invalidate() -> str:
            distribution_id = deployed(self.lab, "cdn")["distribution_id"]
            batch = {
                "Paths": {"Quantity": 1, "Items": [self.path.value]},
                "CallerReference": f"inspector-{time.time_ns()}",
            }
            answer = self.lab.backend.client("cloudfront").create_invalidation(
                DistributionId=distribution_id, InvalidationBatch=batch
            )
            self.lab.dataplane().control_plane.refresh()  # the edge sees it now, not after its config cache
            return str(answer["Invalidation"]["Id"])

        invalidation_id = self.run(f"invalidate {self.path.value}", invalidate)
        if invalidation_id is not None:
            self.invalidation_ids.append(invalidation_id)
            self.set_status(f"invalidation {invalidation_id} of {self.path.value} created", ok=True)
            self.render_cache()
        return invalidation_id

    def render_cache(self) -> None:
        history = "".join(f"<li><code>{a}</code></li>" for a in self.answers[-5:])
        self.set_body(f"<ul>{history}</ul>" + cache_table(self.lab).to_html(index=False))

    def on_refresh(self) -> None:
        self.run("read the cache", self.render_cache)

    def build(self) -> widgets.Widget:
        controls = widgets.HBox([self.path, button("fetch", self.on_fetch, "primary"),
                                 button("invalidate", self.on_invalidate, "warning"),
                                 button("refresh", self.on_refresh)])  # fmt: skip
        return widgets.VBox([controls, self.status_widget, self.body_widget])

    def text(self) -> str:
        lines = [f"cache inspector: {self.status}"] + [f"  {answer}" for answer in self.answers[-5:]]
        table = cache_table(self.lab)
        return "\n".join(
            [*lines, table.to_string(index=False) if not table.empty else "  (the edge holds nothing)"]
        )
