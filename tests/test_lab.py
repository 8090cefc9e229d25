"""The lab as a whole: bad input, the whole stack on a real moto server, students kept apart."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from serverless_lab import Lab
from serverless_lab.dataplane.lambda_.runtime import ResourceNotFoundException
from serverless_lab.errors import (
    BackendNotRunningError,
    InvalidStudentError,
    StepError,
    UnknownBackendError,
    UnknownStepError,
    UsageError,
)


@pytest.mark.parametrize(
    "student", ["", "Ada", "ada_l", "-ada", "ada-", "a" * 21, "ada lovelace", "1ada", None, "ada\n"]
)
def test_invalid_student_names_the_rule(student: Any) -> None:
    with pytest.raises(InvalidStudentError, match="lowercase letters, digits or hyphens"):
        Lab(backend="memory", student=student)


def test_unknown_step_names_the_steps() -> None:
    lab = Lab(backend="memory", student="steps")
    with pytest.raises(UnknownStepError, match="site, cdn, users, table, functions, api"):
        lab.plan("lambda")
    with pytest.raises(UnknownStepError):
        lab.require("database")
    for wrong in (None, ["api"]):  # one step by name: not all of them, not a list
        with pytest.raises(UnknownStepError, match="Fix: use one of"):
            lab.plan(wrong)  # type: ignore[arg-type]
        with pytest.raises(UnknownStepError):
            lab.require(wrong)  # type: ignore[arg-type]


def test_unknown_backend_and_misplaced_endpoint() -> None:
    with pytest.raises(UnknownBackendError, match="memory, local, class, endpoint, aws"):
        Lab(backend="localstack")
    with pytest.raises(UsageError, match="endpoint_url"):
        Lab(backend="endpoint")
    with pytest.raises(UsageError, match="not an http"):
        Lab(backend="endpoint", endpoint_url="127.0.0.1:4566")


def resources_of(lab: Lab) -> dict[str, list[str]]:
    """Every resource of every service the stack uses whose name carries the student's prefix."""
    prefix = lab.names.prefix
    backend = lab.backend
    found: dict[str, list[str]] = {}
    found["s3"] = [
        b["Name"] for b in backend.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)
    ]
    distributions = backend.client("cloudfront").list_distributions()["DistributionList"].get("Items", [])
    found["cloudfront"] = [d["Id"] for d in distributions if prefix in (d.get("Comment") or "")]
    found["cloudfront-oac"] = [
        o["Id"]
        for o in backend.client("cloudfront")
        .list_origin_access_controls()["OriginAccessControlList"]
        .get("Items", [])
        if o["Name"].startswith(prefix)
    ]
    pools = backend.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    found["cognito"] = [p["Id"] for p in pools if p["Name"].startswith(prefix)]
    found["dynamodb"] = [
        t for t in backend.client("dynamodb").list_tables()["TableNames"] if t.startswith(prefix)
    ]
    functions = backend.client("lambda").list_functions()["Functions"]
    found["lambda"] = [f["FunctionName"] for f in functions if f["FunctionName"].startswith(prefix)]
    found["iam-roles"] = [
        r["RoleName"] for r in backend.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)
    ]
    found["iam-policies"] = [
        p["PolicyName"]
        for p in backend.client("iam").list_policies(Scope="Local")["Policies"]
        if p["PolicyName"].startswith(prefix)
    ]
    found["apigateway"] = [
        a["id"] for a in backend.client("apigateway").get_rest_apis()["items"] if a["name"].startswith(prefix)
    ]
    groups = backend.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")[
        "logGroups"
    ]
    found["logs"] = [g["logGroupName"] for g in groups]
    return {service: names for service, names in found.items() if names}


@pytest.mark.server
def test_whole_stack_on_a_real_moto_server(local_backend: Any) -> None:
    lab = Lab(backend=local_backend, student="whole")
    try:
        lab.apply()
        for step in lab.steps:
            assert lab.plan(step) == [], f"{step} still plans calls after apply"
        report = lab.verify()
        assert report.passed, str(report)
        status = lab.status()
        assert list(status["state"]) == ["deployed"] * 6
        assert status["verified"].all()
        # Another process (here: another Lab object) finds the outputs from the saved file.
        assert (
            Lab(backend=local_backend, student="whole").outputs["api"]["rest_api_id"]
            == lab.outputs["api"]["rest_api_id"]
        )
    finally:
        lab.destroy()
    assert resources_of(lab) == {}
    assert list(lab.status()["state"]) == ["absent"] * 6


