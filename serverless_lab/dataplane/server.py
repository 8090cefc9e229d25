"""The data plane on loopback: thin HTTP adapters around `DataPlane.handle()`.

One port (the backend's data-plane port) serves the REST API stages, Cognito for the browser and an index;
each CloudFront distribution gets a port of its own, served at its root so that absolute asset paths work
in a browser. New distributions are picked up while the server runs.

Python's `http.server` writes the status line, the headers and the body in separate writes; with Nagle's
algorithm on, a kept-alive connection then waits ~40 ms for the peer's delayed ACK on every request. The
adapter sets TCP_NODELAY and writes each response in one `sendall`.

Malformed input gets a short plain-text answer with `Connection: close`, never the standard library's HTML
error page or a traceback: a bad request line (400), an HTTP version other than 1.x (505), too many or too
long header lines (431, 414 for the request line), a malformed Content-Length or chunk size (400), a body
over MAX_BODY_BYTES (413), a request still unfinished after `idle_timeout_s` (408).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serverless_lab.dataplane import cpu_placement
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.dataplane.service import DataPlane

MAX_HEADER_BYTES = 64 * 1024
# The largest request body the adapter reads. It is above every limit a core enforces itself (API Gateway's
# 10 MB payload quota, Lambda's 6 MB synchronous payload, CloudFront's 20,480-byte request), so those
# still answer their own AWS-shaped 413; the cap only keeps a client from making the lab buffer any size.
MAX_BODY_BYTES = 16 * 1024 * 1024
REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict",
    411: "Length Required", 413: "Payload Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
    429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}  # fmt: skip

Handler = Callable[[HttpRequest, "list[dict[str, Any]] | None"], HttpResponse]

# A lab-only request header: when a client sends it, the answer carries the spans the data plane recorded
# for that request (base64 JSON) in the same header, so a flow over real HTTP sees every hop. AWS has no
# such header; without it nothing changes.
TRACE_HEADER = "X-Serverless-Lab-Trace"
_TRACE_HEADER_LOWER = TRACE_HEADER.lower()
_NOT_PASSED_ON = frozenset({"content-length", "connection", "transfer-encoding"})  # the adapter's own


def encode_response(response: HttpResponse, *, head_only: bool = False, keep_alive: bool = True) -> bytes:
    """The whole HTTP/1.1 response as one buffer: status line, headers, body."""
    status = response.status
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    for name, value in response.headers:
        if name.lower() not in _NOT_PASSED_ON:
            lines.append(f"{name}: {value}")
    has_body = status != 204 and status != 304
    body = response.body if has_body else b""
    if has_body:
        # A HEAD answer says how long the GET body would be; a core that already dropped the body for
        # HEAD says so in its own Content-Length header.
        declared = response.header("Content-Length") if head_only and not body else None
        lines.append(f"Content-Length: {declared or len(body)}")
    lines.append("Connection: keep-alive\r\n\r\n" if keep_alive else "Connection: close\r\n\r\n")
    head = "\r\n".join(lines).encode("latin-1", errors="replace")
    return head if head_only else head + body


def encode_spans(spans: list[dict[str, Any]]) -> str:
    return base64.b64encode(json.dumps(spans, default=str).encode()).decode()


def decode_spans(value: str | None) -> list[dict[str, Any]]:
    """The spans a traced answer carried (see TRACE_HEADER); [] when it carried none."""
    return list(json.loads(base64.b64decode(value))) if value else []


# http.client's limits, which parse_request() answers with 431.
_MAX_HEADERS = 100
_MAX_LINE = 65536
# A header line the email parser behind parse_request() takes as a field: a name of printable ASCII
# characters other than the colon, then a colon.
_FIELD_NAME = re.compile(r"[!-9;-~]+")
# A chunk size: hex digits only (int(..., 16) alone would also take "0x10", "1_0" or " 10").
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")


class _Refusal(Exception):
    """A request the adapter answers itself, before any core sees it, and then closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _declared_length(value: str) -> int:
    """The body length a Content-Length value declares: digits only (RFC 9110), else a 400 or 413 refusal."""
    digits = value.strip(" \t")
    if not (digits.isascii() and digits.isdigit()):
        raise _Refusal(400, "Bad Content-Length")
    digits = digits.lstrip("0") or "0"
    # More digits than the cap has is over the cap, and int() of thousands of digits is a ValueError.
    if len(digits) > len(str(MAX_BODY_BYTES)) or int(digits) > MAX_BODY_BYTES:
        raise _Refusal(413, f"Request body over {MAX_BODY_BYTES} bytes")
    return int(digits)


