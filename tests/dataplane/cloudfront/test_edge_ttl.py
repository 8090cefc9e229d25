"""Every row of CloudFront's expiration table ("Manage how long content stays in the cache"), and the
error-caching rules ("Control how long CloudFront caches errors"), first as functions, then end to end."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import formatdate

import pytest

from serverless_lab.dataplane.cloudfront.cache import error_ttl, object_ttl
from serverless_lab.dataplane.cloudfront.edge import Edge
from serverless_lab.dataplane.cloudfront.model import (
    CacheBehavior,
    DistributionConfig,
    Origin,
    OriginCaller,
    OriginResponse,
)
from serverless_lab.dataplane.http import HttpRequest

NOW = 1_700_000_000.0


def expires_in(seconds: float) -> str:
    return formatdate(NOW + seconds, usegmt=True)


# (row of the table, origin headers, min TTL, default TTL, max TTL, expected TTL; None = not cached)
TABLE = [
    ("no headers, min 0: default TTL", {}, 0, 300, 3600, 300),
    ("no headers, min > 0: greater of min and default", {}, 600, 300, 3600, 600),
    ("no headers, min > 0 below default: default", {}, 60, 300, 3600, 300),
    ("max-age, min 0: max-age below max", {"Cache-Control": "max-age=120"}, 0, 300, 3600, 120),
    ("max-age, min 0: lesser of max-age and max", {"Cache-Control": "max-age=9999"}, 0, 300, 3600, 3600),
    ("max-age between min and max: max-age", {"Cache-Control": "public, max-age=900"}, 60, 300, 3600, 900),
    ("max-age below min: min", {"Cache-Control": "max-age=10"}, 60, 300, 3600, 60),
    ("max-age above max: max", {"Cache-Control": "max-age=86400"}, 60, 300, 3600, 3600),
    ("s-maxage wins over max-age", {"Cache-Control": "max-age=60, s-maxage=1200"}, 0, 300, 3600, 1200),
    ("s-maxage above max: max", {"Cache-Control": "max-age=60, s-maxage=99999"}, 10, 300, 3600, 3600),
    ("s-maxage below min: min", {"Cache-Control": "max-age=6000, s-maxage=5"}, 10, 300, 3600, 10),
    ("Expires, min 0: until Expires", {"Expires": expires_in(1000)}, 0, 300, 3600, 1000),
    ("Expires, min 0: sooner of Expires and max", {"Expires": expires_in(7200)}, 0, 300, 3600, 3600),
    ("Expires between min and max: Expires", {"Expires": expires_in(1000)}, 60, 300, 3600, 1000),
    ("Expires below min: min", {"Expires": expires_in(30)}, 60, 300, 3600, 60),
    ("Expires above max: max", {"Expires": expires_in(99999)}, 60, 300, 3600, 3600),
    ("Expires in the past, min 0: 0 (revalidate)", {"Expires": expires_in(-50)}, 0, 300, 3600, 0),
    ("unparseable Expires is already expired", {"Expires": "soon"}, 5, 300, 3600, 5),
    (
        "max-age and Expires: only max-age counts",
        {"Cache-Control": "max-age=100", "Expires": expires_in(2000)},
        0,
        300,
        3600,
        100,
    ),
    ("no-cache, min 0: not cached", {"Cache-Control": "no-cache"}, 0, 300, 3600, None),
    ("no-store, min 0: not cached", {"Cache-Control": "no-store"}, 0, 300, 3600, None),
    ("private, min 0: not cached", {"Cache-Control": "private, max-age=600"}, 0, 300, 3600, None),
    ("no-cache, min > 0: min", {"Cache-Control": "no-cache"}, 45, 300, 3600, 45),
    ("private, min > 0: min", {"cache-control": "PRIVATE"}, 45, 300, 3600, 45),
]


@pytest.mark.parametrize(
    ("headers", "min_ttl", "default_ttl", "max_ttl", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_expiration_table(headers, min_ttl, default_ttl, max_ttl, expected):
    assert object_ttl(headers, min_ttl, default_ttl, max_ttl, NOW) == expected


ERRORS = [
    ("404 without headers: error caching min TTL", 404, {}, 10, 3600, 10),
    ("404 with a longer max-age: max-age", 404, {"Cache-Control": "max-age=120"}, 10, 3600, 120),
    ("404 with a shorter max-age: error caching min TTL", 404, {"Cache-Control": "max-age=3"}, 10, 3600, 10),
    (
        "max-age above the behaviour's max TTL is capped",
        404,
        {"Cache-Control": "max-age=99999"},
        10,
        600,
        600,
    ),
    ("Expires counts too", 500, {"Expires": expires_in(300)}, 10, 3600, 300),
    ("404 no-store: not cached", 404, {"Cache-Control": "no-store"}, 10, 3600, None),
    ("501 private: not cached", 501, {"Cache-Control": "private"}, 10, 3600, None),
    ("403 ignores no-store", 403, {"Cache-Control": "no-store"}, 10, 3600, 10),
    ("416 is never cached", 416, {}, 10, 3600, None),
    ("409 is not a cached status", 409, {}, 10, 3600, None),
    ("error caching min TTL 0: not cached", 404, {}, 0, 3600, None),
]


@pytest.mark.parametrize(
    ("status", "headers", "min_ttl", "max_ttl", "expected"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
def test_error_caching(status, headers, min_ttl, max_ttl, expected):
    assert error_ttl(status, headers, min_ttl, max_ttl, NOW) == expected


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def edge_with(headers: Mapping[str, str], behavior: CacheBehavior) -> tuple[Edge, Clock, list[str]]:
    """An edge in front of one object whose origin headers are `headers`; returns the origin call log."""
    clock, calls = Clock(), []

    def origin(bucket: str, key: str, conditions: Mapping[str, str], caller: OriginCaller) -> OriginResponse:
        calls.append(key)  # no validators: every expired request is a full Miss
        return OriginResponse(200, {"Content-Type": "text/plain", "Content-Length": "2", **headers}, b"ok")

    config = DistributionConfig(
        "E1", "d.cloudfront.net", (Origin("o", "lab-bucket.s3.amazonaws.com"),), default_behavior=behavior
    )
    return (
        Edge(distribution_source=lambda _: config, origin=origin, invalidations=lambda _: [], clock=clock),
        clock,
        calls,
    )


@pytest.mark.parametrize(
    ("headers", "min_ttl", "max_ttl", "fresh_for"),
    [
        ({"Cache-Control": "max-age=86400"}, 0, 600, 600),
        ({"Cache-Control": "max-age=5"}, 60, 600, 60),
        ({}, 0, 600, 300),
    ],
    ids=["capped-at-max", "raised-to-min", "default"],
)
def test_ttl_decides_when_the_edge_goes_back_to_the_origin(headers, min_ttl, max_ttl, fresh_for):
    edge, clock, calls = edge_with(
        headers, CacheBehavior("*", "o", min_ttl=min_ttl, default_ttl=300, max_ttl=max_ttl)
    )
    request = HttpRequest("GET", "/file.txt")
    edge.handle("E1", request)
    clock.now = NOW + fresh_for - 1
    assert edge.handle("E1", request).header("X-Cache") == "Hit from cloudfront"
    clock.now = NOW + fresh_for
    assert edge.handle("E1", request).header("X-Cache") == "Miss from cloudfront"
    assert calls == ["file.txt", "file.txt"]