@pytest.mark.server
def test_two_students_deploy_and_destroy_concurrently(local_backend: Any) -> None:
    labs = [Lab(backend=local_backend, student=name) for name in ("ada", "grace")]
    errors: list[BaseException] = []

    def deploy(lab: Lab) -> None:
        try:
            lab.apply()
        except BaseException as error:  # reported below, with the student
            errors.append(error)

    threads = [threading.Thread(target=deploy, args=(lab,)) for lab in labs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ada, grace = labs
    assert ada.verify().passed and grace.verify().passed
    assert ada.outputs["api"]["rest_api_id"] != grace.outputs["api"]["rest_api_id"]
    assert set(resources_of(ada)) == set(resources_of(grace))

    destroyer = threading.Thread(target=ada.destroy)
    destroyer.start()
    report = grace.verify()  # grace keeps working while ada tears down
    destroyer.join()
    assert report.passed
    assert resources_of(ada) == {}
    assert grace.verify().passed, "destroying ada must not touch grace"
    assert all(not name.startswith("sl-ada") for names in resources_of(grace).values() for name in names)
    grace.destroy()
    assert resources_of(grace) == {}


def test_interrupted_deploy_shows_in_status_and_reapply_finishes() -> None:
    lab = Lab(backend="memory", student="interrupted")
    lab.require("users")
    step = lab.step("table")
    plan = step.plan()
    assert len(plan) >= 2
    step.execute(plan[0])  # the deploy stops after its first call
    status = lab.status()
    assert status.loc["table", "state"] == "partial"
    # What is left is exactly the sample items, not the whole plan again.
    assert [c.operation for c in plan[:2]] == ["create_table", "wait:table_exists"]
    assert lab.plan("table") == [c for c in plan[2:]]
    assert lab.plan("table"), "the sample items are still to be written"
    lab.apply("table")
    assert lab.plan("table") == []
    assert lab.status().loc["table", "state"] == "deployed"
    lab.destroy()


def test_destroying_a_step_refreshes_config_js() -> None:
    lab = Lab(backend="memory", student="refresh")
    lab.require("api")
    assert lab.plan("site") == []
    lab.destroy("api")
    assert lab.plan("site") == [], "config.js must follow the outputs when a step is destroyed"
    body = (
        lab.backend.client("s3")
        .get_object(Bucket=lab.outputs["site"]["bucket"], Key="config.js")["Body"]
        .read()
    )
    assert b'"apiUrl": null' in body
    lab.destroy()


def test_the_labs_api_answers_429_with_cors_when_a_function_is_throttled() -> None:
    import json as json_module

    from serverless_lab.dataplane.http import HttpRequest

    lab = Lab(backend="memory", student="throttle")
    lab.require("api")
    user = json_module.loads((lab.root / "data" / "users.json").read_text())[0]
    token = lab.backend.client("cognito-idp").initiate_auth(
        ClientId=lab.outputs["users"]["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )["AuthenticationResult"]["IdToken"]
    lab.backend.client("lambda").put_function_concurrency(
        FunctionName=lab.function_name("me"), ReservedConcurrentExecutions=0
    )
    lab.dataplane().control_plane.refresh()
    api = lab.outputs["api"]
    request = HttpRequest(
        "GET", f"/restapis/{api['rest_api_id']}/prod/_user_request_/me", headers=(("Authorization", token),)
    )
    answer = lab.dataplane().handle(request)
    assert answer.status == 429
    assert json_module.loads(answer.body) == {"message": "Too Many Requests"}
    assert answer.header("Access-Control-Allow-Origin") == "*"
    lab.destroy()


def test_destroy_removes_every_step_it_can_and_names_the_one_it_cannot() -> None:
    lab = Lab(backend="memory", student="stuck")
    lab.require("table")
    dynamodb = lab.backend.client("dynamodb")
    table = lab.outputs["table"]["table_name"]
    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=True)
    with pytest.raises(
        StepError, match=r"(?s)the others are gone.*table: ClientError.*DeletionProtectionEnabled"
    ):
        lab.destroy()
    assert lab.status()["state"].to_dict() == {
        "site": "absent",
        "cdn": "absent",
        "users": "absent",
        "table": "deployed",
        "functions": "absent",
        "api": "absent",
    }
    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
    lab.destroy()  # again: only what is left
    assert set(lab.status()["state"]) == {"absent"}


def test_invoking_a_function_that_is_not_deployed_says_how_to_deploy_it() -> None:
    lab = Lab(backend="memory", student="nofn")
    with pytest.raises(
        ResourceNotFoundException, match=r"Function not found: .*sl-nofn-items\. Fix: deploy it"
    ):
        lab.invoke("items")
    with pytest.raises(UsageError, match="non-empty string"):
        lab.invoke(None)  # type: ignore[arg-type]


def test_an_unknown_region_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"Unknown region 'mars-1'\. Fix: use an AWS region name"):
        Lab(backend="memory", student="ada", region="mars-1")


def test_a_backend_that_does_not_answer_says_how_to_bring_it_back() -> None:
    lab = Lab(
        backend="endpoint", endpoint_url="http://127.0.0.1:1", student="gone"
    )  # nothing listens on port 1
    with pytest.raises(BackendNotRunningError, match=r"does not answer .* Fix: start the service"):
        lab.plan("site")


def test_the_cli_refuses_a_bad_port_and_a_file_as_the_demo_folder(tmp_path: Any, capsys: Any) -> None:
    from serverless_lab.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["backend", "start", "--port", "99999"])
    assert refused.value.code == 2 and "is not a TCP port" in capsys.readouterr().err
    taken = tmp_path / "out"
    taken.write_text("a file")
    assert main(["demo", "--backend", "memory", "--out", str(taken)]) == 2  # before any work, no traceback
    assert "is a file, not a folder" in capsys.readouterr().err
