"""The request and response values every data-plane core takes and returns.

The cores (edge, gateway, runtime) never open sockets: an HTTP adapter turns bytes on loopback into an
`HttpRequest`, calls a core's `handle()`, and writes the `HttpResponse` back in one write. Tests and
notebooks call `handle()` directly with the same values.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    @classmethod
    def parsed(
        cls,
        method: str,
        path: str,
        query: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        source_ip: str,
        first_values: dict[str, str],
    ) -> HttpRequest:
        """A request as an HTTP adapter parsed it, with the index `first_values()` would build, which
        the adapter made anyway (it reads Content-Length, Connection...): the index is not built twice."""
        request = cls(method, path, query, headers, body, source_ip)
        request.__dict__["_first_values"] = first_values
        return request

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, matched case-insensitively as HTTP requires."""
        return self.first_values().get(name.lower(), default)

    def first_values(self) -> dict[str, str]:
        """The first value of each header by lower-cased name (do not modify it).

        Built once per request and kept on the instance (outside the dataclass fields, so equality and
        repr are unchanged): the gateway looks up about seven headers a request, and a linear scan with
        a lower() per header and per lookup cost more than the one pass.
        """
        try:
            return self.__dict__["_first_values"]  # type: ignore[no-any-return]
        except KeyError:
            first: dict[str, str] = {}
            for key, value in self.headers:
                first.setdefault(key.lower(), value)
            self.__dict__["_first_values"] = first
            return first

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True) if self.query else []

    def with_path(self, path: str) -> HttpRequest:
        """The same request at another path (a core serving a prefix of the lab's port strips it).

        Copies the instance's dict rather than calling the frozen dataclass' __init__ (one
        object.__setattr__ per field), and keeps the header index already built.
        """
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__["path"] = path
        return copy


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
        self.set_headers(((name, value),))

    def set_headers(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set several headers, each replacing any value of that name, in one pass over the headers.

        Like set_header, it gives the response a new list rather than changing the one it was made with.
        """
        pairs = tuple(pairs)
        replaced = {name.lower() for name, _ in pairs}
        self.headers = [(k, v) for k, v in self.headers if k.lower() not in replaced]
        self.headers += pairs
