"""The simulated user's HTTP: the assets a page references, keep-alive, gzip, and no answer without a traceback."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from serverless_lab.flow import charts
from serverless_lab.flow.http_client import HttpClient, page_assets
from serverless_lab.flow.trace import spans_frame
from serverless_lab.lab import PROJECT_ROOT


def test_assets_of_the_real_index_html_in_document_order() -> None:
    html = (PROJECT_ROOT / "data" / "site" / "index.html").read_text()
    assets = page_assets(html, "http://127.0.0.1:8080/")
    assert assets == [
        "http://127.0.0.1:8080/favicon.svg",
        "http://127.0.0.1:8080/style.css",
        "http://127.0.0.1:8080/config.js",
        "http://127.0.0.1:8080/app.js",
    ]  # the favicon is referenced twice (link and img) and fetched once


def test_other_origins_data_urls_and_links_that_are_not_assets_are_left_out() -> None:
    html = """<link rel="stylesheet" href="https://cdn.example.com/x.css"><link rel="canonical" href="/c">
    <img src="data:image/png;base64,AAAA"><script src="js/a.js"></script><script>inline()</script>"""
    assert page_assets(html, "http://127.0.0.1:1/app/") == ["http://127.0.0.1:1/app/js/a.js"]


class _Server(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: ClassVar[set[int]] = set()

    def do_GET(self) -> None:
        type(self).connections.add(self.client_address[1])
        body = b'{"hello": "world"}'
        headers = [("Content-Type", "application/json")]
        if self.path == "/gzip":
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    _Server.connections = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_requests_reuse_one_connection_and_recover_after_the_server_closes_it(server: str) -> None:
    client = HttpClient()
    answers = [client.request("GET", f"{server}/a", {}) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert len(_Server.connections) == 1  # keep-alive: one TCP connection
    assert client.request("GET", f"{server}/close", {}).status == 200
    assert client.request("GET", f"{server}/a", {}).json() == {"hello": "world"}
    assert len(_Server.connections) == 2  # a new connection after the server closed the first
    assert all(a.elapsed_ms > 0 and a.start_s > 0 for a in answers)
    client.close()


def test_gzip_bodies_are_decoded_for_reading_and_counted_as_sent(server: str) -> None:
    answer = HttpClient().request("GET", f"{server}/gzip", {"Accept-Encoding": "gzip"})
    assert answer.json() == {"hello": "world"}
    assert answer.body.startswith(b"\x1f\x8b")  # the bytes on the wire, which CloudFront bills


def test_no_answer_is_an_error_value_not_an_exception() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = HttpClient(timeout_s=2).request("GET", f"http://127.0.0.1:{port}/", {})
    assert answer.status is None and answer.error and "Connection" in answer.error


def test_charts_show_inline_in_a_notebook_without_pyplot() -> None:
    png = charts.latency_by_component(spans_frame([]))._repr_png_()  # what IPython calls on a cell's value
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
