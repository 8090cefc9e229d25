"""The browser tests' fixtures: Debian's Chromium (never a downloaded browser) and one student's whole stack
on the local backend, shared by the browser tests (each signs up users of its own) and torn down after the last of them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.observing import CHROMIUM, CHROMIUM_ARGS, Site, in_ci
from serverless_lab import Lab


@pytest.fixture(scope="package")
def site(local_backend: Any) -> Iterator[Site]:
    """A fresh student's whole stack on the local backend (its own distribution, so a cold edge cache)."""
    lab = Lab(backend=local_backend, student=f"web-{uuid.uuid4().hex[:8]}")
    lab.apply()
    server = lab.serve()
    yield Site(lab.site_url(), lab)
    # The data plane holds the local backend's data-plane port, which `serverless-lab serve` and the
    # notebooks' kernels (other processes) serve on: give it back. A later lab.serve() starts afresh.
    server.stop()
    local_backend.services.pop("server", None)
    lab.dataplane().flush_logs()  # the functions' last log lines, before their log groups go
    lab.destroy()


# Package scope: Playwright's sync API runs an event loop in this thread until it stops, and a later test
# (the widgets in JupyterLab) starts Playwright of its own.
@pytest.fixture(scope="package")
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
