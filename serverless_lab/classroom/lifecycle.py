"""Starting and stopping a class: its home, its moto server, its progress table, its data plane.

    settings = start_class("aws101", browser="hub")    # idempotent: a running class is left running
    environment = settings.environment()               # SERVERLESS_LAB_CLASS, SERVERLESS_LAB_CLASS_HOME
    serve_class(settings)                              # the class's data plane, until interrupted
    stop_class(settings)                               # the moto server stops; its state is gone

The class's data plane is one process (`serverless-lab class serve`) on the port the class's moto server
recorded: config.js names that port, so every student's site, API and Cognito endpoint keeps working
whichever student kernels are running. A student's own `lab.serve()` then takes a free port beside it
(the lab's rule when another lab process serves the backend's port) for what the kernel itself calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..backends import make_backend
from ..backends.classroom import ClassBackend, ClassSettings, default_class_home
from ..backends.local import ServerState
from .progress_store import ProgressStore


def start_class(
    name: str,
    *,
    home: Path | None = None,
    instructor: str | None = None,
    browser: str | None = None,
    port: int | None = None,
) -> ClassSettings:
    """Writes the class's settings (keeping what is not given), starts its moto server when none runs, and
    makes its progress table; returns the settings."""
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
    return settings


def class_backend(settings: ClassSettings) -> ClassBackend:
    """The class's backend for this process (the same object for every lab of the process)."""
    backend = ClassBackend(settings=settings)
    backend.start()
    return backend


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
        "problem": status["problem"],
        "environment": settings.environment(),
    }


def stop_class(settings: ClassSettings) -> bool:
    """Stops the class's moto server (every student's resources go with it); True when one was running."""
    return settings.server.stop()


def serve_class(settings: ClassSettings) -> Any:
    """The class's data plane on its recorded port, in this process (returns the running server)."""
    from ..lab import Lab

    backend = make_backend("class") if _is_current(settings) else class_backend(settings)
    lab = Lab(backend=backend, student=settings.instructor)
    return lab.serve()


def _is_current(settings: ClassSettings) -> bool:
    from ..backends import current_class

    return current_class() == settings
