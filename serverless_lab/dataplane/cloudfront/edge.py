"""The local CloudFront edge: one edge location serving S3 origins through a cache, opening no sockets.

`Edge.handle(distribution_id, request)` does what a CloudFront edge does with a viewer request, in order:
1. refuse what CloudFront refuses (URL over 8,192 bytes or request over 20,480 → 413, GET with a body → 403, unknown or disabled distribution → 403,
   malformed paths → 400, a method the cache behaviour does not allow → 403), with CloudFront's HTML page;
2. normalize the path (RFC 3986, as CloudFront does before matching cache behaviours), apply the default
   root object, pick the cache behaviour by path pattern;
3. answer from the cache (Hit), revalidate an expired answer with the origin (RefreshHit on 304), or go to
   the origin (Miss), applying the TTL table, custom error responses, error caching and gzip.

Everything it needs is injected: the distribution config (`model.DistributionConfig`), the S3
origin as a callable returning S3's own answer to the caller the origin reads as (`model.OriginCaller`:
the distribution through its origin access control, or an anonymous caller), the invalidation list, and
the clock.

Containment: the S3 key is the normalized path, percent-decoded once, below the origin path. Dot segments
are removed before decoding and a key that still has one after decoding (only possible through an encoded
slash, `..%2F`) is refused, so no key outside the origin path can ever be asked for.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from serverless_lab.dataplane.cloudfront.cache import (
    CachedAnswer,
    CacheEntryInfo,
    EdgeCache,
    error_ttl,
    object_ttl,
)
from serverless_lab.dataplane.cloudfront.compression import accepts_gzip, compressed_headers, is_compressible
from serverless_lab.dataplane.cloudfront.errors import (
    BadRequestError,
    CloudFrontError,
    DistributionDisabledError,
    GetWithBodyError,
    MethodNotAllowedError,
    OriginUnreachableError,
    RequestTooLargeError,
    UnknownDistributionError,
    cloudfront_error_page,
    s3_access_denied_body,
)
from serverless_lab.dataplane.cloudfront.model import (
    DEFAULT_ERROR_CACHING_MIN_TTL,
    CacheBehavior,
    DistributionConfig,
    Invalidation,
    OriginCaller,
    OriginResponse,
)
from serverless_lab.dataplane.cloudfront.paths import normalize_path, s3_key_for
from serverless_lab.dataplane.cloudfront.ranges import byte_range
from serverless_lab.dataplane.http import HttpRequest, HttpResponse

__all__ = ["CacheEntryInfo", "Edge", "OriginResponse"]

# Developer Guide, Quotas: "Maximum length of a URL: 8,192 bytes" and "Maximum length of a request ...
# including headers and query strings, but not including the body content: 20,480 bytes".
MAX_URL_BYTES = 8192
MAX_REQUEST_BYTES = 20_480
# RFC 9110 token characters; anything else in the method position is not HTTP at all.
_METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)
# Headers a 304 carries (RFC 9110, section 15.4.5).
_NOT_MODIFIED_HEADERS = frozenset({"etag", "last-modified", "cache-control", "expires", "vary", "date"})


@dataclass(frozen=True)
class _Target:
    """Where one viewer request goes: cache key and path, S3 bucket and key, behaviour, encoding variant."""

    key: str
    cache_path: str
    viewer_path: str
    bucket: str
    s3_key: str
    behavior: CacheBehavior
    variant: str
    caller: OriginCaller


@dataclass
class _RequestContext:
    distribution: DistributionConfig
    spans: list | None
    load_invalidations: Callable[[], list[Invalidation]]
    _invalidations: list[Invalidation] | None = field(default=None)

    def invalidations(self) -> list[Invalidation]:
        if self._invalidations is None:
            self._invalidations = list(self.load_invalidations())
        return self._invalidations


class Edge:
    """One CloudFront edge location (pop `LHR50-P1` by default) with its own cache per distribution."""

    def __init__(
        self,
        *,
        distribution_source: Callable[[str], DistributionConfig],
        origin: Callable[[str, str, Mapping[str, str], OriginCaller], OriginResponse],
        invalidations: Callable[[str], list[Invalidation]],
        clock: Callable[[], float] = time.time,
        pop: str = "LHR50-P1",
    ) -> None:
        self._distribution_source = distribution_source
        self._origin = origin
        self._invalidations = invalidations
        self._clock = clock
        # "LHR50-P1" reads as a London Heathrow pop, the form X-Amz-Cf-Pop takes (IATA code, number, -P1).
        self.pop = pop
        # Via names the edge server: "1.1 <32 hex digits>.cloudfront.net (CloudFront)"; stable per edge.
        self.via = f"1.1 {hashlib.md5(pop.encode()).hexdigest()}.cloudfront.net (CloudFront)"
        self._caches: dict[str, EdgeCache] = {}

    # ----- public API -------------------------------------------------------------------------------

    def handle(self, distribution_id: str, request: HttpRequest, spans: list | None = None) -> HttpResponse:
        """Answer one viewer request as CloudFront would; never raises for bad input."""
        started = self._clock()
        timer = time.perf_counter()
        request_id = _cloudfront_request_id()
        try:
            response, x_cache, cache_status = self._serve(distribution_id, request, spans)
        except CloudFrontError as error:
            response = self._error_response(error, request_id)
            x_cache, cache_status = "Error from cloudfront", "error"
        response.headers += [
            ("X-Cache", x_cache),
            ("Via", self.via),
            ("X-Amz-Cf-Pop", self.pop),
            ("X-Amz-Cf-Id", request_id),
        ]
        if request.method == "HEAD":
            response.body = b""
        if spans is not None:
            spans.append(
                {
                    "component": "edge",
                    "operation": f"{request.method} {request.path}",
                    "start": started,
                    "duration_ms": (time.perf_counter() - timer) * 1000,
                    "status": response.status,
                    "cache": cache_status,
                }
            )
        return response

    def cache_entries(self, distribution_id: str) -> list[CacheEntryInfo]:
        """What this edge holds for a distribution, for a notebook cache inspector (invalidations applied)."""
        cache = self._caches.get(distribution_id)
        if cache is None:
            return []
        invalidations = list(self._invalidations(distribution_id))
        cache.remove_where(lambda answer: _invalidated(answer, invalidations))
        return cache.describe(self._clock())

    def purge(self, distribution_id: str) -> None:
        """Empty this edge's cache for one distribution (a lab shortcut; CloudFront has only invalidations)."""
        cache = self._caches.get(distribution_id)
        if cache is not None:
            cache.clear()

    # ----- request pipeline -------------------------------------------------------------------------

    def _serve(
        self, distribution_id: str, request: HttpRequest, spans: list | None
    ) -> tuple[HttpResponse, str, str]:
        if not _METHOD_TOKEN.fullmatch(request.method):
            raise BadRequestError()
        url_length = len(request.path.encode()) + (len(request.query.encode()) + 1 if request.query else 0)
        header_length = sum(len(f"{name}: {value}\r\n".encode()) for name, value in request.headers)
        if url_length > MAX_URL_BYTES or url_length + header_length > MAX_REQUEST_BYTES:
            raise RequestTooLargeError()
        if request.method == "GET" and request.body:
            raise GetWithBodyError()
        try:
            distribution = self._distribution_source(distribution_id)
        except LookupError as missing:
            raise UnknownDistributionError() from missing
        if distribution is None:
            raise UnknownDistributionError()
        if not distribution.enabled:
            raise DistributionDisabledError()
        context = _RequestContext(distribution, spans, lambda: self._invalidations(distribution_id))
        target = self._target(distribution, request.path, request.query, request.header("Accept-Encoding"))
        behavior = target.behavior
        if request.method not in behavior.allowed_methods:
            raise MethodNotAllowedError.for_behavior(behavior.allowed_methods)
        if request.method not in ("GET", "HEAD"):
            return self._write_answer(), "Error from cloudfront", "miss"
        answer, cache_status = self._cached_answer(context, target, with_custom_errors=True)
        x_cache = {
            "hit": "Hit from cloudfront",
            "miss": "Miss from cloudfront",
            "refresh-hit": "RefreshHit from cloudfront",
        }[cache_status]
        if answer.is_error:
            x_cache = "Error from cloudfront"
        response = self._viewer_response(answer, request, with_age=cache_status == "hit")
        return response, x_cache, cache_status

    def _target(
        self, distribution: DistributionConfig, raw_path: str, query: str, accept_encoding: str | None
    ) -> _Target:
        viewer_path = normalize_path(raw_path)
        path = viewer_path
        # "Specify a default root object": only a request for the root URL gets it, not subdirectories.
        if path == "/" and distribution.default_root_object:
            path = "/" + distribution.default_root_object.lstrip("/")
        behavior = distribution.behavior_for(path)
        origin = distribution.origin(behavior.target_origin_id)
        if origin is None or origin.bucket is None:
            # The lab serves S3 origins only; CloudFront's answer when it cannot reach an origin is 502.
            raise OriginUnreachableError()
        key_query = behavior.cache_key_query(query)
        cache_path = f"{path}?{key_query}" if key_query else path
        if key_query:
            # "You must include the query strings when invalidating files" (or end the path with *): the
            # viewer's path, which invalidations also match (/ for the default root object), keeps it too.
            viewer_path = f"{viewer_path}?{key_query}"
        variant = "gzip" if behavior.compress and accepts_gzip(accept_encoding) else "identity"
        return _Target(
            key=f"{cache_path}|{variant}",
            cache_path=cache_path,
            viewer_path=viewer_path,
            bucket=origin.bucket,
            s3_key=s3_key_for(path, origin.origin_path),
            behavior=behavior,
            variant=variant,
            caller=origin.caller(distribution.arn),
        )

    def _cached_answer(
        self, context: _RequestContext, target: _Target, *, with_custom_errors: bool
    ) -> tuple[CachedAnswer, str]:
        cache = self._caches.setdefault(context.distribution.distribution_id, EdgeCache())
        if target.behavior.caching_disabled:  # a cache policy with no TTL: straight to the origin, a Miss
            response = self._call_origin(context, target, {})
            now = self._clock()
            return self._answer_from_origin(context, cache, target, response, now, with_custom_errors), "miss"
        self._drop_if_invalidated(cache, target.key, context)
        answer = cache.get(target.key)
        if answer is not None and answer.is_fresh(self._clock()):
            cache.record_hit(answer)
            return answer, "hit"
        with cache.key_lock(target.key):
            answer = cache.get(target.key)
            now = self._clock()
            if answer is not None and answer.is_fresh(now):
                cache.record_hit(answer)  # another thread fetched it while this one waited
                return answer, "hit"
            if (
                answer is not None
                and not answer.is_error
                and (answer.origin_etag or answer.origin_last_modified)
            ):
                response = self._call_origin(context, target, _validators(answer))
                kept = self._keep_stale(context, cache, target, answer, response, now)
                if kept is not None:
                    return kept
            else:
                response = self._call_origin(context, target, {})
            return self._answer_from_origin(context, cache, target, response, now, with_custom_errors), "miss"

    def _keep_stale(
        self,
        context: _RequestContext,
        cache: EdgeCache,
        target: _Target,
        stale: CachedAnswer,
        response: OriginResponse,
        now: float,
    ) -> tuple[CachedAnswer, str] | None:
        """The expired answer again, when the origin's answer to revalidation says it still holds.

        304: "the origin returns a 304 status code (Not Modified)" and the cached copy is fresh again
        (RefreshHit). 5xx: "CloudFront serves the object even though it has expired" for the error caching
        minimum TTL (HTTPStatusCodes, "The requested object is in the edge cache"). Anything else (a new
        object, a 4xx) replaces it: None.
        """
        if response.status == 304:
            merged = dict(stale.headers)
            merged.update(
                {k: v for k, v in response.headers.items() if k.lower() in ("cache-control", "expires")}
            )
            behavior = target.behavior
            ttl = object_ttl(merged, behavior.min_ttl, behavior.default_ttl, behavior.max_ttl, now)
            stale.stored_at, stale.ttl = now, ttl or 0.0
            if ttl is None:
                cache.remove(stale.key)
            return stale, "refresh-hit"
        if response.status >= 500:
            custom = context.distribution.custom_error_response(response.status)
            grace = custom.error_caching_min_ttl if custom else DEFAULT_ERROR_CACHING_MIN_TTL
            stale.ttl = stale.age(now) + grace
            cache.record_hit(stale)
            return stale, "hit"
        return None

    def _answer_from_origin(
        self,
        context: _RequestContext,
        cache: EdgeCache,
        target: _Target,
        response: OriginResponse,
        now: float,
        with_custom_errors: bool,
    ) -> CachedAnswer:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP]
        if response.header("Date") is None:  # S3 always dates its answers; keep that date on cache hits
            headers.append(("Date", formatdate(now, usegmt=True)))
        if response.status >= 400:
            return self._error_answer(context, cache, target, response, headers, now, with_custom_errors)
        body, encoding = response.body, ""
        if response.status == 200 and target.variant == "gzip" and is_compressible(response):
            body, encoding = gzip.compress(response.body, mtime=0), "gzip"
            headers = compressed_headers(headers)
        behavior = target.behavior
        ttl = object_ttl(response.headers, behavior.min_ttl, behavior.default_ttl, behavior.max_ttl, now)
        answer = CachedAnswer(
            key=target.key,
            path=target.cache_path,
            viewer_path=target.viewer_path,
            status=response.status,
            headers=headers,
            body=body,
            stored_at=now,
            ttl=ttl or 0.0,
            content_encoding=encoding,
            origin_etag=response.header("ETag"),
            origin_last_modified=response.header("Last-Modified"),
        )
        if ttl is not None and response.status == 200 and not behavior.caching_disabled:
            cache.put(answer)
        return answer

    def _error_answer(
        self,
        context: _RequestContext,
        cache: EdgeCache,
        target: _Target,
        response: OriginResponse,
        headers: list[tuple[str, str]],
        now: float,
        with_custom_errors: bool,
    ) -> CachedAnswer:
        """An origin 4xx/5xx, replaced by the custom error page when one is configured for the code.

        "CloudFront finds the first cache behavior in your distribution that has a path pattern that
        matches the path of the custom error page", fetches the page through it, returns it with the
        configured response code, and caches the result for the error caching TTL (HTTPStatusCodes).
        """
        custom = context.distribution.custom_error_response(response.status)
        min_ttl = custom.error_caching_min_ttl if custom else DEFAULT_ERROR_CACHING_MIN_TTL
        ttl = error_ttl(response.status, response.headers, min_ttl, target.behavior.max_ttl, now)
        status, body, encoding = response.status, response.body, ""
        if with_custom_errors and custom is not None and custom.response_page_path:
            page = self._error_page(context, custom.response_page_path, target)
            if page is not None:
                status = custom.response_code or response.status
                headers, body, encoding = list(page.headers), page.body, page.content_encoding
        answer = CachedAnswer(
            key=target.key,
            path=target.cache_path,
            viewer_path=target.viewer_path,
            status=status,
            headers=headers,
            body=body,
            stored_at=now,
            ttl=ttl or 0.0,
            is_error=True,
            content_encoding=encoding,
        )
        if ttl is not None:
            cache.put(answer)
        return answer

    def _error_page(self, context: _RequestContext, page_path: str, failed: _Target) -> CachedAnswer | None:
        try:
            page_target = self._target(
                context.distribution, page_path, "", "gzip" if failed.variant == "gzip" else None
            )
        except CloudFrontError:
            return None
        if page_target.key == failed.key:
            # The error page is the object that just failed (the index page S3 refused): the viewer gets the
            # origin's own error, as CloudFront does when it cannot get the custom error page.
            return None
        page, _ = self._cached_answer(context, page_target, with_custom_errors=False)
        return page if 200 <= page.status < 300 and not page.is_error else None

    def _call_origin(
        self, context: _RequestContext, target: _Target, conditional: dict[str, str]
    ) -> OriginResponse:
        started = self._clock()
        timer = time.perf_counter()
        try:
            response = self._origin(target.bucket, target.s3_key, conditional, target.caller)
        except Exception as failure:  # an origin that cannot answer is CloudFront's 502, never a traceback
            raise OriginUnreachableError() from failure
        if context.spans is not None:
            context.spans.append(
                {
                    "component": "s3-origin",
                    "operation": "GetObject",
                    "start": started,
                    "duration_ms": (time.perf_counter() - timer) * 1000,
                    "status": response.status,
                    "bucket": target.bucket,
                    "key": target.s3_key,
                }
            )
        return response

    def _drop_if_invalidated(self, cache: EdgeCache, key: str, context: _RequestContext) -> None:
        # Checked on every request, so an invalidation created with plain boto3 takes effect at once.
        answer = cache.get(key)
        if answer is not None and _invalidated(answer, context.invalidations()):
            cache.remove(key)

    # ----- responses --------------------------------------------------------------------------------

    def _viewer_response(self, answer: CachedAnswer, request: HttpRequest, *, with_age: bool) -> HttpResponse:
        headers = list(answer.headers)
        if with_age:
            # CloudFront adds Age to answers served from its cache: seconds since it got them from the origin.
            headers.append(("Age", str(int(answer.age(self._clock())))))
        if answer.status == 200 and not answer.is_error and _not_modified(request, answer):
            kept = [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_HEADERS or k == "Age"]
            return HttpResponse(status=304, headers=kept, body=b"")
        if answer.status == 200 and not answer.is_error and request.header("Range"):
            ranged = byte_range(request, answer)
            if ranged is not None:
                status, content_range, body = ranged
                headers.append(("Content-Range", content_range))
                headers.append(("Content-Length", str(len(body))))
                return HttpResponse(status=status, headers=headers, body=body)
        headers.append(("Content-Length", str(len(answer.body))))
        return HttpResponse(status=answer.status, headers=headers, body=answer.body)

    def _error_response(self, error: CloudFrontError, request_id: str) -> HttpResponse:
        body = cloudfront_error_page(error.status, error.message, request_id)
        headers = [
            ("Server", "CloudFront"),
            ("Date", formatdate(self._clock(), usegmt=True)),
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
        ]
        if isinstance(error, RequestTooLargeError):
            headers.append(("Connection", "close"))  # "... and then terminates the TCP connection"
        return HttpResponse(status=error.status, headers=headers, body=body)

    def _write_answer(self) -> HttpResponse:
        """S3's answer to a write through CloudFront when the bucket policy grants CloudFront s3:GetObject only.

        The lab's S3 origin callable is read-only (GetObject), so a PUT/POST/PATCH/DELETE/OPTIONS that a
        behaviour allows is answered as the lab's OAC bucket policy makes S3 answer it: 403 AccessDenied.
        """
        body = s3_access_denied_body()
        headers = [
            ("Content-Type", "application/xml"),
            ("Server", "AmazonS3"),
            ("Content-Length", str(len(body))),
        ]
        return HttpResponse(status=403, headers=headers, body=body)


