"""The `cdn` step: a CloudFront distribution in front of the private site bucket.

Pieces, as AWS documents them ("Restrict access to an Amazon S3 origin", CloudFront Developer Guide):
- an origin access control (OAC, SigningBehavior always, sigv4, origin type s3): CloudFront signs every
  request to the bucket's REST endpoint;
- the distribution, with the bucket's regional REST domain as its S3 origin (S3OriginConfig with an empty
  OriginAccessIdentity plus the OAC id), default root object index.html, and the single-page-app error
  responses (403 and 404 become /index.html with 200: S3 answers 403 for a missing key when CloudFront may
  only GetObject, and the app's router handles the path);
- a bucket policy allowing s3:GetObject to the `cloudfront.amazonaws.com` service principal only when
  AWS:SourceArn is this distribution: no other distribution, and no viewer, can read the bucket.

Cache behaviours use the legacy ForwardedValues with MinTTL/DefaultTTL/MaxTTL (moto has no cache-policy APIs;
on AWS the legacy settings still work). The TTLs bound what the objects' Cache-Control asks for:
- `/config.js` 0/0/0: never served stale after a stack change;
- `*.html` 0/60/60: pages are stored with `no-cache`; a page uploaded without Cache-Control is at most a minute old;
- default `*` 0/86400/31536000 (CloudFront's defaults): assets follow their own max-age.

The distribution is found by its Comment `serverless-lab <student>` with list_distributions (and tagged with
the student); its CallerReference is stable per student, so a retried create cannot make a second one.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError, WaiterError

from ..errors import StepError
from .arns import partition
from .base import (
    STUDENT_TAG,
    Call,
    Check,
    Plan,
    Ref,
    Report,
    Step,
    find_distribution,
    is_error,
    policy_document,
    resolve,
)
from .lambda_policies import normalize_policy
from .site import INDEX_DOCUMENT, SiteStep

ORIGIN_ID = "site-bucket"
ALLOWED_METHODS = ("GET", "HEAD")
VIEWER_PROTOCOL_POLICY = "redirect-to-https"
PRICE_CLASS = "PriceClass_100"  # North America and Europe edges: the cheapest, enough for a classroom
SPA_ERROR_CODES = (403, 404)
ERROR_CACHING_MIN_TTL = 10
OAC_CONFIG = {"SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
# Distributions take minutes to deploy on AWS (boto3's own waiter polls every 60 s, 35 times); offline a
# change takes $SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS (2 s by default), so the lab polls often.
AWS_WAITER = {"Delay": 30, "MaxAttempts": 80}
OFFLINE_WAITER = {"Delay": 0.2, "MaxAttempts": 3000}


@dataclass(frozen=True)
class Behavior:
    """One cache behaviour's path pattern and TTLs (seconds)."""

    path_pattern: str
    min_ttl: int
    default_ttl: int
    max_ttl: int

    def to_boto3(self, origin_id: str) -> dict[str, Any]:
        methods = {"Quantity": len(ALLOWED_METHODS), "Items": list(ALLOWED_METHODS)}
        return {
            **({} if self.path_pattern == "*" else {"PathPattern": self.path_pattern}),
            "TargetOriginId": origin_id,
            "ViewerProtocolPolicy": VIEWER_PROTOCOL_POLICY,
            "AllowedMethods": {**methods, "CachedMethods": dict(methods)},
            "Compress": True,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": self.min_ttl,
            "DefaultTTL": self.default_ttl,
            "MaxTTL": self.max_ttl,
        }


DEFAULT_BEHAVIOR = Behavior("*", 0, 86_400, 31_536_000)
BEHAVIORS = (Behavior("/config.js", 0, 0, 0), Behavior("*.html", 0, 60, 60))


