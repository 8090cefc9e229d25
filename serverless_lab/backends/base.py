"""What every backend gives the lab: boto3 clients, the environment for code run on the user's behalf,
and the two things moto cannot serve over its API (a function's deployment package, a pool's JWKS).

Offline backends (memory, local, loopback endpoints) give every client fake credentials and a loopback
endpoint, and a botocore ``before-send`` hook refuses any request to a host that is not on loopback, so no
request can reach AWS even when the user's shell holds real credentials.
"""

from __future__ import annotations

import io
import ipaddress
import json
import threading
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config

from ..errors import OfflineViolationError

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that would point a child process at a real account or at another endpoint; offline children
# never inherit them.
CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
DEFAULT_REGION = "us-east-1"
MOTO_ACCOUNT_ID = "123456789012"


def is_loopback_host(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and the name localhost (and its subdomains, which RFC 6761 reserves)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# (method, path, query, headers, body) -> (status, headers, body): an HTTP exchange without a socket.
LocalInvoke = Callable[
    [str, str, str, list[tuple[str, str]], bytes], tuple[int, list[tuple[str, str]], bytes]
]


class _Answer(io.BytesIO):
    """The raw body of an AWSResponse that was never on the wire: botocore reads it with stream(), or with
    read() behind a StreamingBody (Invoke's Payload)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value  # HTTP header bytes are latin-1


def refuse_non_loopback(request: Any, **_: Any) -> None:
    """botocore before-send hook of offline clients: a request to any other host is refused, never sent."""
    host = urlsplit(request.url).hostname
    if not is_loopback_host(host):
        raise OfflineViolationError(
            f"Refused to send {request.method} {request.url}: this lab is offline and talks only to 127.0.0.1. "
            "Use Lab(backend='aws') to work on a real account."
        )


def without_account_host_prefix(request: Any, **_: Any) -> None:
    """botocore before-send hook of offline s3control clients: S3 Control's endpoint rules put the account
    id before the host (123456789012.s3-control.<region>.amazonaws.com), and a loopback endpoint has no
    such names; the request goes to the endpoint itself (the account travels in x-amz-account-id)."""
    parts = urlsplit(request.url)
    account, _, rest = (parts.hostname or "").partition(".")
    if len(account) == 12 and account.isdigit() and is_loopback_host(rest):
        request.url = request.url.replace(f"//{account}.", "//", 1)


@dataclass
class Backend(ABC):
    """A place where the AWS control plane lives."""

    region: str = DEFAULT_REGION
    name: str = field(init=False, default="")
    offline: bool = field(init=False, default=True)
    _clients: dict[str, Any] = field(init=False, default_factory=dict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)
    # Process-wide services bound to this backend (the data plane and its server): one per backend.
    services: dict[str, Any] = field(init=False, default_factory=dict, repr=False)

    # --- what subclasses define -------------------------------------------------------------------
    @property
    @abstractmethod
    def endpoint_url(self) -> str | None:
        """The one URL every service is reached at offline; None on real AWS (and in-process moto)."""

    @property
    @abstractmethod
    def key(self) -> str:
        """A short name of this backend instance, used to keep outputs of different backends apart."""

    def account_id(self) -> str:
        return MOTO_ACCOUNT_ID

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL of one service's clients (the backend's one URL, or None for AWS's own)."""
        return self.endpoint_url

    @property
    def real_aws(self) -> bool:
        """True only for the aws backend: where mistakes cost money, apply asks first."""
        return False

    @property
    def dataplane_port(self) -> int | None:
        """The loopback port where the lab's data plane serves this backend; None on real AWS."""
        return None

    def serve_options(self) -> dict[str, Any]:
        """How lab.serve() serves this backend (DataPlaneServer's options): by default on the backend's
        data-plane port (another free one when a lab process of this backend already serves there)."""
        return {}

    def browser_url(self, url: str) -> str:
        """Where a browser finds a URL the lab serves (config.js names these): the URL itself, except in a
        class whose students' browsers reach the data plane through their hub's proxy (backends/classroom.py)."""
        return url

    def start(self) -> None:  # noqa: B027 - most backends have nothing to start
        """Make the backend reachable (start a server, enter the mock)."""

    # --- boto3 --------------------------------------------------------------------------------------
    def session(self) -> boto3.session.Session:
        if self.offline:
            return boto3.session.Session(
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                region_name=self.region,
            )
        return boto3.session.Session(region_name=self.region)

    def client(self, service: str, *, validate: bool = True) -> Any:
        """A boto3 client for the service, cached per backend (clients are thread-safe in boto3).

        validate=False: a client without botocore's client-side parameter validation, for calls the lab
        builds itself on a hot path (the service validates every request anyway, as AWS does).
        """
        key = service if validate else f"{service} (unvalidated)"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(service, validate=validate)
            return self._clients[key]

    def client_as(self, service: str, credentials: dict[str, str], *, validate: bool = True) -> Any:
        """A client like client(service) that signs with other keys (a role session's AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), cached per key; the lab ships a function's logs as its
        execution role, as Lambda does."""
        key = f"{service} as {credentials['AWS_ACCESS_KEY_ID']}" + ("" if validate else " (unvalidated)")
        with self._lock:
            if key not in self._clients:
                stale = [k for k in self._clients if " as " in k]
                for old in stale[: max(0, len(stale) - 63)]:  # sessions rotate: keep the newest 64
                    del self._clients[old]
                self._clients[key] = self._new_client(service, validate=validate, credentials=credentials)
            return self._clients[key]

    def _new_client(
        self, service: str, *, validate: bool = True, credentials: dict[str, str] | None = None
    ) -> Any:
        # Offline, a failure is a bug to see at once; on AWS, control-plane APIs throttle (API Gateway allows
        # a few calls per second per account), so retry with backoff as boto3's standard mode does.
        attempts = 2 if self.offline else 10
        config = Config(
            retries={"max_attempts": attempts, "mode": "standard"},
            max_pool_connections=32,
            parameter_validation=validate,
        )
        # One session per backend: a boto3 Session loads botocore's service models, which costs tens of
        # milliseconds per new session; clients made from one session share its loader cache.
        if "session" not in self.services:
            self.services["session"] = self.session()
        keys = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": credentials["AWS_SESSION_TOKEN"],
            }
        client = self.services["session"].client(
            service, endpoint_url=self.endpoint_for(service), config=config, **keys
        )
        if self.offline and self.endpoint_url is not None:
            if service == "s3control":
                client.meta.events.register_first("before-send.*.*", without_account_host_prefix)
            client.meta.events.register_first("before-send.*.*", refuse_non_loopback)
        if self.offline and service == "lambda":
            client.meta.events.register_first("before-send.lambda.Invoke", self._invoke_locally)
        return client

    def serve_invoke_with(self, handler: LocalInvoke) -> None:
        """Where this backend's Lambda clients send Invoke offline (the lab's data plane sets it).

        moto keeps functions but runs none without Docker: its Invoke answers 200 with a Docker error as
        the payload. Offline, an Invoke made with `client("lambda")` goes to `handler(method, path, query,
        headers, body) -> (status, headers, body)` instead, the Invoke API of the lab's runtime, before
        anything is sent.
        """
        self.services["lambda-invoke"] = handler

    def _invoke_locally(self, request: Any, **_: Any) -> AWSResponse | None:
        handler = self.services.get("lambda-invoke")
        if handler is None:  # no lab wired a runtime to this backend: the backend answers
            return None
        body = request.body.read() if hasattr(request.body, "read") else request.body
        body = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        parts = urlsplit(request.url)
        status, headers, answer = handler(
            request.method, parts.path, parts.query, [(k, _text(v)) for k, v in request.headers.items()], body
        )
        return AWSResponse(request.url, status, HeadersDict(headers), _Answer(answer))

    def child_environment(self) -> dict[str, str]:
        """Variables for code the lab runs on the user's behalf (Lambda environments, the CLI's children).

        Offline: fake credentials and the AWS_ENDPOINT_URL convention (boto3 >= 1.28 honours it), so a
        handler's own boto3 calls reach the offline backend.
        """
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.offline:
            env.update(FAKE_CREDENTIALS)
            if self.endpoint_url:
                env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env

    # --- what moto cannot serve over its API ----------------------------------------------------------
    def lambda_code(self, function_name: str, version: str = "$LATEST") -> bytes:
        """The deployment package of one version of a function, from the pre-signed URL ``get_function``
        returns (each published version keeps the code it was published with)."""
        code = self.client("lambda").get_function(FunctionName=function_name, Qualifier=version)["Code"]
        return _download(code.get("Location"), f"the code of {function_name!r}")

    def lambda_layer_code(self, layer_version_arn: str) -> bytes:
        """The content of a layer version, from the pre-signed URL ``get_layer_version_by_arn`` returns."""
        content = self.client("lambda").get_layer_version_by_arn(Arn=layer_version_arn)["Content"]
        return _download(content.get("Location"), f"the layer {layer_version_arn!r}")

    def jwks(self, user_pool_id: str) -> dict[str, Any]:
        """The pool's public signing keys, from its /.well-known/jwks.json as Cognito publishes them."""
        url = self.issuer(user_pool_id) + "/.well-known/jwks.json"
        if self.endpoint_url:
            url = f"{self.endpoint_url.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"
        request = urllib.request.Request(url, headers={"Host": f"cognito-idp.{self.region}.amazonaws.com"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def issuer(self, user_pool_id: str) -> str:
        """The `iss` claim of the pool's tokens, as Cognito sets it."""
        region = user_pool_id.split("_", 1)[0] or self.region
        return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"

    def cognito_endpoint(self) -> str:
        """Where a browser sends Cognito's JSON API calls."""
        return self.endpoint_url or f"https://cognito-idp.{self.region}.amazonaws.com/"

    def stop(self) -> None:  # noqa: B027
        """Release what start() took (for the local backend the server keeps running for others)."""


def _download(location: str | None, what: str) -> bytes:
    """The bytes at a pre-signed URL the control plane gave for `what`."""
    if not location or not location.startswith(("http://", "https://")):
        raise LookupError(f"The backend gives no download URL for {what}.")
    with urllib.request.urlopen(location, timeout=30) as response:
        return response.read()
