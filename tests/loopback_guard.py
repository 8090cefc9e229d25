"""Imported first by a test's own process: every connection that is not loopback (or a Unix socket) and
every name resolution of a public name is refused and noted in ATTEMPTS, so the process proves that nothing
leaves the machine. Used by the offline guard, the aws backend's isolation tests and the aws course."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

ATTEMPTS: list[str] = []
_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    try:
        allowed = self.family == socket.AF_UNIX or ipaddress.ip_address(host).is_loopback
    except ValueError:
        allowed = False
    if not allowed:
        ATTEMPTS.append(str(address))
        raise ConnectionRefusedError(f"non-loopback connection refused by the test: {address}")
    return _connect(self, address)


def _no_public_names(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in (None, "localhost", "127.0.0.1", "::1") and not str(host).startswith("127."):
        ATTEMPTS.append(f"dns:{host}")
        raise socket.gaierror(f"name resolution refused by the test: {host}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]
socket.getaddrinfo = _no_public_names  # type: ignore[assignment]
