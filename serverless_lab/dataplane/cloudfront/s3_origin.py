"""The S3 origin as CloudFront reads it: GetObject with the viewer's validators, the answer S3 gives
(404 or 403 for a missing key, depending on s3:ListBucket), and the headers CloudFront passes on.

Pure functions over a boto3 S3 client; the control plane (dataplane/config.py) caches the bucket policy read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from serverless_lab.dataplane.cloudfront.model import OriginResponse
from serverless_lab.dataplane.iam.patterns import action_matches

# GetObject fields and the response headers S3 sends them in, beyond the ones get_object sets itself.
_PASSED_ON_S3_FIELDS = (
    ("ContentEncoding", "Content-Encoding"),
    ("ContentDisposition", "Content-Disposition"),
    ("ContentLanguage", "Content-Language"),
    ("AcceptRanges", "Accept-Ranges"),
    ("VersionId", "x-amz-version-id"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
)


def get_object(
    s3: Any, bucket: str, key: str, conditions: Mapping[str, str], may_list: Callable[[], bool]
) -> OriginResponse:
    """S3's answer to CloudFront's GetObject; `may_list()` tells whether CloudFront may s3:ListBucket."""
    if not key:
        # A request for the bucket itself is a ListObjects, which OAC's policy does not allow: 403.
        return OriginResponse(
            403, {"Content-Type": "application/xml"}, s3_error("AccessDenied", "Access Denied")
        )
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    # If-None-Match decides when it is there (RFC 9110 13.2.2; S3 answers 304 only when the ETag still
    # matches). moto answers 304 on If-Modified-Since alone, so an object replaced within the second
    # it was cached in would stay stale: the date goes only without an ETag.
    if conditions.get("If-None-Match"):
        params["IfNoneMatch"] = conditions["If-None-Match"]
    elif conditions.get("If-Modified-Since"):
        params["IfModifiedSince"] = conditions["If-Modified-Since"]
    try:
        answer = s3.get_object(**params)
    except ClientError as error:
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
        code = error.response.get("Error", {}).get("Code", "")
        if status == 304 or code == "304":
            return OriginResponse(304, {"ETag": conditions.get("If-None-Match", "")})
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            # S3 answers a missing key with 404 NoSuchKey to a caller that may s3:ListBucket the bucket,
            # else with 403 AccessDenied (S3 docs, "GetObject": permissions). The lab's own OAC policy
            # grants CloudFront s3:GetObject only: 403, as the single-page app's error mapping expects.
            if code != "NoSuchBucket" and may_list():
                return OriginResponse(
                    404,
                    {"Content-Type": "application/xml"},
                    s3_error("NoSuchKey", "The specified key does not exist."),
                )
            return OriginResponse(
                403, {"Content-Type": "application/xml"}, s3_error("AccessDenied", "Access Denied")
            )
        return OriginResponse(status, {"Content-Type": "application/xml"}, s3_error(code, str(error)))
    headers = {
        "Content-Type": answer.get("ContentType", "binary/octet-stream"),
        "ETag": answer.get("ETag", ""),
        "Content-Length": str(answer.get("ContentLength", 0)),
        "Server": "AmazonS3",
    }
    if answer.get("CacheControl"):
        headers["Cache-Control"] = answer["CacheControl"]
    if answer.get("Expires"):
        expires = answer["Expires"]
        headers["Expires"] = (
            expires if isinstance(expires, str) else expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
        )
    if answer.get("LastModified"):
        headers["Last-Modified"] = answer["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
    # The rest of S3's answer that CloudFront passes on to the viewer ("Request and response behavior for
    # Amazon S3 origins": it removes or changes only Set-Cookie, Trailer, Transfer-Encoding, Upgrade and
    # Via). Content-Encoding matters most: CloudFront never compresses an object S3 serves encoded.
    for field, name in _PASSED_ON_S3_FIELDS:
        if answer.get(field):
            headers[name] = str(answer[field])
    for meta_name, value in (answer.get("Metadata") or {}).items():
        headers[f"x-amz-meta-{meta_name}"] = value
    return OriginResponse(200, headers, answer["Body"].read())


def policy_lets_cloudfront_list(policy_text: str) -> bool:
    """Whether a bucket policy allows CloudFront (its service principal, as with OAC, or anyone) to
    s3:ListBucket the bucket (that Action, or an IAM wildcard covering it: s3:List*, s3:*, *)."""
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return False
    statements = (policy.get("Statement") or []) if isinstance(policy, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        principal = statement.get("Principal")
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if action_matches(tuple(actions), "s3:ListBucket") and (
            anyone or "cloudfront.amazonaws.com" in services
        ):
            return True
    return False


def s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
