"""When and how the edge gzips an answer, per the Developer Guide's "Serving compressed files".

CloudFront compresses when the cache behaviour has Compress=true, the viewer's Accept-Encoding allows gzip,
the origin's Content-Type is in CloudFront's list, Content-Length is present and between 1,000 and
10,000,000 bytes, and the origin did not encode the body already. (Brotli needs a cache policy with
EnableAcceptEncodingBrotli, which moto cannot store, so the lab serves gzip only.)
"""

from __future__ import annotations

from serverless_lab.dataplane.cloudfront.model import OriginResponse

# "Serving compressed files": sizes CloudFront compresses, and the Content-Types it compresses.
MIN_COMPRESSIBLE_BYTES = 1_000
MAX_COMPRESSIBLE_BYTES = 10_000_000
COMPRESSIBLE_TYPES = frozenset(
    [
        "application/dash+xml",
        "application/eot",
        "application/font",
        "application/font-sfnt",
        "application/javascript",
        "application/json",
        "application/opentype",
        "application/otf",
        "application/pkcs7-mime",
        "application/protobuf",
        "application/rss+xml",
        "application/truetype",
        "application/ttf",
        "application/vnd.apple.mpegurl",
        "application/vnd.ms-fontobject",
        "application/xhtml+xml",
        "application/xml",
        "application/x-font-opentype",
        "application/x-font-truetype",
        "application/x-font-ttf",
        "application/x-httpd-cgi",
        "application/x-javascript",
        "application/x-mpegurl",
        "application/x-opentype",
        "application/x-otf",
        "application/x-perl",
        "application/x-ttf",
        "font/eot",
        "font/opentype",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/js",
        "text/plain",
        "text/richtext",
        "text/tab-separated-values",
        "text/xml",
        "text/x-component",
        "text/x-java-source",
        "text/x-script",
        "vnd.apple.mpegurl",
    ]
)


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower()
            return quality not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def is_compressible(response: OriginResponse) -> bool:
    """The conditions of "Serving compressed files": type, 1,000–10,000,000 bytes, Content-Length, no encoding."""
    content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    length = response.header("Content-Length")
    if content_type not in COMPRESSIBLE_TYPES or length is None or response.header("Content-Encoding"):
        return False
    try:
        size = int(length)
    except ValueError:
        return False
    return MIN_COMPRESSIBLE_BYTES <= size <= MAX_COMPRESSIBLE_BYTES


def compressed_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Content-Encoding and Vary for a gzip answer; a strong ETag becomes weak, an invalid one is dropped.

    "CloudFront converts the strong ETag header value to a weak ETag" and "When the object from the origin
    includes an invalid ETag header value ... CloudFront removes the ETag header" (Serving compressed files).
    """
    result: list[tuple[str, str]] = []
    vary = "Accept-Encoding"
    for name, value in headers:
        lowered = name.lower()
        if lowered == "etag":
            if value.startswith('"'):
                result.append((name, "W/" + value))
            elif value.startswith("W/"):
                result.append((name, value))
        elif lowered == "vary":
            vary = value if "accept-encoding" in value.lower() else f"{value}, Accept-Encoding"
        else:
            result.append((name, value))
    return [*result, ("Content-Encoding", "gzip"), ("Vary", vary)]
