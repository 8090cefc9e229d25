"""Every exercise check says ✗ before the exercise is solved (with a hint) and ✓ after the solution ran.

Labs run on the in-process `memory` backend; the solutions make the same boto3 calls a student would.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
from shared_labs import deployed_memory_lab

from serverless_lab import Lab
from serverless_lab.exercises import CheckResult, check, solutions
from serverless_lab.teaching import edge_get, reset_student

_RUN = uuid.uuid4().hex[:4]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return deployed_memory_lab("ex", _RUN)


def assert_not_yet(result: CheckResult, *fragments: str) -> None:
    assert not result and result.ok is False and "✗ not yet" in str(result)
    text = str(result)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def assert_solved(result: CheckResult) -> None:
    assert result, str(result)
    assert "✓ solved" in str(result) and "solved" in result._repr_html_()


def test_check_result_reads_as_text_and_html() -> None:
    result = CheckResult("an exercise", False, "not there", ("look here",))
    assert str(result) == "✗ not yet: an exercise: not there\n  hint: look here"
    assert "<li>look here</li>" in result._repr_html_() and not result
    assert "hint" not in str(CheckResult("an exercise", True, "there", ("look here",)))


def test_knows_prefix(lab: Lab) -> None:
    assert_not_yet(check.knows_prefix(lab, "sl-someone"), "lab.names.prefix")
    assert_solved(check.knows_prefix(lab, f"sl-ex-{_RUN}"))


def test_site_has_page(lab: Lab) -> None:
    assert_not_yet(check.site_has_page(lab, "hello.html"), "does not exist", "put_object")
    lab.backend.client("s3").put_object(
        Bucket=lab.names.site_bucket, Key="hello.html", Body=b"<h1>Hi</h1>", ContentType="binary/octet-stream"
    )
    assert_not_yet(check.site_has_page(lab, "hello.html"), "download", "ContentType")
    solutions.site_has_page(lab, "hello.html")
    assert_solved(check.site_has_page(lab, "hello.html"))


def test_cdn_max_ttl_lowered_needs_the_setting_and_an_invalidation(lab: Lab) -> None:
    assert_not_yet(check.cdn_max_ttl_lowered(lab, 10), "MaxTTL is 31536000")
    assert edge_get(lab, "/style.css").status == 200  # cached for a day
    cloudfront = lab.backend.client("cloudfront")
    distribution_id = lab.outputs["cdn"]["distribution_id"]
    answer = cloudfront.get_distribution_config(Id=distribution_id)
    answer["DistributionConfig"]["DefaultCacheBehavior"]["MaxTTL"] = 10
    cloudfront.update_distribution(
        Id=distribution_id, IfMatch=answer["ETag"], DistributionConfig=answer["DistributionConfig"]
    )
    assert_not_yet(check.cdn_max_ttl_lowered(lab, 10), "still holds the copy", "invalidate")
    solutions.cdn_max_ttl_lowered(lab, 10)
    assert_solved(check.cdn_max_ttl_lowered(lab, 10))
    assert len(lab.plan("cdn")) > 0  # the lab would put its own TTLs back


def test_user_can_sign_in(lab: Lab) -> None:
    password = "Choose-a-Passw0rd"
    assert_not_yet(check.user_can_sign_in(lab, "ada", "Analytical1843"), "sample user")
    assert_not_yet(check.user_can_sign_in(lab, "lin", password), "no user lin", "sign_up")
    users = lab.outputs["users"]
    lab.backend.client("cognito-idp").sign_up(
        ClientId=users["client_id"],
        Username="lin",
        Password=password,
        UserAttributes=[{"Name": "email", "Value": "lin@example.com"}],
    )
    assert_not_yet(check.user_can_sign_in(lab, "lin", password), "UNCONFIRMED", "admin_confirm_sign_up")
    lab.backend.client("cognito-idp").admin_confirm_sign_up(UserPoolId=users["user_pool_id"], Username="lin")
    assert_not_yet(check.user_can_sign_in(lab, "lin", "Wrong-Passw0rd"), "cannot sign in")
    assert_solved(check.user_can_sign_in(lab, "lin", password))


def test_table_has_index(lab: Lab) -> None:
    assert_not_yet(check.table_has_index(lab, "by-title"), "no index by-title", "GlobalSecondaryIndexUpdates")
    solutions.table_has_index(lab, "by-done", "itemId")
    assert_not_yet(check.table_has_index(lab, "by-done", "title"), "keyed by")
    solutions.table_has_index(lab, "by-title", "title")
    assert_solved(check.table_has_index(lab, "by-title", "title"))


def test_titles_newest_first(lab: Lab) -> None:
    titles = solutions.titles_newest_first(lab, "ada")
    assert len(titles) >= 2
    assert_not_yet(check.titles_newest_first(lab, [], "ada"), "expected")
    assert_not_yet(check.titles_newest_first(lab, list(reversed(titles)), "ada"), "another order")
    assert_solved(check.titles_newest_first(lab, titles, "ada"))


def test_function_memory_needs_an_invocation_after_the_change(lab: Lab) -> None:
    assert_not_yet(check.function_memory(lab, "me", 512), "has 256 MB")
    lambda_client = lab.backend.client("lambda")
    lambda_client.update_function_configuration(FunctionName=lab.function_name("me"), MemorySize=512)
    assert_not_yet(check.function_memory(lab, "me", 512), "no REPORT line", "Invoke")
    solutions.function_memory(lab, "me", 512)
    assert_solved(check.function_memory(lab, "me", 512))


def test_item_created(lab: Lab) -> None:
    assert_not_yet(check.item_created(lab, "grace", "Checked title"), "none titled")
    solutions.item_created(lab, "grace", "Checked title")
    assert_solved(check.item_created(lab, "grace", "Checked title"))
    assert_not_yet(check.item_created(lab, "alan", "Checked title"))  # another user's partition


def test_slowest_hop() -> None:
    spans = pd.DataFrame(
        {
            "component": ["client", "gateway", "lambda-handler", "gateway", "dynamodb"],
            "duration_ms": [500.0, 10.0, 12.0, 5.0, 3.0],
        }
    )
    assert solutions.slowest_hop(spans) == "gateway"
    assert_not_yet(check.slowest_hop(spans, "client"), "is not it")
    assert_not_yet(check.slowest_hop(spans, "lambda-handler"))
    assert_solved(check.slowest_hop(spans, "gateway"))
    assert_not_yet(check.slowest_hop(pd.DataFrame(columns=["component", "duration_ms"]), "gateway"), "empty")


def test_api_p95() -> None:
    summary = pd.DataFrame({"concurrency": [1, 4], "api_p95_ms": [12.5, 80.25]})
    assert solutions.api_p95(summary, 4) == 80.25
    assert_solved(check.api_p95(summary, 4, 80.3))  # read off a rounded table
    assert_not_yet(check.api_p95(summary, 4, 12.5), "is not it")
    assert_not_yet(check.api_p95(summary, 8, 80.25), "no run at concurrency 8", "[1, 4]")
    assert_not_yet(check.api_p95(pd.DataFrame(), 4, 80.25), "not the sweep's summary")  # not a KeyError


def test_function_memory_before_the_function_is_deployed() -> None:
    assert_not_yet(
        check.function_memory(Lab(backend="memory", student="nofunctions"), "items", 512),
        "no function items yet",
        "lab.require('functions')",
    )


def test_nothing_left_and_student_reset() -> None:
    student = f"gone-{_RUN}"
    lab = Lab(backend="memory", student=student)
    lab.require("table")
    assert_not_yet(check.nothing_left(lab), "resource(s) left", "lab.destroy()")
    assert_not_yet(check.student_reset(lab.backend, student), f"of {student} remain")
    assert reset_student(lab.backend, student).empty
    assert_solved(check.nothing_left(lab))
    assert_solved(check.student_reset(lab.backend, student))
