"""The panels render in a real JupyterLab, and their buttons work through the widget comms.

JupyterLab runs with the flags `make lab` uses (no news, no update check, read-only extension manager, so
it never reaches the internet), on 127.0.0.1 with a token; Debian's Chromium opens a notebook that shows a
step panel on the memory backend, runs it, and presses *plan*.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAB_SETTINGS = Path(__file__).resolve().parents[2] / "notebooks" / ".lab-settings"
# The same settings as the Makefile's `lab` target: JupyterLab stays offline.
OFFLINE_FLAGS = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
    f"--LabApp.app_settings_dir={LAB_SETTINGS}",  # overrides.json: never fetch news, never ask to
]
PANEL_SOURCE = """from serverless_lab import Lab
from serverless_lab.widgets import StepPanel

StepPanel(Lab(backend="memory", student="ui-{run}"), "table")"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    # Locally a missing Chromium skips; in CI (CI=true) the test runs and fails, as the browser tests do.
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (make chromium)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab serving a folder with one notebook, panel.ipynb."""
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(PANEL_SOURCE.format(run=uuid.uuid4().hex[:4]))]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "panel.ipynb")
    port, token = free_port(), uuid.uuid4().hex
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", *OFFLINE_FLAGS]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    environment = {k: v for k, v in os.environ.items() if k != "SERVERLESS_LAB_HEADLESS"}
    environment["JUPYTER_RUNTIME_DIR"] = str(folder / ".runtime")
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start: {server.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_jupyterlab_serves_no_news_and_no_update_check(jupyterlab: tuple[str, str]) -> None:
    base, token = jupyterlab
    with urllib.request.urlopen(f"{base}/lab/api/news?token={token}") as answer:
        assert answer.read() == b'{"news": []}'
    with urllib.request.urlopen(f"{base}/lab/api/update?token={token}") as answer:
        assert answer.read() == b'{"notification": null}'


def test_step_panel_renders_and_its_button_runs(jupyterlab: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/lab/tree/panel.ipynb?token={token}")
            cell = page.locator(".jp-Notebook .jp-Cell").first
            expect(cell).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
            cell.click()
            page.keyboard.press("Shift+Enter")  # JupyterLab queues it until the kernel is ready
            plan = page.get_by_role("button", name="plan")
            expect(plan).to_be_visible(timeout=60_000)
            expect(page.get_by_role("button", name="destroy")).to_be_visible()
            plan.click()
            expect(page.get_by_text("plan table:")).to_be_visible(timeout=60_000)
            expect(page.locator(".widget-html table")).to_be_visible()
            expect(page.get_by_text("official Jupyter news")).to_have_count(0)  # JupyterLab stays offline
        finally:
            browser.close()
