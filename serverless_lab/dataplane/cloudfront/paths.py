"""From the path a viewer sent to the S3 key CloudFront asks for, without ever leaving the origin path.

CloudFront "normalizes URI paths consistent with RFC 3986 ... Some characters are normalized and removed
from the path, such as multiple slashes (//) or periods (..)" before it matches cache behaviours
(Developer Guide, "Path pattern"). S3 then percent-decodes the path it receives once to get the key.

Normalization here: refuse bytes that cannot appear in a request line and malformed %-escapes (400),
decode escapes of unreserved characters (so `%2e%2e` is `..`), collapse repeated slashes, remove dot
segments (a `..` at the root stays at the root). The key is that path decoded once, below the origin
path; a key that gains a dot segment by decoding (`..%2F`, `%2F..`) is refused with 400, so no key outside
the origin path is ever requested.
"""

from __future__ import annotations

import re
import string
from urllib.parse import unquote

from serverless_lab.dataplane.cloudfront.errors import BadRequestError

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(r"%(?P<hex>[0-9A-Fa-f]{2})")
# Printable ASCII other than space; a raw space, control byte or non-ASCII byte ends the request line.
_REQUEST_LINE_SAFE = re.compile(r"[\x21-\x7e]*")


def normalize_path(raw_path: str) -> str:
    """The RFC 3986 normal form of a viewer's path (still percent-encoded), or BadRequestError."""
    if not raw_path.startswith("/") or not _REQUEST_LINE_SAFE.fullmatch(raw_path):
        raise BadRequestError()
    if raw_path.count("%") != len(_ESCAPE.findall(raw_path)):
        raise BadRequestError()  # a "%" not followed by two hex digits
    decoded_unreserved = _ESCAPE.sub(_normalize_escape, raw_path)
    collapsed = re.sub(r"/{2,}", "/", decoded_unreserved)
    return remove_dot_segments(collapsed)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path: "." vanishes, ".." pops a segment but never the root."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def s3_key_for(path: str, origin_path: str) -> str:
    """The S3 key for a normalized path: decoded once, below the origin path (e.g. "/v1" → "v1/...").

    S3 reads a "+" in a REST request's path as a space, so `/a+b.txt` is the key `a b.txt` and a key with a
    plus sign is reached as `%2B` (a long-standing S3 behaviour that CloudFront, which forwards the path as
    the viewer sent it, passes on).
    """
    try:
        key = unquote(path[1:].replace("+", " "), errors="strict")
    except UnicodeDecodeError as not_utf8:
        raise BadRequestError() from not_utf8
    if any(segment in (".", "..") for segment in key.split("/")):
        raise BadRequestError()
    prefix = origin_path.strip("/")
    return f"{prefix}/{key}" if prefix else key


def _normalize_escape(match: re.Match[str]) -> str:
    character = chr(int(match.group("hex"), 16))
    return character if character in _UNRESERVED else "%" + match.group("hex").upper()
