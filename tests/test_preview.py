"""Asking before a real account changes (serverless_lab/preview.py, flow/estimate.py): what the aws backend
shows with the plan, and that offline backends never ask. The aws path itself is proven against the
stand-in of AWS (tests/e2e/test_aws_course.py)."""

from __future__ import annotations

import pytest

from serverless_lab import Lab
from serverless_lab.cli import build_parser
from serverless_lab.errors import ConfirmationRequiredError, UsageError
from serverless_lab.flow.cost import load_prices
from serverless_lab.flow.estimate import STEP_OF_PRICE, monthly_estimate, session_workload, step_of_price
from serverless_lab.lab import PROJECT_ROOT
from serverless_lab.preview import ApplyPreview, confirmed
from serverless_lab.steps import ORDER, Plan
from serverless_lab.steps.calls import Call


def test_every_price_line_belongs_to_the_step_that_deploys_its_service() -> None:
    for key in load_prices().prices:
        assert step_of_price(key) in ORDER, key
    assert set(STEP_OF_PRICE.values()) == set(ORDER)


def test_the_estimate_names_only_what_the_steps_deploy() -> None:
    site = monthly_estimate(PROJECT_ROOT, ["site"])
    assert set(site.table["service"]) == {"Amazon S3"}
    everything = monthly_estimate(PROJECT_ROOT, list(ORDER))
    assert {step_of_price(key) for key in everything.table["price"]} == set(ORDER)
    assert everything.total_usd > site.total_usd > 0
    assert monthly_estimate(PROJECT_ROOT, []).total_usd == 0
    text = str(everything)
    assert text.startswith("Estimated monthly cost for 1,000 user sessions by 100 users (list prices of ")
    assert "Not included: free tiers" in text


def test_a_session_is_counted_from_the_sites_own_files() -> None:
    workload = session_workload(PROJECT_ROOT)
    site = PROJECT_ROOT / "data" / "site"
    assert workload.edge_requests >= 3  # index.html and the assets it references
    assert workload.edge_bytes_out >= (site / "index.html").stat().st_size
    assert workload.lambda_requests == workload.api_requests == 5


def test_the_preview_shows_where_what_and_how_much_then_refuses_with_the_command() -> None:
    plans = {
        "site": Plan("site", [Call("s3", "create_bucket", {"Bucket": "sl-ada-site"})]),
        "cdn": Plan("cdn"),
    }
    preview = ApplyPreview("ada", "210987654321", "eu-west-1", plans, monthly_estimate(PROJECT_ROOT, ["site"]),
                           "lab.apply('site', confirm=True) (CLI: --yes)")  # fmt: skip
    assert preview and preview.changes == 1
    text = str(preview)
    assert text.startswith("apply on AWS account 210987654321, region eu-west-1, student 'ada': 1 call(s)")
    assert "s3.create_bucket(Bucket='sl-ada-site')" in text and "Estimated monthly cost" in text
    assert "210987654321" in preview._repr_html_()
    refusal = preview.refusal()
    assert isinstance(refusal, ConfirmationRequiredError) and isinstance(refusal, UsageError)
    assert refusal.status == 428 and refusal.preview is preview
    assert "Nothing was changed" in refusal.message and "lab.apply('site', confirm=True)" in refusal.message
    assert not ApplyPreview("ada", "1", "eu-west-1", {"site": Plan("site")}, preview.estimate, "")


def test_offline_backends_never_ask(capsys: pytest.CaptureFixture[str]) -> None:
    lab = Lab(backend="memory", student="preview-offline")
    assert lab.self_sign_up is True and lab.stage_throttle is None
    assert confirmed(lab, "site", yes=False, require=True) is True
    assert capsys.readouterr().out == ""
    lab.apply("site")  # no confirm needed: moto costs nothing
    assert lab.plan("site") == []
    lab.destroy("site")


def test_the_cli_takes_profile_region_and_yes_for_the_aws_backend() -> None:
    args = build_parser().parse_args(
        ["apply", "api", "--backend", "aws", "--profile", "teacher", "--region", "eu-west-1", "--yes"]
    )
    assert (args.backend, args.profile, args.region, args.yes, args.step) == (
        "aws",
        "teacher",
        "eu-west-1",
        True,
        "api",
    )
    offline = build_parser().parse_args(["apply"])
    assert (offline.region, offline.profile, offline.yes) == (None, None, False)
    destroy = build_parser().parse_args(["destroy", "--backend", "aws", "--region", "eu-west-1"])
    assert destroy.region == "eu-west-1"
    assert build_parser().parse_args(["demo", "--backend", "aws", "--yes"]).yes is True
