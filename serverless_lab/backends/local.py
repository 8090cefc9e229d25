"""The `local` backend (the default): one moto server process on 127.0.0.1 shared by every notebook kernel,
the CLI and the browser.

The lab starts the server on a free port when none runs and records it in a small state file
(``$SERVERLESS_LAB_HOME/backend.json``, default ``~/.serverless-lab``); every later lab reads the file and
reuses the server. The server answers ``/_lab/health`` with the instance id written in the file, so a dead
server or a foreign process that took the recorded port is told apart from ours and reported with the fix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BackendError, BackendNotRunningError, PortInUseError
from .base import Backend
from .moto_host import APP_NAME, CODE_PATH, HEALTH_PATH

START_TIMEOUT_S = 20.0
# Run through -c rather than -m: the backends package imports moto_host, and runpy warns when a module
# it is asked to run as __main__ was imported already.
SERVER_MAIN = "import sys; from serverless_lab.backends.moto_host import main; main(sys.argv[1:])"


def lab_home() -> Path:
    """Where the lab keeps its state: $SERVERLESS_LAB_HOME, or ~/.serverless-lab."""
    home = Path(os.environ.get("SERVERLESS_LAB_HOME") or Path.home() / ".serverless-lab")
    home.mkdir(parents=True, exist_ok=True)
    return home


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class ServerState:
    """What backend.json records about the running moto server."""

    pid: int
    host: str
    port: int
    instance: str
    started_at: float
    dataplane_port: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


def probe(endpoint: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health answer of whatever listens at endpoint; None when nothing answers."""
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return {"app": None, "status": error.code}
    except (OSError, ValueError):
        return None


@dataclass
class LocalServer:
    """Starts, finds, checks and stops the shared moto server process through the state file."""

    home: Path = field(default_factory=lab_home)

    @property
    def state_file(self) -> Path:
        return self.home / "backend.json"

    def read_state(self) -> ServerState | None:
        try:
            return ServerState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    @contextlib.contextmanager
    def _locked(self) -> Any:
        # Two kernels starting at once must not start two servers: an exclusive lock on a file beside
        # the state file serialises start and stop between processes.
        with open(self.home / "backend.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def status(self) -> dict[str, Any]:
        """`{"running", "endpoint", "pid", "problem"}`: problem names what is wrong and the fix."""
        state = self.read_state()
        if state is None:
            return {"running": False, "endpoint": None, "pid": None, "problem": None}
        answer = probe(state.endpoint)
        if answer and answer.get("app") == APP_NAME and answer.get("instance") == state.instance:
            return {"running": True, "endpoint": state.endpoint, "pid": state.pid, "problem": None}
        if answer is None:
            problem = (
                f"The moto server recorded in {self.state_file} (pid {state.pid}, {state.endpoint}) is not "
                "running. Fix: `serverless-lab backend start` starts a new one (its state starts empty)."
            )
        else:
            problem = (
                f"Another process answers at {state.endpoint}, the port recorded in {self.state_file}; it is not "
                "this lab's moto server. Fix: stop that process, or run `serverless-lab backend start` to start "
                "ours on another free port."
            )
        return {"running": False, "endpoint": state.endpoint, "pid": state.pid, "problem": problem}

    def ensure_running(self, port: int | None = None) -> ServerState:
        """The running server's state, starting a server first when none runs."""
        with self._locked():
            state = self.read_state()
            if state is not None and self.status()["running"]:
                if port is not None and port != state.port:
                    raise PortInUseError(
                        f"A lab moto server already runs at {state.endpoint}; stop it first "
                        "(`serverless-lab backend stop`) to start one on port {port}."
                    )
                return state
            return self._start(port)

    def _start(self, port: int | None) -> ServerState:
        if port is not None and not port_is_free(port):
            raise PortInUseError(
                f"Port {port} on 127.0.0.1 is in use by another process. Fix: choose another port, or omit it "
                "and the lab picks a free one."
            )
        port = port or free_port()
        # The data plane's port is chosen with the server's, so every kernel and the generated config.js
        # agree on where `serverless-lab serve` answers (and the server passes Lambda's Invoke there).
        dataplane_port = free_port()
        instance = uuid.uuid4().hex
        log = open(self.home / "moto-server.log", "ab")  # noqa: SIM115 - the child keeps it open
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER_MAIN,
                "--port",
                str(port),
                "--instance",
                instance,
                "--dataplane-port",
                str(dataplane_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # the server outlives the kernel or CLI that started it
        )
        state = ServerState(process.pid, "127.0.0.1", port, instance, time.time(), dataplane_port)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            answer = probe(state.endpoint, timeout=0.5)
            if answer and answer.get("instance") == instance:
                self.state_file.write_text(json.dumps(state.__dict__))
                return state
            if process.poll() is not None:
                break
            time.sleep(0.05)
        process.kill()
        raise BackendError(
            f"The moto server did not start on 127.0.0.1:{port} (see {self.home / 'moto-server.log'}). "
            "Fix: check that `pip install 'moto[server]'` succeeded in this environment (run `make demo` or "
            "`make test`, which install it), then run `serverless-lab backend start`."
        )

    def stop(self) -> bool:
        """Stops our server if it runs; True when one was stopped. Never kills a foreign process."""
        with self._locked():
            state = self.read_state()
            if state is None:
                return False
            running = self.status()["running"]
            if running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(state.pid, signal.SIGTERM)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and probe(state.endpoint, timeout=0.2):
                    time.sleep(0.05)
            self.state_file.unlink(missing_ok=True)
            return running

    def reset(self) -> None:
        """Empties every service of the running server (moto's /moto-api/reset)."""
        state = self.read_state()
        if state is None or not self.status()["running"]:
            raise BackendNotRunningError(
                "No lab moto server is running. Fix: `serverless-lab backend start`."
            )
        request = urllib.request.Request(state.endpoint + "/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


@dataclass
class LocalBackend(Backend):
    """A moto server process on 127.0.0.1, found through the state file, started when missing."""

    port: int | None = None
    server: LocalServer = field(default_factory=LocalServer)
    _state: ServerState | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = "local"
        self.offline = True

    def start(self) -> None:
        self._state = self.server.ensure_running(self.port)

    @property
    def state(self) -> ServerState:
        if self._state is None:
            self.start()
        assert self._state is not None
        return self._state

    @property
    def endpoint_url(self) -> str | None:
        return self.state.endpoint

    @property
    def key(self) -> str:
        return "local"

    @property
    def dataplane_port(self) -> int | None:
        return self.state.dataplane_port or None

    def lambda_code(self, function_name: str, version: str = "$LATEST") -> bytes:
        name = function_name.split(":function:")[-1].split(":")[0]
        return self._lab_code(name=name, version=version)

    def lambda_layer_code(self, layer_version_arn: str) -> bytes:
        return self._lab_code(layer=layer_version_arn)

    def _lab_code(self, **query: str) -> bytes:
        """A zip from the moto server's code route (moto gives no download URL for uploaded zips)."""
        params = urllib.parse.urlencode({"account": self.account_id(), "region": self.region, **query})
        with urllib.request.urlopen(f"{self.state.endpoint}{CODE_PATH}?{params}", timeout=30) as response:
            return response.read()
