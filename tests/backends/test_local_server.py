"""The local backend: a real moto server process, found through the state file, shared, checked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from serverless_lab.backends import LocalServer, make_backend
from serverless_lab.backends.local import ServerState, free_port
from serverless_lab.errors import PortInUseError

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path: Path):
    """A LocalServer with a home of its own, so these tests never touch the session's shared server."""
    local = LocalServer(home=tmp_path)
    yield local
    local.stop()


def test_start_reuse_and_status(server: LocalServer) -> None:
    first = server.ensure_running()
    assert first.host == "127.0.0.1"
    status = server.status()
    assert status == {"running": True, "endpoint": first.endpoint, "pid": first.pid, "problem": None}
    again = server.ensure_running()
    assert again == first, "a second lab must reuse the running server, not start another"


def test_server_binds_loopback_only(server: LocalServer) -> None:
    state = server.ensure_running()
    with socket.socket() as sock:
        sock.settimeout(1)
        # The machine's own non-loopback address (if any) must not answer on the server's port.
        addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        for address in addresses - {"127.0.0.1"}:
            if address.startswith("127."):
                continue
            assert sock.connect_ex((address, state.port)) != 0


def test_dead_server_is_reported_with_the_fix(server: LocalServer) -> None:
    state = server.ensure_running()
    os.kill(state.pid, 9)
    status = server.status()
    assert status["running"] is False
    assert "not running" in status["problem"] and "serverless-lab backend start" in status["problem"]
    restarted = server.ensure_running()
    assert restarted.instance != state.instance and server.status()["running"]


def test_foreign_process_on_recorded_port_is_detected(server: LocalServer) -> None:
    class Foreign(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"app": "something-else"}')

        def log_message(self, *args: object) -> None:
            return None

    foreign = HTTPServer(("127.0.0.1", 0), Foreign)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        port = foreign.server_address[1]
        server.state_file.write_text(json.dumps(ServerState(999999, "127.0.0.1", port, "ours", 0.0).__dict__))
        status = server.status()
        assert status["running"] is False
        assert "Another process answers" in status["problem"]
        started = server.ensure_running()
        assert started.port != port, (
            "the lab must start its own server elsewhere, never talk to the foreign one"
        )
    finally:
        foreign.shutdown()


def test_port_in_use_names_the_fix(server: LocalServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"Port {taken}.*in use.*Fix"):
            server.ensure_running(port=taken)
    assert not server.state_file.exists(), "a failed start must not leave a state file behind"


def test_cli_backend_status_json_and_reset(tmp_path: Path) -> None:
    env = {**os.environ, "SERVERLESS_LAB_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "serverless_lab.cli", "backend"]
    try:
        stopped = json.loads(
            subprocess.run(
                [*run, "status", "--json"], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        assert stopped["running"] is False and stopped["endpoint"] is None
        subprocess.run([*run, "start"], env=env, check=True, capture_output=True)
        status = json.loads(
            subprocess.run(
                [*run, "status", "--json"], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        assert status["running"] is True and status["endpoint"].startswith("http://127.0.0.1:")
        backend = make_backend("endpoint", endpoint_url=status["endpoint"])
        backend.client("s3").create_bucket(Bucket="reset-me")
        subprocess.run([*run, "reset"], env=env, check=True, capture_output=True)
        assert backend.client("s3").list_buckets()["Buckets"] == []
    finally:
        subprocess.run([*run, "stop"], env=env, capture_output=True)
    after = json.loads(
        subprocess.run([*run, "status", "--json"], env=env, capture_output=True, text=True).stdout
    )
    assert after["running"] is False


def test_two_labs_in_two_processes_share_one_server(tmp_path: Path) -> None:
    env = {**os.environ, "SERVERLESS_LAB_HOME": str(tmp_path)}
    code = (
        "from serverless_lab.backends import make_backend; b = make_backend('local'); print(b.endpoint_url)"
    )
    try:
        endpoints = {
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout.strip()
            for _ in range(2)
        }
        assert len(endpoints) == 1
    finally:
        LocalServer(home=tmp_path).stop()


def test_free_port_is_loopback_and_free() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
