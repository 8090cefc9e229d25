"""The data plane on loopback: `serverless-lab serve` and `urls --json` against the local backend."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from shared_labs import delete_distribution

from serverless_lab import Lab
from serverless_lab.dataplane.http import HttpResponse
from serverless_lab.dataplane.server import TRACE_HEADER, decode_spans, encode_response, listen

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]


def test_a_response_is_one_buffer_with_its_length() -> None:
    encoded = encode_response(HttpResponse(200, [("Content-Type", "text/plain")], b"hello"))
    assert (
        encoded
        == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
    )
    not_modified = encode_response(HttpResponse(304, [("ETag", '"x"')], b"ignored"))
    assert b"Content-Length" not in not_modified and not_modified.endswith(b"\r\n\r\n")


def test_kept_alive_connection_serves_many_requests_and_a_handler_error_is_no_traceback() -> None:
    def handler(request: Any, spans: Any) -> HttpResponse:
        if request.path == "/boom":
            raise RuntimeError("secret detail")
        return HttpResponse(200, [("Content-Type", "text/plain")], request.path.encode())

    server = listen(handler)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        for number in range(300):
            connection.request("GET", f"/n/{number}")
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (200, f"/n/{number}".encode())
        connection.request("GET", "/boom")
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 500
        assert json.loads(body) == {"message": "Internal server error"}
        assert b"secret" not in body and b"Traceback" not in body
    finally:
        server.shutdown()
        server.server_close()


def _exchange(port: int, raw: bytes) -> bytes:
    """Sends raw bytes on a new connection and returns everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_request_heads_are_read_as_the_standard_library_reads_them() -> None:
    seen: list[Any] = []

    def handler(request: Any, spans: Any) -> HttpResponse:
        seen.append(request)
        return HttpResponse(200, [("Content-Type", "text/plain")], b"ok")

    heads = [
        b"GET /a?b=1 HTTP/1.1\r\nHost: h:1\r\nX-Empty:\r\nX-Pad: \t spaced value \r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n",
        b"GET //evil.example/x HTTP/1.0\r\nHost: h\r\n\n",  # bare LF ends the head too
        b"GET /folded HTTP/1.1\r\nX-Long: one\r\n two\r\nHost: h\r\n\r\n",  # obsolete line folding
        b"GET /latin HTTP/1.1\r\nX-Name: caf\xe9\r\nHost: h\r\n\r\n",
        # A line the stdlib must judge after plain ones: it gets those read so far, then the rest.
        b"GET /mid HTTP/1.1\r\nHost: h\r\nX-Ok: 1\r\nBad Name: v\r\nX-After: 2\r\n\r\n",
    ]
    server = listen(handler)
    try:
        for raw in heads:
            answer = _exchange(
                server.server_address[1], raw + b"GET /next HTTP/1.1\r\nConnection: close\r\n\r\n"
            )
            assert answer.startswith(b"HTTP/1.1 200 OK")
        # What the stdlib's parser refuses (too many or too long header lines, an unknown version, a bad
        # request line) gets its status and message in the lab's short answer (test_server_bad_requests.py).
        many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n"
        large = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        assert _exchange(server.server_address[1], many).startswith(large)
        assert _exchange(server.server_address[1], many).endswith(b"\r\n\r\nToo many headers")
        long_line = b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 70000 + b"\r\n\r\n"
        assert _exchange(server.server_address[1], long_line).endswith(b"\r\n\r\nLine too long")
        version = _exchange(server.server_address[1], b"GET / HTTP/2.0\r\n\r\n")
        assert version.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
        assert _exchange(server.server_address[1], b"BREW\r\n\r\n").startswith(
            b"HTTP/1.1 400 Bad Request\r\n"
        )
    finally:
        server.shutdown()
        server.server_close()
    requests = [r for r in seen if r.path != "/next"]
    assert [r.path for r in requests] == [
        "/a",
        "//evil.example/x".replace("//", "/", 1),
        "/folded",
        "/latin",
        "/mid",
    ]
    for request, raw in zip(requests, heads, strict=True):
        head = io.BytesIO(raw.split(b"\n", 1)[1])
        expected = http.client.parse_headers(head)  # what BaseHTTPRequestHandler.parse_request() gives
        assert list(request.headers) == list(expected.items())
    assert requests[0].query == "b=1" and requests[0].header("x-pad") == "spaced value "
    assert requests[0].header_values("X-Dup") == ["1", "2"]
    assert requests[3].header("X-Name") == "café"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serverless_lab.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_serve_and_urls_on_the_local_backend(local_backend: Any) -> None:
    lab = Lab(backend=local_backend, student="serve")
    lab.require("api")
    # A distribution made outside the lab must be listed and served too.
    outside = local_backend.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "outside-the-lab",
            "Comment": "made with plain boto3",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "nowhere.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
                "DefaultTTL": 60,
                "MaxTTL": 60,
            },
        }
    )["Distribution"]["Id"]
    process = subprocess.Popen(
        [sys.executable, "-m", "serverless_lab.cli", "serve", "--student", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        first_line = process.stdout.readline() if process.stdout else ""
        assert "serving the data plane at http://127.0.0.1:" in first_line, (
            process.stderr.read() if process.stderr else ""
        )
        urls: dict[str, Any] = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            urls = json.loads(cli("urls", "--json", "--student", "serve").stdout)
            if outside in {d["id"] for d in urls["distributions"]} and all(
                urlsplit(d["url"]).path == "/" for d in urls["distributions"]
            ):
                break
            time.sleep(0.2)
        assert set(urls) == {"apis", "distributions", "cognito"}
        api = next(a for a in urls["apis"] if a["rest_api_id"] == lab.outputs["api"]["rest_api_id"])
        assert api["url"] == lab.outputs["api"]["url"], "config.js and `urls` must agree on the API URL"
        assert urls["cognito"].startswith("http://127.0.0.1:") and urls["cognito"].endswith("/cognito-idp/")
        site = next(d for d in urls["distributions"] if d["id"] == lab.outputs["cdn"]["distribution_id"])
        parts = urlsplit(site["url"])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", "/", headers={TRACE_HEADER: "1"})
        answer = connection.getresponse()
        assert answer.status == 200 and b"<html" in answer.read().lower()
        spans = decode_spans(answer.getheader(TRACE_HEADER))
        assert [s["component"] for s in spans][-1] == "edge" or "edge" in {s["component"] for s in spans}
        parts = urlsplit(api["url"])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", parts.path + "/items")
        answer = connection.getresponse()
        assert (answer.status, json.loads(answer.read())) == (401, {"message": "Unauthorized"})
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        delete_distribution(local_backend.client("cloudfront"), outside)  # disabled, Deployed, its ETag


def test_a_second_server_of_the_backend_shares_the_port_and_a_foreign_one_is_an_error(
    local_backend: Any,
) -> None:
    import socket

    from serverless_lab.dataplane.server import DataPlaneServer
    from serverless_lab.errors import PortInUseError

    dataplane = Lab(backend=local_backend, student="ports").dataplane()
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        taken = foreign.getsockname()[1]
        with pytest.raises(PortInUseError, match="not a serverless-lab data plane"):
            DataPlaneServer(dataplane, port=taken).start()
    assert dataplane.runtime._environment_cpus is None  # a server that did not start moved nothing
    first = DataPlaneServer(dataplane, port=0).start()
    port = int(first.url.rsplit(":", 1)[1])
    second = DataPlaneServer(dataplane, port=port).start()
    try:
        assert second.shared_with == first.url
        assert second.url != first.url
        connection = http.client.HTTPConnection("127.0.0.1", int(second.url.rsplit(":", 1)[1]), timeout=5)
        connection.request("GET", "/_lab/urls")
        assert set(json.loads(connection.getresponse().read())) == {"apis", "distributions", "cognito"}
    finally:
        second.stop()
        first.stop()
