"""The `memory` backend: moto in-process, for tests and single-kernel experiments.

moto keeps one set of backends per process, and entering ``mock_aws()`` again wipes them, so a process has
one memory backend: every ``Lab(backend="memory")`` of a process shares it (students stay apart by their
prefixes). Code that runs in other processes (Lambda execution environments, a browser) reaches the same
in-process state through a loopback HTTP endpoint that serves moto's app from a thread of this process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from werkzeug.serving import BaseWSGIServer, make_server

from ..errors import AwsGuardError
from . import moto_fixes
from .base import FAKE_CREDENTIALS, Backend
from .moto_host import NoDelayRequestHandler, build_app, lambda_code_bytes, lambda_layer_bytes


@dataclass
class MemoryBackend(Backend):
    """moto in-process, shared by every lab of this process."""

    _mock: ClassVar[Any] = None
    _server: ClassVar[BaseWSGIServer | None] = None
    _class_lock: ClassVar[threading.Lock] = threading.Lock()
    _started: bool = field(init=False, default=False, repr=False)
    _dataplane_port: ClassVar[int | None] = None

    def __post_init__(self) -> None:
        self.name = "memory"
        self.offline = True

    @property
    def endpoint_url(self) -> str | None:
        return None

    @property
    def key(self) -> str:
        return "memory"

    def start(self) -> None:
        with MemoryBackend._class_lock:
            if MemoryBackend._mock is None:
                import os

                from .aws import AwsBackend

                if AwsBackend.instances:
                    # mock_aws patches botocore for the whole process: the aws backend's clients would be
                    # answered by moto from now on (aws.py).
                    raise AwsGuardError(
                        "This Python process already uses Lab(backend='aws'); the memory backend's moto mock "
                        "would capture its calls to AWS. Fix: use backend='local' beside it (its moto server runs in "
                        "a process of its own), or restart the kernel for the memory backend."
                    )

                from moto import mock_aws

                # mock_aws reads credentials from the environment only for signing; make sure a real
                # profile in the user's shell can never be picked up by a client created outside the lab.
                for variable, value in FAKE_CREDENTIALS.items():
                    os.environ.setdefault(variable, value)
                # moto never runs a function here: Invoke is answered by the lab (Backend.serve_invoke_with),
                # and moto's own attempt, which its stubber still makes, must not try to reach Docker.
                MemoryBackend._mock = mock_aws(config={"lambda": {"use_docker": False}})
                MemoryBackend._mock.start()
                moto_fixes.apply()
        self._started = True

    @property
    def dataplane_port(self) -> int | None:
        with MemoryBackend._class_lock:
            if MemoryBackend._dataplane_port is None:
                from .local import free_port

                MemoryBackend._dataplane_port = free_port()
            return MemoryBackend._dataplane_port

    def http_endpoint(self) -> str:
        """A loopback URL serving this process's moto state (started on first use)."""
        with MemoryBackend._class_lock:
            if MemoryBackend._server is None:
                server = make_server(
                    "127.0.0.1", 0, build_app("memory"), threaded=True, request_handler=NoDelayRequestHandler
                )
                threading.Thread(target=server.serve_forever, name="moto-memory-http", daemon=True).start()
                MemoryBackend._server = server
            host, port = MemoryBackend._server.server_address[:2]
        return f"http://{host}:{port}"

    def child_environment(self) -> dict[str, str]:
        env = super().child_environment()
        env["AWS_ENDPOINT_URL"] = self.http_endpoint()
        return env

    def lambda_code(self, function_name: str, version: str = "$LATEST") -> bytes:
        name = function_name.split(":function:")[-1].split(":")[0]
        return lambda_code_bytes(self.account_id(), self.region, name, version)

    def lambda_layer_code(self, layer_version_arn: str) -> bytes:
        return lambda_layer_bytes(self.account_id(), self.region, layer_version_arn)

    def cognito_endpoint(self) -> str:
        return self.http_endpoint() + "/"

    def jwks(self, user_pool_id: str) -> dict[str, Any]:
        import json
        import urllib.request

        url = f"{self.http_endpoint()}/{user_pool_id}/.well-known/jwks.json"
        request = urllib.request.Request(url, headers={"Host": f"cognito-idp.{self.region}.amazonaws.com"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
