"""The simulated user's HTTP: one keep-alive connection per host, like one browser tab, and the assets a
page makes a browser fetch.

`http.client` rather than urllib or a third-party client: the flow needs exact control of keep-alive and
of the bytes on the wire (the body as sent, gzip included, is what CloudFront bills), and nothing more.
"""

from __future__ import annotations

import gzip
import http.client
import json
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

HTTP_TIMEOUT_S = 30.0


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str]
    body: bytes
    start_s: float
    elapsed_ms: float
    bytes_sent: int
    error: str | None = None

    def decoded(self) -> bytes:
        """The body as the server meant it: CloudFront may gzip it (Accept-Encoding: gzip is sent)."""
        if self.headers.get("content-encoding", "").lower() == "gzip":
            try:
                return gzip.decompress(self.body)
            except (OSError, EOFError):
                return self.body
        return self.body

    def text(self) -> str:
        return self.decoded().decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.decoded()) if self.body else None
        except ValueError:
            return None


class HttpClient:
    """http.client with one keep-alive connection per (scheme, host, port), like one browser tab."""

    def __init__(self, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def _connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        connection = self._connections.get(key)
        if connection is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = kind(host, port, timeout=self.timeout_s)
            self._connections[key] = connection
        return connection

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        start_s, started = time.time(), time.perf_counter()
        for attempt in (1, 2):
            connection = self._connection(scheme, parts.hostname or "127.0.0.1", port)
            reused = connection.sock is not None
            try:
                connection.request(method, target, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
                answer_headers = {name.lower(): value for name, value in response.getheaders()}
                if response.will_close:
                    connection.close()
                elapsed = (time.perf_counter() - started) * 1000
                return Answer(response.status, answer_headers, data, start_s, elapsed, len(body))
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                # A kept-alive connection the server already closed fails on first use: retry once.
                if attempt == 1 and reused and not isinstance(error, TimeoutError):
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                return Answer(None, {}, b"", start_s, elapsed, len(body), f"{type(error).__name__}: {error}")
        raise AssertionError("unreachable")

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


class _AssetFinder(HTMLParser):
    """The files index.html makes a browser fetch: stylesheets, icons, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        reference = None
        if tag == "link" and (values.get("rel") or "").lower() in ("stylesheet", "icon", "preload"):
            reference = values.get("href")
        elif tag in ("script", "img"):
            reference = values.get("src")
        if reference and reference not in self.assets and not reference.startswith("data:"):
            self.assets.append(reference)


def page_assets(html: str, page_url: str) -> list[str]:
    """Absolute URLs of the same-origin assets a page references, in document order, without repeats."""
    finder = _AssetFinder()
    finder.feed(html)
    origin = urlsplit(page_url).netloc
    urls = [urljoin(page_url, asset) for asset in finder.assets]
    return [url for url in dict.fromkeys(urls) if urlsplit(url).netloc == origin]
