"""The `site` step: the S3 bucket that holds the static web site, and its files.

The bucket stays private (Block Public Access on, as AWS sets it for every new bucket since April 2023):
browsers reach it only through CloudFront, whose origin access control (OAC) signs its requests to the
bucket's REST endpoint (the `cdn` step adds the bucket policy that allows exactly that distribution). The
website configuration (index and error document index.html) is set for the lesson: it is what the S3 website
endpoint would serve for a public bucket, and a CloudFront origin cannot use OAC with that endpoint.

Uploads are incremental: an object is planned only when its bytes (a `sha256` metadata entry the lab sets),
Content-Type or Cache-Control differ from the file's, and objects no longer under data/site/ are deleted.
`config.js` is generated from the other steps' outputs (site_config.py) and planned only when it changed,
so the lab can re-plan this step after every other step and upload just that one file. When the student's
distribution exists, replaced or deleted assets are invalidated at the edge after the uploads.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from ..errors import StepError
from .api import ApiStep
from .arns import partition
from .base import STUDENT_TAG, Call, Check, Plan, Report, Step, find_distribution, is_error
from .site_config import (
    CONFIG_KEY,
    NO_CACHE,
    SiteFile,
    config_file,
    parse_config_js,
    site_files,
    upload_order,
)
from .users import UsersStep

INDEX_DOCUMENT = "index.html"
WEBSITE_CONFIGURATION = {
    "IndexDocument": {"Suffix": INDEX_DOCUMENT},
    "ErrorDocument": {"Key": INDEX_DOCUMENT},
}
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
SHA256_METADATA = "sha256"
CONFIG_STEPS = (UsersStep, ApiStep)  # the steps whose outputs config.js carries
MAX_DELETE_KEYS = 1000  # DeleteObjects takes at most 1,000 keys
MAX_INVALIDATION_PATHS = 10
# The regions whose website endpoint is s3-website-<region> (a dash); newer regions use s3-website.<region>.
DASH_WEBSITE_REGIONS = frozenset(
    {
        "us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1",
        "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "us-gov-west-1",
    }
)  # fmt: skip


class SiteStep(Step):
    name = "site"
    title = "S3 static site"
    requires = ()

    # --- names --------------------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self.names.site_bucket

    @property
    def region(self) -> str:
        return self.context.backend.region

    def regional_domain(self) -> str:
        # The REST endpoint CloudFront's S3 origin names; valid in every region, us-east-1 included.
        return f"{self.bucket}.s3.{self.region}.amazonaws.com"

    def website_url(self) -> str:
        separator = "-" if self.region in DASH_WEBSITE_REGIONS else "."
        return f"http://{self.bucket}.s3-website{separator}{self.region}.amazonaws.com"

    # --- reading the bucket ---------------------------------------------------------------------------
    def bucket_exists(self) -> bool:
        try:
            self.client("s3").head_bucket(Bucket=self.bucket)
            return True
        except ClientError as error:
            if is_error(error, "404", "NoSuchBucket"):
                return False
            if is_error(error, "403", "AccessDenied"):
                raise StepError(
                    f"S3 bucket {self.bucket} exists but this account cannot read it (403). Bucket names are "
                    "global on AWS: use another student name, or check the account of your credentials."
                ) from error
            raise

    def _read(self, operation: str, missing: str, **params: Any) -> Any:
        """The result of a get_* call, or None when S3 says the configuration does not exist."""
        try:
            return getattr(self.client("s3"), operation)(Bucket=self.bucket, **params)
        except ClientError as error:
            if is_error(error, missing, "NoSuchBucket"):
                return None
            raise

    def public_access_block(self) -> dict[str, bool] | None:
        result = self._read("get_public_access_block", "NoSuchPublicAccessBlockConfiguration")
        return result["PublicAccessBlockConfiguration"] if result else None

    def website(self) -> dict[str, Any] | None:
        result = self._read("get_bucket_website", "NoSuchWebsiteConfiguration")
        if not result:
            return None
        return {k: result[k] for k in ("IndexDocument", "ErrorDocument") if k in result}

    def tags(self) -> dict[str, str]:
        result = self._read("get_bucket_tagging", "NoSuchTagSet")
        return {tag["Key"]: tag["Value"] for tag in (result or {}).get("TagSet", [])}

    def object_keys(self) -> list[str]:
        keys: list[str] = []
        for page in self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if is_error(error, "404", "NoSuchKey"):
                return None
            raise

    # --- what the bucket should hold ------------------------------------------------------------------
    def local_files(self) -> list[SiteFile]:
        """The files of data/site/ and the config.js generated from the current outputs, in upload order."""
        files = [
            *site_files(self.context.data_dir / "site"),
            config_file(self.config_outputs(), self.context.backend),
        ]
        return sorted(files, key=upload_order)

    def config_outputs(self) -> dict[str, dict[str, Any]]:
        """The outputs config.js is made of: the lab's record of each step, else what the backend holds.

        A lab that applied the steps has them recorded (no extra calls); a fresh kernel on the memory
        backend, or a lost outputs file, has not, and must not overwrite a deployed config.js with nulls.
        """
        return {
            step.name: self.context.outputs.get(step.name) or step(self.context).outputs()
            for step in CONFIG_STEPS
        }

    @staticmethod
    def same_bytes(file: SiteFile, head: dict[str, Any]) -> bool:
        """The object holds the file's bytes: by the sha256 the lab stores with its uploads, or, for an
        object uploaded by hand, by its ETag, which S3 makes the MD5 of the bytes for a single-part upload
        without SSE-KMS (S3 API reference, Common Response Headers: ETag)."""
        stored = head.get("Metadata", {}).get(SHA256_METADATA)
        if stored is not None:
            return bool(stored == file.sha256)
        md5 = hashlib.md5(file.body, usedforsecurity=False).hexdigest()
        return bool(head.get("ETag", "").strip('"') == md5)

    @classmethod
    def is_current(cls, file: SiteFile, head: dict[str, Any] | None) -> bool:
        if head is None:
            return False
        return (
            cls.same_bytes(file, head)
            and head.get("ContentType") == file.content_type
            and head.get("CacheControl") == file.cache_control
        )

    def put_call(self, file: SiteFile, why: str) -> Call:
        return Call(
            "s3",
            "put_object",
            {
                "Bucket": self.bucket,
                "Key": file.key,
                "Body": file.body,
                "ContentType": file.content_type,
                "CacheControl": file.cache_control,
                "Metadata": {SHA256_METADATA: file.sha256},
            },
            why=why,
        )

    # --- plan -----------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        plan = Plan(self.name)
        exists = self.bucket_exists()
        if not exists:
            params: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                # S3 rejects a LocationConstraint of us-east-1 and needs one everywhere else.
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            plan.append(Call("s3", "create_bucket", params, why="private bucket for the site's files"))
            plan.append(Call("s3", "wait:bucket_exists", {"Bucket": self.bucket}, why="until S3 reports it"))
        if not exists or self.public_access_block() != PUBLIC_ACCESS_BLOCK:
            plan.append(
                Call(
                    "s3",
                    "put_public_access_block",
                    {"Bucket": self.bucket, "PublicAccessBlockConfiguration": PUBLIC_ACCESS_BLOCK},
                    why="no public access: only CloudFront (OAC) reads the bucket",
                )
            )
        if not exists or self.tags().get(STUDENT_TAG) != self.names.student:
            plan.append(
                Call(
                    "s3",
                    "put_bucket_tagging",
                    {
                        "Bucket": self.bucket,
                        "Tagging": {"TagSet": [{"Key": STUDENT_TAG, "Value": self.names.student}]},
                    },
                    why="whose bucket this is",
                )
            )
        if not exists or self.website() != WEBSITE_CONFIGURATION:
            plan.append(
                Call(
                    "s3",
                    "put_bucket_website",
                    {"Bucket": self.bucket, "WebsiteConfiguration": WEBSITE_CONFIGURATION},
                    why="index and error document index.html (the lesson; CloudFront uses the REST endpoint)",
                )
            )
        plan.extend(self.upload_calls(exists))
        return plan

    def upload_calls(self, exists: bool) -> list[Call]:
        files = self.local_files()
        present = set(self.object_keys()) if exists else set()
        calls = []
        replaced = []
        for file in files:
            if file.key not in present:
                calls.append(self.put_call(file, f"new file, {file.content_type}, {file.cache_control}"))
            elif not self.is_current(file, self.head(file.key)):
                calls.append(self.put_call(file, "changed (content or headers)"))
                if file.cache_control != NO_CACHE:
                    replaced.append(file.key)
        stale = sorted(present - {file.key for file in files})
        # After the uploads, so pages already in browsers keep their assets until the new pages are in.
        for start in range(0, len(stale), MAX_DELETE_KEYS):
            chunk = stale[start : start + MAX_DELETE_KEYS]
            calls.append(
                Call(
                    "s3",
                    "delete_objects",
                    {
                        "Bucket": self.bucket,
                        "Delete": {"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                    },
                    why=f"{len(chunk)} file(s) no longer in data/site/",
                )
            )
        invalidation = self.invalidation_call(replaced + stale, files)
        if invalidation is not None:
            calls.append(invalidation)
        return calls

    def invalidation_call(self, keys: list[str], files: list[SiteFile]) -> Call | None:
        """An invalidation of replaced or deleted objects the student's distribution may hold, if it exists.

        CloudFront keeps an object until its TTL ends (a day for assets here), so a deploy that replaces
        app.js must invalidate /app.js, as `aws s3 sync` followed by `aws cloudfront create-invalidation`
        does. Pages and config.js are stored with no-cache and need none. Over MAX_INVALIDATION_PATHS
        paths, one `/*` (AWS bills invalidations per path, a wildcard counting as one). Runs after the
        uploads: invalidating first would let the edge fetch the old object again.
        """
        if not keys:
            return None
        distribution = find_distribution(self.client("cloudfront"), self.names.distribution_comment)
        if distribution is None:
            return None
        paths = ["/" + quote(key) for key in sorted(keys)]
        if len(paths) > MAX_INVALIDATION_PATHS:
            paths = ["/*"]
        # The same batch for the same contents: a retried apply cannot invalidate twice.
        digests = {file.key: file.sha256 for file in files}
        batch = "\n".join(f"{key}:{digests.get(key, 'deleted')}" for key in sorted(keys))
        reference = f"{self.names.prefix}-{hashlib.sha256(batch.encode()).hexdigest()[:16]}"
        return Call(
            "cloudfront",
            "create_invalidation",
            {
                "DistributionId": distribution["Id"],
                "InvalidationBatch": {
                    "Paths": {"Quantity": len(paths), "Items": paths},
                    "CallerReference": reference,
                },
            },
            why="replaced or deleted files the edge may still cache",
        )

    def apply(self) -> dict[str, Any]:
        for call in self.plan():
            result = self.execute(call)
            if call.operation == "delete_objects" and result and result.get("Errors"):
                raise StepError(f"S3 could not delete {result['Errors']}; re-run apply('site') to retry.")
        return self.outputs()

    # --- outputs, verify, destroy ---------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        if not self.bucket_exists():
            return {}
        return {
            "bucket": self.bucket,
            "bucket_arn": f"arn:{partition(self.region)}:s3:::{self.bucket}",
            "bucket_regional_domain": self.regional_domain(),
            "website_url": self.website_url(),
            "files": len(self.object_keys()),
        }

    def verify(self) -> Report:
        report = Report(self.name)
        exists = self.bucket_exists()
        report.append(Check(f"bucket {self.bucket} exists", exists))
        if not exists:
            return report
        block = self.public_access_block()
        if block is None:
            detail = "no Block Public Access configuration: put_public_access_block with all four set to True"
        else:
            off = [name for name, value in PUBLIC_ACCESS_BLOCK.items() if block.get(name) != value]
            detail = f"{', '.join(off)} not True"
        report.append(
            Check("public access is blocked (all four settings)", block == PUBLIC_ACCESS_BLOCK, detail)
        )
        website = self.website()
        report.append(
            Check(
                "website configuration: index and error document index.html",
                website == WEBSITE_CONFIGURATION,
                "not set: lab.apply('site') sets it" if website is None else f"found {website}",
            )
        )
        for file in self.local_files():
            report.append(self.check_file(file))
        return report

    def check_file(self, file: SiteFile) -> Check:
        head = self.head(file.key)
        if head is None:
            return Check(f"bucket holds {file.key}", False, "missing: lab.apply('site') uploads it")
        if file.key == CONFIG_KEY:
            deployed = parse_config_js(
                self.client("s3").get_object(Bucket=self.bucket, Key=CONFIG_KEY)["Body"].read().decode()
            )
            nulls = [key for key, value in deployed.items() if value is None]
            description = "config.js is current" + (
                f" (null until deployed: {', '.join(nulls)})" if nulls else ""
            )
            return Check(description, self.is_current(file, head), "stale: run apply('site')")
        return Check(
            f"bucket serves {file.key} as {file.content_type} with Cache-Control {file.cache_control}",
            self.is_current(file, head),
            "; ".join(self.file_problems(file, head)),
        )

    def file_problems(self, file: SiteFile, head: dict[str, Any]) -> list[str]:
        """What differs between an object and its file, in words a student can act on."""
        problems = []
        served = head.get("ContentType")
        if served != file.content_type:
            why = (
                " (S3's default when an upload names no ContentType)"
                if served == "binary/octet-stream"
                else ""
            )
            problems.append(
                f"stored as {served!r}{why}: upload it again with ContentType={file.content_type!r}"
            )
        if head.get("CacheControl") != file.cache_control:
            problems.append(
                f"Cache-Control is {head.get('CacheControl')!r}, not {file.cache_control!r}"
                + (
                    " (without one, CloudFront applies the behaviour's DefaultTTL)"
                    if not head.get("CacheControl")
                    else ""
                )
            )
        if not self.same_bytes(file, head):
            problems.append(f"its bytes differ from data/site/{file.key}")
        return problems

    def destroy(self) -> None:
        if not self.bucket_exists():
            return
        s3 = self.client("s3")
        # A versioned bucket keeps old versions and delete markers; S3 deletes a bucket only when empty of both.
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            entries = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if entries:
                self.execute(
                    Call("s3", "delete_objects", {"Bucket": self.bucket, "Delete": {"Objects": entries}})
                )
        keys = self.object_keys()
        for start in range(0, len(keys), MAX_DELETE_KEYS):
            chunk = [{"Key": key} for key in keys[start : start + MAX_DELETE_KEYS]]
            self.execute(Call("s3", "delete_objects", {"Bucket": self.bucket, "Delete": {"Objects": chunk}}))
        try:
            self.execute(Call("s3", "delete_bucket", {"Bucket": self.bucket}))
        except ClientError as error:
            if not is_error(error, "NoSuchBucket"):
                raise