def _invalidated(answer: CachedAnswer, invalidations: list[Invalidation]) -> bool:
    """An answer cached before an invalidation was created, under a path that invalidation covers."""
    return any(
        invalidation.create_time > answer.stored_at
        and (invalidation.matches(answer.path) or invalidation.matches(answer.viewer_path))
        for invalidation in invalidations
    )


def _validators(stale: CachedAnswer) -> dict[str, str]:
    """The conditional headers CloudFront sends to revalidate an expired object with its origin."""
    conditional = {}
    if stale.origin_etag:
        conditional["If-None-Match"] = stale.origin_etag
    if stale.origin_last_modified:
        conditional["If-Modified-Since"] = stale.origin_last_modified
    return conditional


def _not_modified(request: HttpRequest, answer: CachedAnswer) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match (weak comparison) decides; If-Modified-Since only without it."""
    if_none_match = request.header("If-None-Match")
    etag = answer.header("ETag")
    if if_none_match is not None:
        if etag is None:
            return False
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    if_modified_since = request.header("If-Modified-Since")
    last_modified = answer.header("Last-Modified")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False


def _cloudfront_request_id() -> str:
    # X-Amz-Cf-Id looks like 40 random bytes in URL-safe base64: 56 characters ending in "==".
    return base64.urlsafe_b64encode(os.urandom(40)).decode()
