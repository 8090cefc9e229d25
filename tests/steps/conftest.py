"""Fixtures of the step tests: labs on the shared in-process `memory` backend, one fresh student each.

moto keeps one set of backends per process, so every test's lab shares it; distinct student names (and so
distinct `sl-<student>-` prefixes) keep the tests apart.
"""

from __future__ import annotations

import itertools
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from serverless_lab.lab import PROJECT_ROOT, Lab

_COUNTER = itertools.count(1)
# One run's students differ from another's, should a test ever run against a backend that outlives it.
_RUN = uuid.uuid4().hex[:4]

# A small site of our own: the real data/site/ is written by others and may change under the tests.
SAMPLE_SITE: dict[str, bytes] = {
    "index.html": b"<!doctype html><title>lab</title><script src='/config.js'></script><script src='/app.js'></script>\n",
    "app.js": b"console.log(window.SERVERLESS_LAB_CONFIG);\n",
    "style.css": b"body { font-family: sans-serif; }\n",
    "img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "config.js": b"window.SERVERLESS_LAB_CONFIG = {'stale': true};\n",  # skipped: always generated
    ".gitkeep": b"",  # skipped: a dotfile
}


def new_student(tag: str = "t") -> str:
    """A student name no other test of this process uses (at most 20 characters, as the lab requires)."""
    return f"{tag[:8]}-{_RUN}-{next(_COUNTER)}"


@pytest.fixture
def student(request: pytest.FixtureRequest) -> str:
    tag = re.sub(r"[^a-z0-9]", "", request.node.name.removeprefix("test_").lower())
    return new_student(tag if tag[:1].isalpha() else "t" + tag)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    """A project root with data/ (users.json, items.json), handlers/ and the SAMPLE_SITE as data/site/."""
    data = tmp_path / "data"
    data.mkdir()
    for path in (PROJECT_ROOT / "data").glob("*.json"):
        shutil.copy(path, data / path.name)
    if (PROJECT_ROOT / "handlers").is_dir():
        shutil.copytree(PROJECT_ROOT / "handlers", tmp_path / "handlers")
    for key, body in SAMPLE_SITE.items():
        path = data / "site" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return tmp_path


@pytest.fixture
def make_lab(site_root: Path, student: str) -> Callable[..., Lab]:
    """Lab(backend="memory") for this test's student and site root; keyword arguments override."""

    def make(**overrides: Any) -> Lab:
        return Lab(**{"backend": "memory", "student": student, "root": site_root, **overrides})

    return make


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    return make_lab()


def site_and_cdn_resources(lab: Lab) -> dict[str, list[str]]:
    """Every S3 and CloudFront resource that carries the student's prefix (or the student's Comment)."""
    prefix = lab.names.prefix
    s3 = lab.backend.client("s3")
    cloudfront = lab.backend.client("cloudfront")
    buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith(prefix + "-")]
    objects = [
        f"{bucket}/{item['Key']}"
        for bucket in buckets
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    policies = []
    for bucket in buckets:
        try:
            s3.get_bucket_policy(Bucket=bucket)
            policies.append(bucket)
        except s3.exceptions.ClientError:
            pass
    distributions = [
        d["Id"]
        for page in cloudfront.get_paginator("list_distributions").paginate()
        for d in page["DistributionList"].get("Items") or []
        if f"({prefix})" in (d.get("Comment") or "")
    ]
    controls = cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []
    return {
        "buckets": buckets,
        "objects": objects,
        "bucket_policies": policies,
        "distributions": distributions,
        "origin_access_controls": [c["Id"] for c in controls if c["Name"].startswith(prefix + "-")],
    }


@pytest.fixture
def leftovers() -> Callable[[Lab], dict[str, list[str]]]:
    """Lists the student's S3 and CloudFront resources; `{k: [] ...}` means nothing is left."""
    return site_and_cdn_resources
