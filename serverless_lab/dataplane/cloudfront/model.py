"""CloudFront distribution configuration as plain values, mapped 1:1 from boto3 responses.

The edge core (`edge.py`) never talks to the control plane: `dataplane/config.py` calls
`cloudfront.get_distribution()` and `list_invalidations()`/`get_invalidation()`, then turns the answers
into these frozen dataclasses with `distribution_from_boto3` and `invalidation_from_boto3`.

What moto keeps (moto/cloudfront/models.py, moto 5.2), and so what these values can rely on:
- Origins keep Id, DomainName, OriginPath, `OriginAccessControlId` and `S3OriginConfig` (its legacy
  OriginAccessIdentity): who the edge reads the bucket as (`OriginCaller`).
- There are no cache-policy APIs in moto, so TTLs come from the legacy per-behaviour MinTTL/DefaultTTL/MaxTTL
  fields. moto stores a missing TTL as 0 (`config.get("MaxTTL") or 0`), so the lab's steps always send all three.
- CustomErrorResponses, DefaultRootObject, Enabled, AllowedMethods/CachedMethods and Compress are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

# CloudFront's own defaults for the legacy TTL fields when a response omits them (API reference,
# CacheBehavior: DefaultTTL "The default value for this field is 86400 seconds (one day)", MaxTTL
# "The default value for this field is 31536000 seconds (one year)").
DEFAULT_DEFAULT_TTL = 86_400
DEFAULT_MAX_TTL = 31_536_000
# "By default, when your origin returns an HTTP 4xx or 5xx status code, CloudFront caches these error
# responses for 10 seconds" (Developer Guide, "Control how long CloudFront caches errors").
DEFAULT_ERROR_CACHING_MIN_TTL = 10

# S3 REST endpoints a CloudFront S3 origin can name: bucket.s3.amazonaws.com, bucket.s3.<region>.amazonaws.com,
# the legacy bucket.s3-<region>.amazonaws.com, and the dual-stack form; bucket names may contain dots.
_S3_DOMAIN = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])\.s3(?:[.\-][a-z0-9\-]+)*\.amazonaws\.com(?:\.cn)?$"
)


@dataclass(frozen=True)
class OriginResponse:
    """What the S3 origin answered to one GetObject: status, response headers and body bytes.

    The origin callable returns S3's own answer: 200 with the object, 304 to a conditional request,
    403 AccessDenied when the bucket policy does not let the caller (`OriginCaller`) s3:GetObject, or for
    a missing key when it may not s3:ListBucket either, 404 NoSuchKey when it may.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class OriginCaller:
    """Who CloudFront reads an S3 origin as ("Restrict access to an Amazon S3 origin", Developer Guide).

    With an origin access control that signs, the service principal cloudfront.amazonaws.com on behalf of
    this distribution (the request carries aws:SourceArn, the distribution's ARN, and aws:SourceAccount);
    with a legacy origin access identity, that identity; with neither (or an OAC whose SigningBehavior is
    "never"), an anonymous caller, whom only a public bucket policy or ACL lets in.
    """

    distribution_arn: str = ""
    origin_access_control_id: str = ""  # "" when the origin has no OAC or its OAC does not sign
    origin_access_identity: str = ""  # the OAI's id (E...), from "origin-access-identity/cloudfront/E..."

    @property
    def kind(self) -> str:
        if self.origin_access_control_id:
            return "oac"
        return "oai" if self.origin_access_identity else "anonymous"

    @property
    def account_id(self) -> str:
        parts = self.distribution_arn.split(":")
        return parts[4] if len(parts) > 5 else ""

    @property
    def partition(self) -> str:
        parts = self.distribution_arn.split(":")
        return parts[1] if len(parts) > 5 and parts[1] else "aws"


