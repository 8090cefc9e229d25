"""The `class` backend: the one moto server a class shares, used by every student's kernel.

A class is a name and a folder, its *class home*, that holds what every kernel of the class reads:

    <class home>/class.json     {"name", "instructor", "browser"}: written by `serverless-lab class start`
    <class home>/backend.json   the class's moto server and its data-plane port (the local backend's file)

Set in a kernel's environment (a JupyterHub spawner sets them for every student):

    SERVERLESS_LAB_CLASS=<name>          the class; with it, Lab() and the CLI use the `class` backend
    SERVERLESS_LAB_CLASS_HOME=<folder>   its class home (default: <lab home>/classes/<name>)

The class's moto server is started once, by the instructor (`serverless-lab class start`, `make hub`); a
student's kernel never starts one (each student's own lab home would get a server of its own): when the
server does not answer, the lab says who should start it. Every kernel of the class then works on the
same backend, so the instructor sees every student, and two kernels of one student share one namespace.

`browser` says how the students' browsers reach the data plane. `loopback` (one machine, a trial or a
laptop): at http://127.0.0.1:<port>/ as on the local backend. `hub`: through their own Jupyter server's
proxy (jupyter-server-proxy serves http://127.0.0.1:<port>/<path> at /user/<name>/proxy/<port>/<path>);
config.js then names the API and Cognito relative to the page (`../<port>/<path>`), which is right for
every student's hub URL at once, because every distribution is served at the root of a port of its own.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BackendNotRunningError, UsageError
from .local import LocalBackend, LocalServer, lab_home

CLASS_VARIABLE = "SERVERLESS_LAB_CLASS"
CLASS_HOME_VARIABLE = "SERVERLESS_LAB_CLASS_HOME"
CLASS_FILE = "class.json"
NBGRADER_VARIABLE = "NBGRADER_EXECUTION"
DEFAULT_INSTRUCTOR = "instructor"
BROWSER_MODES = ("loopback", "hub")
# The same rule as a student's name (lab.STUDENT_PATTERN): the class name names folders and hub services.
CLASS_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$|^[a-z]$")
KERNEL_POLL_S = 600.0
_LOOPBACK_URL = re.compile(r"^http://127\.0\.0\.1:(?P<port>\d+)(?P<path>/.*)?$")


def validate_class_name(name: str) -> str:
    if not isinstance(name, str) or not CLASS_NAME.fullmatch(name):
        raise UsageError(
            f"Invalid class name {name!r}: use 1 to 20 lowercase letters, digits or hyphens, starting with a "
            "letter and not ending with a hyphen (for example 'aws101')."
        )
    return name


def default_class_home(name: str) -> Path:
    return lab_home() / "classes" / validate_class_name(name)


@dataclass(frozen=True)
class ClassSettings:
    """Where a class's shared backend lives, whose namespace is the instructor's, how browsers reach it."""

    name: str
    home: Path
    instructor: str = DEFAULT_INSTRUCTOR
    browser: str = "loopback"

    def __post_init__(self) -> None:
        validate_class_name(self.name)
        if self.browser not in BROWSER_MODES:
            raise UsageError(
                f"Unknown browser mode {self.browser!r}. Fix: use one of {', '.join(BROWSER_MODES)}."
            )

    @property
    def server(self) -> LocalServer:
        return LocalServer(home=self.home)

    def environment(self) -> dict[str, str]:
        """The variables that put a kernel (or a CLI, or a hub's spawner) in this class."""
        return {CLASS_VARIABLE: self.name, CLASS_HOME_VARIABLE: str(self.home)}

    def save(self) -> ClassSettings:
        self.home.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"name": self.name, "instructor": self.instructor, "browser": self.browser}, indent=2
        )
        temporary = self.home / f"{CLASS_FILE}.tmp"
        temporary.write_text(text + "\n")
        temporary.replace(self.home / CLASS_FILE)
        return self

    @classmethod
    def load(cls, name: str, home: Path | None = None) -> ClassSettings:
        """The class's settings from its class.json (the defaults when the file is not written yet)."""
        home = Path(home) if home is not None else default_class_home(name)
        try:
            saved = json.loads((home / CLASS_FILE).read_text())
        except FileNotFoundError:
            saved = {}
        except ValueError as error:
            raise UsageError(
                f"{home / CLASS_FILE} is not JSON ({error}). Fix: `serverless-lab class start` rewrites it."
            ) from None
        if saved.get("name", name) != name:
            raise UsageError(
                f"{home / CLASS_FILE} belongs to the class {saved['name']!r}, not {name!r}. Fix: set "
                f"{CLASS_HOME_VARIABLE} to the home of {name!r}, or {CLASS_VARIABLE} to {saved['name']!r}."
            )
        return cls(
            name=name,
            home=home,
            instructor=str(saved.get("instructor", DEFAULT_INSTRUCTOR)),
            browser=str(saved.get("browser", "loopback")),
        )


