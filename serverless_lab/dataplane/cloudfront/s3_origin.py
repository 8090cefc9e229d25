"""The S3 origin as CloudFront reads it: S3's decision for the caller the origin reads as, GetObject with
the viewer's validators, the answer S3 gives (404 or 403 for a missing key, depending on s3:ListBucket),
and the headers CloudFront passes on.

S3 decides with the lab's one policy evaluator (dataplane/iam/): with an origin access control, the caller
is the service principal cloudfront.amazonaws.com and the request carries aws:SourceArn (this
distribution's ARN) and aws:SourceAccount, so only a bucket policy statement for this distribution (or a
wildcard covering it) lets it read; without one, the caller is anonymous (iam/s3_access.py). A refusal is
S3's own 403 AccessDenied, which CloudFront passes on or maps through the custom error responses.

Pure functions over a boto3 S3 client; the control plane (dataplane/config.py) caches what S3 decides by.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from serverless_lab.dataplane.cloudfront.model import OriginCaller, OriginResponse
from serverless_lab.dataplane.iam.request import Principal, Request
from serverless_lab.dataplane.iam.s3_access import BucketAccess

CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"

# GetObject fields and the response headers S3 sends them in, beyond the ones get_object sets itself.
_PASSED_ON_S3_FIELDS = (
    ("ContentEncoding", "Content-Encoding"),
    ("ContentDisposition", "Content-Disposition"),
    ("ContentLanguage", "Content-Language"),
    ("AcceptRanges", "Accept-Ranges"),
    ("VersionId", "x-amz-version-id"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
)


def origin_request(caller: OriginCaller, action: str, resource: str) -> Request:
    """The request S3 evaluates when CloudFront reads the origin as `caller`."""
    if caller.kind == "oac":
        # "the request carries the aws:SourceArn of the distribution" (Developer Guide, OAC bucket policy).
        context = {"aws:SourceArn": caller.distribution_arn, "aws:SourceAccount": caller.account_id}
        return Request(action, resource, Principal.service(CLOUDFRONT_SERVICE), context)
    if caller.kind == "oai":
        identity = (
            f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {caller.origin_access_identity}"
        )
        return Request(action, resource, Principal("AWS", identity))
    return Request(action, resource, Principal.anonymous())


def get_object(
    s3: Any,
    bucket: str,
    key: str,
    conditions: Mapping[str, str],
    caller: OriginCaller,
    access: BucketAccess,
    public_read: Callable[[], bool] = lambda: False,
) -> OriginResponse:
    """S3's answer to CloudFront's GetObject as `caller`, decided by the bucket's `access` (policy, Block
    Public Access, ACLs; `public_read()` reads the object's ACL when it is what decides)."""
    arn = f"arn:{caller.partition}:s3:::{bucket}"
    if not key or not access.allows(
        origin_request(caller, "s3:GetObject", f"{arn}/{key}"), acl_grants_public_read=public_read
    ):
        # A request for the bucket itself is a ListObjects, which CloudFront's reads never are: 403.
        return access_denied()
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
            if code != "NoSuchBucket" and access.allows(origin_request(caller, "s3:ListBucket", arn)):
                return OriginResponse(
                    404,
                    {"Content-Type": "application/xml"},
                    s3_error("NoSuchKey", "The specified key does not exist."),
                )
            return access_denied()
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


def access_denied() -> OriginResponse:
    return OriginResponse(403, {"Content-Type": "application/xml"}, s3_error("AccessDenied", "Access Denied"))


def s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
