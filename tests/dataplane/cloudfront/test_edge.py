"""The edge core against a small dict-backed S3 bucket (test data, not a mock of our code), no moto.

Time moves through an injected clock, so TTLs, Age and invalidation timing are exact.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

import pytest

from serverless_lab.dataplane.cloudfront.cache import EdgeCache
from serverless_lab.dataplane.cloudfront.edge import Edge
from serverless_lab.dataplane.cloudfront.model import (
    CacheBehavior,
    CustomErrorResponse,
    DistributionConfig,
    Invalidation,
    Origin,
    OriginCaller,
    OriginResponse,
)
from serverless_lab.dataplane.http import HttpRequest

T0 = 1_700_000_000.0
PAGE = b"<!doctype html><title>shop</title>" + b"<p>item</p>" * 200  # > 1,000 bytes: compressible


@dataclass
class Bucket:
    """An S3 bucket as CloudFront sees it through OAC: GetObject only, so a missing key is 403."""

    objects: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    callers: list[OriginCaller] = field(default_factory=list)
    modified: float = T0 - 3600
    failure: int | Exception | None = None  # a status S3 answers everything with, or what the call raises
    delay_s: float = 0.0

    def put(self, key: str, body: bytes, content_type: str = "text/html", **headers: str) -> None:
        self.objects[key] = (body, {"Content-Type": content_type, **headers})

    def __call__(
        self, bucket: str, key: str, conditions: Mapping[str, str], caller: OriginCaller
    ) -> OriginResponse:
        self.calls.append((bucket, key, dict(conditions)))
        self.callers.append(caller)
        time.sleep(self.delay_s)
        if isinstance(self.failure, Exception):
            raise self.failure
        if self.failure is not None:
            return OriginResponse(self.failure, {"Content-Type": "application/xml"}, b"<Error/>")
        if key not in self.objects:
            return OriginResponse(
                403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
            )
        body, extra = self.objects[key]
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        last_modified = formatdate(self.modified, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified, "Content-Length": str(len(body)), **extra}
        if conditions.get("If-None-Match") == etag:
            return OriginResponse(304, {"ETag": etag})
        since = conditions.get("If-Modified-Since")
        if since and parsedate_to_datetime(since).timestamp() >= self.modified:
            return OriginResponse(304, {"ETag": etag})
        return OriginResponse(200, headers, body)

    def keys_asked(self) -> list[str]:
        return [key for _, key, _ in self.calls]


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


def distribution(**overrides) -> DistributionConfig:
    values = {
        "distribution_id": "E1LAB",
        "domain_name": "d111111abcdef8.cloudfront.net",
        "origins": (Origin("site", "ada-site.s3.us-east-1.amazonaws.com", "/site", "E2OAC"),),
        "default_behavior": CacheBehavior(
            "*", "site", compress=True, min_ttl=0, default_ttl=300, max_ttl=3600
        ),
        "behaviors": (
            CacheBehavior("/assets/*", "site", compress=True, min_ttl=0, default_ttl=86400, max_ttl=31536000),
            CacheBehavior(
                "/api/*",
                "site",
                allowed_methods=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"),
                default_ttl=0,
                max_ttl=0,
            ),
        ),
        "custom_error_responses": (),
        "default_root_object": "index.html",
    }
    values.update(overrides)
    return DistributionConfig(**values)


@dataclass
class Lab:
    bucket: Bucket
    clock: Clock
    edge: Edge
    config: DistributionConfig
    invalidations: list[Invalidation]

    def get(self, path: str, *headers: tuple[str, str], method: str = "GET", query: str = "", spans=None):
        return self.edge.handle("E1LAB", HttpRequest(method, path, query, tuple(headers)), spans)


def make_lab(**overrides) -> Lab:
    bucket, clock, invalidations = Bucket(), Clock(), []
    config = distribution(**overrides)
    edge = Edge(
        distribution_source=lambda dist_id: {"E1LAB": config}[dist_id],
        origin=bucket,
        invalidations=lambda dist_id: invalidations,
        clock=clock,
    )
    bucket.put("site/index.html", PAGE)
    return Lab(bucket, clock, edge, config, invalidations)


@pytest.fixture
def lab() -> Lab:
    return make_lab()


GZIP = ("Accept-Encoding", "gzip, deflate, br")


def test_the_origin_is_read_as_the_distribution_through_its_origin_access_control():
    arn = "arn:aws:cloudfront::123456789012:distribution/E1LAB"
    lab = make_lab(arn=arn)
    assert lab.get("/").status == 200
    assert lab.bucket.callers == [OriginCaller(arn, "E2OAC")]
    # Without an OAC the edge reads S3 as an anonymous caller: the caller names no access control.
    unsigned = make_lab(arn=arn, origins=(Origin("site", "ada-site.s3.us-east-1.amazonaws.com", "/site"),))
    unsigned.get("/")
    assert [caller.kind for caller in unsigned.bucket.callers] == ["anonymous"]


def test_root_is_the_default_root_object_below_the_origin_path(lab):
    response = lab.get("/")
    assert response.status == 200
    assert response.body == PAGE
    assert lab.bucket.keys_asked() == ["site/index.html"]


def test_default_root_object_applies_to_the_root_only(lab):
    lab.bucket.put("site/docs/index.html", b"docs")
    response = lab.get("/docs/")
    assert response.status == 403  # S3 has no key "site/docs/"; CloudFront does not add index.html there
    assert lab.bucket.keys_asked() == ["site/docs/"]


def test_first_request_misses_then_hits_with_age(lab):
    first = lab.get("/index.html")
    lab.clock.now += 42
    second = lab.get("/index.html")
    assert first.header("X-Cache") == "Miss from cloudfront"
    assert first.header("Age") is None
    assert second.header("X-Cache") == "Hit from cloudfront"
    assert second.header("Age") == "42"
    assert second.body == PAGE
    assert second.header("Date") == first.header("Date") == formatdate(T0, usegmt=True)
    assert len(lab.bucket.calls) == 1


def test_cloudfront_headers_on_every_answer(lab):
    response = lab.get("/index.html")
    assert response.header("Via").startswith("1.1 ")
    assert response.header("Via").endswith(".cloudfront.net (CloudFront)")
    assert response.header("X-Amz-Cf-Pop") == "LHR50-P1"
    request_id = response.header("X-Amz-Cf-Id")
    assert len(request_id) == 56 and request_id.endswith("==")
    assert lab.get("/index.html").header("X-Amz-Cf-Id") != request_id
    assert response.header("ETag") == lab.bucket("b", "site/index.html", {}, OriginCaller()).headers["ETag"]
    assert response.header("Content-Length") == str(len(PAGE))


def test_expired_answer_is_revalidated_and_a_304_from_the_origin_is_a_refresh_hit(lab):
    lab.get("/index.html")
    lab.clock.now += 301  # default behaviour: default TTL 300 s
    refreshed = lab.get("/index.html")
    assert refreshed.header("X-Cache") == "RefreshHit from cloudfront"
    assert refreshed.body == PAGE
    _, _, conditions = lab.bucket.calls[-1]
    assert conditions["If-None-Match"] == refreshed.header("ETag")
    assert "If-Modified-Since" in conditions
    lab.clock.now += 10
    again = lab.get("/index.html")
    assert again.header("X-Cache") == "Hit from cloudfront"
    assert again.header("Age") == "10"  # age restarts at the revalidation
    assert len(lab.bucket.calls) == 2


def test_expired_answer_that_changed_at_the_origin_is_a_miss_with_the_new_body(lab):
    lab.get("/index.html")
    lab.bucket.put("site/index.html", b"new version")
    lab.bucket.modified = lab.clock.now + 1
    lab.clock.now += 301
    response = lab.get("/index.html")
    assert response.header("X-Cache") == "Miss from cloudfront"
    assert response.body == b"new version"


def test_ttl_zero_stores_but_revalidates_every_request(lab):
    lab.bucket.put("site/live.json", b"{}", "application/json", **{"Cache-Control": "max-age=0"})
    assert lab.get("/live.json").header("X-Cache") == "Miss from cloudfront"
    assert lab.get("/live.json").header("X-Cache") == "RefreshHit from cloudfront"
    assert lab.get("/live.json").header("X-Cache") == "RefreshHit from cloudfront"
    assert len(lab.bucket.calls) == 3


def test_no_store_with_minimum_ttl_zero_is_never_cached(lab):
    lab.bucket.put("site/me.json", b"{}", "application/json", **{"Cache-Control": "no-store"})
    assert lab.get("/me.json").header("X-Cache") == "Miss from cloudfront"
    assert lab.get("/me.json").header("X-Cache") == "Miss from cloudfront"
    assert [conditions for _, _, conditions in lab.bucket.calls] == [{}, {}]


def test_behaviour_ttls_apply_per_path_pattern(lab):
    lab.bucket.put("site/assets/app.js", b"js", "application/javascript")
    lab.get("/assets/app.js")
    lab.get("/index.html")
    lab.clock.now += 3000  # past the default behaviour's 300 s, far inside /assets/*'s one day
    assert lab.get("/assets/app.js").header("X-Cache") == "Hit from cloudfront"
    assert lab.get("/index.html").header("X-Cache") == "RefreshHit from cloudfront"


def test_viewer_if_none_match_gets_304_without_body(lab):
    etag = lab.get("/index.html").header("ETag")
    response = lab.get("/index.html", ("If-None-Match", etag))
    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == etag
    assert response.header("X-Cache") == "Hit from cloudfront"
    assert lab.get("/index.html", ("If-None-Match", '"other"')).status == 200


def test_viewer_if_modified_since_gets_304_when_not_modified(lab):
    last_modified = lab.get("/index.html").header("Last-Modified")
    assert lab.get("/index.html", ("If-Modified-Since", last_modified)).status == 304
    earlier = formatdate(lab.bucket.modified - 60, usegmt=True)
    assert lab.get("/index.html", ("If-Modified-Since", earlier)).status == 200


def test_head_has_the_get_headers_and_no_body(lab):
    get = lab.get("/index.html")
    head = lab.get("/index.html", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == get.header("Content-Length")
    assert head.header("X-Cache") == "Hit from cloudfront"


def test_gzip_for_a_viewer_that_accepts_it(lab):
    response = lab.get("/index.html", GZIP)
    assert response.header("Content-Encoding") == "gzip"
    assert response.header("Vary") == "Accept-Encoding"
    assert gzip.decompress(response.body) == PAGE
    assert response.header("Content-Length") == str(len(response.body))
    # "CloudFront converts the strong ETag header value to a weak ETag"
    assert response.header("ETag").startswith('W/"')


def test_encoding_variant_is_part_of_the_cache_key(lab):
    lab.get("/index.html", GZIP)
    plain = lab.get("/index.html")
    assert plain.header("X-Cache") == "Miss from cloudfront"
    assert plain.header("Content-Encoding") is None
    assert plain.body == PAGE
    assert lab.get("/index.html", GZIP).header("X-Cache") == "Hit from cloudfront"
    entries = {entry.key: entry for entry in lab.edge.cache_entries("E1LAB")}
    assert entries["/index.html|gzip"].compressed
    assert not entries["/index.html|identity"].compressed
    assert entries["/index.html|gzip"].size < entries["/index.html|identity"].size


@pytest.mark.parametrize(
    ("key", "body", "content_type", "extra"),
    [
        ("site/small.html", b"x" * 999, "text/html", {}),
        ("site/logo.png", b"x" * 5000, "image/png", {}),
        ("site/pre.js", b"x" * 5000, "application/javascript", {"Content-Encoding": "br"}),
    ],
    ids=["below-1000-bytes", "not-a-compressible-type", "already-encoded"],
)
def test_no_gzip_outside_cloudfronts_conditions(lab, key, body, content_type, extra):
    lab.bucket.put(key, body, content_type, **extra)
    response = lab.get("/" + key.removeprefix("site/"), GZIP)
    assert response.header("Content-Encoding") == extra.get("Content-Encoding")
    assert response.body == body


def test_boundary_sizes_are_compressed(lab):
    lab.bucket.put("site/exact.css", b"a" * 1000, "text/css; charset=utf-8")
    assert lab.get("/exact.css", GZIP).header("Content-Encoding") == "gzip"


def test_no_gzip_when_the_behaviour_does_not_compress():
    lab = make_lab(default_behavior=CacheBehavior("*", "site", compress=False))
    response = lab.get("/index.html", GZIP)
    assert response.header("Content-Encoding") is None
    assert response.body == PAGE


def test_no_gzip_when_the_viewer_refuses_it(lab):
    assert (
        lab.get("/index.html", ("Accept-Encoding", "gzip;q=0, identity")).header("Content-Encoding") is None
    )


def test_missing_key_passes_s3_access_denied_through(lab):
    response = lab.get("/missing.html")
    assert response.status == 403
    assert b"AccessDenied" in response.body
    assert response.header("X-Cache") == "Error from cloudfront"


def spa_lab(error_caching_min_ttl: int = 10) -> Lab:
    errors = tuple(
        CustomErrorResponse(code, "/index.html", 200, error_caching_min_ttl) for code in (403, 404)
    )
    return make_lab(custom_error_responses=errors)


def test_single_page_app_deep_link_gets_index_html_with_200():
    lab = spa_lab()
    response = lab.get("/orders/42")
    assert response.status == 200
    assert response.body == PAGE
    assert response.header("X-Cache") == "Error from cloudfront"
    assert lab.bucket.keys_asked() == ["site/orders/42", "site/index.html"]


def test_when_s3_refuses_the_error_page_itself_the_viewer_gets_s3s_refusal():
    # A bucket policy that does not let the distribution read: the index page, which the app's 403 maps
    # to, is refused too, so the site answers S3's 403 AccessDenied, not the page with 200.
    lab = spa_lab()
    lab.bucket.objects.clear()
    for path in ("/", "/orders/42"):
        response = lab.get(path)
        assert (response.status, b"AccessDenied" in response.body) == (403, True)
    # The index page's refusal is cached (error caching) and answers for the error page of the second.
    assert lab.bucket.keys_asked() == ["site/index.html", "site/orders/42"]


def test_error_answer_is_cached_for_the_error_caching_minimum_ttl():
    lab = spa_lab(error_caching_min_ttl=30)
    lab.get("/orders/42")
    lab.clock.now += 29
    assert lab.get("/orders/42").status == 200
    assert lab.bucket.keys_asked() == ["site/orders/42", "site/index.html"]
    lab.clock.now += 2
    lab.bucket.put("site/orders/42", b"now it exists")
    response = lab.get("/orders/42")
    assert response.body == b"now it exists"
    assert response.header("X-Cache") == "Miss from cloudfront"


def test_default_error_caching_is_ten_seconds(lab):
    lab.get("/missing.html")
    lab.clock.now += 9
    lab.get("/missing.html")
    assert len(lab.bucket.calls) == 1
    lab.clock.now += 2
    lab.get("/missing.html")
    assert len(lab.bucket.calls) == 2


def test_origin_5xx_on_revalidation_serves_the_stale_object(lab):
    lab.get("/index.html")
    lab.clock.now += 301
    lab.bucket.failure = 503
    response = lab.get("/index.html")
    assert response.status == 200
    assert response.body == PAGE
    lab.clock.now += 5  # within the 10 s error caching minimum TTL: no new origin request
    assert lab.get("/index.html").status == 200
    assert len(lab.bucket.calls) == 2
    lab.clock.now += 6  # grace over: CloudFront asks again, and serves the stale object again on a 5xx
    assert lab.get("/index.html").body == PAGE
    assert len(lab.bucket.calls) == 3
    lab.bucket.failure = None
    assert lab.get("/index.html").header("X-Cache") == "Hit from cloudfront"  # still within the new grace
    lab.clock.now += 11
    assert lab.get("/index.html").header("X-Cache") == "RefreshHit from cloudfront"


def test_origin_that_cannot_be_reached_is_a_502(lab):
    lab.bucket.failure = ConnectionRefusedError("moto server is down")
    response = lab.get("/index.html")
    assert response.status == 502
    assert b"CloudFront wasn't able to connect to the origin." in response.body


def test_method_a_behaviour_does_not_allow_is_403_with_cloudfronts_page(lab):
    response = lab.get("/index.html", method="POST")
    assert response.status == 403
    assert response.header("X-Cache") == "Error from cloudfront"
    assert response.header("Content-Type") == "text/html"
    body = response.body.decode("iso-8859-1")
    assert "<H1>403 ERROR</H1>" in body
    assert (
        "This distribution is not configured to allow the HTTP request method that was used for this request. "
        "The distribution supports only cachable requests." in body
    )
    assert f"Request ID: {response.header('X-Amz-Cf-Id')}" in body
    assert lab.bucket.calls == []


def test_write_through_an_all_methods_behaviour_is_denied_by_the_read_only_bucket_policy(lab):
    response = lab.get("/api/orders", method="POST")
    assert response.status == 403
    assert b"<Code>AccessDenied</Code>" in response.body
    assert lab.get("/api/orders", method="TRACE").status == 403  # not one of the seven methods


def test_query_string_is_not_in_the_cache_key_unless_forwarded(lab):
    lab.get("/index.html", query="v=1")
    assert lab.get("/index.html", query="v=2").header("X-Cache") == "Hit from cloudfront"
    forwarding = make_lab(default_behavior=CacheBehavior("*", "site", query_string_behavior="all"))
    forwarding.get("/index.html", query="v=1")
    assert forwarding.get("/index.html", query="v=2").header("X-Cache") == "Miss from cloudfront"
    assert forwarding.get("/index.html", query="v=1").header("X-Cache") == "Hit from cloudfront"


def invalidation(*paths: str, at: float) -> Invalidation:
    return Invalidation(f"I{len(paths)}{int(at)}", paths, at)


def test_wildcard_invalidation_purges_matching_entries_only(lab):
    lab.bucket.put("site/assets/app.js", b"js", "application/javascript")
    lab.get("/assets/app.js")
    lab.get("/index.html")
    lab.clock.now += 5
    lab.invalidations.append(invalidation("/assets/*", at=lab.clock.now))
    lab.clock.now += 1
    assert lab.get("/assets/app.js").header("X-Cache") == "Miss from cloudfront"
    assert lab.get("/index.html").header("X-Cache") == "Hit from cloudfront"
    # cached after the invalidation was created: it stays
    assert lab.get("/assets/app.js").header("X-Cache") == "Hit from cloudfront"


def test_invalidation_created_before_an_entry_was_cached_does_not_purge_it(lab):
    lab.invalidations.append(invalidation("/*", at=lab.clock.now - 60))
    lab.get("/index.html")
    assert lab.get("/index.html").header("X-Cache") == "Hit from cloudfront"


def test_invalidating_everything(lab):
    lab.bucket.put("site/a.txt", b"a", "text/plain")
    for path in ("/", "/a.txt", "/index.html"):
        lab.get(path)
    lab.clock.now += 1
    lab.invalidations.append(invalidation("/*", at=lab.clock.now))
    assert lab.edge.cache_entries("E1LAB") == []
    assert lab.get("/a.txt").header("X-Cache") == "Miss from cloudfront"


def test_invalidating_the_default_root_object_path_purges_the_root(lab):
    lab.get("/")
    lab.clock.now += 1
    lab.invalidations.append(invalidation("/index.html", at=lab.clock.now))
    assert lab.get("/").header("X-Cache") == "Miss from cloudfront"


def test_exact_invalidation_path_does_not_purge_longer_paths(lab):
    lab.bucket.put("site/index.html.bak", b"old", "text/plain")
    lab.get("/index.html.bak")
    lab.clock.now += 1
    lab.invalidations.append(invalidation("/index.html", at=lab.clock.now))
    assert lab.get("/index.html.bak").header("X-Cache") == "Hit from cloudfront"


def test_cached_error_can_be_invalidated():
    lab = spa_lab(error_caching_min_ttl=300)
    lab.get("/orders/42")
    lab.bucket.put("site/orders/42", b"order")
    lab.clock.now += 1
    lab.invalidations.append(invalidation("/orders/*", at=lab.clock.now))
    assert lab.get("/orders/42").body == b"order"


def test_cache_inspector_rows(lab):
    lab.get("/index.html", GZIP)
    lab.clock.now += 100
    lab.get("/index.html", GZIP)
    (entry,) = lab.edge.cache_entries("E1LAB")
    assert entry.path == "/index.html"
    assert entry.age == 100
    assert entry.ttl == 300
    assert entry.expires_in == 200
    assert entry.hits == 1
    assert entry.compressed
    assert entry.status == 200


def test_purge_empties_one_distribution(lab):
    lab.get("/index.html")
    lab.edge.purge("E1LAB")
    assert lab.edge.cache_entries("E1LAB") == []
    assert lab.get("/index.html").header("X-Cache") == "Miss from cloudfront"


def test_spans_for_the_edge_and_the_origin(lab):
    spans: list[dict] = []
    lab.get("/index.html", spans=spans)
    lab.get("/index.html", spans=spans)
    assert [(s["component"], s.get("cache")) for s in spans] == [
        ("s3-origin", None),
        ("edge", "miss"),
        ("edge", "hit"),
    ]
    origin_span = spans[0]
    assert origin_span["operation"] == "GetObject"
    assert origin_span["status"] == 200
    assert origin_span["key"] == "site/index.html"
    assert spans[1]["start"] == T0
    assert all(s["duration_ms"] >= 0 for s in spans)


def test_concurrent_misses_for_one_object_make_one_origin_request(lab):
    lab.bucket.delay_s = 0.05  # slow enough that every viewer arrives while the first is at the origin
    started = threading.Barrier(16)
    answers: list[int] = []

    def viewer() -> None:
        started.wait()
        answers.append(lab.get("/index.html").status)

    threads = [threading.Thread(target=viewer) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 16
    assert len(lab.bucket.calls) == 1


def test_object_deleted_at_the_origin_is_one_conditional_request_then_the_error(lab):
    lab.get("/index.html")
    del lab.bucket.objects["site/index.html"]
    lab.clock.now += 301
    response = lab.get("/index.html")
    assert (
        response.status == 403
    )  # "If your origin returns a 4xx status code, CloudFront returns the status code"
    assert response.header("X-Cache") == "Error from cloudfront"
    assert len(lab.bucket.calls) == 2
    assert lab.bucket.calls[-1][2]["If-None-Match"]


def test_cache_key_locks_are_forgotten_once_released():
    cache = EdgeCache()
    with cache.key_lock("/a|identity"), cache.key_lock("/b|identity"):
        assert cache.waiting_keys() == 2
    assert cache.waiting_keys() == 0


def test_range_requests_are_served_from_the_cached_object(lab):
    lab.bucket.put("site/data.bin", bytes(range(100)))
    lab.get("/data.bin")  # cached
    part = lab.get("/data.bin", ("Range", "bytes=10-19"))
    assert (part.status, part.body, part.header("Content-Range")) == (
        206,
        bytes(range(10, 20)),
        "bytes 10-19/100",
    )
    assert part.header("Content-Length") == "10" and part.header("X-Cache") == "Hit from cloudfront"
    assert lab.get("/data.bin", ("Range", "bytes=95-")).body == bytes(range(95, 100))
    assert lab.get("/data.bin", ("Range", "bytes=-3")).header("Content-Range") == "bytes 97-99/100"
    beyond = lab.get("/data.bin", ("Range", "bytes=200-300"))
    assert (beyond.status, beyond.header("Content-Range")) == (416, "bytes */100")
    # Several ranges, or an If-Range naming another version: the whole object, as RFC 9110 allows.
    assert lab.get("/data.bin", ("Range", "bytes=0-1,5-6")).status == 200
    assert lab.get("/data.bin", ("Range", "bytes=0-1"), ("If-Range", '"other"')).status == 200