class CdnStep(Step):
    name = "cdn"
    title = "CloudFront distribution"
    requires = ("site",)

    default_behavior: ClassVar[Behavior] = DEFAULT_BEHAVIOR
    behaviors: ClassVar[tuple[Behavior, ...]] = BEHAVIORS

    # --- names --------------------------------------------------------------------------------------
    @property
    def site(self) -> SiteStep:
        return SiteStep(self.context)

    @property
    def oac_name(self) -> str:
        return self.names("oac")

    @property
    def comment(self) -> str:
        return self.names.distribution_comment

    @property
    def caller_reference(self) -> str:
        return self.names("distribution")

    @property
    def offline(self) -> bool:
        return self.context.backend.offline

    def distribution_arn(self, distribution_id: str) -> str:
        return f"arn:{partition(self.context.backend.region)}:cloudfront::{self.names.account_id}:distribution/{distribution_id}"

    # --- reading CloudFront -----------------------------------------------------------------------------
    def find_oac(self) -> dict[str, Any] | None:
        """The student's OAC summary (Id, Name, ...), found by name."""
        cloudfront = self.client("cloudfront")
        marker = ""
        while True:
            page = cloudfront.list_origin_access_controls(**({"Marker": marker} if marker else {}))
            listing = page["OriginAccessControlList"]
            for item in listing.get("Items") or []:
                if item["Name"] == self.oac_name:
                    return dict(item)
            marker = listing.get("NextMarker") or ""
            if not listing.get("IsTruncated") or not marker:
                return None

    def find_distribution(self) -> dict[str, Any] | None:
        """The student's distribution summary (Id, ARN, DomainName, Status, ...), found by its Comment."""
        return find_distribution(self.client("cloudfront"), self.comment)

    def distribution_config(self, distribution_id: str) -> tuple[dict[str, Any], str]:
        result = self.client("cloudfront").get_distribution_config(Id=distribution_id)
        return result["DistributionConfig"], result["ETag"]

    def bucket_policy(self) -> dict[str, Any] | None:
        try:
            return policy_document(self.client("s3").get_bucket_policy(Bucket=self.site.bucket)["Policy"])
        except ClientError as error:
            if is_error(error, "NoSuchBucketPolicy", "NoSuchBucket"):
                return None
            raise

    # --- what should exist --------------------------------------------------------------------------------
    def desired_origin(self, oac_id: str | Ref) -> dict[str, Any]:
        return {
            "Id": ORIGIN_ID,
            "DomainName": self.site.regional_domain(),
            "OriginPath": "",
            # An empty OriginAccessIdentity is how an S3 origin says "no legacy OAI"; the OAC signs instead.
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": oac_id,
        }

    def managed_settings(self, oac_id: str | Ref) -> dict[str, Any]:
        """The parts of the DistributionConfig this step owns; everything else is left as it is."""
        errors = [
            {"ErrorCode": code, "ResponsePagePath": f"/{INDEX_DOCUMENT}", "ResponseCode": "200",
             "ErrorCachingMinTTL": ERROR_CACHING_MIN_TTL}
            for code in SPA_ERROR_CODES
        ]  # fmt: skip
        behaviors = [behavior.to_boto3(ORIGIN_ID) for behavior in self.behaviors]
        return {
            "Comment": self.comment,
            "Enabled": True,
            "DefaultRootObject": INDEX_DOCUMENT,
            "PriceClass": PRICE_CLASS,
            "Origins": {"Quantity": 1, "Items": [self.desired_origin(oac_id)]},
            "DefaultCacheBehavior": self.default_behavior.to_boto3(ORIGIN_ID),
            "CacheBehaviors": {"Quantity": len(behaviors), "Items": behaviors},
            "CustomErrorResponses": {"Quantity": len(errors), "Items": errors},
        }

    def desired_policy(self, distribution_arn: str) -> dict[str, Any]:
        # AWS's documented OAC bucket policy, word for word in shape.
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontServicePrincipalReadOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:{partition(self.context.backend.region)}:s3:::{self.site.bucket}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                }
            ],
        }

    def differences(self, current: dict[str, Any], oac_id: str | Ref) -> list[str]:
        """Names of the managed settings whose deployed value differs from the desired one."""
        desired = comparable(self.managed_settings(oac_id))
        deployed = comparable(current)
        deployed_origin = (deployed.get("Origins") or [{}])[0]
        if self.offline and deployed_origin.get("OriginAccessControlId") is None:
            # moto (5.x) drops OriginAccessControlId from stored origins, so offline an absent id is what a
            # correct apply leaves behind; on AWS a missing or different id is planned as an update.
            for origin in desired["Origins"] + deployed["Origins"]:
                origin.pop("OriginAccessControlId", None)
        return [key for key in desired if desired[key] != deployed.get(key)]

    # --- plan -----------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        plan = Plan(self.name)
        cloudfront_oac = self.find_oac()
        oac_id: str | Ref
        if cloudfront_oac is None:
            plan.append(
                Call(
                    "cloudfront",
                    "create_origin_access_control",
                    {
                        "OriginAccessControlConfig": {
                            "Name": self.oac_name,
                            "Description": self.comment,
                            **OAC_CONFIG,
                        }
                    },
                    why="CloudFront signs its requests to the bucket (sigv4, always)",
                    save=("oac_id", "OriginAccessControl.Id"),
                )
            )
            oac_id = Ref("oac_id")
        else:
            oac_id = cloudfront_oac["Id"]
            plan.extend(self.oac_update_calls(oac_id))

        summary = self.find_distribution()
        distribution_id: str | Ref
        if summary is None:
            config = {"CallerReference": self.caller_reference, **self.managed_settings(oac_id)}
            tags = {"Items": [{"Key": STUDENT_TAG, "Value": self.names.student}]}
            plan.append(
                Call(
                    "cloudfront",
                    "create_distribution_with_tags",
                    {"DistributionConfigWithTags": {"DistributionConfig": config, "Tags": tags}},
                    why="S3 origin via OAC, index.html root, SPA errors, cache behaviours",
                    save=("distribution_id", "Distribution.Id"),
                )
            )
            distribution_id = Ref("distribution_id")
            plan.append(self.wait_call(distribution_id, "until Deployed to the edge"))
            distribution_arn = self.distribution_arn("<distribution_id>")
        else:
            distribution_id = summary["Id"]
            distribution_arn = summary["ARN"]
            current, etag = self.distribution_config(distribution_id)
            changed = self.differences(current, oac_id)
            if changed:
                plan.append(
                    Call(
                        "cloudfront",
                        "update_distribution",
                        {"Id": distribution_id, "IfMatch": etag,
                         "DistributionConfig": {**current, **self.managed_settings(oac_id)}},
                        why=f"changed: {', '.join(changed)}",
                    )
                )  # fmt: skip
            if changed or summary.get("Status") != "Deployed":
                plan.append(self.wait_call(distribution_id, "until Deployed to the edge"))
            if self.distribution_tags(distribution_arn).get(STUDENT_TAG) != self.names.student:
                plan.append(
                    Call(
                        "cloudfront",
                        "tag_resource",
                        {"Resource": distribution_arn,
                         "Tags": {"Items": [{"Key": STUDENT_TAG, "Value": self.names.student}]}},
                        why="whose distribution this is",
                    )
                )  # fmt: skip

        desired_policy = self.desired_policy(distribution_arn)
        if not same_policy(self.bucket_policy(), desired_policy):
            plan.append(
                Call(
                    "s3",
                    "put_bucket_policy",
                    {"Bucket": self.site.bucket, "Policy": json.dumps(desired_policy)},
                    why="only this distribution may GetObject (AWS:SourceArn)",
                )
            )
        return plan

    def oac_update_calls(self, oac_id: str) -> list[Call]:
        result = self.client("cloudfront").get_origin_access_control(Id=oac_id)
        config = result["OriginAccessControl"]["OriginAccessControlConfig"]
        if all(config.get(key) == value for key, value in OAC_CONFIG.items()):
            return []
        return [
            Call(
                "cloudfront",
                "update_origin_access_control",
                {"Id": oac_id, "IfMatch": result["ETag"],
                 "OriginAccessControlConfig": {"Name": self.oac_name, "Description": self.comment, **OAC_CONFIG}},
                why="sign every request with sigv4",
            )
        ]  # fmt: skip

    def distribution_tags(self, arn: str) -> dict[str, str]:
        items = self.client("cloudfront").list_tags_for_resource(Resource=arn)["Tags"].get("Items") or []
        return {tag["Key"]: tag["Value"] for tag in items}

    @staticmethod
    def wait_call(distribution_id: str | Ref, why: str) -> Call:
        return Call("cloudfront", "wait:distribution_deployed", {"Id": distribution_id}, why=why)

    def apply(self) -> dict[str, Any]:
        if not self.site.bucket_exists():
            raise StepError(
                f"The cdn step needs the site bucket {self.site.bucket}, which does not exist. "
                "Fix: lab.apply('site') first, or lab.require('cdn')."
            )
        return super().apply()

    def execute(self, call: Call) -> Any:
        if call.operation != "wait:distribution_deployed":
            return super().execute(call)
        # The base waiter gives up after two minutes; a CloudFront deployment can take longer on AWS.
        if self.context.on_call:
            self.context.on_call(call)
        self.wait_until_deployed(resolve(dict(call.params), self.refs)["Id"], call.why)
        return None

    def wait_until_deployed(self, distribution_id: str, why: str = "") -> None:
        """boto3's distribution_deployed waiter, one poll at a time so a progress bar shows the status."""
        from tqdm.auto import tqdm

        config = OFFLINE_WAITER if self.offline else AWS_WAITER
        waiter = self.client("cloudfront").get_waiter("distribution_deployed")
        description = f"CloudFront {distribution_id}: {why or 'until Deployed'}"
        # Shown once a wait lasts over a second: a CloudFront deployment on AWS, not a quick offline one.
        with tqdm(desc=description, unit="poll", leave=False, file=sys.stderr, delay=1.0) as bar:
            for _ in range(int(config["MaxAttempts"])):
                try:
                    waiter.wait(Id=distribution_id, WaiterConfig={"Delay": config["Delay"], "MaxAttempts": 1})
                    return
                except WaiterError as error:
                    status = (error.last_response or {}).get("Distribution", {}).get("Status")
                    if status is None:  # not a distribution's answer (NoSuchDistribution, ...): the error
                        raise
                    bar.set_postfix_str(status)
                bar.update()
                time.sleep(config["Delay"])
        raise StepError(
            f"CloudFront distribution {distribution_id} is still InProgress after "
            f"{config['Delay'] * config['MaxAttempts']:.0f} s. Run the same call again to keep waiting."
        )

    # --- outputs, verify, destroy -----------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        summary = self.find_distribution()
        if summary is not None:
            found |= {"distribution_id": summary["Id"], "distribution_arn": summary["ARN"],
                      "domain_name": summary["DomainName"]}  # fmt: skip
        cloudfront_oac = self.find_oac()
        if cloudfront_oac is not None:
            found["oac_id"] = cloudfront_oac["Id"]
        return found

    def verify(self) -> Report:
        report = Report(self.name)
        summary = self.find_distribution()
        report.append(Check(f"distribution '{self.comment}' exists", summary is not None))
        cloudfront_oac = self.find_oac()
        report.append(Check(f"origin access control {self.oac_name} exists", cloudfront_oac is not None))
        if summary is None:
            return report
        config, _ = self.distribution_config(summary["Id"])
        report.append(Check("distribution is enabled", config.get("Enabled") is True))
        report.append(
            Check("distribution is Deployed", summary.get("Status") == "Deployed", str(summary.get("Status")))
        )
        origins = (config.get("Origins") or {}).get("Items") or []
        domains = [origin.get("DomainName") for origin in origins]
        report.append(Check(f"origin is the bucket's REST endpoint {self.site.regional_domain()}",
                            domains == [self.site.regional_domain()], str(domains)))  # fmt: skip
        report.append(self.check_origin_oac(origins, cloudfront_oac))
        root = config.get("DefaultRootObject")
        report.append(Check(f"default root object is {INDEX_DOCUMENT}", root == INDEX_DOCUMENT, repr(root)))
        report.append(self.check_error_responses(config))
        report.extend(self.check_behaviors(config))
        report.append(self.check_policy(summary["ARN"]))
        return report

    def check_origin_oac(self, origins: list[dict[str, Any]], cloudfront_oac: dict[str, Any] | None) -> Check:
        ids = [origin.get("OriginAccessControlId") for origin in origins]
        wanted = cloudfront_oac["Id"] if cloudfront_oac else None
        if self.offline and ids == [None] and wanted:
            return Check(f"origin signs with OAC {wanted} (moto does not store an origin's OAC id)", True)
        return Check(f"origin signs with OAC {wanted}", wanted is not None and ids == [wanted], str(ids))

    def check_error_responses(self, config: dict[str, Any]) -> Check:
        wanted = comparable(self.managed_settings(""))["CustomErrorResponses"]
        found = comparable(config).get("CustomErrorResponses")
        detail = "none set: lab.apply('cdn') adds them" if not found else f"found {found}"
        return Check("403 and 404 answer /index.html with 200 (single-page app)", found == wanted, detail)

    def check_behaviors(self, config: dict[str, Any]) -> list[Check]:
        deployed = comparable(config)
        desired = comparable(self.managed_settings(""))
        checks = [
            Check(f"default behaviour: TTL min/default/max {ttls(self.default_behavior)}, GET/HEAD, compressed, "
                  "HTTPS", deployed.get("DefaultCacheBehavior") == desired["DefaultCacheBehavior"],
                  str(deployed.get("DefaultCacheBehavior")))
        ]  # fmt: skip
        found = {item.get("PathPattern"): item for item in deployed.get("CacheBehaviors") or []}
        for behavior, wanted in zip(self.behaviors, desired["CacheBehaviors"], strict=True):
            checks.append(Check(f"behaviour {behavior.path_pattern}: TTL min/default/max {ttls(behavior)}",
                                found.get(behavior.path_pattern) == wanted,
                                f"found {found[behavior.path_pattern]}" if behavior.path_pattern in found
                                else "no such behaviour: lab.apply('cdn') adds it"))  # fmt: skip
        return checks

    def check_policy(self, distribution_arn: str) -> Check:
        policy = self.bucket_policy()
        description = "bucket policy lets only this distribution (AWS:SourceArn) read objects"
        if policy is None:
            return Check(description, False, "no bucket policy")
        ok = same_policy(policy, self.desired_policy(distribution_arn))
        return Check(
            description,
            ok,
            f"it allows {json.dumps(policy)}; the OAC policy lets cloudfront.amazonaws.com s3:GetObject on "
            f"arn:aws:s3:::{self.site.bucket}/* when AWS:SourceArn is {distribution_arn}",
        )

    def destroy(self) -> None:
        summary = self.find_distribution()
        if summary is not None:
            self.delete_distribution(summary["Id"])
        cloudfront_oac = self.find_oac()
        if cloudfront_oac is not None:
            etag = self.client("cloudfront").get_origin_access_control(Id=cloudfront_oac["Id"])["ETag"]
            try:
                self.execute(
                    Call(
                        "cloudfront",
                        "delete_origin_access_control",
                        {"Id": cloudfront_oac["Id"], "IfMatch": etag},
                    )
                )
            except ClientError as error:
                if not is_error(error, "NoSuchOriginAccessControl"):
                    raise
        if self.bucket_policy() is not None:
            self.execute(Call("s3", "delete_bucket_policy", {"Bucket": self.site.bucket}))

    def delete_distribution(self, distribution_id: str) -> None:
        """AWS deletes only a disabled, Deployed distribution, and only with its current ETag."""
        config, etag = self.distribution_config(distribution_id)
        if config.get("Enabled"):
            self.execute(Call("cloudfront", "update_distribution",
                              {"Id": distribution_id, "IfMatch": etag, "DistributionConfig": {**config, "Enabled": False}},
                              why="AWS deletes only disabled distributions"))  # fmt: skip
        self.execute(self.wait_call(distribution_id, "until the disabled distribution is Deployed"))
        _, etag = self.distribution_config(distribution_id)
        try:
            self.execute(Call("cloudfront", "delete_distribution", {"Id": distribution_id, "IfMatch": etag}))
        except ClientError as error:
            if not is_error(error, "NoSuchDistribution"):
                raise


