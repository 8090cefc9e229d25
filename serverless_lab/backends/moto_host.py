"""The local backend's server process: moto's own WSGI app on 127.0.0.1, plus two lab routes.

Run as ``python -m serverless_lab.backends.moto_host --port N --instance ID``. It serves exactly what
``moto_server`` serves (every service, dispatched on the Host header and the request signature) and adds:

- ``GET /_lab/health``: ``{"app": "serverless-lab-moto", "instance": ID, "pid": N}``, so the lab can tell its
  own server from a foreign process that took the recorded port;
- ``GET /_lab/lambda-code?region=R&account=A&name=F&version=V``: the deployment package of version V of
  function F, byte for byte (``&layer=ARN`` instead of name and version: the content of that layer
  version). On AWS, ``get_function`` and ``get_layer_version`` return pre-signed URLs; moto returns none
  for a ZipFile upload, so the data plane needs this route to run exactly the code the control plane holds;
- ``POST /2015-03-31/functions/<name>/invocations`` (Lambda's Invoke): passed to the lab's data plane on its
  loopback port, which runs the function. moto cannot run functions without Docker (its Invoke answers
  200 with a Docker error as the payload); when no data plane is serving, the answer says how to start one.

It binds 127.0.0.1 unless ``--host`` says otherwise (moto's ThreadedMotoServer binds 0.0.0.0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from . import moto_fixes, moto_iam

HEALTH_PATH = "/_lab/health"
CODE_PATH = "/_lab/lambda-code"
INVOKE_PATH = re.compile(r"/2015-03-31/functions/[^/]+/invocations")
APP_NAME = "serverless-lab-moto"
# Hop-by-hop and framing headers are the forwarding's own.
_NOT_FORWARDED = frozenset({"host", "connection", "content-length", "transfer-encoding", "keep-alive"})

StartResponse = Callable[..., Any]


def lambda_code_bytes(account_id: str, region: str, name: str, version: str = "$LATEST") -> bytes:
    """The zip moto holds for one version of a function (in this process); KeyError when there is no such
    function or version."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    # moto keeps functions in lambda_simple_backends when it is told not to use Docker (the memory backend).
    for backends in (lambda_backends, lambda_simple_backends):
        try:
            qualifier = None if version == "$LATEST" else version
            return bytes(backends[account_id][region].get_function(name, qualifier).code_bytes)
        except Exception:  # moto raises its own UnknownFunctionException
            continue
    raise KeyError(name)


