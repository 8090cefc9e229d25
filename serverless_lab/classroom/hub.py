"""A JupyterHub for a class on one machine: what `make hub` / `serverless-lab hub` starts for a trial.

    hub = TrialHub.create("trial", users=["ada", "grace", "linus"])   # writes <class home>/hub/
    hub.start()          # the class's backend, then JupyterHub on 127.0.0.1 (its proxy from classroom/proxy/node_modules/)
    hub.stop()

What the generated jupyterhub_config.py sets, and why (notebooks/classroom.md maps each line to The Littlest
JupyterHub and to Zero to JupyterHub):

- DummyAuthenticator with one shared password and a fixed list of users: a trial, never a real class;
- SimpleLocalProcessSpawner: every student's server is a process of the hub's own system user, with a home
  of its own under <hub>/home/<user> (no root, no system users; no isolation between students either);
- each server's environment puts it in the class (SERVERLESS_LAB_CLASS, SERVERLESS_LAB_CLASS_HOME), so
  every kernel uses the class's one moto server; $JUPYTERHUB_USER names the student (classroom/identity.py);
- the class's backend and data plane are started before the hub (`serverless-lab class start`: they
  outlive a restart of the hub); jupyter-server-proxy, installed in the same environment as the students'
  servers, opens the data plane's ports in each student's browser at /user/<name>/proxy/<port>/;
- a `classroom` service holding an API token with the admin scopes a trial's tools need (start servers,
  make tokens for users), read from <hub>/classroom-token.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backends.classroom import ClassSettings, default_class_home
from ..backends.local import free_port
from ..errors import BackendError, UsageError
from ..lab import PROJECT_ROOT
from .identity import check_unique
from .lifecycle import start_class

START_TIMEOUT_S = 60.0
HUB_SERVICE = "classroom"
# The scopes of the trial's API token: list users, start and stop their servers, make tokens for them
# (JupyterHub's RBAC, https://jupyterhub.readthedocs.io/en/stable/rbac/scopes.html).
ADMIN_SCOPES = ["admin:users", "admin:servers", "tokens", "access:servers", "read:users"]


PROXY_PACKAGE = Path(__file__).resolve().parent / "proxy"  # package.json and package-lock.json


def proxy_command(package: Path = PROXY_PACKAGE) -> Path:
    """configurable-http-proxy, installed from proxy/package-lock.json into proxy/node_modules/ (`make hub`,
    `make test`)."""
    command = package / "node_modules" / ".bin" / "configurable-http-proxy"
    if not command.exists():
        raise UsageError(
            f"JupyterHub's proxy is not installed ({command} is missing). Fix: `make hub` or `make test` installs "
            f"it with npm from package-lock.json (`npm ci` in {package})."
        )
    return command


def copy_course(home: Path, notebooks: Path) -> None:
    """The course's notebooks into a student's home on their first start (never over their own edits)."""
    target = home / "notebooks"
    if target.exists():
        return
    target.mkdir(parents=True)
    for path in [*sorted(notebooks.glob("*.ipynb")), notebooks / "README.md"]:
        if path.is_file():
            shutil.copy2(path, target / path.name)


@dataclass(frozen=True)
class TrialHub:
    """One class's JupyterHub on 127.0.0.1: its folder, ports, users, password and API token."""

    settings: ClassSettings
    folder: Path
    port: int
    users: tuple[str, ...]
    instructor: str
    password: str
    token: str
    hub_port: int = field(default_factory=free_port)
    proxy_api_port: int = field(default_factory=free_port)
    root: Path = PROJECT_ROOT

    @classmethod
    def create(
        cls,
        name: str = "trial",
        *,
        home: Path | None = None,
        port: int = 8000,
        users: list[str] | tuple[str, ...] = ("ada", "grace", "linus"),
        instructor: str = "instructor",
        password: str | None = None,
        root: Path = PROJECT_ROOT,
    ) -> TrialHub:
        home = Path(home) if home is not None else default_class_home(name)
        users = tuple(dict.fromkeys(users))
        if not users:
            raise UsageError("A hub needs at least one student. Fix: --users ada,grace,linus")
        check_unique([*users, instructor])  # two hub users are never one student
        folder = home / "hub"
        folder.mkdir(parents=True, exist_ok=True)
        token_file = folder / "classroom-token"
        if not token_file.exists():
            token_file.write_text(secrets.token_hex(32))
            token_file.chmod(0o600)
        settings = ClassSettings(name, home, instructor=instructor, browser="hub")
        return cls(
            settings=settings,
            folder=folder,
            port=port,
            users=users,
            instructor=instructor,
            password=password or "serverless-lab",
            token=token_file.read_text().strip(),
            root=root,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.folder / "jupyterhub_config.py"

    def environment(self) -> dict[str, str]:
        """What every student's server (and so every kernel) and the class's data plane get."""
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])
        return {**self.settings.environment(), "PATH": path}

    def config(self) -> dict[str, Any]:
        """The hub's settings as plain values (the config file sets exactly these)."""
        bin_dir = Path(sys.executable).parent
        args = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
        return {
            "JupyterHub.bind_url": self.url,
            "JupyterHub.hub_bind_url": f"http://127.0.0.1:{self.hub_port}",
            "JupyterHub.db_url": f"sqlite:///{self.folder / 'jupyterhub.sqlite'}",
            "JupyterHub.cookie_secret_file": str(self.folder / "jupyterhub_cookie_secret"),
            "JupyterHub.pid_file": str(self.folder / "jupyterhub.pid"),
            "JupyterHub.authenticator_class": "dummy",
            "DummyAuthenticator.password": self.password,
            "Authenticator.allowed_users": sorted(self.users),
            "Authenticator.admin_users": [self.instructor],
            "JupyterHub.spawner_class": "simple",
            "SimpleLocalProcessSpawner.home_dir_template": str(self.folder / "home" / "{username}"),
            "Spawner.cmd": [str(bin_dir / "jupyterhub-singleuser")],
            "Spawner.args": args,
            "Spawner.default_url": "/lab",
            "Spawner.environment": self.environment(),
            "Spawner.http_timeout": 90,
            "Spawner.start_timeout": 120,
            "ConfigurableHTTPProxy.command": [str(proxy_command())],
            "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{self.proxy_api_port}",
            "JupyterHub.services": [{"name": HUB_SERVICE, "api_token": self.token}],
            "JupyterHub.load_roles": [
                {"name": HUB_SERVICE, "scopes": ADMIN_SCOPES, "services": [HUB_SERVICE]}
            ],
        }

    def write_config(self) -> Path:
        lines = [
            "# Written by `serverless-lab hub` for a trial of the class; notebooks/classroom.md explains each line.",
            "from pathlib import Path",
            "",
            "from serverless_lab.classroom.hub import copy_course",
            "",
            "c = get_config()  # noqa: F821 - JupyterHub defines it",
        ]
        for key, value in self.config().items():
            lines.append(f"c.{key} = {value!r}")
        notebooks = self.root / "notebooks"
        lines += [
            "",
            "",
            "def pre_spawn_hook(spawner):",
            f"    copy_course(Path(spawner.home_dir), Path({str(notebooks)!r}))",
            "",
            "",
            "c.Spawner.pre_spawn_hook = pre_spawn_hook",
            "",
        ]
        self.config_file.write_text("\n".join(lines))
        (self.folder / "trial.json").write_text(
            json.dumps(
                {
                    "url": self.url,
                    "users": self.users,
                    "instructor": self.instructor,
                    "password": self.password,
                    "class": self.settings.name,
                },
                indent=2,
            )
        )
        return self.config_file

    # --- running it ------------------------------------------------------------------------------
    def start(self) -> subprocess.Popen[bytes]:
        """The class's backend (started when needed), then the hub; returns once the hub's API answers."""
        start_class(self.settings.name, home=self.settings.home, instructor=self.instructor, browser="hub")
        self.write_config()
        log = open(self.folder / "jupyterhub.log", "ab")  # noqa: SIM115 - the hub keeps it open
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "CONFIGPROXY_"))}
        environ["PATH"] = self.environment()["PATH"]
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(self.config_file)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if self.api("GET", "/users") is not None:
                    return process
            except OSError:
                time.sleep(0.2)
        stop_process(process)
        raise BackendError(
            f"JupyterHub did not start on {self.url} (see {self.folder / 'jupyterhub.log'}). Fix: check that the "
            "classroom extra is installed (`make hub` installs it) and that the port is free (--port)."
        )

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """One call of the hub's REST API with the classroom token; its JSON answer (None when empty)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/hub/api{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def start_server(self, user: str, timeout_s: float = 120.0) -> None:
        """Starts a user's single-user server and waits until the hub reports it ready."""
        try:
            # 201 when it started within the hub's slow_spawn_timeout (10 s), else 202 while it starts.
            self.api("POST", f"/users/{user}/server", timeout=timeout_s)
        except urllib.error.HTTPError as error:
            if error.code != 400:  # 400: it is already running
                raise
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{user}")
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return
            time.sleep(0.3)
        raise BackendError(
            f"The server of {user!r} did not become ready (see {self.folder / 'jupyterhub.log'})."
        )

    def user_token(self, user: str) -> str:
        """An API token of a user (for their server's REST API, as their browser's session would be)."""
        answer = self.api(
            "POST", f"/users/{user}/tokens", {"note": "serverless-lab trial", "expires_in": 3600}
        )
        return str(answer["token"])


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGTERM to the process group the hub leads (JupyterHub stops its servers and proxy on it)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def run_trial_hub(name: str, *, home: Path | None, port: int, users: list[str], instructor: str) -> int:
    """`serverless-lab hub`: a trial hub in the foreground until Ctrl-C; the class's backend keeps running."""
    hub = TrialHub.create(name, home=home, port=port, users=users, instructor=instructor)
    process = hub.start()
    print(f"JupyterHub for the class {name!r} at {hub.url}/ (Ctrl-C stops the hub)", flush=True)
    print(
        f"  students: {', '.join(hub.users)}; instructor (admin): {hub.instructor}; password: {hub.password}"
    )
    print(
        f"  each student's site opens at {hub.url}/user/<name>/proxy/<port>/ (the notebooks print the link)"
    )
    print(f"  the class's backend keeps running after the hub stops: `serverless-lab class stop {name}`")
    try:
        while process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(process)
    return 0