@dataclass(frozen=True)
class Origin:
    """One entry of DistributionConfig.Origins.Items."""

    origin_id: str
    domain_name: str
    origin_path: str = ""
    origin_access_control_id: str = ""
    origin_access_identity: str = ""  # S3OriginConfig.OriginAccessIdentity ("" when none)
    # The OAC's SigningBehavior ("always", "no-override", "never"), which the control plane fills in.
    signing_behavior: str = "always"

    def caller(self, distribution_arn: str) -> OriginCaller:
        signs = self.origin_access_control_id and self.signing_behavior != "never"
        return OriginCaller(
            distribution_arn,
            self.origin_access_control_id if signs else "",
            self.origin_access_identity.rsplit("/", 1)[-1],
        )

    @property
    def bucket(self) -> str | None:
        """The S3 bucket this origin reads from, or None for a custom (non-S3) origin."""
        return bucket_from_domain_name(self.domain_name)


@dataclass(frozen=True)
class CacheBehavior:
    """A cache behaviour (or the default one, whose path pattern is always `*`)."""

    path_pattern: str
    target_origin_id: str
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    cached_methods: tuple[str, ...] = ("GET", "HEAD")
    compress: bool = False
    min_ttl: int = 0
    default_ttl: int = DEFAULT_DEFAULT_TTL
    max_ttl: int = DEFAULT_MAX_TTL
    # Which query string parameters are part of the cache key: "none", "all", "whitelist" or "allExcept"
    # the names (a cache policy's QueryStringsConfig, or the legacy ForwardedValues.QueryString with its
    # QueryStringCacheKeys).
    query_string_behavior: str = "none"
    query_string_names: tuple[str, ...] = ()
    viewer_protocol_policy: str = "allow-all"
    # A cache policy whose maximum TTL is 0 (the managed CachingDisabled): nothing is stored, every
    # request goes to the origin and is a Miss.
    caching_disabled: bool = False
    cache_policy_id: str = ""

    def matches(self, path: str) -> bool:
        """Whether a normalized request path falls under this behaviour's path pattern.

        Developer Guide, "Path pattern": `*` matches 0 or more characters (slashes included), `?` exactly
        one, the match is case-sensitive, and "CloudFront behavior is the same with or without the
        leading /".
        """
        return _path_pattern_regex(self.path_pattern).fullmatch(path) is not None

    def cache_key_query(self, query: str) -> str:
        """The part of a request's query string that is in the cache key (in the order it was sent)."""
        if not query or self.query_string_behavior == "none":
            return ""
        if self.query_string_behavior == "all":
            return query
        names, keep = set(self.query_string_names), self.query_string_behavior == "whitelist"
        pairs = [pair for pair in query.split("&") if (unquote_plus(pair.partition("=")[0]) in names) == keep]
        return "&".join(pairs)


@dataclass(frozen=True)
class CustomErrorResponse:
    """One entry of CustomErrorResponses.Items: which page and status to send for an origin error."""

    error_code: int
    response_page_path: str = ""
    response_code: int | None = None
    error_caching_min_ttl: int = DEFAULT_ERROR_CACHING_MIN_TTL


@dataclass(frozen=True)
class DistributionConfig:
    """The parts of a distribution the edge needs to serve viewers."""

    distribution_id: str
    domain_name: str
    origins: tuple[Origin, ...]
    default_behavior: CacheBehavior
    behaviors: tuple[CacheBehavior, ...] = ()
    custom_error_responses: tuple[CustomErrorResponse, ...] = ()
    default_root_object: str = ""
    enabled: bool = True
    status: str = "Deployed"
    arn: str = ""

    def behavior_for(self, path: str) -> CacheBehavior:
        """The first cache behaviour whose pattern matches, in list order; the default behaviour last."""
        for behavior in self.behaviors:
            if behavior.matches(path):
                return behavior
        return self.default_behavior

    def origin(self, origin_id: str) -> Origin | None:
        return next((o for o in self.origins if o.origin_id == origin_id), None)

    def custom_error_response(self, status: int) -> CustomErrorResponse | None:
        return next((e for e in self.custom_error_responses if e.error_code == status), None)


