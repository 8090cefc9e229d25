"""The web app in a real browser: Debian's Chromium, driven headless by Playwright, through the whole stack.

    Chromium -> edge (CloudFront on loopback) -> S3 origin          the page, its scripts and styles
             -> data plane /cognito-idp/ -> moto's Cognito           sign up, confirm, sign in
             -> data plane API stage -> authorizer -> Lambda -> DynamoDB    the items

One user signs up, confirms (offline any code is accepted), signs in, adds two notes, edits one, meets a
409 after the note changed in "another tab" and loads the latest version, deletes the other note, reloads
with tokens about to expire (the page refreshes them; the static files now come from the edge's cache),
and signs out; a second user signs up and sees none of the first user's notes. Every stage leaves a
screenshot in test-artifacts/browser/; the page must log no console error but the provoked 409.

Playwright never downloads a browser here: it drives /usr/bin/chromium (`make test` installs it with apt).
In CI (CI=true) a missing or broken Chromium fails the test; elsewhere a missing one skips it.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from serverless_lab import Lab

pytestmark = pytest.mark.browser

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
STATIC_FILES = ("/app.js", "/style.css", "/favicon.svg")
TIMEOUT_MS = 10_000
TOKENS_KEY = "serverless-lab-tokens"  # where app.js keeps the tokens in sessionStorage
# Chromium logs every answer with an error status as a console error; the one 409 the flow provokes is expected.
EXPECTED_CONSOLE_ERROR = "the server responded with a status of 409 (Conflict)"


def in_ci() -> bool:
    """CI services (GitHub Actions, GitLab CI, ...) set CI=true; there a browser test must never skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class BrowserLog:
    """What the page reported: console errors, uncaught exceptions, failed requests, and each response."""

    errors: list[str] = field(default_factory=list)
    responses: list[tuple[str, int, str]] = field(default_factory=list)  # (path, status, x-cache)
    site_origin: str = ""

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on(
            "requestfailed", lambda r: self.errors.append(f"request failed: {r.method} {r.url} {r.failure}")
        )
        page.on("response", self._record)

    def _record(self, response: Any) -> None:
        if response.url.startswith(self.site_origin):
            path = "/" + response.url[len(self.site_origin) :].split("?")[0]
            self.responses.append((path, response.status, response.headers.get("x-cache", "")))

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.errors if EXPECTED_CONSOLE_ERROR not in error]

    def x_cache(self, path: str) -> list[str]:
        return [x_cache for seen, _status, x_cache in self.responses if seen == path]


