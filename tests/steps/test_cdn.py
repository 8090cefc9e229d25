"""The `cdn` step on the memory backend: OAC, distribution, bucket policy, updates, interrupted apply."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import pytest

from serverless_lab.dataplane.cloudfront.model import distribution_from_boto3
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.errors import StepError
from serverless_lab.lab import Lab
from serverless_lab.steps.cdn import BEHAVIORS, Behavior, CdnStep

CREATE = [
    "create_origin_access_control",
    "create_distribution_with_tags",
    "wait:distribution_deployed",
    "put_bucket_policy",
]


def operations(plan: list) -> list[str]:
    return [call.operation for call in plan]


@contextlib.contextmanager
def slow_deployments(seconds: float = 600) -> Iterator[None]:
    """Distribution changes stay InProgress this long (moto's state manager, in this process: the memory
    backend); afterwards they take the configured time again, counted from when each change was made."""
    from moto.moto_api import state_manager

    from serverless_lab.backends.moto_cloudfront_lifecycle import DISTRIBUTION_MODEL

    state_manager.set_transition(DISTRIBUTION_MODEL, {"progression": "time", "seconds": seconds})
    try:
        yield
    finally:
        state_manager.unset_transition(DISTRIBUTION_MODEL)


@pytest.fixture
def site_lab(lab: Lab) -> Lab:
    lab.apply("site")
    return lab


def test_cdn_lifecycle_plan_apply_verify_destroy(site_lab: Lab, leftovers: Callable) -> None:
    lab = site_lab
    assert operations(lab.plan("cdn")) == CREATE
    outputs = lab.apply("cdn")
    assert set(outputs) == {"distribution_id", "distribution_arn", "domain_name", "oac_id"}
    assert (
        outputs["distribution_arn"]
        == f"arn:aws:cloudfront::123456789012:distribution/{outputs['distribution_id']}"
    )
    assert lab.plan("cdn") == []
    assert lab.plan("site") == []  # config.js does not depend on the distribution
    report = lab.verify("cdn")
    assert report.passed, str(report)

    cloudfront = lab.backend.client("cloudfront")
    distribution = cloudfront.get_distribution(Id=outputs["distribution_id"])["Distribution"]
    config = distribution["DistributionConfig"]
    assert config["Comment"] == f"serverless-lab {lab.student} ({lab.names.prefix})"
    assert config["CallerReference"] == f"{lab.names.prefix}-distribution"
    assert config["Origins"]["Items"][0]["DomainName"] == lab.outputs["site"]["bucket_regional_domain"]
    assert config["DefaultRootObject"] == "index.html"
    tags = cloudfront.list_tags_for_resource(Resource=outputs["distribution_arn"])["Tags"]["Items"]
    assert tags == [{"Key": "serverless-lab:student", "Value": lab.student}]
    control = cloudfront.get_origin_access_control(Id=outputs["oac_id"])["OriginAccessControl"]
    assert control["OriginAccessControlConfig"]["Name"] == f"{lab.names.prefix}-oac"
    assert control["OriginAccessControlConfig"]["SigningBehavior"] == "always"

    # What the edge emulation reads (issue 3, section 4), through its own boto3 mapping.
    edge = distribution_from_boto3(distribution)
    assert edge.origins[0].bucket == lab.names.site_bucket
    assert edge.default_root_object == "index.html"
    assert (edge.behavior_for("/config.js").default_ttl, edge.behavior_for("/config.js").max_ttl) == (0, 0)
    assert edge.behavior_for("/about.html").max_ttl == 60
    assert (edge.behavior_for("/app.js").default_ttl, edge.behavior_for("/app.js").max_ttl) == (
        86_400,
        31_536_000,
    )
    assert edge.behavior_for("/app.js").compress
    for status in (403, 404):
        error = edge.custom_error_response(status)
        assert error is not None
        assert (error.response_page_path, error.response_code, error.error_caching_min_ttl) == (
            "/index.html",
            200,
            10,
        )

    policy = json.loads(lab.backend.client("s3").get_bucket_policy(Bucket=lab.names.site_bucket)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == f"arn:aws:s3:::{lab.names.site_bucket}/*"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": outputs["distribution_arn"]}}

    lab.destroy("cdn")
    left = leftovers(lab)
    assert (left["distributions"], left["origin_access_controls"], left["bucket_policies"]) == ([], [], [])
    assert left["buckets"] == [lab.names.site_bucket]  # the site is the site step's to destroy
    lab.destroy("cdn")  # idempotent
    assert lab.step("cdn").outputs() == {}
    lab.destroy("site")
    assert leftovers(lab) == {key: [] for key in left}


class LongerHtmlTtlCdnStep(CdnStep):
    """The cdn step after someone changes a TTL in code: pages may now be five minutes old."""

    behaviors = (BEHAVIORS[0], Behavior("*.html", 0, 300, 300))


def test_ttl_changed_in_code_plans_an_update(site_lab: Lab) -> None:
    lab = site_lab
    lab.apply("cdn")
    changed = LongerHtmlTtlCdnStep(lab.step("cdn").context)
    plan = changed.plan()
    assert operations(plan) == ["update_distribution", "wait:distribution_deployed"]
    assert plan[0].why == "changed: CacheBehaviors"
    assert plan[0].params["IfMatch"]
    changed.apply()
    assert changed.plan() == []
    assert changed.verify().passed
    config = lab.backend.client("cloudfront").get_distribution_config(
        Id=lab.step("cdn").outputs()["distribution_id"]
    )
    html = [
        b for b in config["DistributionConfig"]["CacheBehaviors"]["Items"] if b["PathPattern"] == "*.html"
    ]
    assert (html[0]["DefaultTTL"], html[0]["MaxTTL"]) == (300, 300)
    # The code as shipped now sees the deployed TTL as drift and plans to put its own back.
    assert operations(lab.plan("cdn")) == ["update_distribution", "wait:distribution_deployed"]
    failed = [c.description for c in lab.verify("cdn").failures()]
    assert failed == ["behaviour *.html: TTL min/default/max 0/60/60"]


def test_drift_made_outside_the_lab_is_planned_back(site_lab: Lab) -> None:
    lab = site_lab
    distribution_id = lab.apply("cdn")["distribution_id"]
    cloudfront = lab.backend.client("cloudfront")
    current = cloudfront.get_distribution_config(Id=distribution_id)
    config = current["DistributionConfig"]
    config["DefaultCacheBehavior"]["DefaultTTL"] = 5
    config["CustomErrorResponses"] = {"Quantity": 0}
    cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)

    plan = lab.plan("cdn")
    assert operations(plan) == ["update_distribution", "wait:distribution_deployed"]
    assert plan[0].why == "changed: DefaultCacheBehavior, CustomErrorResponses"
    assert not lab.verify("cdn").passed
    lab.apply("cdn")
    assert lab.plan("cdn") == []
    assert lab.verify("cdn").passed


def test_foreign_bucket_policy_is_replaced(site_lab: Lab) -> None:
    lab = site_lab
    lab.apply("cdn")
    other = "arn:aws:cloudfront::123456789012:distribution/EOTHERDISTRIB"
    policy = lab.step("cdn").desired_policy(other)
    lab.backend.client("s3").put_bucket_policy(Bucket=lab.names.site_bucket, Policy=json.dumps(policy))
    failed = [c.description for c in lab.verify("cdn").failures()]
    assert failed == ["bucket policy lets only this distribution (AWS:SourceArn) read objects"]
    assert operations(lab.plan("cdn")) == ["put_bucket_policy"]
    lab.apply("cdn")
    assert lab.verify("cdn").passed


def test_interrupted_apply_plans_the_rest(site_lab: Lab) -> None:
    lab = site_lab
    step = lab.step("cdn")
    plan = step.plan()
    # A deployment that surely outlasts the checks below (the tests' 0.1 s may pass before the plan).
    with slow_deployments():
        for call in plan[:2]:  # the OAC and the distribution, then the kernel dies
            step.execute(call)
        assert lab.step("cdn").state() == "partial"
        rest = lab.plan("cdn")
    # The distribution is still InProgress (it was never waited for), and the bucket policy is missing.
    assert operations(rest) == ["wait:distribution_deployed", "put_bucket_policy"]
    assert f"distribution/{step.refs['distribution_id']}" in rest[-1].params["Policy"]
    assert not lab.verify("cdn").passed
    lab.apply("cdn")
    assert lab.plan("cdn") == []
    assert lab.verify("cdn").passed

    # Interrupted after the OAC only: a retry creates the distribution with that OAC, not a second OAC.
    lab.destroy("cdn")
    step = lab.step("cdn")
    step.execute(step.plan()[0])
    assert lab.step("cdn").state() == "partial"
    assert operations(lab.plan("cdn")) == CREATE[1:]
    lab.apply("cdn")
    assert lab.verify("cdn").passed


def test_cdn_without_the_site_names_the_fix(lab: Lab) -> None:
    assert operations(lab.plan("cdn")) == CREATE  # planning is read-only and still works
    with pytest.raises(StepError, match=r"lab\.apply\('site'\) first"):
        lab.step("cdn").apply()
    assert lab.step("cdn").outputs() == {}


def test_students_with_shared_name_prefix_stay_apart(make_lab: Callable[..., Lab]) -> None:
    ann = make_lab()
    ann_b = make_lab(student=ann.student + "-b")  # ann's name is a prefix of this one
    ann.apply("site")
    ann.apply("cdn")
    assert operations(ann_b.plan("cdn")) == CREATE
    ann_b.apply("site")
    ann_b.apply("cdn")
    assert ann_b.outputs["cdn"]["distribution_id"] != ann.outputs["cdn"]["distribution_id"]
    ann_b.destroy("cdn")
    ann_b.destroy("site")
    assert ann.plan("cdn") == []
    assert ann.verify("cdn").passed


def test_site_changes_invalidate_cached_assets_only(site_lab: Lab) -> None:
    lab = site_lab
    distribution_id = lab.apply("cdn")["distribution_id"]
    cloudfront = lab.backend.client("cloudfront")
    site = lab.root / "data" / "site"

    # A page is stored with no-cache: the edge revalidates it, so no invalidation.
    (site / "index.html").write_text("<!doctype html><title>lab v2</title>\n")
    assert operations(lab.plan("site")) == ["put_object"]

    (site / "app.js").write_text("console.log('v2');\n")
    (site / "style.css").unlink()
    plan = lab.plan("site")
    assert operations(plan) == ["put_object", "put_object", "delete_objects", "create_invalidation"]
    invalidation = plan[-1].params
    assert invalidation["DistributionId"] == distribution_id
    assert invalidation["InvalidationBatch"]["Paths"] == {"Quantity": 2, "Items": ["/app.js", "/style.css"]}
    lab.apply("site")
    assert lab.plan("site") == []
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]["Items"]
    assert len(listed) == 1
    batch = cloudfront.get_invalidation(DistributionId=distribution_id, Id=listed[0]["Id"])["Invalidation"]
    assert batch["InvalidationBatch"]["Paths"]["Items"] == ["/app.js", "/style.css"]

    # Without a distribution there is nothing to invalidate.
    lab.destroy("cdn")
    (site / "app.js").write_text("console.log('v3');\n")
    assert operations(lab.plan("site")) == ["put_object"]


def test_edge_serves_the_site_through_the_distribution(site_lab: Lab) -> None:
    """The configuration as the lab's CloudFront emulation serves it (issue 3, section 4)."""
    lab = site_lab
    distribution_id = lab.apply("cdn")["distribution_id"]
    edge = lab.dataplane()
    index = (lab.root / "data" / "site" / "index.html").read_bytes()

    def get(path: str) -> HttpResponse:
        return edge.handle_edge(distribution_id, HttpRequest("GET", path, headers=(("Host", "edge"),)))

    root = get("/")  # the default root object
    assert (root.status, root.header("Content-Type"), root.body) == (200, "text/html; charset=utf-8", index)
    assert [get("/app.js").header("X-Cache") for _ in range(2)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
    ]
    # config.js: /config.js behaviour with TTL 0 and no-cache: never a hit, always the current stack.
    assert [get("/config.js").header("X-Cache") for _ in range(2)] == ["Miss from cloudfront"] * 2
    route = get("/items/42")  # a client-side route: S3 answers 403, CloudFront answers index.html with 200
    assert (route.status, route.body) == (200, index)


