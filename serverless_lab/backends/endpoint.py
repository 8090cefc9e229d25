"""The `endpoint` backend (any URL: another moto server, LocalStack) and the `aws` backend (a real account).

An endpoint on loopback is offline: fake credentials and the loopback guard, as for the local backend. An
endpoint elsewhere is used with the user's credentials, as they asked for it by URL. The `aws` backend is
never a default and never guessed from the environment: only ``Lab(backend="aws")`` selects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3

from ..errors import UsageError
from .base import Backend, is_loopback_host


@dataclass
class EndpointBackend(Backend):
    """Every service at one URL."""

    url: str = ""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"endpoint_url {self.url!r} is not an http(s) URL. Fix: pass e.g. "
                "Lab(backend='endpoint', endpoint_url='http://127.0.0.1:4566')."
            )
        self.name = "endpoint"
        self.offline = is_loopback_host(parts.hostname)

    @property
    def endpoint_url(self) -> str | None:
        return self.url.rstrip("/")

    @property
    def key(self) -> str:
        parts = urlsplit(self.url)
        return f"endpoint-{parts.hostname}-{parts.port or 443}"

    def session(self) -> boto3.session.Session:
        return super().session()


@dataclass
class AwsBackend(Backend):
    """A real AWS account, with the credentials of the profile named (or boto3's default chain)."""

    profile: str | None = None

    def __post_init__(self) -> None:
        self.name = "aws"
        self.offline = False
        self._account: str | None = None

    @property
    def endpoint_url(self) -> str | None:
        return None

    @property
    def key(self) -> str:
        return f"aws-{self.account_id()}-{self.region}"

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    def account_id(self) -> str:
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    def jwks(self, user_pool_id: str) -> dict[str, Any]:
        return super().jwks(user_pool_id)