def same_policy(found: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """Two bucket policies that grant the same (a student's own, without the lab's Sid, is adopted)."""
    return found is not None and normalize_policy(found) == normalize_policy(desired)


def ttls(behavior: Behavior) -> str:
    return f"{behavior.min_ttl}/{behavior.default_ttl}/{behavior.max_ttl}"


BEHAVIOR_KEYS = (
    "PathPattern",
    "TargetOriginId",
    "ViewerProtocolPolicy",
    "Compress",
    "MinTTL",
    "DefaultTTL",
    "MaxTTL",
)


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """The managed settings of a DistributionConfig in a form that compares with `==`.

    CloudFront wraps lists as {"Quantity", "Items"} and may return method lists in another order, so lists
    are unwrapped and methods sorted; fields this step does not set (moto and AWS add defaults) are left out.
    """
    origins = [
        {"Id": o.get("Id"), "DomainName": o.get("DomainName"), "OriginPath": o.get("OriginPath") or "",
         "OriginAccessControlId": o.get("OriginAccessControlId") or None}
        for o in _items(config.get("Origins"))
    ]  # fmt: skip
    errors = [
        {"ErrorCode": int(e["ErrorCode"]), "ResponsePagePath": e.get("ResponsePagePath") or "",
         "ResponseCode": str(e.get("ResponseCode") or ""), "ErrorCachingMinTTL": int(e.get("ErrorCachingMinTTL", 10))}
        for e in _items(config.get("CustomErrorResponses"))
    ]  # fmt: skip
    return {
        "Comment": config.get("Comment"),
        "Enabled": config.get("Enabled"),
        "DefaultRootObject": config.get("DefaultRootObject") or "",
        "PriceClass": config.get("PriceClass"),
        "Origins": origins,
        "DefaultCacheBehavior": _behavior(config.get("DefaultCacheBehavior") or {}),
        "CacheBehaviors": [_behavior(b) for b in _items(config.get("CacheBehaviors"))],
        "CustomErrorResponses": errors,
    }


def _behavior(item: dict[str, Any]) -> dict[str, Any]:
    allowed = item.get("AllowedMethods") or {}
    forwarded = item.get("ForwardedValues") or {}
    return {
        **{key: item.get(key) for key in BEHAVIOR_KEYS if key in item},
        "AllowedMethods": sorted(allowed.get("Items") or []),
        "CachedMethods": sorted((allowed.get("CachedMethods") or {}).get("Items") or []),
        "QueryString": bool(forwarded.get("QueryString", False)),
    }


def _items(container: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((container or {}).get("Items") or [])
