"""ipywidgets panels for the notebooks; each falls back to text when there is no frontend to draw it.

    from serverless_lab.widgets import StepPanel, ApiExplorer, LatencyChart, CacheInspector
    StepPanel(lab, "table")        # plan / apply / verify / destroy buttons with a status line
    ApiExplorer(lab)               # user, method, path, body → response, headers, trace
    LatencyChart(lab)              # sliders for users and concurrency → percentiles against concurrency
    CacheInspector(lab)            # fetch / invalidate a path, and what the edge holds

Set SERVERLESS_LAB_HEADLESS=1 to force the text fallback (tests and nbclient runs do).
"""

from __future__ import annotations

from .api_explorer import ApiExplorer
from .base import HEADLESS_VARIABLE, Panel, headless
from .cache_inspector import CacheInspector
from .latency_chart import LatencyChart
from .step_panel import StepPanel

__all__ = [
    "HEADLESS_VARIABLE",
    "ApiExplorer",
    "CacheInspector",
    "LatencyChart",
    "Panel",
    "StepPanel",
    "headless",
]