def current_class(environ: dict[str, str] | None = None) -> ClassSettings | None:
    """The class this process is in ($SERVERLESS_LAB_CLASS), or None outside a class."""
    environ = dict(os.environ) if environ is None else environ
    name = environ.get(CLASS_VARIABLE)
    if not name:
        return None
    home = environ.get(CLASS_HOME_VARIABLE)
    return ClassSettings.load(name, Path(home) if home else None)


def default_backend_name() -> str:
    """What Lab() and the CLI use when no backend is named: `class` inside a class, else `local`; and
    `memory` while nbgrader executes a notebook (NBGRADER_EXECUTION: autograde, validate), so that each
    submission is graded on a fresh backend in its own kernel, never on what another student (or the same
    student, on the class's backend) left behind."""
    if os.environ.get(NBGRADER_VARIABLE):
        return "memory"
    return "class" if current_class() is not None else "local"


def browser_url(url: str, mode: str) -> str:
    """Where a student's browser finds a URL of the data plane: as it is on loopback; on a hub, relative to
    the page (`../<port>/<path>`), since the page itself is served at <hub URL>/proxy/<its port>/."""
    match = _LOOPBACK_URL.match(url)
    if mode != "hub" or match is None:
        return url
    return f"../{match['port']}{match['path'] or '/'}"


@dataclass
class ClassBackend(LocalBackend):
    """The class's moto server, found through the class home; never started from here."""

    settings: ClassSettings | None = None
    server: LocalServer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.settings is None:
            self.settings = current_class()
        if self.settings is None:
            raise UsageError(
                f"backend='class' needs a class: set {CLASS_VARIABLE} (and {CLASS_HOME_VARIABLE}), or run "
                "`serverless-lab class start NAME` first."
            )
        self.name = "class"
        self.server = self.settings.server

    def start(self) -> None:
        settings = self.class_settings
        status = self.server.status()
        if not status["running"]:
            raise BackendNotRunningError(
                f"The backend of the class {settings.name!r} does not answer "
                f"({status['problem'] or 'no moto server recorded in ' + str(self.server.state_file)}). Fix: the "
                f"instructor starts it with `serverless-lab class start {settings.name} --home {settings.home}` "
                "(or `make hub`)."
            )
        self._state = self.server.read_state()

    @property
    def class_settings(self) -> ClassSettings:
        assert self.settings is not None
        return self.settings

    @property
    def key(self) -> str:
        return f"class-{self.class_settings.name}"

    def serve_options(self) -> dict[str, Any]:
        # The class's data plane (`serverless-lab class start` runs it) holds the class's data-plane port,
        # which config.js names; a kernel serves what it calls itself on a free port beside it: forty kernels
        # serving at once never race for one port (they did: a busy class answered the probe of who holds
        # it too late, and 19 of 20 kernels failed with PortInUseError). Nor does a kernel look for new
        # distributions every 5 s: it opens a distribution's port when it asks for its URL, and the class's
        # data plane looks for everyone. ListDistributions costs moto ~3.6 ms per distribution: 40 kernels
        # polling a class of 40 took more than a core of the moto server, idle.
        return {"port": 0, "poll_s": KERNEL_POLL_S}

    def browser_url(self, url: str) -> str:
        return browser_url(url, self.class_settings.browser)

    def describe(self) -> dict[str, Any]:
        settings = self.class_settings
        return {
            "class": settings.name,
            "home": str(settings.home),
            "instructor": settings.instructor,
            "browser": settings.browser,
            "endpoint": self.endpoint_url,
            "dataplane_port": self.dataplane_port,
        }
