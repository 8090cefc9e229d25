"""The request and response values every data-plane core takes and returns.

The cores (edge, gateway, runtime) never open sockets: an HTTP adapter turns bytes on loopback into an
`HttpRequest`, calls a core's `handle()`, and writes the `HttpResponse` back in one write. Tests and
notebooks call `handle()` directly with the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class HttpRequest:
    """One viewer request as it reached the lab: raw path and query, headers in arrival order."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, matched case-insensitively as HTTP requires."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return default

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


@dataclass
class HttpResponse:
    """One answer: status, headers in order (repeats allowed) and the body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return default

    def set_header(self, name: str, value: str) -> None:
        wanted = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != wanted]
        self.headers.append((name, value))
