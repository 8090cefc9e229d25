"""What the browser tests observe, and never change: console errors, failed requests, responses, and the
CORS preflights Chromium sends, each with the answer it got. Nothing is intercepted: with a Playwright
route set, Playwright answers CORS preflights itself, which hid a Cognito route that answered them 500."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_lab import Lab

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Files index.html loads besides itself; each comes through the edge.
TIMEOUT_MS = 10_000


def in_ci() -> bool:
    """CI services (GitHub Actions, GitLab CI, ...) set CI=true; there a browser test must never skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class Preflight:
    """One CORS preflight the browser sent, and the answer it got (from Chromium's DevTools protocol)."""

    url: str
    request_headers: dict[str, str]
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    def asked(self, name: str) -> str:
        return _lower_keys(self.request_headers).get(name.lower(), "")

    def answered(self, name: str) -> str:
        return _lower_keys(self.response_headers).get(name.lower(), "")

    def passes(self) -> bool:
        """What Chromium checks: a 2xx answer allowing the origin, the method and every requested header."""
        allowed = {h.strip().lower() for h in self.answered("Access-Control-Allow-Headers").split(",")}
        requested = {h.strip().lower() for h in self.asked("Access-Control-Request-Headers").split(",") if h}
        methods = {m.strip() for m in self.answered("Access-Control-Allow-Methods").split(",")}
        return (
            self.status is not None
            and 200 <= self.status < 300
            and self.answered("Access-Control-Allow-Origin") in ("*", self.asked("Origin"))
            and self.asked("Access-Control-Request-Method") in methods
            and requested <= allowed
        )


def _lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@dataclass
class BrowserLog:
    """What the page reported: console errors, uncaught exceptions, failed requests, each response of the
    site's origin, and every CORS preflight. Observed only: nothing is intercepted or answered for the page
    (with a Playwright route set, Playwright answers preflights itself and hid a broken Cognito route)."""

    errors: list[str] = field(default_factory=list)
    responses: list[tuple[str, int, str]] = field(default_factory=list)  # (path, status, x-cache)
    requests: list[Any] = field(default_factory=list)  # Playwright's Request of each (no preflights)
    preflights: list[Preflight] = field(default_factory=list)
    site_origin: str = ""
    # Console errors a test provokes on purpose (Chromium logs every answer with an error status).
    expected_errors: tuple[str, ...] = ()
    _pending: dict[str, Preflight] = field(default_factory=dict)

    def attach(self, context: Any, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on(
            "requestfailed", lambda r: self.errors.append(f"request failed: {r.method} {r.url} {r.failure}")
        )
        page.on("response", self._record)
        page.on("request", lambda request: self.requests.append(request))
        # Playwright's page events leave preflights out (Chromium's network service sends them); the
        # DevTools protocol's Network domain reports them. Network.enable observes only.
        devtools = context.new_cdp_session(page)
        devtools.on("Network.requestWillBeSent", self._preflight_sent)
        devtools.on("Network.requestWillBeSentExtraInfo", self._preflight_sent_extra)
        devtools.on("Network.responseReceived", self._preflight_answered)
        devtools.on("Network.responseReceivedExtraInfo", self._preflight_answered_extra)
        devtools.send("Network.enable")

    def _record(self, response: Any) -> None:
        if self.site_origin and response.url.startswith(self.site_origin):
            path = "/" + response.url[len(self.site_origin) :].split("?")[0]
            self.responses.append((path, response.status, response.headers.get("x-cache", "")))

    def _preflight_sent(self, event: dict[str, Any]) -> None:
        if event["request"]["method"] == "OPTIONS":
            found = self._pending.setdefault(event["requestId"], Preflight("", {}))
            found.url = event["request"]["url"]
            found.request_headers = {**event["request"]["headers"], **found.request_headers}

    def _preflight_sent_extra(self, event: dict[str, Any]) -> None:
        # The headers as sent on the wire (Origin, Access-Control-Request-*), for preflights too.
        if "access-control-request-method" in _lower_keys(event.get("headers", {})):
            found = self._pending.setdefault(event["requestId"], Preflight("", {}))
            found.request_headers.update(event["headers"])

    def _preflight_answered(self, event: dict[str, Any]) -> None:
        self._answer(event["requestId"], event["response"]["status"], event["response"]["headers"])

    def _preflight_answered_extra(self, event: dict[str, Any]) -> None:
        self._answer(event["requestId"], event.get("statusCode"), event.get("headers", {}))

    def _answer(self, request_id: str, status: int | None, headers: dict[str, str]) -> None:
        found = self._pending.get(request_id)
        if found is None:
            return
        found.status = found.status or status
        found.response_headers.update(headers)
        if found not in self.preflights:
            self.preflights.append(found)

    def preflights_to(self, fragment: str) -> list[Preflight]:
        return [p for p in self.preflights if fragment in p.url and p.status is not None]

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.errors if not any(e in error for e in self.expected_errors)]

    def x_cache(self, path: str) -> list[str]:
        return [x_cache for seen, _status, x_cache in self.responses if seen == path]


@dataclass
class Site:
    url: str
    lab: Lab