@dataclass(frozen=True)
class Invalidation:
    """One invalidation batch: its paths and when it was created (epoch seconds)."""

    invalidation_id: str
    paths: tuple[str, ...]
    create_time: float
    status: str = "Completed"

    def matches(self, path: str) -> bool:
        """Whether this invalidation covers a cached path (with its query string, if cached with one).

        Developer Guide, "Invalidation paths": paths are case-sensitive, a `*` may only be the last
        character and replaces 0 or more characters; anything else must match exactly. "When you use the
        CloudFront API directly, invalidation paths must begin with a leading slash": one that does not
        (moto stores it) invalidates nothing here, as CloudFront refuses it (InvalidArgument).
        """
        for wanted in self.paths:
            if not wanted.startswith("/"):
                continue
            if wanted.endswith("*"):
                if path.startswith(wanted[:-1]):
                    return True
            elif path == wanted:
                return True
        return False


def bucket_from_domain_name(domain_name: str) -> str | None:
    match = _S3_DOMAIN.match(domain_name.lower())
    return match.group("bucket") if match else None


def distribution_from_boto3(distribution: Mapping[str, Any]) -> DistributionConfig:
    """Map `cloudfront.get_distribution(Id=...)["Distribution"]` to a DistributionConfig."""
    config = distribution["DistributionConfig"]
    origins = tuple(_origin_from_boto3(item) for item in _items(config.get("Origins")))
    behaviors = tuple(_behavior_from_boto3(item) for item in _items(config.get("CacheBehaviors")))
    errors = tuple(_error_response_from_boto3(item) for item in _items(config.get("CustomErrorResponses")))
    return DistributionConfig(
        distribution_id=distribution["Id"],
        domain_name=distribution.get("DomainName", ""),
        origins=origins,
        default_behavior=_behavior_from_boto3({**config["DefaultCacheBehavior"], "PathPattern": "*"}),
        behaviors=behaviors,
        custom_error_responses=errors,
        default_root_object=config.get("DefaultRootObject") or "",
        enabled=bool(config.get("Enabled", True)),
        status=distribution.get("Status", "Deployed"),
        arn=distribution.get("ARN", ""),
    )


def invalidation_from_boto3(invalidation: Mapping[str, Any]) -> Invalidation:
    """Map `cloudfront.get_invalidation(...)["Invalidation"]` to an Invalidation.

    boto3 parses CreateTime to an aware datetime; a naive one (some moto versions) is read as UTC.
    """
    create_time = invalidation["CreateTime"]
    if isinstance(create_time, datetime):
        if create_time.tzinfo is None:
            create_time = create_time.replace(tzinfo=UTC)
        created = create_time.timestamp()
    else:
        created = float(create_time)
    batch = invalidation.get("InvalidationBatch", {})
    return Invalidation(
        invalidation_id=invalidation["Id"],
        paths=tuple(_items(batch.get("Paths"))),
        create_time=created,
        status=invalidation.get("Status", "Completed"),
    )


def _items(container: Mapping[str, Any] | None) -> list[Any]:
    """CloudFront wraps lists as {"Quantity": n, "Items": [...]}; Items is absent when n is 0."""
    if not container:
        return []
    return list(container.get("Items") or [])


