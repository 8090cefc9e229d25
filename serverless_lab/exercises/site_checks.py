"""The exercises of 00-overview, 01-static-site and 02-cdn."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..teaching.deployed import deployed
from ..teaching.traffic import cache_table
from .base import error_code, exercise
from .result import Outcome, not_yet, solved

SITE_CALLS = {
    "create_bucket": "makes the bucket; it says nothing about who may read it",
    "put_bucket_tagging": "labels the bucket with your name",
    "put_bucket_website": "sets the index and error documents of the website endpoint",
    "put_object": "uploads one file",
}


@exercise("00-overview")
def private_bucket_call(lab: Any, answer: str) -> Outcome:
    """00: the boto3 call of the site's plan that keeps the bucket private."""
    title = "the call that keeps the bucket private"
    if answer == "put_public_access_block":
        return solved(title, "put_public_access_block: all four Block Public Access settings on.")
    why = SITE_CALLS.get(answer)
    return not_yet(
        title,
        f"{answer!r}: that call {why}." if why else f"{answer!r} is not a call of the site's plan.",
        "Read the `why` column of lab.plan('site'): one call says who may read the bucket.",
        "It is an S3 call about *public access*; its parameter is PublicAccessBlockConfiguration.",
        "put_public_access_block",
    )


@exercise("01-static-site")
def site_has_page(lab: Any, key: str = "hello.html") -> Outcome:
    """01: a page uploaded so that a browser shows it and CloudFront revalidates it on every request."""
    title = f"upload {key}"
    bucket = lab.names.site_bucket
    try:
        head = lab.backend.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        return not_yet(
            title,
            f"s3://{bucket}/{key} does not exist ({error_code(error)}).",
            "Upload with the S3 client: s3.put_object(Bucket=bucket, Key=..., Body=...).",
            "put_object takes ContentType= and CacheControl= besides Bucket, Key and Body.",
            f"s3.put_object(Bucket=bucket, Key={key!r}, Body=b'<h1>Hello</h1>', "
            "ContentType='text/html; charset=utf-8', CacheControl='no-cache')",
        )
    content_type, cache_control = head.get("ContentType", ""), head.get("CacheControl")
    if not content_type.startswith("text/html"):
        return not_yet(
            title,
            f"{key} is stored as {content_type!r}: a browser would download it instead of showing it.",
            "S3 serves the Content-Type stored at upload and never guesses one from the name.",
            "Upload it again with ContentType='text/html; charset=utf-8'.",
            f"s3.put_object(Bucket=bucket, Key={key!r}, Body=..., ContentType='text/html; charset=utf-8', "
            "CacheControl='no-cache')",
        )
    if cache_control != "no-cache":
        return not_yet(
            title,
            f"{key} is HTML, with Cache-Control {cache_control!r}: edges and browsers could keep a stale copy.",
            "Compare with head_object(Bucket=bucket, Key='index.html')['CacheControl'].",
            "Upload it again with CacheControl='no-cache' (revalidate on every use).",
            f"s3.put_object(Bucket=bucket, Key={key!r}, Body=..., ContentType='text/html; charset=utf-8', "
            "CacheControl='no-cache')",
        )
    return solved(title, f"s3://{bucket}/{key} is {content_type}, no-cache: shown, and never served stale.")


@exercise("02-cdn")
def cdn_max_ttl_lowered(lab: Any, seconds: int = 10, path: str = "/style.css") -> Outcome:
    """02: the default behaviour's MaxTTL lowered to `seconds`, and the edge holding `path` that short."""
    title = f"cache {path} for at most {seconds} s"
    distribution_id = deployed(lab, "cdn")["distribution_id"]
    config = lab.backend.client("cloudfront").get_distribution_config(Id=distribution_id)
    max_ttl = config["DistributionConfig"]["DefaultCacheBehavior"].get("MaxTTL")
    if max_ttl is None or max_ttl > seconds:
        return not_yet(
            title,
            f"the default cache behaviour's MaxTTL is {max_ttl} s.",
            "teaching.cache_behaviors(lab) shows the TTLs; the default behaviour is DefaultCacheBehavior.",
            "get_distribution_config gives the config and its ETag; change it; update_distribution(Id=..., "
            "IfMatch=<the ETag>, DistributionConfig=<the config>).",
            f"answer = cloudfront.get_distribution_config(Id=distribution_id); config = "
            f"answer['DistributionConfig']; config['DefaultCacheBehavior'].update(DefaultTTL={seconds}, "
            f"MaxTTL={seconds}); cloudfront.update_distribution(Id=distribution_id, IfMatch=answer['ETag'], "
            "DistributionConfig=config)",
        )
    entries = cache_table(lab)
    entry = entries[entries["path"] == path]
    if entry.empty:
        return not_yet(
            title,
            f"MaxTTL is {max_ttl} s, but the edge holds no copy of {path}.",
            f"Fetch {path} again through the edge: teaching.edge_get(lab, {path!r}).",
        )
    ttl = float(entry["ttl"].iloc[0])
    if ttl > seconds:
        return not_yet(
            title,
            f"MaxTTL is {max_ttl} s, but the edge still holds the copy it cached for {ttl:.0f} s.",
            "A new setting does not touch what the edge already holds: teaching.cache_table(lab) shows it.",
            "Remove that copy with create_invalidation, then fetch the path again.",
            f"cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={{'Paths': "
            f"{{'Quantity': 1, 'Items': [{path!r}]}}, 'CallerReference': str(time.time())}}); "
            f"teaching.edge_get(lab, {path!r})",
        )
    return solved(title, f"MaxTTL is {max_ttl} s and the edge keeps {path} for {ttl:.0f} s.")