def test_destroy_disables_waits_until_deployed_then_deletes(site_lab: Lab) -> None:
    lab = site_lab
    distribution_id = lab.apply("cdn")["distribution_id"]
    step = lab.step("cdn")
    seen: list = []
    step.context.on_call = seen.append
    step.destroy()
    # AWS deletes only a disabled distribution once that change is Deployed, with its current ETag.
    assert operations(seen) == [
        "update_distribution",
        "wait:distribution_deployed",
        "delete_distribution",
        "delete_origin_access_control",
        "delete_bucket_policy",
    ]
    assert seen[0].params["DistributionConfig"]["Enabled"] is False
    assert seen[2].params["IfMatch"] != seen[0].params["IfMatch"]  # the ETag the disabling gave it
    cloudfront = lab.backend.client("cloudfront")
    with pytest.raises(cloudfront.exceptions.NoSuchDistribution):
        cloudfront.get_distribution(Id=distribution_id)


def test_a_deployment_that_never_ends_is_a_clear_error_and_a_retry_finishes(
    site_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serverless_lab.steps import cdn

    # A waiter that gives up after three quick polls; the retry below waits as the step always does.
    with slow_deployments():
        with monkeypatch.context() as patched:
            patched.setattr(cdn, "OFFLINE_WAITER", {"Delay": 0.01, "MaxAttempts": 3})
            with pytest.raises(StepError, match=r"still InProgress .* Run the same call again"):
                site_lab.apply("cdn")
        assert operations(site_lab.plan("cdn")) == ["wait:distribution_deployed", "put_bucket_policy"]
    site_lab.apply("cdn")
    assert site_lab.verify("cdn").passed


def test_the_edge_reads_the_site_only_with_the_steps_own_bucket_policy(site_lab: Lab) -> None:
    lab = site_lab
    distribution_id = lab.apply("cdn")["distribution_id"]
    plane = lab.dataplane()

    def get(path: str) -> HttpResponse:
        plane.control_plane.refresh()  # the bucket policy as it is now, not a second ago
        return plane.handle_edge(distribution_id, HttpRequest("GET", path))

    assert get("/").status == 200
    other = "arn:aws:cloudfront::123456789012:distribution/EOTHERDISTRIB"
    policy = lab.step("cdn").desired_policy(other)
    lab.backend.client("s3").put_bucket_policy(Bucket=lab.names.site_bucket, Policy=json.dumps(policy))
    # Another distribution's policy: S3 refuses this one, and the index page the 403 maps to with it.
    refused = get("/app.js")
    assert (refused.status, b"<Code>AccessDenied</Code>" in refused.body) == (403, True)
    lab.apply("cdn")  # puts this distribution's policy back
    assert get("/style.css").status == 200  # (/app.js's refusal stays cached for 10 s, as on CloudFront)
