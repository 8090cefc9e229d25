"""The `site` step on the memory backend: bucket, website configuration, incremental uploads, config.js."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from serverless_lab.backends import MemoryBackend
from serverless_lab.lab import Lab
from serverless_lab.steps.site import PUBLIC_ACCESS_BLOCK, WEBSITE_CONFIGURATION
from serverless_lab.steps.site_config import (
    cache_control,
    content_type,
    parse_config_js,
    render_config_js,
)

# The SAMPLE_SITE of conftest.py in upload order: assets, then config.js, then the pages.
UPLOADS = ["app.js", "img/logo.svg", "style.css", "config.js", "index.html"]
SETUP = [
    "create_bucket",
    "wait:bucket_exists",
    "put_public_access_block",
    "put_bucket_tagging",
    "put_bucket_website",
]


def operations(plan: list) -> list[str]:
    return [call.operation for call in plan]


def uploaded_keys(plan: list) -> list[str]:
    return [call.params["Key"] for call in plan if call.operation == "put_object"]


def test_site_lifecycle_plan_apply_verify_destroy(lab: Lab, leftovers: Callable) -> None:
    plan = lab.plan("site")
    assert operations(plan) == SETUP + ["put_object"] * len(UPLOADS)
    assert uploaded_keys(plan) == UPLOADS
    assert "CreateBucketConfiguration" not in plan[0].params  # us-east-1 takes no LocationConstraint

    outputs = lab.apply("site")
    bucket = lab.names.site_bucket
    assert outputs == {
        "bucket": bucket,
        "bucket_arn": f"arn:aws:s3:::{bucket}",
        "bucket_regional_domain": f"{bucket}.s3.us-east-1.amazonaws.com",
        "website_url": f"http://{bucket}.s3-website-us-east-1.amazonaws.com",
        "files": len(UPLOADS),
    }
    assert lab.plan("site") == []
    report = lab.verify("site")
    assert report.passed, str(report)
    assert "bucket serves index.html as text/html; charset=utf-8 with Cache-Control no-cache" in [
        check.description for check in report
    ]

    s3 = lab.backend.client("s3")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCK
    website = s3.get_bucket_website(Bucket=bucket)
    assert {k: website[k] for k in WEBSITE_CONFIGURATION} == WEBSITE_CONFIGURATION
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "serverless-lab:student", "Value": lab.student}
    ]
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    assert index["Body"].read() == (lab.root / "data" / "site" / "index.html").read_bytes()
    logo = s3.head_object(Bucket=bucket, Key="img/logo.svg")
    assert (logo["ContentType"], logo["CacheControl"]) == ("image/svg+xml", "public, max-age=86400")
    config = s3.get_object(Bucket=bucket, Key="config.js")
    assert config["CacheControl"] == "no-cache"
    assert b"stale" not in config["Body"].read()  # generated, never the data/site/config.js

    lab.destroy("site")
    assert leftovers(lab) == {k: [] for k in leftovers(lab)}
    lab.destroy("site")  # idempotent
    assert lab.step("site").state() == "absent"
    assert operations(lab.plan("site"))[:1] == ["create_bucket"]


def test_changed_file_is_uploaded_alone(lab: Lab) -> None:
    lab.apply("site")
    site = lab.root / "data" / "site"
    (site / "app.js").write_text("console.log('version 2');\n")
    plan = lab.plan("site")
    assert operations(plan) == ["put_object"]
    assert uploaded_keys(plan) == ["app.js"]
    assert plan[0].params["Body"] == b"console.log('version 2');\n"

    # A new file is uploaded, a removed one deleted after the uploads; untouched files are not planned.
    (site / "style.css").unlink()
    (site / "fonts").mkdir()
    (site / "fonts" / "lab.woff2").write_bytes(b"wOF2")
    plan = lab.plan("site")
    assert operations(plan) == ["put_object", "put_object", "delete_objects"]
    assert uploaded_keys(plan) == ["app.js", "fonts/lab.woff2"]
    assert plan[1].params["ContentType"] == "font/woff2"
    assert plan[2].params["Delete"]["Objects"] == [{"Key": "style.css"}]

    lab.apply("site")
    assert lab.plan("site") == []
    keys = {
        o["Key"] for o in lab.backend.client("s3").list_objects_v2(Bucket=lab.names.site_bucket)["Contents"]
    }
    assert keys == {"app.js", "fonts/lab.woff2", "img/logo.svg", "config.js", "index.html"}


def test_object_with_wrong_headers_is_uploaded_again(lab: Lab) -> None:
    lab.apply("site")
    bucket = lab.names.site_bucket
    s3 = lab.backend.client("s3")
    # Same bytes, uploaded by hand without a Content-Type: S3 then serves binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="style.css", Body=(lab.root / "data/site/style.css").read_bytes())
    report = lab.verify("site")
    assert not report.passed
    assert [c.description for c in report.failures()] == [
        "bucket serves style.css as text/css; charset=utf-8 with Cache-Control public, max-age=86400"
    ]
    plan = lab.plan("site")
    assert uploaded_keys(plan) == ["style.css"]
    lab.apply("site")
    assert lab.verify("site").passed


def test_config_js_follows_the_outputs_and_is_planned_only_when_it_changes(lab: Lab) -> None:
    lab.apply("site")
    deployed = parse_config_js(lab.backend.client("s3").get_object(Bucket=lab.names.site_bucket, Key="config.js")
                               ["Body"].read().decode())  # fmt: skip
    assert deployed["apiUrl"] is None and deployed["userPoolId"] is None
    assert "null until deployed: userPoolId, userPoolClientId, apiUrl" in str(lab.verify("site"))

    # The lab keeps every step's outputs; config.js is generated from them.
    lab.outputs["api"] = {"url": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"}
    lab.outputs["users"] = {"user_pool_id": "us-east-1_pool", "client_id": "client-1"}
    plan = lab.plan("site")
    assert uploaded_keys(plan) == ["config.js"]
    assert plan[0].params["CacheControl"] == "no-cache"
    lab.apply("site")
    assert lab.plan("site") == []
    body = lab.backend.client("s3").get_object(Bucket=lab.names.site_bucket, Key="config.js")["Body"].read()
    config = parse_config_js(body.decode())
    assert config["apiUrl"] == "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
    assert (config["userPoolId"], config["userPoolClientId"]) == ("us-east-1_pool", "client-1")
    assert "null until deployed" not in str(lab.verify("site"))


def test_render_config_js_offline_and_values() -> None:
    backend = MemoryBackend(region="eu-west-1")
    backend.start()
    text = render_config_js({"api": {"url": "http://127.0.0.1:9/restapis/x/prod/_user_request_/"}}, backend)
    assert text.rstrip().endswith(";")
    assert "window.SERVERLESS_LAB_CONFIG = {" in text
    assert parse_config_js(text) == {
        "region": "eu-west-1",
        "userPoolId": None,
        "userPoolClientId": None,
        "apiUrl": "http://127.0.0.1:9/restapis/x/prod/_user_request_",
        "cognitoEndpoint": f"http://127.0.0.1:{backend.dataplane_port}/cognito-idp/",
        "offline": True,
        "backend": "memory",
    }
    assert render_config_js({}, backend) == render_config_js({}, backend)  # same outputs, same bytes
    with pytest.raises(ValueError, match=r"not a config\.js"):
        parse_config_js("var x = 1;")


@pytest.mark.parametrize(
    ("key", "expected_type", "expected_cache"),
    [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("docs/about.html", "text/html; charset=utf-8", "no-cache"),
        ("config.js", "text/javascript; charset=utf-8", "no-cache"),
        ("app.js", "text/javascript; charset=utf-8", "public, max-age=86400"),
        ("style.css", "text/css; charset=utf-8", "public, max-age=86400"),
        ("logo.svg", "image/svg+xml", "public, max-age=86400"),
        ("photo.PNG", "image/png", "public, max-age=86400"),
        ("site.webmanifest", "application/manifest+json", "public, max-age=86400"),
        ("data.json", "application/json", "public, max-age=86400"),
        ("app.3f9a2c1b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
        ("LICENSE", "binary/octet-stream", "public, max-age=86400"),
    ],
)
def test_content_type_and_cache_control_policy(key: str, expected_type: str, expected_cache: str) -> None:
    assert (content_type(key), cache_control(key)) == (expected_type, expected_cache)


def test_interrupted_apply_plans_exactly_the_rest(lab: Lab) -> None:
    step = lab.step("site")
    plan = step.plan()
    done = 4  # bucket created, waited for, public access blocked, tagged: no website, no files
    for call in plan[:done]:
        step.execute(call)
    assert lab.step("site").state() == "partial"
    assert lab.plan("site") == plan[done:]
    report = lab.verify("site")
    assert not report.passed
    assert "website configuration: index and error document index.html" in [
        c.description for c in report.failures()
    ]
    lab.apply("site")
    assert lab.plan("site") == []
    assert lab.step("site").state() == "deployed"


def test_bucket_outside_us_east_1_names_its_region(make_lab: Callable[..., Lab], leftovers: Callable) -> None:
    lab = make_lab(region="eu-west-2")
    plan = lab.plan("site")
    assert plan[0].params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-2"}
    outputs = lab.apply("site")
    assert (
        lab.backend.client("s3").get_bucket_location(Bucket=outputs["bucket"])["LocationConstraint"]
        == "eu-west-2"
    )
    assert outputs["website_url"].endswith(".s3-website.eu-west-2.amazonaws.com")
    assert outputs["bucket_regional_domain"] == f"{outputs['bucket']}.s3.eu-west-2.amazonaws.com"
    assert lab.plan("site") == []
    lab.destroy("site")
    assert leftovers(lab)["buckets"] == []


def test_destroy_empties_a_versioned_bucket(lab: Lab, leftovers: Callable) -> None:
    lab.apply("site")
    s3 = lab.backend.client("s3")
    bucket = lab.names.site_bucket
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"v2")
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"v3")
    s3.delete_object(Bucket=bucket, Key="style.css")  # leaves a delete marker
    assert len(s3.list_object_versions(Bucket=bucket).get("Versions", [])) > len(UPLOADS)
    lab.destroy("site")
    assert leftovers(lab)["buckets"] == []


def test_two_students_keep_their_own_buckets(make_lab: Callable[..., Lab], site_root: Path) -> None:
    first = make_lab()
    second = make_lab(student=first.student + "x")
    first.apply("site")
    assert second.step("site").state() == "absent"
    second.apply("site")
    second.destroy("site")
    assert first.plan("site") == []
    assert first.verify("site").passed


def test_fresh_lab_keeps_config_js_of_deployed_steps(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    lab.apply("site")
    users = lab.apply("users")  # the lab re-applies site: config.js now names the pool
    assert lab.plan("site") == []
    body = lab.backend.client("s3").get_object(Bucket=lab.names.site_bucket, Key="config.js")["Body"].read()
    assert parse_config_js(body.decode())["userPoolId"] == users["user_pool_id"]

    # Another kernel on the memory backend has no record of the outputs: it reads them from the backend
    # instead of planning a config.js of nulls over the deployed one.
    fresh = make_lab()
    assert fresh.outputs == {}
    assert fresh.plan("site") == []
    assert fresh.step("site").state() == "deployed"
    # Destroying a step refreshes config.js at once; another kernel then finds nothing to upload.
    lab.destroy("users")
    assert fresh.plan("site") == []
    body = lab.backend.client("s3").get_object(Bucket=lab.names.site_bucket, Key="config.js")["Body"].read()
    assert parse_config_js(body.decode())["userPoolId"] is None