def lambda_layer_bytes(account_id: str, region: str, arn: str) -> bytes:
    """The zip moto holds for a layer version (in this process); KeyError when there is no such version."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    name, _, version = arn.rpartition(":")
    for backends in (lambda_backends, lambda_simple_backends):
        try:
            return bytes(
                backends[account_id][region].get_layer_version(name.rsplit(":", 1)[-1], version).code_bytes
            )
        except Exception:  # moto raises its own UnknownLayerVersionException
            continue
    raise KeyError(arn)


_FIXES_APPLIED = threading.Event()
_FIXES_LOCK = threading.Lock()


def apply_fixes_once() -> None:
    """moto's models are imported in the background (warm_up) or by the first request: the lab's fixes
    (moto_fixes) are in place before any request reaches moto, whichever comes first, so the lab is as
    strict from its first request as later (a CreateFunction with a role Lambda cannot assume, ...)."""
    if _FIXES_APPLIED.is_set():
        return
    with _FIXES_LOCK:
        moto_fixes.apply()
        _FIXES_APPLIED.set()


class LabRoutes:
    """WSGI middleware: the /_lab/ routes and Lambda's Invoke in front of moto's dispatcher."""

    def __init__(
        self,
        moto_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        instance: str,
        dataplane_port: int = 0,
    ):
        self.moto_app = moto_app
        self.instance = instance
        self.dataplane_port = dataplane_port

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            body = json.dumps({"app": APP_NAME, "instance": self.instance, "pid": os.getpid()}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path == CODE_PATH:
            from urllib.parse import parse_qs

            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            try:
                if "layer" in query:
                    body = lambda_layer_bytes(query["account"], query["region"], query["layer"])
                else:
                    body = lambda_code_bytes(
                        query["account"], query["region"], query["name"], query.get("version", "$LATEST")
                    )
            except KeyError as error:
                message = json.dumps({"message": f"Function not found: {error}"}).encode()
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [message]
            start_response(
                "200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if not moto_iam.applied():  # before any call reaches moto (warm_up applies it in the background)
            moto_iam.apply()
        if environ.get("REQUEST_METHOD") == "POST" and INVOKE_PATH.fullmatch(path):
            refused = moto_iam.refuse_invoke(environ)  # a role session needs lambda:InvokeFunction
            if refused is not None:
                start_response(refused[0], refused[1])
                return [refused[2]]
            return self.forward_invoke(environ, start_response)
        apply_fixes_once()
        return self.moto_app(environ, start_response)

    def forward_invoke(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Lambda's Invoke, answered by the data plane that `serverless-lab serve` or lab.serve() runs."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _NOT_FORWARDED
        }
        query = environ.get("QUERY_STRING", "")
        url = f"http://127.0.0.1:{self.dataplane_port}{environ.get('PATH_INFO', '')}" + (
            f"?{query}" if query else ""
        )
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=960) as answer:  # over Lambda's 900 s limit
                status, reason, answer_headers, data = (
                    answer.status,
                    answer.reason,
                    answer.headers,
                    answer.read(),
                )
        except urllib.error.HTTPError as error:  # Lambda's own errors (404, 429 ...) come back as they are
            status, reason, answer_headers, data = error.code, error.reason, error.headers, error.read()
        except OSError:  # nothing listens on the data plane's port
            message = (
                "The lab runs functions in its data plane, and none is serving this backend: start one with "
                "`serverless-lab serve`, or call lab.serve() in a notebook. (moto cannot run functions "
                "without Docker.)"
            )
            data = json.dumps({"Type": "Service", "message": message}).encode()
            start_response(
                "502 Bad Gateway",
                [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceException")],
            )
            return [data]
        kept = [(k, v) for k, v in answer_headers.items() if k.lower() not in _NOT_FORWARDED]
        start_response(f"{status} {reason}", [*kept, ("Content-Length", str(len(data)))])
        return [data]


class NoDelayRequestHandler(WSGIRequestHandler):
    """moto's handler, with TCP_NODELAY so kept-alive connections do not wait for delayed ACKs."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # quiet: the lab has its own logs
        return None


def build_app(instance: str, dataplane_port: int = 0) -> LabRoutes:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return LabRoutes(DomainDispatcherApplication(create_backend_app), instance, dataplane_port)


# The services the lab's stack uses. moto imports a service's models on its first request; API Gateway's
# pulls in an OpenAPI validator that takes over a second to import, so the server imports them all in the
# background once it listens, and the first deploy does not wait for it.
WARM_SERVICES = (
    "s3",
    "cloudfront",
    "cognitoidp",
    "dynamodb",
    "iam",
    "awslambda",
    "apigateway",
    "logs",
    "sts",
)


def warm_up() -> None:
    from moto.backends import get_backend

    for service in WARM_SERVICES:
        name = {"awslambda": "lambda", "cognitoidp": "cognito-idp"}.get(service, service)
        try:
            get_backend(name)  # type: ignore[call-overload]
        except Exception as error:  # a missing optional dependency shows up on first use instead
            print(f"moto_host: could not pre-load {name}: {error}", flush=True)
    apply_fixes_once()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--dataplane-port", type=int, default=0, help="where the lab's data plane serves")
    args = parser.parse_args(argv)
    app = build_app(args.instance, args.dataplane_port)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=NoDelayRequestHandler)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