def _origin_from_boto3(item: Mapping[str, Any]) -> Origin:
    return Origin(
        origin_id=item["Id"],
        domain_name=item["DomainName"],
        origin_path=item.get("OriginPath") or "",
        origin_access_control_id=item.get("OriginAccessControlId") or "",
        origin_access_identity=(item.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or "",
    )


def _behavior_from_boto3(item: Mapping[str, Any]) -> CacheBehavior:
    allowed = item.get("AllowedMethods") or {}
    allowed_methods = tuple(allowed.get("Items") or ("GET", "HEAD"))
    cached_methods = tuple((allowed.get("CachedMethods") or {}).get("Items") or ("GET", "HEAD"))
    common = {
        "path_pattern": item["PathPattern"],
        "target_origin_id": item["TargetOriginId"],
        "allowed_methods": allowed_methods,
        "cached_methods": cached_methods,
        "viewer_protocol_policy": item.get("ViewerProtocolPolicy", "allow-all"),
    }
    policy_id = item.get("CachePolicyId") or ""
    policy = MANAGED_CACHE_POLICIES.get(policy_id)
    if policy is not None:
        # A cache policy replaces the behaviour's own TTLs and ForwardedValues (which moto fills in anyway);
        # objects are compressed only if the policy normalises Accept-Encoding too.
        return CacheBehavior(
            **common,
            compress=bool(item.get("Compress", False)) and policy.compression,
            min_ttl=policy.min_ttl,
            default_ttl=policy.default_ttl,
            max_ttl=policy.max_ttl,
            query_string_behavior=policy.query_string_behavior,
            caching_disabled=policy.max_ttl == 0,
            cache_policy_id=policy_id,
        )
    forwarded = item.get("ForwardedValues") or {}
    # Legacy settings: "If you specify true for QueryString and you don't specify any values for
    # QueryStringCacheKeys, CloudFront forwards all query string parameters to the origin and caches based
    # on all query string parameters" (API reference, ForwardedValues); with names, on those only.
    cache_keys = tuple(((forwarded.get("QueryStringCacheKeys") or {}).get("Items")) or ())
    query_string_behavior = "none"
    if forwarded.get("QueryString", False):
        query_string_behavior = "whitelist" if cache_keys else "all"
    return CacheBehavior(
        **common,
        compress=bool(item.get("Compress", False)),
        min_ttl=int(item.get("MinTTL", 0)),
        default_ttl=int(item.get("DefaultTTL", DEFAULT_DEFAULT_TTL)),
        max_ttl=int(item.get("MaxTTL", DEFAULT_MAX_TTL)),
        query_string_behavior=query_string_behavior,
        query_string_names=cache_keys,
        cache_policy_id=policy_id,  # a custom policy, which moto cannot store: its legacy values are used
    )


@dataclass(frozen=True)
class ManagedCachePolicy:
    """What a managed cache policy sets that the lab's edge uses (headers and cookies in the cache key
    are left out: the lab's S3 origins answer the same whatever they are)."""

    name: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    compression: bool  # Accept-Encoding (gzip, br) normalised into the cache key: objects may be compressed
    query_string_behavior: str = "none"


# "Use managed cache policies" (CloudFront Developer Guide): the IDs the API and SDKs name them by.
MANAGED_CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": ManagedCachePolicy("CachingOptimized", 1, 86400, 31536000, True),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": ManagedCachePolicy(
        "CachingOptimizedForUncompressedObjects", 1, 86400, 31536000, False
    ),
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": ManagedCachePolicy("CachingDisabled", 0, 0, 0, False),
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": ManagedCachePolicy(
        "UseOriginCacheControlHeaders", 0, 0, 31536000, True
    ),
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": ManagedCachePolicy(
        "UseOriginCacheControlHeaders-QueryStrings", 0, 0, 31536000, True, "all"
    ),
    "2e54312d-136d-493c-8eb9-b001f22f67d2": ManagedCachePolicy("Amplify", 2, 2, 600, True, "all"),
}


def _error_response_from_boto3(item: Mapping[str, Any]) -> CustomErrorResponse:
    # The API types ResponseCode as a string ("200"); an empty string means "keep the origin's code".
    response_code = item.get("ResponseCode")
    return CustomErrorResponse(
        error_code=int(item["ErrorCode"]),
        response_page_path=item.get("ResponsePagePath") or "",
        response_code=int(response_code) if response_code else None,
        error_caching_min_ttl=int(item.get("ErrorCachingMinTTL", DEFAULT_ERROR_CACHING_MIN_TTL)),
    )


@lru_cache(maxsize=1024)
def _path_pattern_regex(pattern: str) -> re.Pattern[str]:
    # Not fnmatch: fnmatch gives [] a meaning CloudFront does not, and is case-insensitive on some OSes.
    text = pattern if pattern.startswith(("/", "*")) else "/" + pattern
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(regex, re.DOTALL)
