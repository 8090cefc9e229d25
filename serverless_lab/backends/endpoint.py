"""The `endpoint` backend: any URL (another moto server, LocalStack). The `aws` backend is in aws.py.

An endpoint on loopback is offline: fake credentials and the loopback guard, as for the local backend. An
endpoint elsewhere is used with the user's credentials, as they asked for it by URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3

from ..errors import UsageError
from .aws import AwsBackend
from .base import Backend, is_loopback_host

__all__ = ["AwsBackend", "EndpointBackend"]


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
