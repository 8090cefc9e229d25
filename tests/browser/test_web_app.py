"""The web app in a real browser: Debian's Chromium, driven headless by Playwright, through the whole stack.

    Chromium -> edge (CloudFront on loopback) -> S3 origin          the page, its scripts and styles
             -> data plane /cognito-idp/ -> moto's Cognito           sign up, confirm, sign in
             -> data plane API stage -> authorizer -> Lambda -> DynamoDB    the items

The browser is driven as a person's: no request is intercepted or answered for the page (no Playwright
route: with one set, Playwright answers CORS preflights itself, which hid a Cognito route that answered
them 500). The test only observes: console errors, failed requests, the responses, and every preflight
with its answer (through the DevTools protocol), each of which must pass Chromium's CORS check.

One user signs up, confirms (offline any code is accepted), signs in, adds two notes, edits one, meets a
409 after the note changed in "another tab" and loads the latest version, deletes the other note (it asks
first; Undo brings it back as a new note), sees a cold start labelled after the function's environments
were replaced, reloads with tokens about to expire (the page refreshes them; the static files now come
from the browser's cache), and signs out, which also clears the latency log. A second user, on a 390 px
phone, signs up, sees none of the first user's notes and no page wider than the screen, and is signed out
by the page when the API answers 401 to a spoiled token. Every stage leaves a screenshot in
test-artifacts/browser/; the page must log no console error but the provoked 409 and 401.

Playwright never downloads a browser here: it drives /usr/bin/chromium (`make test` installs it with apt;
conftest.py: in CI, CI=true, a missing or broken Chromium fails the test; elsewhere a missing one skips it).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from browser.observing import TIMEOUT_MS, BrowserLog, Site
from serverless_lab import Lab

pytestmark = pytest.mark.browser

STATIC_FILES = ("/app.js", "/style.css", "/favicon.svg")
TOKENS_KEY = "serverless-lab-tokens"  # where app.js keeps the tokens in sessionStorage
PHONE = {"width": 390, "height": 844}
# Chromium logs every answer with an error status as a console error; the flow provokes one 409 (a note
# changed in another tab) and one 401 (a spoiled token), and expects them.
EXPECTED_CONSOLE_ERRORS = (
    "the server responded with a status of 409 (Conflict)",
    "the server responded with a status of 401 (Unauthorized)",
)


class WebApp:
    """One browser tab on the site, with the steps a person takes, through the page's own controls.

    A new browser context is a new browser profile: its own HTTP cache, sessionStorage and preflight cache.
    With `phone`, the viewport is a 390 x 844 phone's, and every screenshot first checks that the page is
    no wider than the screen (nothing to scroll sideways)."""

    def __init__(self, browser: Any, site_url: str, screenshots: Path, *, phone: bool = False) -> None:
        from playwright.sync_api import expect

        self.expect = expect
        options: dict[str, Any] = (
            {"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
            if phone
            else {}
        )
        self.phone = phone
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        self.log = BrowserLog(site_origin=site_url.rstrip("/") + "/", expected_errors=EXPECTED_CONSOLE_ERRORS)
        self.log.attach(self.context, self.page)
        self.site_url = site_url
        self.screenshots = screenshots
        self.shots = 0

    def shot(self, stage: str) -> None:
        """A screenshot of the stage reached, after checking the page reported no error on the way."""
        assert self.log.unexpected_errors() == [], stage
        if self.phone:
            assert self.page_width() <= PHONE["width"], (stage, self.page_width(), self.widest_elements())
        self.shots += 1
        self.page.screenshot(path=str(self.screenshots / f"{self.shots:02d}-{stage}.png"), full_page=True)

    def page_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def widest_elements(self) -> list[str]:
        """What sticks out past the viewport, to name in a failure."""
        return list(
            self.page.evaluate(
                """(width) => [...document.querySelectorAll("body *")]
                    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
                    .slice(-5).map((e) => `${e.tagName}#${e.id}.${e.className}`)""",
                PHONE["width"],
            )
        )

    def status_is(self, pattern: str, kind: str = "success") -> None:
        status = self.page.locator("#status")
        self.expect(status).to_have_text(re.compile(pattern))
        self.expect(status).to_have_attribute("data-kind", kind)

    def open(self) -> None:
        self.page.goto(self.site_url)
        self.expect(self.page.locator("#offline-note")).to_be_visible()
        self.expect(self.page.locator("#auth-view")).to_be_visible()
        self.expect(self.edge_rows()).to_have_count(1 + len(STATIC_FILES) + 1)

    def edge_rows(self) -> Any:
        return self.page.locator("#edge-cache tr.edge-entry")

    def edge_row(self, path: str) -> Any:
        return self.page.locator(f'#edge-cache tr.edge-entry[data-path="{path}"]')

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

    def spoil_token(self) -> None:
        """The ID token goes bad while the page holds it (a signature that no longer matches)."""
        self.page.evaluate(
            f"""() => {{
                const tokens = JSON.parse(sessionStorage.getItem("{TOKENS_KEY}"));
                tokens.idToken = tokens.idToken.slice(0, -4) + "AAAA";
                sessionStorage.setItem("{TOKENS_KEY}", JSON.stringify(tokens));
            }}"""
        )

    def delete_asks_first(self, title: str) -> None:
        """Delete asks in the row; Keep (the default, and Escape) leaves the note as it was."""
        before = self.items().count()
        self.row(title).locator(".item-delete").click()
        confirm = self.row(title).locator(".item-confirm")
        self.expect(confirm).to_be_visible()
        self.expect(confirm).to_contain_text("Delete this note?")
        self.expect(confirm.locator(".item-keep")).to_be_focused()
        self.shot("delete-asks")
        confirm.locator(".item-keep").click()
        self.expect(self.row(title).locator(".item-confirm")).to_have_count(0)
        self.expect(self.row(title).locator(".item-delete")).to_be_focused()
        self.row(title).locator(".item-delete").click()
        self.page.keyboard.press("Escape")
        self.expect(self.row(title).locator(".item-delete")).to_be_visible()
        self.expect(self.items()).to_have_count(before)

    def delete(self, title: str) -> None:
        before = self.items().count()
        self.row(title).locator(".item-delete").click()
        self.row(title).locator(".item-confirm-delete").click()
        self.expect(self.items()).to_have_count(before - 1)
        self.status_is(f'Deleted "{re.escape(title)}"')
        self.expect(self.page.locator("#undo-bar")).to_be_visible()
        self.expect(self.page.locator("#undo-text")).to_have_text(f'"{title}" was deleted.')

    def undo(self, title: str) -> None:
        """Undo re-creates the deleted note through the API: a new id, version 1, at the top."""
        before = self.items().count()
        self.page.click("#undo-delete")
        self.expect(self.items()).to_have_count(before + 1)
        self.status_is(rf'Restored "{re.escape(title)}" as a new note \(version 1\)')
        self.expect(self.items().first.locator(".item-title")).to_have_text(title)
        self.expect(self.page.locator("#undo-bar")).to_be_hidden()

    def reload(self) -> None:
        self.log.responses.clear()
        self.page.reload()
        self.expect(self.page.locator("#items-view")).to_be_visible()  # tokens stay in sessionStorage
        self.expect(self.edge_rows()).to_have_count(1 + len(STATIC_FILES) + 1)

    def sign_out(self) -> None:
        self.page.click("#signout")
        self.expect(self.page.locator("#auth-view")).to_be_visible()
        self.expect(self.page.locator("#items-view")).to_be_hidden()
        self.status_is("Signed out", "info")
        assert self.page.evaluate("sessionStorage.length") == 0, "signing out forgets the tokens"
        # The next person at this browser does not see which calls the previous user made.
        self.expect(self.page.locator("#latency-log li")).to_have_count(0)

    def latency_entries(self) -> Any:
        return self.page.locator("#latency-log li.latency-entry")

    def api_calls(self) -> list[tuple[str, str, str]]:
        """(method, path, status) of each API and Cognito call in the page's latency log, oldest first."""
        entries = self.latency_entries()
        found = [
            (entries.nth(i).get_attribute("data-method"), entries.nth(i).get_attribute("data-path"),
             entries.nth(i).get_attribute("data-status"))
            for i in range(entries.count())
        ]  # fmt: skip
        return list(reversed(found))  # type: ignore[arg-type]

    def close(self) -> None:
        self.context.close()


