"""The API explorer: pick a user, a method, a path and a body; see the answer, its headers and its trace."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets

from ..errors import UsageError
from ..teaching.identity import sample_users, sign_in, tamper_token
from ..teaching.traffic import ApiCall, call_api
from .base import Panel, button

NO_TOKEN = "(no token)"
TAMPERED = "(ada, tampered)"
METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS")


class ApiExplorer(Panel):
    """Requests to the student's API stage through the lab's API Gateway, in-process."""

    title = "API explorer"

    def __init__(self, lab: Any, *, user: str = "ada", method: str = "GET", path: str = "/items") -> None:
        super().__init__()
        self.lab = lab
        users = [u["username"] for u in sample_users(lab.root)]
        options = [NO_TOKEN, *users, TAMPERED]
        if user not in options:  # the Dropdown's own TraitError names neither the field nor the choices
            raise UsageError(f"user={user!r} is not one of the explorer's users: {', '.join(options)}.")
        self.user = widgets.Dropdown(options=options, value=user, description="user")
        self.method = widgets.Dropdown(options=list(METHODS), value=method, description="method")
        self.path = widgets.Text(value=path, description="path")
        self.body = widgets.Textarea(value="", placeholder='{"title": "Buy milk"}', description="body")
        self.trace_widget = widgets.HTML()
        self.last: ApiCall | None = None
        self._tokens: dict[str, str] = {}
        self.set_status("press send")

    def token_for(self, user: str) -> str | None:
        """The ID token of a sample user (signed in once per panel); a tampered one; or none."""
        if user == NO_TOKEN:
            return None
        if user == TAMPERED:
            return tamper_token(self.token_for("ada") or "", **{"cognito:username": "grace"})
        if user not in self._tokens:
            self._tokens[user] = sign_in(self.lab, user).id_token
        return self._tokens[user]

    def on_send(self) -> ApiCall | None:
        body: Any = self.body.value.strip() or None
        call = self.run(
            f"{self.method.value} {self.path.value}",
            lambda: call_api(
                self.lab, self.method.value, self.path.value, token=self.token_for(self.user.value), body=body
            ),
        )
        if call is None:
            return None
        self.last = call
        self.set_status(f"{call.request.method} {call.request.path} → {call.status}", ok=call.status < 400)
        headers = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in call.response.headers
        )
        self.set_body(f"<table>{headers}</table><pre>{html.escape(pretty(call.text))}</pre>")
        self.trace_widget.value = call.trace().to_html(index=False)
        return call

    def build(self) -> widgets.Widget:
        request = widgets.VBox([widgets.HBox([self.user, self.method]), self.path, self.body,
                                button("send", self.on_send, "primary")])  # fmt: skip
        tabs = widgets.Tab(children=[self.body_widget, self.trace_widget])
        tabs.titles = ("response", "trace")
        return widgets.VBox([request, self.status_widget, tabs])

    def text(self) -> str:
        if self.last is None:
            return f"API explorer: {self.status}"
        return f"{self.last}\n\n{self.last.trace().to_string(index=False)}"


def pretty(text: str) -> str:
    """JSON indented for reading; anything else as it came."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text
