"""Bad viewer input gets CloudFront's answer, and nothing outside the origin path is ever asked for.

The bucket holds a secret next to the site folder; the distribution's origin path is /site. Every request
below, however it spells its path, may only ever reach keys under "site/".
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from serverless_lab.dataplane.cloudfront.edge import Edge
from serverless_lab.dataplane.cloudfront.model import (
    CacheBehavior,
    DistributionConfig,
    Origin,
    OriginCaller,
    OriginResponse,
)
from serverless_lab.dataplane.http import HttpRequest

OBJECTS = {
    "secret.txt": b"outside the origin path",
    "site/index.html": b"<h1>home</h1>",
    "site/secret.txt": b"the site's own file named secret.txt",
    "site/assets/app.js": b"console.log('app')",
    "site/%2F": b"a key that really is percent-two-F",
}


class Bucket:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(
        self, bucket: str, key: str, conditions: Mapping[str, str], caller: OriginCaller
    ) -> OriginResponse:
        self.keys.append(key)
        if key in OBJECTS:
            return OriginResponse(200, {"Content-Type": "text/plain", "Content-Length": "1"}, OBJECTS[key])
        return OriginResponse(
            403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
        )


CONFIG = DistributionConfig(
    "E1LAB",
    "d111111abcdef8.cloudfront.net",
    (Origin("site", "lab-bucket.s3.amazonaws.com", "/site"),),
    default_behavior=CacheBehavior("*", "site"),
    default_root_object="index.html",
)
DISABLED = DistributionConfig(**{**CONFIG.__dict__, "distribution_id": "E2OFF", "enabled": False})


@pytest.fixture
def bucket() -> Bucket:
    return Bucket()


@pytest.fixture
def edge(bucket) -> Edge:
    configs = {"E1LAB": CONFIG, "E2OFF": DISABLED}
    return Edge(
        distribution_source=lambda dist_id: configs[dist_id],  # KeyError (a LookupError) when unknown
        origin=bucket,
        invalidations=lambda dist_id: [],
    )


def get(edge: Edge, path: str, method: str = "GET", distribution_id: str = "E1LAB", query: str = ""):
    return edge.handle(distribution_id, HttpRequest(method, path, query))


def reason_of(response) -> str:
    """The reason line of CloudFront's error page (the line after the horizontal rule)."""
    lines = response.body.decode("iso-8859-1").splitlines()
    return lines[lines.index('<HR noshade size="1px">') + 1]


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../../../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2e/%2e%2E/secret.txt",
        "/assets/../../secret.txt",
        "/./../secret.txt",
        "//../secret.txt",
        "/assets/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    ],
)
def test_dot_segments_are_resolved_inside_the_origin_path(edge, bucket, path):
    response = get(edge, path)
    assert response.status == 200
    assert response.body == OBJECTS["site/secret.txt"]
    assert bucket.keys == ["site/secret.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "/..%2Fsecret.txt",
        "/assets%2F..%2F..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/a/..%2f",
        "/%2F..%2Fsecret.txt",
    ],
)
def test_traversal_through_encoded_slashes_is_refused(edge, bucket, path):
    response = get(edge, path)
    assert response.status == 400
    assert reason_of(response) == "Bad request."
    assert bucket.keys == []


def test_encoded_slash_is_decoded_once_to_the_s3_key(edge, bucket):
    response = get(edge, "/assets%2Fapp.js")
    assert response.status == 200
    assert bucket.keys == ["site/assets/app.js"]


def test_a_plus_in_the_path_is_a_space_in_the_s3_key(edge, bucket):
    # S3 reads "+" in a REST path as a space; a key with a plus sign is asked for as %2B.
    get(edge, "/a+b.txt")
    get(edge, "/a%2Bb.txt")
    assert bucket.keys == ["site/a b.txt", "site/a+b.txt"]


def test_double_encoding_is_decoded_only_once(edge, bucket):
    assert get(edge, "/%252F").body == OBJECTS["site/%2F"]
    assert bucket.keys == ["site/%2F"]


def test_unreserved_escapes_are_the_same_object(edge, bucket):
    get(edge, "/index.html")
    assert get(edge, "/%69ndex%2Ehtml").header("X-Cache") == "Hit from cloudfront"
    assert bucket.keys == ["site/index.html"]