def new_execution_environments(lab: Lab, function: str) -> None:
    """A configuration change (here an environment variable) retires the function's environments, as
    on Lambda: its next invoke is a cold start. Waits out the data plane's configuration cache (1 s)."""
    lambda_client = lab.backend.client("lambda")
    name = lab.function_name(function)
    variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "DEPLOYED_AT": str(time.time())}}
    )
    time.sleep(1.5)


def assert_preflights_passed(
    log: BrowserLog, api_url: str, cognito_url: str, api_calls: set[tuple[str, str]]
) -> None:
    """Every cross-origin call was preflighted, and the lab answered each preflight as Chromium requires:
    Cognito's as Cognito does, the API's from its MOCK OPTIONS methods."""
    failing = [p for p in log.preflights if not p.passes()]
    assert failing == [], failing
    (cognito, *_more) = log.preflights_to(cognito_url)  # Max-Age: later calls reuse the first preflight
    assert cognito.status == 200
    assert cognito.asked("Access-Control-Request-Headers") == "content-type,x-amz-target"
    assert cognito.answered("Access-Control-Allow-Origin") == "*"
    assert cognito.answered("Access-Control-Allow-Headers") == "content-type,x-amz-target"
    assert cognito.answered("Access-Control-Allow-Methods") == "POST"
    assert cognito.answered("Access-Control-Max-Age") == "172800"
    api = log.preflights_to(api_url)
    asked = {
        (resource(p.url.split("/_user_request_")[1]), p.asked("Access-Control-Request-Method")) for p in api
    }
    assert api_calls <= asked, asked
    assert all(p.status == 200 and p.answered("Access-Control-Allow-Origin") == "*" for p in api)


