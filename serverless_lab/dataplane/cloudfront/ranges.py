"""Range GETs at the edge: one byte range of a cached object, as CloudFront serves it (206, or 416)."""

from __future__ import annotations

import re

from serverless_lab.dataplane.cloudfront.cache import CachedAnswer
from serverless_lab.dataplane.http import HttpRequest

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(request: HttpRequest, answer: CachedAnswer) -> tuple[int, str, bytes] | None:
    """A Range GET served from the cached object: (206 or 416, Content-Range, body), or None for the whole
    object ("CloudFront serves the requested range", Developer Guide, "Use range GETs").

    One range per request, as RFC 9110 section 14 reads it: `bytes=first-last`, `bytes=first-` or the suffix
    `bytes=-length`. Anything else (several ranges, other units, a malformed value), or an If-Range that
    names another version of the object, gets the whole object with 200, which RFC 9110 allows.
    """
    total = len(answer.body)
    if_range = request.header("If-Range")
    if if_range and if_range not in (answer.header("ETag"), answer.header("Last-Modified")):
        return None
    matched = _SINGLE_RANGE.fullmatch((request.header("Range") or "").replace(" ", ""))
    if matched is None or matched.group(1) == matched.group(2) == "":
        return None
    first_text, last_text = matched.groups()
    if first_text == "":  # a suffix: the last N bytes
        first, last = max(0, total - int(last_text)), total - 1
        if int(last_text) == 0:
            return 416, f"bytes */{total}", b""
    else:
        first = int(first_text)
        last = min(int(last_text), total - 1) if last_text else total - 1
        if last_text and int(last_text) < first:
            return None  # an invalid range is ignored
    if first >= total:
        return 416, f"bytes */{total}", b""
    return 206, f"bytes {first}-{last}/{total}", answer.body[first : last + 1]