def _set_kernel_timeouts(connection: socket.socket, seconds: float) -> None:
    """Receive and send timeouts kept by the kernel (SO_RCVTIMEO, SO_SNDTIMEO) on a socket left blocking.

    Why not settimeout(): under a Python-level timeout every recv and send is preceded by a poll() system
    call, which cost a kept-alive connection ~6% of its requests per second. A kernel timeout costs nothing
    until it runs out; then recv and send fail with EAGAIN (BlockingIOError).
    """
    if sys.platform == "win32":
        value = struct.pack("L", max(1, int(seconds * 1000)))  # a DWORD of milliseconds
    else:
        value = struct.pack("ll", int(seconds), int(seconds % 1 * 1_000_000))  # a struct timeval
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    except OSError:  # a platform with another timeval layout: the same timeout, with its poll()s
        connection.settimeout(seconds)


class _SocketReader(io.RawIOBase):
    """The raw reader under rfile: a receive that ran out of time is a TimeoutError, as with settimeout(),
    not the None that socket.SocketIO returns for EAGAIN (meant for non-blocking sockets)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._connection.recv_into(buffer)
        except BlockingIOError:
            raise TimeoutError("timed out") from None


class _ReplayReader:
    """Gives parse_request() the head lines already read, then reads on from the connection."""

    def __init__(self, lines: list[bytes], rest: Any) -> None:
        self._lines = list(lines)
        self._rest = rest

    def readline(self, limit: int = -1) -> bytes:
        return self._lines.pop(0) if self._lines else self._rest.readline(limit)

    def read(self, size: int = -1) -> bytes:
        return self._rest.read(size)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "serverless-lab"
    handler: Handler  # set on the subclass made per listener
    header_pairs: list[tuple[str, str]]  # the request's headers in arrival order
    first_values: dict[str, str]  # the first value of each header by lower-cased name
    # A kept-alive connection idle this long is closed, a request whose head or body is still unfinished
    # after it gets 408, and an answer the client does not read in that time is dropped. Tests lower it on
    # the handler class of their listener (`server.RequestHandlerClass.idle_timeout_s`). The inherited
    # `timeout` stays None: see _set_kernel_timeouts for why the socket keeps no Python-level timeout.
    idle_timeout_s: float | None = 60.0

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.idle_timeout_s is not None:
            _set_kernel_timeouts(self.connection, self.idle_timeout_s)
            self.rfile.close()  # the reader makefile() made, which holds a reference to the socket
            self.rfile = io.BufferedReader(_SocketReader(self.connection))

    def handle_one_request(self) -> None:
        try:
            # A timeout here is a kept-alive connection left idle: it is closed without an answer.
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            try:
                if len(self.raw_requestline) > 65536:
                    raise _Refusal(414, "URI Too Long")
                head: list[bytes] = []
                if not self._parse_plain_head(head):
                    # Anything unusual (HTTP/0.9 or 2, folded or nameless header lines, too many or too long
                    # lines, end of stream in the head) goes to the standard library's parser, given the head
                    # lines read so far and then the rest from the connection; it refuses through send_error.
                    socket_reader = self.rfile
                    self.rfile = _ReplayReader(head, socket_reader)  # type: ignore[assignment]
                    try:
                        if not self.parse_request():
                            return
                    finally:
                        self.rfile = socket_reader
                    self.header_pairs = list(self.headers.items())
                    self.first_values = {}
                    for name, value in self.header_pairs:
                        self.first_values.setdefault(name.lower(), value)
                body = self._read_body()
            except TimeoutError:  # a request begun but not finished within idle_timeout_s
                raise _Refusal(408, "Request Timeout") from None
            self._dispatch(body)
        except _Refusal as refusal:
            self._refuse(refusal.status, refusal.message)
        except (ConnectionError, TimeoutError, BlockingIOError):  # gone, idle, or not reading the answer
            self.close_connection = True

    def _parse_plain_head(self, head: list[bytes]) -> bool:
        """The request line and headers of a plain HTTP/1.x request, parsed as the stdlib would.

        Why not parse_request() every time: it builds an email.message.Message with the email package's
        feed parser, about 20 us a request, a tenth of an edge cache hit. Plain heads (request line of
        three words, HTTP/1.0 or 1.1, one `Name: value` per line, the empty line within http.client's
        100 lines) are parsed here with the same results, each line as it is read (as parse_headers
        reads it); False at the first line that is not plain sends the request to parse_request(), with
        the lines read so far in `head`.
        """
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return False
        readline = self.rfile.readline
        pairs = []
        first: dict[str, str] = {}
        while True:
            line = readline(_MAX_LINE + 1)
            head.append(line)
            if line == b"\r\n" or line == b"\n":
                break
            if len(head) >= _MAX_HEADERS or len(line) > _MAX_LINE or not line:
                return False  # too many lines, an over-long one, or the end of the stream
            name, colon, value = str(line, "iso-8859-1").partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                return False
            value = value.lstrip(" \t").rstrip("\r\n")
            pairs.append((name, value))
            first.setdefault(name.lower(), value)  # the lookups below and the gateway's use it
        self.header_pairs = pairs
        self.first_values = first
        self.command, path, self.request_version = words
        self.requestline = requestline
        # As parse_request() does (gh-87389): a path starting with // is reduced to a single /.
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.close_connection = self.request_version != "HTTP/1.1"
        connection = first.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if first.get("expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            self.handle_expect_100()
        return True

    def _read_body(self) -> bytes:
        first = self.first_values
        if first.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = first.get("content-length")
        if not length:
            return b""
        size = _declared_length(length)
        body = self.rfile.read(size)
        if len(body) < size:  # the client ended its side of the connection before the whole body
            raise _Refusal(400, "Incomplete body")
        return body

    def _read_chunked(self) -> bytes:
        """A chunked body (RFC 9112 section 7.1), its trailer lines read and dropped."""
        readline = self.rfile.readline
        chunks = []
        total = 0
        while True:
            line = readline(_MAX_LINE + 1)
            digits = line.split(b";", 1)[0].strip(b" \t\r\n")
            if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(digits):
                raise _Refusal(400, "Bad chunk size")
            size = int(digits, 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                raise _Refusal(413, f"Request body over {MAX_BODY_BYTES} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size or readline(3) not in (b"\r\n", b"\n"):
                raise _Refusal(400, "Bad chunk: no CRLF after its data")
            chunks.append(chunk)
        for _ in range(_MAX_HEADERS):
            line = readline(_MAX_LINE + 1)
            if line == b"\r\n" or line == b"\n":
                return b"".join(chunks)
            if not line.endswith(b"\n"):
                break
        raise _Refusal(400, "Bad chunked trailer")

    def _dispatch(self, body: bytes) -> None:
        first = self.first_values
        path, _, query = self.path.partition("?")
        request = HttpRequest.parsed(
            self.command, path, query, tuple(self.header_pairs), body, self.client_address[0], first
        )
        spans: list[dict[str, Any]] | None = [] if first.get(_TRACE_HEADER_LOWER) else None
        try:
            response = type(self).handler(request, spans)
            if spans is not None:
                response.headers.append((TRACE_HEADER, encode_spans(spans)))
        except Exception as error:  # never a traceback page: log it, answer as AWS does for its own faults
            print(f"serverless-lab serve: {type(error).__name__}: {error}", file=sys.stderr)
            response = HttpResponse(
                500, [("Content-Type", "application/json")], b'{"message": "Internal server error"}'
            )
        self._send(response, head_only=self.command == "HEAD")

    def _send(self, response: HttpResponse, *, head_only: bool = False, close: bool = False) -> None:
        keep_alive = not close and not self.close_connection
        # Straight to the socket: wfile is an unbuffered writer around the same sendall.
        self.connection.sendall(encode_response(response, head_only=head_only, keep_alive=keep_alive))
        if close:
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """parse_request()'s refusals, as the lab's own short answer instead of the stdlib's HTML page (which,
        for a request line it could not read, even came without a status line)."""
        self._refuse(code, message or REASONS.get(code, "Error"))

    def _refuse(self, status: int, message: str) -> None:
        """A short plain-text answer, then the connection is closed: what follows it cannot be trusted."""
        self.close_connection = True
        response = HttpResponse(status, [("Content-Type", "text/plain; charset=utf-8")], message.encode())
        with contextlib.suppress(OSError):  # the client is gone or not reading
            self._send(response, close=True)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def listen(
    handler: Handler, host: str = "127.0.0.1", port: int = 0, cpus: frozenset[int] | None = None
) -> _Listener:
    """A threaded HTTP server on host:port answering with handler, serving in a daemon thread; with `cpus`,
    that thread and the threads it starts for connections run on those CPUs only (see cpu_placement)."""
    handler_class = type("BoundHandler", (_RequestHandler,), {"handler": staticmethod(handler)})
    server = _Listener((host, port), handler_class)

    def serve() -> None:
        if cpus is not None:
            cpu_placement.place_current_thread(cpus)
        server.serve_forever()

    threading.Thread(target=serve, name=f"serve-{server.server_address[1]}", daemon=True).start()
    return server


def _lab_data_plane_at(host: str, port: int) -> bool:
    """Whether a serverless-lab data plane answers on host:port (its /_lab/urls route)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_lab/urls", timeout=2) as answer:
            return set(json.loads(answer.read())) >= {"apis", "distributions", "cognito"}
    except (OSError, ValueError):
        return False


