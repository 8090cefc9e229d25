"""Malformed HTTP on a served port: a clear HTTP/1.1 answer and a closed connection, never a hang or a traceback.

Each test sends raw bytes on a real socket and keeps its own side open, as a misbehaving client would; the
client's 5 s socket timeout turns a server that hangs into a failure instead of a blocked test run.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_lab.dataplane.http import HttpResponse
from serverless_lab.dataplane.server import MAX_BODY_BYTES, listen

pytestmark = pytest.mark.server
IDLE_TIMEOUT_S = 0.5  # the served port's, lowered from 60 s so that a timeout test takes half a second
CLIENT_TIMEOUT_S = 5.0


def describe_body(request: Any, spans: Any) -> HttpResponse:
    return HttpResponse(200, [("Content-Type", "text/plain")], b"body=" + request.body)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = listen(describe_body)
    server.RequestHandlerClass.idle_timeout_s = IDLE_TIMEOUT_S  # type: ignore[attr-defined]
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def answer_until_closed(port: int, raw: bytes) -> bytes:
    """Sends raw bytes, keeping the client's side open, and returns what the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S) as connection:
        connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def read_answer(raw: bytes) -> tuple[http.client.HTTPResponse, bytes]:
    """An answer as http.client reads it: a missing status line raises BadStatusLine."""

    class Replay:
        def makefile(self, mode: str) -> io.BytesIO:
            return io.BytesIO(raw)

    answer = http.client.HTTPResponse(Replay())  # type: ignore[arg-type]
    answer.begin()
    return answer, answer.read()


def assert_refused(raw_answer: bytes, status: int, reason: str, message: str) -> None:
    answer, body = read_answer(raw_answer)
    assert (answer.status, answer.reason) == (status, reason)
    assert answer.getheader("Connection") == "close"
    assert answer.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert message in body.decode()
    assert b"<html" not in body.lower() and b"Traceback" not in body


def post(headers: bytes, body: bytes) -> bytes:
    return b"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n" + body


@pytest.mark.parametrize("value", [b"-1", b"+2", b"1_0", b"0x2"])
def test_a_content_length_that_is_not_plain_digits_is_400(port: int, value: bytes, capfd: Any) -> None:
    raw_answer = answer_until_closed(port, post(b"Content-Length: " + value + b"\r\n", b"{}"))
    assert_refused(raw_answer, 400, "Bad Request", "Bad Content-Length")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "value",
    [b"99999999999999999999", str(MAX_BODY_BYTES + 1).encode(), b"9" * 5000],
    ids=["20 digits", "cap + 1", "5000 digits"],
)
def test_a_content_length_over_the_cap_is_413_without_reading_the_body(
    port: int, value: bytes, capfd: Any
) -> None:
    raw_answer = answer_until_closed(port, post(b"Content-Length: " + value + b"\r\n", b"{}"))
    assert_refused(raw_answer, 413, "Payload Too Large", f"over {MAX_BODY_BYTES} bytes")
    assert capfd.readouterr().err == ""


def test_a_body_shorter_than_its_content_length_gets_408_after_the_idle_timeout(
    port: int, capfd: Any
) -> None:
    started = time.monotonic()
    raw_answer = answer_until_closed(port, post(b"Content-Length: 10\r\n", b"{}"))
    assert_refused(raw_answer, 408, "Request Timeout", "Request Timeout")
    assert IDLE_TIMEOUT_S <= time.monotonic() - started < CLIENT_TIMEOUT_S
    # So does a head that stops halfway.
    raw_answer = answer_until_closed(port, b"GET /items HTTP/1.1\r\nHost: 127.0.")
    assert_refused(raw_answer, 408, "Request Timeout", "Request Timeout")
    assert capfd.readouterr().err == ""


def test_an_idle_kept_alive_connection_is_closed_without_an_answer(port: int, capfd: Any) -> None:
    assert answer_until_closed(port, b"") == b""
    raw_answer = answer_until_closed(port, b"GET /items HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer, body = read_answer(raw_answer)
    assert (answer.status, answer.getheader("Connection"), body) == (200, "keep-alive", b"body=")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("chunked", "message"),
    [
        (b"zz\r\nab\r\n0\r\n\r\n", "Bad chunk size"),
        (b"0x2\r\nab\r\n0\r\n\r\n", "Bad chunk size"),
        (b"-2\r\nab\r\n0\r\n\r\n", "Bad chunk size"),
        (b"2\r\nabXX0\r\n\r\n", "no CRLF after its data"),
    ],
)
def test_a_malformed_chunked_body_is_400(port: int, chunked: bytes, message: str, capfd: Any) -> None:
    raw_answer = answer_until_closed(port, post(b"Transfer-Encoding: chunked\r\n", chunked))
    assert_refused(raw_answer, 400, "Bad Request", message)
    assert capfd.readouterr().err == ""


def test_a_chunked_body_over_the_cap_is_413(port: int, capfd: Any) -> None:
    # The second chunk is no bigger than the cap, the total is over it: refused before its data is read.
    chunked = b"2\r\nab\r\n" + b"%x\r\n" % MAX_BODY_BYTES
    raw_answer = answer_until_closed(port, post(b"Transfer-Encoding: chunked\r\n", chunked))
    assert_refused(raw_answer, 413, "Payload Too Large", f"over {MAX_BODY_BYTES} bytes")
    assert capfd.readouterr().err == ""


def test_a_chunked_body_with_extensions_and_trailers_keeps_the_connection_for_the_next_request(
    port: int, capfd: Any
) -> None:
    chunked = b"2\r\nab\r\n3;name=value\r\ncde\r\n0\r\nX-Checksum: 1\r\n\r\n"
    following = b"GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    raw_answer = answer_until_closed(port, post(b"Transfer-Encoding: chunked\r\n", chunked) + following)
    first, _, second = raw_answer.partition(b"body=abcde")
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    answer, body = read_answer(second)
    assert (answer.status, body) == (200, b"body=")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("raw", "status", "reason", "message"),
    [
        (b"garbage\r\n\r\n", 400, "Bad Request", "Bad request syntax"),
        (b"\x00\x01\x02\xff\r\n\r\n", 400, "Bad Request", "Bad request syntax"),
        (b"GET / HTTP/1.x\r\n\r\n", 400, "Bad Request", "Bad request version"),
        (b"POST /items\r\n\r\n", 400, "Bad Request", "Bad HTTP/0.9 request type"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "HTTP Version Not Supported", "Invalid HTTP version (2.0)"),
    ],
)
def test_an_unreadable_request_line_gets_an_http_1_1_answer(
    port: int, raw: bytes, status: int, reason: str, message: str, capfd: Any
) -> None:
    assert_refused(answer_until_closed(port, raw), status, reason, message)
    assert capfd.readouterr().err == ""


def test_too_many_or_too_long_head_lines_get_the_labs_short_answer(port: int, capfd: Any) -> None:
    host = b"Host: 127.0.0.1\r\n"
    long_header = b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"v" * 70000 + b"\r\n\r\n"
    too_many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n"
    long_target = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n" + host + b"\r\n"
    large = "Request Header Fields Too Large"
    assert_refused(answer_until_closed(port, long_header), 431, large, "Line too long")
    assert_refused(answer_until_closed(port, too_many), 431, large, "Too many headers")
    assert_refused(answer_until_closed(port, long_target), 414, "URI Too Long", "URI Too Long")
    assert capfd.readouterr().err == ""