def resource(path: str) -> str:
    """The API resource a path is of: /items?limit=20 -> /items, /items/1717-ab -> /items/{id}."""
    path = path.split("?")[0]
    return "/items/{id}" if path.startswith("/items/") else path


def test_the_whole_flow_in_chromium(browser: Any, site: Site, screenshots: Path) -> None:
    first, second = f"u{uuid.uuid4().hex[:8]}", f"u{uuid.uuid4().hex[:8]}"
    password = "Browser1test"
    app = WebApp(browser, site.url, screenshots)
    try:
        app.open()
        app.shot("opened")
        # A fresh distribution: the edge fetched each file from S3 for this first visit...
        for path in ("/", *STATIC_FILES):
            assert app.log.x_cache(path)[:1] == ["Miss from cloudfront"], (path, app.log.responses)
        # ... and the page's table says the load came from the network; the Hit in it is the X-Cache of the
        # HEAD sent after the load, which found what the load put in the edge's cache.
        for path in ("/", *STATIC_FILES, "/config.js"):
            app.expect(app.edge_row(path)).to_have_attribute("data-load", "network")
            app.expect(app.edge_row(path).locator("td").nth(1)).to_have_text(re.compile(r"^network, \d+ ms$"))
        app.expect(app.page.locator("#edge-cache thead")).to_contain_text("HEAD now: X-Cache")

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
        app.delete_asks_first("Call Grace")
        app.delete("Call Grace")
        app.shot("deleted")
        app.undo("Call Grace")
        app.shot("undone")
        app.delete("Call Grace")
        app.expect(app.items()).to_have_count(1)
        kept = app.row("Buy oat milk").get_attribute("data-item-id")
        # The page's latency log: every call it made, with the status the browser saw.
        calls = app.api_calls()
        for call in (("Cognito", "SignUp", "200"), ("Cognito", "ConfirmSignUp", "200"),
                     ("Cognito", "InitiateAuth", "200"), ("GET", "/items", "200"), ("GET", "/me", "200"),
                     ("POST", "/items", "201"), ("PUT", f"/items/{kept}", "200"),
                     ("PUT", f"/items/{kept}", "409")):  # fmt: skip
            assert call in calls, (call, calls)
        deletes = [c for c in calls if c[0] == "DELETE"]
        assert [status for _m, _p, status in deletes] == ["204", "204"], calls
        assert deletes[0][1] != deletes[1][1], "the note Undo brought back has a new id"
        assert f"/items/{kept}" not in {path for _m, path, _s in deletes}

        # A cold start is labelled: the function's environments are retired, so the next list is cold.
        new_execution_environments(site.lab, "items")
        lists = app.page.locator('#latency-log li.latency-entry[data-method="GET"][data-path="/items"]')
        for cold in ("true", "false"):
            listed = lists.count()
            app.page.click("#refresh-items")
            app.expect(lists).to_have_count(listed + 1)
            app.expect(lists.first).to_have_attribute("data-cold", cold)
            app.expect(lists.first.locator(".cold-start")).to_have_count(1 if cold == "true" else 0)
        app.shot("cold-start")

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
        # On reload the static files (Cache-Control max-age one day) come from the browser's own cache,
        # and the edge, asked again with a HEAD, still has them.
        for path in STATIC_FILES:
            app.expect(app.edge_row(path)).to_have_attribute("data-load", "browser cache")
            app.expect(app.edge_row(path)).to_have_attribute("data-x-cache", "Hit from cloudfront")
        app.sign_out()
        app.shot("signed-out")
        every_call = {("/items", "GET"), ("/items", "POST"), ("/items/{id}", "PUT"), ("/items/{id}", "DELETE"),
                      ("/me", "GET")}  # fmt: skip
        assert_preflights_passed(app.log, site.lab.outputs["api"]["url"], "/cognito-idp/", every_call)
        assert app.log.unexpected_errors() == []
        assert len(app.log.errors) == 1, app.log.errors  # the 409, and only it
    finally:
        app.close()

    # Someone else, on a phone: a new browser, nothing of the first user's, nothing wider than the screen.
    phone = WebApp(browser, site.url, screenshots, phone=True)
    phone.shots = app.shots
    try:
        phone.open()
        phone.shot("phone-opened")
        phone.sign_up(second, password)
        phone.confirm(second)
        phone.sign_in(second, password)
        phone.expect(phone.page.locator("#empty-list")).to_be_visible()
        phone.expect(phone.items()).to_have_count(0)
        lists = phone.page.locator('#latency-log li.latency-entry[data-method="GET"][data-path="/items"]')
        listed = lists.count()
        phone.page.click("#refresh-items")  # ask the API again: still nothing of the first user's
        phone.expect(lists).to_have_count(listed + 1)
        phone.expect(phone.items()).to_have_count(0)
        assert "Buy oat milk" not in phone.page.locator("#items-view").inner_text()
        phone.add("A-title-without-any-space-that-is-far-longer-than-a-phone-screen-is-wide", "notes")
        phone.shot("phone-signed-in")
        # The ID token goes bad: API Gateway's 401 carries CORS headers (its gateway responses), so the
        # page can read it and signs the user out with the reason, instead of failing to fetch.
        phone.spoil_token()
        phone.page.click("#refresh-items")
        phone.status_is(r"The API rejected your token \(401 Unauthorized\)", "info")
        phone.expect(phone.page.locator("#auth-view")).to_be_visible()
        phone.shot("phone-token-rejected")
        calls = {("/items", "GET"), ("/items", "POST"), ("/me", "GET")}
        assert_preflights_passed(phone.log, site.lab.outputs["api"]["url"], "/cognito-idp/", calls)
        assert phone.log.unexpected_errors() == []
        assert len(phone.log.errors) == 1, phone.log.errors  # the 401, and only it
    finally:
        phone.close()
    assert sorted(p.name for p in screenshots.glob("*.png")) == [
        "01-opened.png", "02-signed-up.png", "03-confirmed.png", "04-signed-in.png", "05-two-items.png",
        "06-edited.png", "07-conflict.png", "08-delete-asks.png", "09-deleted.png", "10-undone.png",
        "11-cold-start.png", "12-reloaded.png", "13-signed-out.png", "14-phone-opened.png",
        "15-phone-signed-in.png", "16-phone-token-rejected.png",
    ]  # fmt: skip