class DataPlaneServer:
    """The data plane on loopback: one port for APIs and Cognito, one per distribution."""

    def __init__(
        self,
        dataplane: DataPlane,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        poll_s: float = 5.0,
        place_cpus: bool = True,
    ):
        self.dataplane = dataplane
        self.host = host
        self.port = port if port is not None else (dataplane.backend.dataplane_port or 0)
        self.poll_s = poll_s
        # The server's threads on one CPU, the environments on the others (cpu_placement: why, and the
        # SERVERLESS_LAB_CPU_PLACEMENT=off switch); None where that cannot help.
        self.placement = cpu_placement.plan_placement() if place_cpus else None
        self._main: _Listener | None = None
        self._edges: dict[str, _Listener] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # Set when another lab process already served the backend's port and this one took a free port.
        self.shared_with: str | None = None

    @property
    def url(self) -> str:
        assert self._main is not None, "start() first"
        return f"http://{self.host}:{self._main.server_address[1]}"

    def start(self) -> DataPlaneServer:
        """Serves on the backend's data-plane port; when another lab process already serves there (another
        kernel, `serverless-lab serve`), on a free port instead: both serve the same backend, so the URLs in
        config.js keep working. A foreign process on the port is an error that names the fix."""
        if self._main is not None:
            return self
        cpus = self.placement.server_cpus if self.placement is not None else None
        try:
            self._main = listen(self.dataplane.handle, self.host, self.port, cpus)
        except OSError as error:
            if not self.port or not _lab_data_plane_at(self.host, self.port):
                from ..errors import PortInUseError

                raise PortInUseError(
                    f"Cannot serve the data plane on {self.host}:{self.port}: {error.strerror}, and what holds the "
                    "port is not a serverless-lab data plane. Fix: stop that process, or restart the backend "
                    "(`serverless-lab backend stop` then `start`) to pick a new port."
                ) from error
            self.shared_with = f"http://{self.host}:{self.port}"
            self._main = listen(self.dataplane.handle, self.host, 0, cpus)
        if self.placement is not None:  # once serving: a server that could not start moves nothing
            self.dataplane.runtime.keep_environments_on(self.placement.environment_cpus)
        self.dataplane.base_url = self.url
        self.sync_distributions()
        # A distribution made with plain boto3 gets its port when the data plane lists its URLs (the
        # index page, /_lab/urls, `serverless-lab urls`) or when the lab asks for its URL, and otherwise
        # within poll_s (5 s: CloudFront itself takes minutes to deploy a new distribution). Until then it
        # is served under /_edge/<id>/ on the main port. Each look is a ListDistributions, which costs the
        # moto server ~6 ms: once a second it was a steady ~1% of a core, idle or not.
        self.dataplane.before_urls = self.sync_distributions
        threading.Thread(target=self._watch, name="serve-watch", daemon=True).start()
        return self

    def sync_distributions(self) -> None:
        """Opens a port for every distribution that has none yet (one created with plain boto3 too)."""
        try:
            distribution_ids = self.dataplane.control_plane.distributions()
        except Exception as error:  # the backend went away: keep serving what we have
            print(f"serverless-lab serve: cannot list distributions: {error}", file=sys.stderr)
            return
        with self._lock:
            for distribution_id in distribution_ids:
                if distribution_id in self._edges:
                    continue
                cpus = self.placement.server_cpus if self.placement is not None else None
                listener = listen(self._edge_handler(distribution_id), self.host, 0, cpus)
                self._edges[distribution_id] = listener
                self.dataplane.distribution_urls[distribution_id] = (
                    f"http://{self.host}:{listener.server_address[1]}/"
                )

    def _edge_handler(self, distribution_id: str) -> Handler:
        def handle(request: HttpRequest, spans: list[dict[str, Any]] | None) -> HttpResponse:
            return self.dataplane.handle_edge(distribution_id, request, spans)

        return handle

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.sync_distributions()

    def distribution_url(self, distribution_id: str) -> str:
        self.sync_distributions()
        return self.dataplane.distribution_urls[distribution_id]

    def stop(self) -> None:
        self._stop.set()
        if self.placement is not None and self._main is not None:  # the environments may use every CPU again
            self.dataplane.runtime.keep_environments_on(None)
        if self.dataplane.before_urls == self.sync_distributions:
            self.dataplane.before_urls = None
        listeners = [self._main, *self._edges.values()] if self._main else list(self._edges.values())
        for listener in listeners:
            listener.shutdown()
            listener.server_close()
        self._main = None
        self._edges.clear()

    def serve_forever(self) -> None:
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