@pytest.mark.parametrize(
    "path", ["/%zz", "/50%", "/%4", "/a b", "/caf\u00e9", "/tab\there", "no-leading-slash", ""]
)
def test_malformed_paths_are_400(edge, bucket, path):
    response = get(edge, path)
    assert response.status == 400
    assert response.header("X-Cache") == "Error from cloudfront"
    assert bucket.keys == []


def test_escape_that_is_not_utf8_is_400(edge, bucket):
    assert get(edge, "/%ff%fe").status == 400
    assert bucket.keys == []


def test_url_longer_than_8192_bytes_is_413_and_closes_the_connection(edge, bucket):
    response = get(edge, "/" + "a" * 8192)
    assert response.status == 413
    assert "<H1>413 ERROR</H1>" in response.body.decode("iso-8859-1")
    assert response.header("Connection") == "close"
    assert get(edge, "/a", query="q=" + "x" * 8190).status == 413  # the query string counts
    assert bucket.keys == []


def test_request_over_20480_bytes_with_headers_is_413(edge, bucket):
    cookie = ("Cookie", "session=" + "c" * 12_000)
    assert edge.handle("E1LAB", HttpRequest("GET", "/", "", (cookie,))).status == 200
    twice = (cookie, ("X-Padding", "p" * 9_000))
    assert edge.handle("E1LAB", HttpRequest("GET", "/", "", twice)).status == 413
    assert bucket.keys == ["site/index.html"]


def test_get_with_a_body_is_403(edge, bucket):
    response = edge.handle("E1LAB", HttpRequest("GET", "/", body=b"{}"))
    assert response.status == 403
    assert response.header("X-Cache") == "Error from cloudfront"
    assert bucket.keys == []


def test_url_of_exactly_8192_bytes_is_served(edge, bucket):
    assert get(edge, "/" + "a" * 8191).status == 403  # reaches S3, which has no such key
    assert bucket.keys == ["site/" + "a" * 8191]


@pytest.mark.parametrize("method", ["GE T", "", "GET\r\n", "G(ET)"])
def test_method_that_is_not_an_http_token_is_400(edge, bucket, method):
    assert get(edge, "/", method=method).status == 400
    assert bucket.keys == []


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "get", "DELETE", "OPTIONS"])
def test_methods_outside_the_behaviour_are_403(edge, bucket, method):
    response = get(edge, "/", method=method)
    assert response.status == 403
    assert reason_of(response).startswith(
        "This distribution is not configured to allow the HTTP request method"
    )
    assert bucket.keys == []


def test_unknown_distribution_is_403_bad_request(edge, bucket):
    response = get(edge, "/", distribution_id="ENOSUCH")
    assert response.status == 403
    assert reason_of(response) == "Bad request."
    assert response.header("Server") == "CloudFront"
    assert bucket.keys == []


def test_disabled_distribution_is_403_bad_request(edge, bucket):
    response = get(edge, "/", distribution_id="E2OFF")
    assert response.status == 403
    assert reason_of(response) == "Bad request."
    assert bucket.keys == []


def test_behaviour_pointing_at_a_non_s3_origin_is_502(bucket):
    custom = DistributionConfig(
        "E3", "d.cloudfront.net", (Origin("web", "example.com"),), default_behavior=CacheBehavior("*", "web")
    )
    edge = Edge(distribution_source=lambda _: custom, origin=bucket, invalidations=lambda _: [])
    assert edge.handle("E3", HttpRequest("GET", "/")).status == 502
    assert bucket.keys == []


def test_no_spelling_of_a_path_leaves_the_origin_path(edge, bucket):
    pieces = [
        "..",
        ".",
        "%2e%2e",
        "%2E",
        "%2F",
        "%2f..",
        "..%2F",
        "",
        "secret.txt",
        "site",
        "a",
        "%252e%252e",
        "%00",
    ]
    generator = random.Random(20240501)
    statuses = set()
    for _ in range(2000):
        path = "/" + "/".join(generator.choice(pieces) for _ in range(generator.randint(1, 6)))
        statuses.add(get(edge, path).status)
    assert statuses <= {200, 400, 403}
    assert 200 in statuses and 400 in statuses  # the sample reached S3 and was also refused
    for key in bucket.keys:
        assert key.startswith("site/")
        assert ".." not in key.split("/") and "." not in key.split("/")
    assert "secret.txt" not in bucket.keys
