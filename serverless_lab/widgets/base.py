"""What every panel shares: a headless check, a status line, errors shown instead of raised, text fallback.

A panel keeps its state in plain attributes and mirrors it into ipywidgets, so its logic runs (and is
tested) without a browser: tests call the button callbacks (`on_plan()`, `on_send()`...) directly and read
`panel.text()`. Displayed in JupyterLab a panel shows its widgets; headless it prints `text()`.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import LabError

HEADLESS_VARIABLE = "SERVERLESS_LAB_HEADLESS"
# What a panel shows instead of a traceback: the lab's own errors and the AWS SDK's carry clear messages.
SHOWN_ERRORS = (LabError, ClientError, BotoCoreError)


def headless() -> bool:
    """True without a frontend able to draw widgets: $SERVERLESS_LAB_HEADLESS=1 (set by the tests and
    `nbclient` runs), plain Python, or an IPython shell that is not a kernel (a terminal)."""
    value = os.environ.get(HEADLESS_VARIABLE)
    if value is not None:
        return value.strip().lower() not in ("", "0", "false", "no")
    try:
        from IPython import get_ipython
    except ImportError:
        return True
    shell = get_ipython()
    return shell is None or getattr(shell, "kernel", None) is None


class Panel:
    """Base of the lab's panels: a title, a status line, and a body of HTML."""

    title = "panel"

    def __init__(self) -> None:
        self.status = ""
        self.ok: bool | None = None
        self.status_widget = widgets.HTML()
        self.body_widget = widgets.HTML()

    # --- state → widgets ---------------------------------------------------------------------------
    def set_status(self, text: str, ok: bool | None = None) -> None:
        self.status, self.ok = text, ok
        mark = {True: "✅ ", False: "❌ ", None: ""}[ok]
        self.status_widget.value = f"<b>{mark}{html.escape(text)}</b>"

    def set_body(self, body_html: str) -> None:
        self.body_widget.value = body_html

    def run(self, what: str, action: Callable[[], Any]) -> Any:
        """Runs one button's action: its time and outcome in the status line, a clear message on error."""
        started = time.perf_counter()
        self.set_status(f"{what}…")
        try:
            result = action()
        except SHOWN_ERRORS as error:
            self.set_status(f"{what} failed: {error}", ok=False)
            return None
        except Exception as error:  # a button is a UI boundary: say what broke in the panel, not in a log
            self.set_status(f"{what} failed: {type(error).__name__}: {error}", ok=False)
            return None
        self.set_status(f"{what}: done in {time.perf_counter() - started:.1f} s", ok=True)
        return result

    # --- display -------------------------------------------------------------------------------------
    def build(self) -> widgets.Widget:
        raise NotImplementedError

    @property
    def widget(self) -> widgets.Widget:
        if not hasattr(self, "_widget"):
            self._widget = self.build()
        return self._widget

    def text(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if headless():
            print(self.text())
        else:
            display(self.widget)


def button(description: str, callback: Callable[[], Any], style: str = "") -> widgets.Button:
    """A button that calls `callback()` (the widget argument ipywidgets passes is dropped)."""
    control = widgets.Button(description=description, button_style=style)
    control.on_click(lambda _button: callback())
    return control
