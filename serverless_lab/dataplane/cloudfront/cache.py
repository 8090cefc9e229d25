"""The edge cache: how long CloudFront keeps an answer, and a thread-safe store of cached answers.

TTL rules follow the CloudFront Developer Guide, "Manage how long content stays in the cache
(expiration)" (legacy cache settings: the behaviour's Minimum, Default and Maximum TTL), and "Control how
long CloudFront caches errors" for 4xx/5xx answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

# "HTTP 4xx and 5xx status codes that CloudFront caches" (Developer Guide, HTTPStatusCodes). 416 is
# absent on purpose: "CloudFront doesn't cache status code 416 responses".
CACHED_ERROR_STATUSES = frozenset({400, 403, 404, 405, 410, 414, 500, 501, 502, 503, 504})
# "If the origin adds Cache-Control: no-store, no-cache or private to error code 404, 410, 414 or 501,
# CloudFront doesn't cache the error response. For all other error codes, CloudFront ignores [them]."
_ERRORS_THAT_RESPECT_NO_STORE = frozenset({404, 410, 414, 501})
_DO_NOT_CACHE = ("no-store", "no-cache", "private")


def cache_control_directives(headers: Mapping[str, str]) -> dict[str, str]:
    """Cache-Control directives, lower-cased names to (unquoted) values; "" for a directive without one."""
    value = _header(headers, "Cache-Control") or ""
    directives: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = argument.strip().strip('"')
    return directives


def header_ttl(headers: Mapping[str, str], now: float) -> float | None:
    """The lifetime the origin asked for, or None when it sent no max-age, s-maxage or Expires.

    "If you specify values both for Cache-Control max-age and for Expires, CloudFront uses only the value
    of Cache-Control max-age"; s-maxage is the shared-cache lifetime and wins over max-age for CloudFront.
    An Expires that cannot be parsed means "already expired" (RFC 9111, section 5.3).
    """
    directives = cache_control_directives(headers)
    for name in ("s-maxage", "max-age"):
        if name in directives:
            try:
                return float(max(0, int(directives[name])))
            except ValueError:
                continue
    expires = _header(headers, "Expires")
    if expires is None:
        return None
    try:
        return max(0.0, parsedate_to_datetime(expires).timestamp() - now)
    except (TypeError, ValueError):
        return 0.0


def object_ttl(
    headers: Mapping[str, str], min_ttl: int, default_ttl: int, max_ttl: int, now: float
) -> float | None:
    """Seconds CloudFront keeps a 2xx answer fresh, or None when it must not store it at all.

    The expiration table, row by row:
    - no-cache, no-store or private: with Minimum TTL 0 "CloudFront and browsers respect the headers"
      (not stored); with Minimum TTL > 0 "CloudFront caches objects for the value of the minimum TTL".
    - no max-age/s-maxage/Expires: Minimum TTL 0 → the default TTL; Minimum TTL > 0 → "the greater of
      the value of the CloudFront minimum TTL or default TTL".
    - max-age, s-maxage (which wins over max-age) or Expires: with Minimum TTL 0, "the lesser of the value
      of the directive or the CloudFront maximum TTL"; with Minimum TTL > 0, between min and max → the
      header's value, below min → min, above max → max.
    A TTL of 0 stores the object but revalidates it with the origin on every request.
    """
    directives = cache_control_directives(headers)
    if any(name in directives for name in _DO_NOT_CACHE):
        return float(min_ttl) if min_ttl > 0 else None
    requested = header_ttl(headers, now)
    if requested is None:
        return float(max(min_ttl, default_ttl))
    return float(min(max(requested, min_ttl), max_ttl))


def error_ttl(
    status: int, headers: Mapping[str, str], error_caching_min_ttl: int, max_ttl: int, now: float
) -> float | None:
    """Seconds CloudFront keeps an origin's 4xx/5xx answer, or None when it does not cache it.

    "If the origin adds a Cache-Control max-age or s-maxage directive, or an Expires header: CloudFront
    caches error responses for the greater of the value in the header or the value of Error Caching
    Minimum TTL", where max-age/s-maxage "cannot be greater than the Maximum TTL"; otherwise for the
    Error Caching Minimum TTL (10 seconds by default).
    """
    if status not in CACHED_ERROR_STATUSES:
        return None
    directives = cache_control_directives(headers)
    if status in _ERRORS_THAT_RESPECT_NO_STORE and any(name in directives for name in _DO_NOT_CACHE):
        return None
    requested = header_ttl(headers, now)
    ttl = (
        float(error_caching_min_ttl)
        if requested is None
        else max(min(requested, max_ttl), error_caching_min_ttl)
    )
    return ttl if ttl > 0 else None


@dataclass
class CachedAnswer:
    """One answer held at the edge: what the viewer gets back, and how fresh it is.

    `path` is the cache path (after the default root object, with the query string when the behaviour
    caches on it); `viewer_path` is the path the viewer asked for. Invalidations match either.
    """

    key: str
    path: str
    viewer_path: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    ttl: float
    is_error: bool = False
    content_encoding: str = ""
    hits: int = 0
    origin_etag: str | None = None
    origin_last_modified: str | None = None

    def age(self, now: float) -> float:
        return max(0.0, now - self.stored_at)

    def is_fresh(self, now: float) -> bool:
        return self.age(now) < self.ttl

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@dataclass(frozen=True)
class CacheEntryInfo:
    """One row of the notebook cache inspector."""

    key: str
    path: str
    status: int
    age: float
    ttl: float
    expires_in: float
    hits: int
    size: int
    compressed: bool


@dataclass
class _KeyLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


@dataclass
class EdgeCache:
    """The cached answers of one distribution at one edge location, safe to use from many threads.

    Concurrent misses for the same key are collapsed onto one origin request, as CloudFront does
    ("Simultaneous requests for the same object (traffic spikes)"): callers hold `key_lock(key)` while they
    go to the origin, so the second caller finds the first caller's answer in the cache.
    """

    _answers: dict[str, CachedAnswer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key_locks: dict[str, _KeyLock] = field(default_factory=dict)

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            return self._answers.get(key)

    def put(self, answer: CachedAnswer) -> None:
        with self._lock:
            self._answers[answer.key] = answer

    def record_hit(self, answer: CachedAnswer) -> None:
        with self._lock:
            answer.hits += 1

    def remove(self, key: str) -> None:
        with self._lock:
            self._answers.pop(key, None)

    def remove_where(self, predicate: Callable[[CachedAnswer], bool]) -> int:
        with self._lock:
            doomed = [key for key, answer in self._answers.items() if predicate(answer)]
            for key in doomed:
                del self._answers[key]
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def answers(self) -> list[CachedAnswer]:
        with self._lock:
            return list(self._answers.values())

    @contextmanager
    def key_lock(self, key: str) -> Iterator[None]:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, _KeyLock())
            key_lock.users += 1
        try:
            with key_lock.lock:
                yield
        finally:
            with self._lock:
                key_lock.users -= 1
                if key_lock.users == 0:  # nobody waits: forget it, so the table stays as small as the traffic
                    del self._key_locks[key]

    def waiting_keys(self) -> int:
        with self._lock:
            return len(self._key_locks)

    def describe(self, now: float) -> list[CacheEntryInfo]:
        return [
            CacheEntryInfo(
                key=answer.key,
                path=answer.path,
                status=answer.status,
                age=round(answer.age(now), 3),
                ttl=answer.ttl,
                expires_in=round(answer.ttl - answer.age(now), 3),
                hits=answer.hits,
                size=len(answer.body),
                compressed=bool(answer.content_encoding),
            )
            for answer in sorted(self.answers(), key=lambda a: a.key)
        ]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
