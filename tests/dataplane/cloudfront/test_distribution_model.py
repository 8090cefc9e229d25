"""Distribution config values: path pattern matching, and the mapping from boto3 answers (moto in-process)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from serverless_lab.dataplane.cloudfront.model import (
    CacheBehavior,
    CustomErrorResponse,
    DistributionConfig,
    Invalidation,
    Origin,
    bucket_from_domain_name,
    distribution_from_boto3,
    invalidation_from_boto3,
)

MATCHES = [
    ("*", "/anything/at/all", True),
    ("/images/*", "/images/a.jpg", True),
    ("images/*", "/images/a.jpg", True),  # the leading slash is optional
    ("/images/*", "/images", False),
    ("/images/*", "/Images/a.jpg", False),  # case-sensitive
    ("*.jpg", "/deep/down/photo.jpg", True),  # * crosses slashes
    ("*.jpg", "/photo.JPG", False),
    ("/images/*.jpg", "/images/x/y.jpg", True),
    ("/img?.png", "/img1.png", True),
    ("/img?.png", "/img12.png", False),
    ("/a+b[1].txt", "/a+b[1].txt", True),  # no regex or glob classes: [] and + are literal
    ("/a+b[1].txt", "/aab1.txt", False),
    ("/api/*", "/api/", True),
    ("/api/*", "/apiv2/x", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), MATCHES)
def test_path_pattern(pattern, path, expected):
    assert CacheBehavior(pattern, "o").matches(path) is expected


def test_behaviours_match_in_order_and_the_default_comes_last():
    first = CacheBehavior("/assets/*.js", "o", default_ttl=1)
    second = CacheBehavior("/assets/*", "o", default_ttl=2)
    default = CacheBehavior("*", "o", default_ttl=3)
    config = DistributionConfig("E1", "d", (Origin("o", "b.s3.amazonaws.com"),), default, (first, second))
    assert config.behavior_for("/assets/app.js") is first
    assert config.behavior_for("/assets/app.css") is second
    assert config.behavior_for("/index.html") is default


@pytest.mark.parametrize(
    ("domain", "bucket"),
    [
        ("ada-site.s3.amazonaws.com", "ada-site"),
        ("ada-site.s3.eu-west-2.amazonaws.com", "ada-site"),
        ("ada-site.s3-eu-west-2.amazonaws.com", "ada-site"),
        ("my.dotted.bucket.s3.us-east-1.amazonaws.com", "my.dotted.bucket"),
        ("ada-site.s3.dualstack.us-east-1.amazonaws.com", "ada-site"),
        ("example.com", None),
        ("ada-site.s3-website-us-east-1.example.com", None),
    ],
)
def test_bucket_from_origin_domain_name(domain, bucket):
    assert bucket_from_domain_name(domain) == bucket


def test_invalidation_paths():
    invalidation = Invalidation("I1", ("/assets/*", "/index.html", "docs/*"), 0.0)
    assert invalidation.matches("/assets/app.js")
    assert invalidation.matches("/assets/")
    assert invalidation.matches("/index.html")
    # The API refuses a path without the leading slash (the console adds it); moto stores it: no effect.
    assert not invalidation.matches("/docs/a")
    assert not invalidation.matches("/index.html?v=2")
    assert not invalidation.matches("/Assets/app.js")
    assert Invalidation("I2", ("/*",), 0.0).matches("/anything?q=1")


def behaviour(path_pattern: str, default_ttl: int, **extra) -> dict:
    return {
        "PathPattern": path_pattern,
        "TargetOriginId": "site",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": 3,
            "Items": ["GET", "HEAD", "OPTIONS"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "Compress": True,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": default_ttl,
        "MaxTTL": default_ttl * 10,
        **extra,
    }


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_distribution_from_boto3_on_moto(aws):
    boto3.client("s3").create_bucket(Bucket="ada-site")
    cloudfront = boto3.client("cloudfront")
    oac_id = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "ada-site-oac",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "ada-site",
            "Comment": "serverless-lab site",
            "Enabled": True,
            "DefaultRootObject": "index.html",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "ada-site.s3.us-east-1.amazonaws.com",
                        "OriginPath": "/v1",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": oac_id,
                    }
                ],
            },
            "DefaultCacheBehavior": {
                k: v
                for k, v in behaviour("*", 86400, MinTTL=1, MaxTTL=31536000).items()
                if k != "PathPattern"
            },
            "CacheBehaviors": {
                "Quantity": 2,
                "Items": [behaviour("/assets/*", 3600), behaviour("*.json", 60)],
            },
            "CustomErrorResponses": {
                "Quantity": 2,
                "Items": [
                    {
                        "ErrorCode": 403,
                        "ResponsePagePath": "/index.html",
                        "ResponseCode": "200",
                        "ErrorCachingMinTTL": 10,
                    },
                    {
                        "ErrorCode": 404,
                        "ResponsePagePath": "/index.html",
                        "ResponseCode": "200",
                        "ErrorCachingMinTTL": 5,
                    },
                ],
            },
        }
    )["Distribution"]

    config = distribution_from_boto3(cloudfront.get_distribution(Id=created["Id"])["Distribution"])

    assert config.distribution_id == created["Id"]
    assert config.domain_name == created["DomainName"]
    assert config.enabled
    assert config.default_root_object == "index.html"
    (origin,) = config.origins
    assert (origin.origin_id, origin.bucket, origin.origin_path) == ("site", "ada-site", "/v1")
    # moto keeps no OriginAccessControlId on origins; AWS returns it and then it is mapped (next test)
    assert origin.origin_access_control_id in ("", oac_id)
    assert config.default_behavior == CacheBehavior(
        path_pattern="*",
        target_origin_id="site",
        allowed_methods=("GET", "HEAD", "OPTIONS"),
        cached_methods=("GET", "HEAD"),
        compress=True,
        min_ttl=1,
        default_ttl=86400,
        max_ttl=31536000,
        viewer_protocol_policy="redirect-to-https",
    )
    assert [(b.path_pattern, b.default_ttl, b.max_ttl) for b in config.behaviors] == [
        ("/assets/*", 3600, 36000),
        ("*.json", 60, 600),
    ]
    assert config.custom_error_responses == (
        CustomErrorResponse(403, "/index.html", 200, 10),
        CustomErrorResponse(404, "/index.html", 200, 5),
    )
    assert config.behavior_for("/data/items.json").default_ttl == 60
    assert config.behavior_for("/assets/items.json").default_ttl == 3600  # first match wins


def test_origin_access_control_id_is_mapped_when_the_answer_has_it():
    # The shape real CloudFront returns for an S3 origin with OAC (API reference, Origin).
    answer = {
        "Id": "E1",
        "DomainName": "d1.cloudfront.net",
        "Status": "Deployed",
        "DistributionConfig": {
            "Enabled": False,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "ada-site.s3.amazonaws.com",
                        "OriginPath": "",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": "E2QWRUHAPOMQZL",
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
            },
            "CacheBehaviors": {"Quantity": 0},
            "CustomErrorResponses": {"Quantity": 1, "Items": [{"ErrorCode": 404, "ResponseCode": ""}]},
        },
    }
    config = distribution_from_boto3(answer)
    assert config.origins[0].origin_access_control_id == "E2QWRUHAPOMQZL"
    assert not config.enabled
    # TTLs the answer leaves out take CloudFront's defaults; an empty ResponseCode keeps the origin's code
    assert (config.default_behavior.default_ttl, config.default_behavior.max_ttl) == (86400, 31536000)
    assert config.custom_error_responses == (CustomErrorResponse(404, "", None, 10),)


def test_invalidation_from_boto3_on_moto(aws):
    boto3.client("s3").create_bucket(Bucket="ada-site")
    cloudfront = boto3.client("cloudfront")
    distribution_id = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "inv",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": "ada-site.s3.amazonaws.com"}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
            },
        }
    )["Distribution"]["Id"]
    before = datetime.now(UTC).timestamp()
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/assets/*", "/index.html"]},
            "CallerReference": "r1",
        },
    )
    (summary,) = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]["Items"]
    detail = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])["Invalidation"]

    invalidation = invalidation_from_boto3(detail)

    assert invalidation.invalidation_id == summary["Id"]
    assert invalidation.paths == ("/assets/*", "/index.html")
    assert before - 5 <= invalidation.create_time <= datetime.now(UTC).timestamp() + 5
    assert invalidation.matches("/assets/app.js")


def test_naive_create_time_is_read_as_utc():
    naive = invalidation_from_boto3(
        {
            "Id": "I1",
            "CreateTime": datetime(2024, 5, 1, 12, 0, 0),
            "InvalidationBatch": {"Paths": {"Quantity": 0}},
        }
    )
    assert naive.create_time == datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    assert naive.paths == ()


@pytest.mark.parametrize(
    ("behavior", "names", "query", "key"),
    [
        ("none", (), "a=1&b=2", ""),
        ("all", (), "a=1&b=2", "a=1&b=2"),
        ("whitelist", ("b", "c d"), "a=1&b=2&c+d=3", "b=2&c+d=3"),  # names compared decoded
        ("allExcept", ("utm",), "utm=x&v=1&utm=y", "v=1"),
    ],
)
def test_the_query_string_part_of_the_cache_key(behavior, names, query, key):
    cache = CacheBehavior("*", "s3", query_string_behavior=behavior, query_string_names=names)
    assert cache.cache_key_query(query) == key


def test_a_managed_cache_policy_replaces_the_behaviours_own_settings():
    item = {
        "TargetOriginId": "s3",
        "CachePolicyId": "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",  # CachingOptimizedForUncompressedObjects
        "Compress": True,
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 0,
        "ForwardedValues": {"QueryString": True},
    }
    behavior = distribution_from_boto3(
        {"Id": "E1", "DistributionConfig": {"Origins": {"Items": []}, "DefaultCacheBehavior": item}}
    ).default_behavior
    assert (behavior.min_ttl, behavior.default_ttl, behavior.max_ttl) == (1, 86400, 31536000)
    assert (
        behavior.query_string_behavior == "none" and not behavior.compress and not behavior.caching_disabled
    )
