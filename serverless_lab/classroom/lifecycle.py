"""Starting and stopping a class: its home, its moto server, its data plane, its progress table.

    settings = start_class("aws101", browser="hub")    # idempotent: what runs is left running
    environment = settings.environment()               # SERVERLESS_LAB_CLASS, SERVERLESS_LAB_CLASS_HOME
    stop_class(settings)                               # both processes stop; the class's state is gone

A class runs two processes of its own, both started here and recorded in its class home: the moto server
(backend.json, as the local backend records it) and the class's data plane (dataplane.json), serving on the
data-plane port the moto server recorded. config.js names that port, so every student's site, API and
Cognito endpoint keep working whichever kernels run; the moto server passes Lambda's Invoke there too. A
student's own `lab.serve()` serves what their kernel calls itself on a free port (ClassBackend.serve_options).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.classroom import ClassBackend, ClassSettings, default_class_home
from ..backends.local import ServerState
from ..errors import BackendError
from .links import served_urls
from .progress_store import ProgressStore

if TYPE_CHECKING:
    from ..dataplane.server import DataPlaneServer

DATAPLANE_FILE = "dataplane.json"
START_TIMEOUT_S = 30.0


def start_class(
    name: str,
    *,
    home: Path | None = None,
    instructor: str | None = None,
    browser: str | None = None,
    port: int | None = None,
) -> ClassSettings:
    """Writes the class's settings (keeping what is not given), starts its moto server and its data plane
    when they do not run, and makes its progress table; returns the settings."""
    home = Path(home) if home is not None else default_class_home(name)
    saved = ClassSettings.load(name, home)
    settings = ClassSettings(
        name=name,
        home=home,
        instructor=instructor or saved.instructor,
        browser=browser or saved.browser,
    ).save()
    settings.server.ensure_running(port)
    ProgressStore(class_backend(settings)).ensure()
    start_dataplane(settings)
    return settings


def class_backend(settings: ClassSettings) -> ClassBackend:
    """The class's backend for this process."""
    backend = ClassBackend(settings=settings)
    backend.start()
    return backend


def _dataplane_file(settings: ClassSettings) -> Path:
    return settings.home / DATAPLANE_FILE


def dataplane_status(settings: ClassSettings) -> dict[str, Any]:
    """{"running", "pid", "port"} of the class's data plane process."""
    try:
        recorded = json.loads(_dataplane_file(settings).read_text())
    except (OSError, ValueError):
        return {"running": False, "pid": None, "port": None}
    state = settings.server.read_state()
    port = state.dataplane_port if state is not None else None
    alive = (
        _is_ours(int(recorded.get("pid", 0)))
        and port == recorded.get("port")
        and served_urls(port) is not None
    )
    return {"running": alive, "pid": recorded.get("pid"), "port": port}


def _is_ours(pid: int) -> bool:
    """Whether pid is a `serverless-lab class serve` process (never signal a process that took its pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"class" in command and b"serve" in command and b"serverless_lab.cli" in command


def start_dataplane(settings: ClassSettings) -> dict[str, Any]:
    """The class's data plane as a process of its own (started when it does not answer)."""
    status = dataplane_status(settings)
    if status["running"]:
        return status
    state = settings.server.read_state()
    if state is None or not state.dataplane_port:
        raise BackendError(f"The class {settings.name!r} has no moto server running. Fix: start_class first.")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))}
    environ.update(settings.environment(), SERVERLESS_LAB_HOME=str(settings.home / "dataplane-home"))
    log = open(settings.home / "dataplane.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "serverless_lab.cli",
            "class",
            "serve",
            settings.name,
            "--home",
            str(settings.home),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=environ,
        start_new_session=True,  # it outlives the command, kernel or hub that started it
    )
    _dataplane_file(settings).write_text(json.dumps({"pid": process.pid, "port": state.dataplane_port}))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if served_urls(state.dataplane_port) is not None:
            return dataplane_status(settings)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise BackendError(
        f"The data plane of the class {settings.name!r} did not start on port {state.dataplane_port} (see "
        f"{settings.home / 'dataplane.log'})."
    )


def class_status(settings: ClassSettings) -> dict[str, Any]:
    status = settings.server.status()
    state: ServerState | None = settings.server.read_state()
    return {
        "class": settings.name,
        "home": str(settings.home),
        "instructor": settings.instructor,
        "browser": settings.browser,
        "running": bool(status["running"]),
        "endpoint": status["endpoint"],
        "dataplane_port": state.dataplane_port if state is not None and status["running"] else None,
        "dataplane_running": dataplane_status(settings)["running"],
        "problem": status["problem"],
        "environment": settings.environment(),
    }


def stop_class(settings: ClassSettings) -> bool:
    """Stops the class's data plane and moto server (every student's resources go with it); True when the
    moto server was running."""
    try:
        pid = int(json.loads(_dataplane_file(settings).read_text()).get("pid", 0))
    except (OSError, ValueError):
        pid = 0
    if pid and _is_ours(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _is_ours(pid):
            time.sleep(0.05)
    _dataplane_file(settings).unlink(missing_ok=True)
    return settings.server.stop()


def serve_class(settings: ClassSettings) -> DataPlaneServer:
    """The class's data plane on the class's data-plane port, in this process (the running server)."""
    from ..dataplane.server import DataPlaneServer
    from ..lab import Lab

    backend = class_backend(settings)
    lab = Lab(backend=backend, student=settings.instructor)
    server = DataPlaneServer(lab.dataplane(), port=backend.dataplane_port)
    backend.services["server"] = server
    return server.start()
