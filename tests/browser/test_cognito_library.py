"""A real Cognito client library from npm in Chromium, against the lab's Cognito route and API.

amazon-cognito-identity-js (Apache-2.0; the Cognito part of Amplify JS) ships a UMD build that runs in a
page without a bundler: tests/browser/js/package.json pins it and `make test` installs it with `npm ci`
(package-lock.json holds its integrity hashes). The AWS SDK v3 client (@aws-sdk/client-cognito-identity-
provider) ships only modules for a bundler, so it cannot run here as it ships.

The page (tests/browser/js/cognito-library.html) is served from a loopback port of its own, another origin
than the data plane's, as the site is. With the site's config.js values it signs a user up, confirms them,
signs in with the library's default flow, USER_SRP_AUTH (the password never leaves the page; the lab's
moto mend makes moto check it), is refused for a wrong password with Cognito's error, signs in with the
site's USER_PASSWORD_AUTH, refreshes its session, and calls GET /me with the library's ID token. Its
requests carry more headers than the site's (X-Amz-User-Agent, Cache-Control): the preflight asks for them
and the lab allows exactly those, as Cognito does.
"""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.observing import TIMEOUT_MS, BrowserLog, Site, in_ci
from serverless_lab.steps.site_config import parse_config_js

pytestmark = pytest.mark.browser

JS = Path(__file__).resolve().parent / "js"
LIBRARY = JS / "node_modules" / "amazon-cognito-identity-js" / "dist" / "amazon-cognito-identity.min.js"
PASSWORD = "Library1test"
# The refused sign-in is an answer with an error status, which Chromium logs as a console error.
EXPECTED_CONSOLE_ERRORS = ("the server responded with a status of 400 (Bad Request)",)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """tests/browser/js on a loopback port of its own: the page and the installed library."""
    if not LIBRARY.exists():
        reason = f"{LIBRARY} is missing: `make test` installs it (cd {JS} && npm ci)"
        if in_ci():
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(JS))
    )
    threading.Thread(target=server.serve_forever, name="library-page", daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cognito-library.html"
    server.shutdown()
    server.server_close()


def test_amazon_cognito_identity_js_signs_in_with_srp_against_the_lab(
    browser: Any, site: Site, page_url: str
) -> None:
    with urllib.request.urlopen(site.url.rstrip("/") + "/config.js", timeout=10) as answer:
        config = parse_config_js(answer.read().decode())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        log = BrowserLog(expected_errors=EXPECTED_CONSOLE_ERRORS)
        log.attach(context, page)
        page.goto(page_url)
        exports = page.evaluate("lab.exports()")
        assert {"AuthenticationDetails", "CognitoUser", "CognitoUserPool", "CognitoUserAttribute"} <= set(
            exports
        )
        page.evaluate("(config) => { window.CONFIG = config; }", config)
        username = f"lib{uuid.uuid4().hex[:8]}"

        def run(call: str) -> Any:
            return page.evaluate(call)

        def refusal(call: str) -> str:
            return str(page.evaluate(f"{call}.then(() => 'no error', (error) => String(error))"))

        assert run(f"lab.signUp('{username}', '{PASSWORD}', '{username}@example.com')") == {
            "userConfirmed": False
        }
        assert refusal(f"lab.signIn('{username}', '{PASSWORD}')").startswith("UserNotConfirmedException")
        assert run(f"lab.confirm('{username}', '123456')") == "SUCCESS"  # moto accepts any code
        assert refusal(f"lab.signIn('{username}', 'Wrong-passw0rd')") == (
            "NotAuthorizedException: Incorrect username or password."
        )
        assert run(f"lab.signIn('{username}', '{PASSWORD}')") == {
            "flow": "USER_SRP_AUTH",
            "valid": True,
            "username": username,
        }
        assert run(f"lab.signIn('{username}', '{PASSWORD}', 'USER_PASSWORD_AUTH')")["valid"] is True
        assert run("lab.refresh()") == {"valid": True, "newIdToken": True}
        me = run("lab.me()")
        assert me["status"] == 200 and me["body"]["username"] == username  # the authorizer took its token

        targets = [request.headers.get("x-amz-target", "").rsplit(".", 1)[-1] for request in log.requests]
        assert {"SignUp", "ConfirmSignUp", "InitiateAuth", "RespondToAuthChallenge"} <= set(targets), targets
        (preflight, *_cached) = log.preflights_to("/cognito-idp/")
        asked = "cache-control,content-type,x-amz-target,x-amz-user-agent"
        assert preflight.asked("Access-Control-Request-Headers") == asked
        assert preflight.status == 200 and preflight.answered("Access-Control-Allow-Headers") == asked
        assert all(p.passes() for p in log.preflights), log.preflights
        assert log.unexpected_errors() == []
        assert len(log.errors) == 2, log.errors  # the unconfirmed and the wrong-password sign-ins
    finally:
        context.close()