@pytest.fixture(scope="module")
def site_url(local_backend: Any) -> Iterator[str]:
    """A fresh student's whole stack on the local backend (its own distribution, so a cold edge cache)."""
    lab = Lab(backend=local_backend, student=f"web-{uuid.uuid4().hex[:8]}")
    lab.apply()
    server = lab.serve()
    yield lab.site_url()
    # The data plane holds the local backend's data-plane port, which `serverless-lab serve` and the
    # notebooks' kernels (other processes) serve on: give it back. A later lab.serve() starts afresh.
    server.stop()
    local_backend.services.pop("server", None)
    lab.dataplane().flush_logs()  # the functions' last log lines, before their log groups go
    lab.destroy()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium (`make chromium` or apt-get install chromium)"
        )
        if in_ci():
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            # Present but unable to start is a broken machine, never a reason to skip.
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class WebApp:
    """One browser tab on the site, with the steps a person takes, through the page's own controls."""

    def __init__(self, browser: Any, site_url: str, screenshots: Path) -> None:
        from playwright.sync_api import expect

        self.expect = expect
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        self.log = BrowserLog(site_origin=site_url.rstrip("/") + "/")
        self.log.attach(self.page)
        # Without the browser's HTTP cache every file the page loads reaches the edge, so each response's
        # X-Cache says what CloudFront did (a browser would otherwise reuse app.js for a day, and report
        # the headers it cached with it). Playwright turns the HTTP cache off while a route is set.
        self.context.route("**/*", lambda route: route.continue_())
        self.site_url = site_url
        self.screenshots = screenshots
        self.shots = 0

    def shot(self, stage: str) -> None:
        """A screenshot of the stage reached, after checking the page reported no error on the way."""
        assert self.log.unexpected_errors() == [], stage
        self.shots += 1
        self.page.screenshot(path=str(self.screenshots / f"{self.shots:02d}-{stage}.png"), full_page=True)

    def status_is(self, pattern: str, kind: str = "success") -> None:
        status = self.page.locator("#status")
        self.expect(status).to_have_text(re.compile(pattern))
        self.expect(status).to_have_attribute("data-kind", kind)

    def open(self) -> None:
        self.page.goto(self.site_url)
        self.expect(self.page.locator("#offline-note")).to_be_visible()
        self.expect(self.page.locator("#auth-view")).to_be_visible()

    def sign_up(self, username: str, password: str) -> None:
        page = self.page
        page.fill("#signup-username", username)
        page.fill("#signup-email", f"{username}@example.com")
        page.fill("#signup-password", password)
        page.click("#signup-submit")
        self.status_is(f"Account {username} created")
        self.expect(page.locator("#confirm-form")).to_be_visible()
        self.expect(page.locator("#confirm-username")).to_have_value(username)

    def confirm(self, username: str) -> None:
        self.page.fill("#confirm-code", "123456")  # moto accepts any code, as the page says
        self.page.click("#confirm-submit")
        self.status_is(f"Account {username} confirmed")
        self.expect(self.page.locator("#signin-username")).to_have_value(username)

    def sign_in(self, username: str, password: str) -> None:
        self.page.fill("#signin-password", password)
        self.page.click("#signin-submit")
        self.expect(self.page.locator("#items-view")).to_be_visible()
        self.expect(self.page.locator("#user-name")).to_have_text(username)
        # GET /me shows the claims the authorizer passed to Lambda: the token reached the function.
        self.expect(self.page.locator("#me-claims")).to_contain_text(f'"username": "{username}"')

    def items(self) -> Any:
        return self.page.locator("#item-list li.item")

    def add(self, title: str, notes: str = "") -> None:
        before = self.items().count()
        self.page.fill("#item-title", title)
        self.page.fill("#item-notes", notes)
        self.page.press("#item-title", "Enter")  # the keyboard submits the form
        self.expect(self.items()).to_have_count(before + 1)
        self.expect(self.items().first.locator(".item-title")).to_have_text(title)
        self.status_is(f'Added "{re.escape(title)}"')

    def row(self, title: str) -> Any:
        return self.items().filter(has=self.page.locator(".item-title", has_text=title))

    def edit(self, title: str, new_title: str, new_notes: str) -> None:
        self.row(title).locator(".item-edit").click()
        self.page.fill(".item-edit-title", new_title)
        self.page.fill(".item-edit-notes", new_notes)
        self.page.click(".item-save")
        self.status_is(rf'Saved "{re.escape(new_title)}" \(version 2\)')
        self.expect(self.row(new_title)).to_have_attribute("data-version", "2")
        self.expect(self.row(new_title).locator(".item-notes")).to_have_text(new_notes)

    def tokens(self) -> dict[str, Any]:
        return dict(self.page.evaluate(f"JSON.parse(sessionStorage.getItem('{TOKENS_KEY}'))"))

    def change_elsewhere(self, title: str, **changes: Any) -> None:
        """The same user changes a note from another tab: a PUT with the page's token, outside this page."""
        row = self.row(title)
        item_id, version = row.get_attribute("data-item-id"), int(row.get_attribute("data-version") or 0)
        api_url = self.page.evaluate("window.SERVERLESS_LAB_CONFIG.apiUrl")
        request = urllib.request.Request(
            f"{api_url}/items/{item_id}",
            method="PUT",
            data=json.dumps({**changes, "version": version}).encode(),
            headers={"Authorization": self.tokens()["idToken"], "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def conflict_on_toggle(self, title: str, fresh_version: str, fresh_notes: str) -> None:
        """Ticks a note the page holds an old version of: 409, the alert, then the latest version loaded."""
        row = self.row(title)
        row.locator(".item-done").check()
        self.expect(row.locator(".item-conflict")).to_be_visible()
        self.expect(row.locator(".item-conflict")).to_contain_text("409 Conflict: Version conflict")
        self.status_is(r"Not saved: .* \(409 Conflict\)", "error")
        self.shot("conflict")
        row.locator(".item-reload").click()
        self.expect(self.row(title)).to_have_attribute("data-version", fresh_version)
        self.expect(self.row(title).locator(".item-notes")).to_have_text(fresh_notes)
        self.expect(self.row(title).locator(".item-done")).not_to_be_checked()

    def expire_tokens_soon(self) -> str:
        """Makes the page's ID token due in 5 s, as if the tab had been open for 59 minutes; returns it."""
        return str(
            self.page.evaluate(
                f"""() => {{
                    const tokens = JSON.parse(sessionStorage.getItem("{TOKENS_KEY}"));
                    tokens.expiresAt = Date.now() + 5000;
                    sessionStorage.setItem("{TOKENS_KEY}", JSON.stringify(tokens));
                    return tokens.idToken;
                }}"""
            )
        )

    def delete(self, title: str) -> None:
        before = self.items().count()
        self.row(title).locator(".item-delete").click()
        self.expect(self.items()).to_have_count(before - 1)
        self.status_is(f'Deleted "{re.escape(title)}"')

    def reload(self) -> None:
        self.log.responses.clear()
        self.page.reload()
        self.expect(self.page.locator("#items-view")).to_be_visible()  # tokens stay in sessionStorage
        self.expect(self.page.locator("#edge-cache tr.edge-entry")).to_have_count(1 + len(STATIC_FILES) + 1)

    def sign_out(self) -> None:
        self.page.click("#signout")
        self.expect(self.page.locator("#auth-view")).to_be_visible()
        self.expect(self.page.locator("#items-view")).to_be_hidden()
        self.status_is("Signed out", "info")
        assert self.page.evaluate("sessionStorage.length") == 0, "signing out forgets the tokens"

    def api_calls(self) -> list[tuple[str, str, str]]:
        """(method, path, status) of each API and Cognito call in the page's latency log, oldest first."""
        entries = self.page.locator("#latency-log li.latency-entry")
        found = [
            (entries.nth(i).get_attribute("data-method"), entries.nth(i).get_attribute("data-path"),
             entries.nth(i).get_attribute("data-status"))
            for i in range(entries.count())
        ]  # fmt: skip
        return list(reversed(found))  # type: ignore[arg-type]

    def close(self) -> None:
        self.context.close()


def test_the_whole_flow_in_chromium(browser: Any, site_url: str, screenshots: Path) -> None:
    first, second = f"u{uuid.uuid4().hex[:8]}", f"u{uuid.uuid4().hex[:8]}"
    password = "Browser1test"
    app = WebApp(browser, site_url, screenshots)
    try:
        app.open()
        app.shot("opened")
        # A fresh distribution: the edge fetched each file from S3 for this first visit.
        for path in ("/", *STATIC_FILES):
            assert app.log.x_cache(path)[:1] == ["Miss from cloudfront"], (path, app.log.responses)

        app.sign_up(first, password)
        app.shot("signed-up")
        app.confirm(first)
        app.shot("confirmed")
        app.sign_in(first, password)
        app.shot("signed-in")
        app.expect(app.page.locator("#empty-list")).to_be_visible()

        app.add("Buy milk", "two litres")
        app.add("Call Grace")
        app.shot("two-items")
        app.edit("Buy milk", "Buy oat milk", "one litre is enough")
        app.shot("edited")
        app.change_elsewhere("Buy oat milk", notes="changed in another tab")
        app.conflict_on_toggle("Buy oat milk", fresh_version="3", fresh_notes="changed in another tab")
        app.delete("Call Grace")
        app.shot("deleted")
        app.expect(app.items()).to_have_count(1)
        kept = app.row("Buy oat milk").get_attribute("data-item-id")
        # The page's latency log: every call it made, with the status the browser saw.
        calls = app.api_calls()
        for call in (("Cognito", "SignUp", "200"), ("Cognito", "ConfirmSignUp", "200"),
                     ("Cognito", "InitiateAuth", "200"), ("GET", "/items", "200"), ("GET", "/me", "200"),
                     ("POST", "/items", "201"), ("PUT", f"/items/{kept}", "200"),
                     ("PUT", f"/items/{kept}", "409")):  # fmt: skip
            assert call in calls, (call, calls)
        assert [c for c in calls if c[0] == "DELETE"] == [("DELETE", calls[-1][1], "204")], calls
        assert calls[-1][1] != f"/items/{kept}"

        # The tab was left open for almost an hour: on load the page trades its refresh token for new tokens.
        old_token = app.expire_tokens_soon()
        app.reload()
        app.status_is("Tokens refreshed with the refresh token", "info")
        refreshed = app.tokens()
        assert refreshed["idToken"] != old_token
        assert refreshed["expiresAt"] > (time.time() + 50 * 60) * 1000, (
            "a fresh ID token is valid for an hour"
        )
        app.shot("reloaded")
        app.expect(app.items()).to_have_count(1)
        app.expect(app.row("Buy oat milk")).to_have_attribute("data-version", "3")
        for path in STATIC_FILES:
            # The browser's GET on reload and the page's own HEAD check both were edge cache hits.
            assert app.log.x_cache(path) and set(app.log.x_cache(path)) == {"Hit from cloudfront"}, (
                path,
                app.log.responses,
            )
            cell = app.page.locator(f'#edge-cache tr.edge-entry[data-path="{path}"]')
            app.expect(cell).to_have_attribute("data-x-cache", "Hit from cloudfront")
        app.sign_out()
        app.shot("signed-out")

        app.sign_up(second, password)
        app.confirm(second)
        app.sign_in(second, password)
        app.expect(app.page.locator("#empty-list")).to_be_visible()
        app.expect(app.items()).to_have_count(0)
        lists = app.page.locator('#latency-log li.latency-entry[data-method="GET"][data-path="/items"]')
        listed = lists.count()
        app.page.click("#refresh-items")  # ask the API again: still nothing of the first user's
        app.expect(lists).to_have_count(listed + 1)
        app.expect(app.items()).to_have_count(0)
        assert "Buy oat milk" not in app.page.locator("#items-view").inner_text()
        app.shot("second-user")
        app.sign_out()
        assert app.log.unexpected_errors() == []
        assert len(app.log.errors) == 1, app.log.errors  # the 409, and only it
    finally:
        app.close()
    assert sorted(p.name for p in screenshots.glob("*.png")) == [
        "01-opened.png", "02-signed-up.png", "03-confirmed.png", "04-signed-in.png", "05-two-items.png",
        "06-edited.png", "07-conflict.png", "08-deleted.png", "09-reloaded.png", "10-signed-out.png",
        "11-second-user.png",
    ]  # fmt: skip
