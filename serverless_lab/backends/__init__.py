"""Backends: where the AWS control plane lives (memory, local, endpoint, aws)."""

from __future__ import annotations

import functools
import threading

from ..errors import UnknownBackendError, UsageError
from .aws import AwsBackend, configured_region
from .base import DEFAULT_REGION, Backend, is_loopback_host
from .classroom import ClassBackend, ClassSettings, current_class, default_backend_name
from .endpoint import EndpointBackend
from .local import LocalBackend, LocalServer, lab_home
from .memory import MemoryBackend

BACKEND_NAMES = ("memory", "local", "class", "endpoint", "aws")


@functools.lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    """The regions of every partition botocore knows, from its small partitions.json (7 KB): not from a
    boto3 Session's endpoint data, which loading keeps ~8 MB more in the lab process."""
    import json
    import os

    import botocore

    with open(
        os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json"), encoding="utf-8"
    ) as data:
        partitions = json.load(data)["partitions"]
    return frozenset(
        region
        for partition in partitions
        for region in partition.get("regions", {})
        if not region.endswith("-global")  # aws-global and its kin name no region a backend runs in
    )


def make_backend(
    name: str = "local",
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    port: int | None = None,
) -> Backend:
    """The backend called `name`, started. `aws` only when named here explicitly.

    region: offline, us-east-1 unless given; on aws, the user's configuration (AWS_REGION,
    AWS_DEFAULT_REGION, the profile's region) unless given.
    """
    if isinstance(name, Backend):
        return name
    if name not in BACKEND_NAMES:
        raise UnknownBackendError(
            f"Unknown backend {name!r}. Fix: use one of {', '.join(BACKEND_NAMES)} "
            "(local is the default, class inside a class; aws only for a real account)."
        )
    if endpoint_url is not None and name != "endpoint":
        raise UsageError(f"endpoint_url is only used with backend='endpoint', not {name!r}.")
    if profile is not None and name != "aws":
        raise UsageError(
            f"profile is only used with backend='aws', not {name!r} (offline backends use fake credentials)."
        )
    if region is None:
        region = configured_region(profile) if name == "aws" else DEFAULT_REGION
    if not isinstance(region, str) or region not in _known_regions():
        raise UsageError(
            f"Unknown region {region!r}. Fix: use an AWS region name such as 'us-east-1' or 'eu-west-1'."
        )
    if port is not None and (not isinstance(port, int) or not 0 <= port <= 65535):
        raise UsageError(f"Invalid port {port!r}. Fix: use a TCP port from 0 (any free port) to 65535.")
    key: tuple[object, ...] = (name, region, endpoint_url, profile, port)
    settings = current_class() if name == "class" else None
    if name == "class":  # one backend per class: its settings come from the environment
        key = (*key, settings)
    with _CACHE_LOCK:
        cached = _BACKENDS.get(key)
    if cached is not None and _still_usable(cached):
        return cached
    backend: Backend
    if name == "memory":
        backend = MemoryBackend(region=region)
    elif name == "local":
        backend = LocalBackend(region=region, port=port)
    elif name == "class":
        backend = ClassBackend(region=region, settings=settings)
    elif name == "endpoint":
        if not endpoint_url:
            raise UsageError("backend='endpoint' needs endpoint_url, e.g. 'http://127.0.0.1:4566'.")
        backend = EndpointBackend(region=region, url=endpoint_url)
    else:
        backend = AwsBackend(region=region, profile=profile)
    backend.start()
    with _CACHE_LOCK:
        _BACKENDS[key] = backend
    return backend


# One backend object per process and configuration: every Lab of a kernel shares its boto3 clients
# (making a client costs ~0.15 s) and its data plane.
_BACKENDS: dict[tuple[object, ...], Backend] = {}
_CACHE_LOCK = threading.Lock()


def _still_usable(backend: Backend) -> bool:
    """A cached local backend is reused only while its server still answers (it may have been stopped)."""
    if isinstance(backend, LocalBackend):
        try:
            return bool(backend.server.status()["running"]) and backend.server.read_state() == backend._state
        except OSError:
            return False
    return True


__all__ = [
    "BACKEND_NAMES",
    "AwsBackend",
    "Backend",
    "ClassBackend",
    "ClassSettings",
    "EndpointBackend",
    "LocalBackend",
    "LocalServer",
    "MemoryBackend",
    "current_class",
    "default_backend_name",
    "is_loopback_host",
    "lab_home",
    "make_backend",
]
