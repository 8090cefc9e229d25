"""The `functions` step on the memory backend: role and least-privilege policy, log groups, functions whose
code is uploaded again when, and only when, a handler's source changes."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from stack_helpers import (
    NOTHING_LEFT,
    ensure_handlers,
    operations,
    users_functions_api_resources,
)

from serverless_lab.errors import MissingHandlersError, StepError
from serverless_lab.lab import Lab
from serverless_lab.steps.packaging import build_zip, code_sha256

ROLE_SETUP = ["create_role", "create_policy", "attach_role_policy"]
PER_FUNCTION = ["create_log_group", "put_retention_policy", "create_function", "wait:function_active_v2"]


def test_functions_lifecycle_plan_apply_verify_destroy(lab: Lab, site_root: Path) -> None:
    handlers = ensure_handlers(site_root)
    lab.require("table")
    plan = lab.plan("functions")
    assert operations(plan) == ROLE_SETUP + PER_FUNCTION * len(handlers)
    created = [call.params for call in plan if call.operation == "create_function"]
    assert [p["FunctionName"] for p in created] == [f"sl-{lab.student}-{h}" for h in handlers]
    assert [p["Handler"] for p in created] == [f"{h}.handler" for h in handlers]
    assert {(p["Runtime"], p["MemorySize"], p["Timeout"]) for p in created} == {("python3.12", 256, 10)}
    table = lab.outputs["table"]
    assert created[0]["Environment"] == {
        "Variables": {"TABLE_NAME": table["table_name"], "ALLOWED_ORIGIN": "*"}
    }

    outputs = lab.apply("functions")
    assert lab.plan("functions") == []
    report = lab.verify("functions")
    assert report.passed, str(report)

    assert outputs["role_arn"] == f"arn:aws:iam::123456789012:role/sl-{lab.student}-lambda"
    assert outputs["policy_arn"] == f"arn:aws:iam::123456789012:policy/sl-{lab.student}-lambda-policy"
    assert sorted(outputs["functions"]) == handlers
    for handler, function in outputs["functions"].items():
        assert function["function_name"] == f"sl-{lab.student}-{handler}"
        assert function["arn"].endswith(f":function:sl-{lab.student}-{handler}")
        # Lambda's CodeSha256 is the base64 SHA-256 of the zip we built.
        assert function["code_sha256"] == code_sha256(build_zip(site_root / "handlers" / f"{handler}.py"))

    lab.destroy("functions")
    left = users_functions_api_resources(lab)
    assert {k: left[k] for k in ("roles", "policies", "functions", "log_groups")} == {
        "roles": [],
        "policies": [],
        "functions": [],
        "log_groups": [],
    }
    lab.destroy("functions")  # idempotent
    assert operations(lab.plan("functions")) == ROLE_SETUP + PER_FUNCTION * len(handlers)
    lab.destroy()
    assert users_functions_api_resources(lab) == NOTHING_LEFT


def test_functions_policy_is_least_privilege(lab: Lab, site_root: Path) -> None:
    ensure_handlers(site_root)
    lab.require("functions")
    iam = lab.backend.client("iam")
    role = iam.get_role(RoleName=f"sl-{lab.student}-lambda")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    policy_arn = lab.outputs["functions"]["policy_arn"]
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ItemsTable"]["Resource"] == lab.outputs["table"]["table_arn"]
    assert sorted(statements["ItemsTable"]["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    log_resources = statements["WriteOwnLogs"]["Resource"]
    assert log_resources == [
        f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{f['function_name']}:*"
        for f in lab.outputs["functions"]["functions"].values()
    ]

    # Widen the policy by hand: verify says so, and the plan puts the least-privilege version back.
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
    }
    iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=json.dumps(wide), SetAsDefault=True)
    failures = [c.description for c in lab.verify("functions").failures()]
    assert failures == ["the policy grants the five item actions on the table and writing logs, nothing else"]
    assert operations(lab.plan("functions")) == ["create_policy_version"]
    lab.apply("functions")
    assert lab.verify("functions").passed
    lab.destroy()


def test_functions_code_updated_when_handler_source_changes_and_only_then(lab: Lab, site_root: Path) -> None:
    handlers = ensure_handlers(site_root)
    lab.require("functions")
    assert lab.plan("functions") == []

    # A new modification time with the same bytes changes nothing: the zip does not depend on it.
    target = site_root / "handlers" / f"{handlers[-1]}.py"
    os.utime(target, (1_700_000_000, 1_700_000_000))
    assert lab.plan("functions") == []

    target.write_text(target.read_text() + "\n# changed by the test\n")
    plan = lab.plan("functions")
    # Each update is waited for: the next one (or the api step's permissions) must not find it InProgress.
    assert operations(plan) == ["update_function_code", "wait:function_updated_v2"]
    assert plan[0].params["FunctionName"] == f"sl-{lab.student}-{handlers[-1]}"
    assert plan[0].params["ZipFile"] == build_zip(target)
    failed = [c.description for c in lab.verify("functions").failures()]
    assert failed == [f"sl-{lab.student}-{handlers[-1]} code is current ({target.name})"]

    lab.apply("functions")
    assert lab.plan("functions") == []
    assert lab.verify("functions").passed
    lab.destroy()


def test_functions_configuration_drift_updates_configuration_only(lab: Lab, site_root: Path) -> None:
    handlers = ensure_handlers(site_root)
    lab.require("functions")
    name = f"sl-{lab.student}-{handlers[0]}"
    lab.backend.client("lambda").update_function_configuration(FunctionName=name, MemorySize=128, Timeout=3)
    plan = lab.plan("functions")
    assert operations(plan) == ["update_function_configuration", "wait:function_updated_v2"]
    assert (plan[0].params["MemorySize"], plan[0].params["Timeout"]) == (256, 10)

    # Configuration and code both changed: Lambda takes one update at a time, so a waiter sits between.
    source = site_root / "handlers" / f"{handlers[0]}.py"
    source.write_text(source.read_text() + "\n# changed\n")
    assert operations(lab.plan("functions")) == [
        "update_function_configuration",
        "wait:function_updated_v2",
        "update_function_code",
        "wait:function_updated_v2",
    ]
    lab.apply("functions")
    assert lab.plan("functions") == []
    assert lab.verify("functions").passed
    lab.destroy()


def test_functions_interrupted_apply_is_partial_and_reapply_completes(lab: Lab, site_root: Path) -> None:
    ensure_handlers(site_root)
    lab.require("table")
    step = lab.step("functions")
    plan = step.plan()

    # Interrupted after every call in turn: the plan is then exactly the calls not made yet. Waiters are
    # left out of the comparison: one is planned again only while a function is Pending, and moto's
    # functions are Active at once, so an interruption just before a waiter loses nothing.
    def without_waiters(calls: list[str]) -> list[str]:
        return [op for op in calls if not op.startswith("wait:")]

    for done, call in enumerate(plan, start=1):
        step.execute(call)
        rest = without_waiters(operations(plan)[done:])
        assert without_waiters(operations(lab.plan("functions"))) == rest, (
            f"after {call.operation} (call {done})"
        )
        if done == 4:  # role, policy, attachment, first log group
            assert lab.status().loc["functions", "state"] == "partial"
    assert lab.plan("functions") == []
    assert lab.verify("functions").passed
    lab.destroy()


def test_functions_missing_or_empty_handlers_folder_names_the_fix(make_lab, site_root: Path) -> None:
    folder = site_root / "handlers"
    if folder.exists():
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    lab = make_lab()
    with pytest.raises(MissingHandlersError) as missing:
        lab.plan("functions")
    assert str(folder) in str(missing.value) and "Fix:" in str(missing.value)
    assert missing.value.status == 400

    folder.mkdir()
    (folder / "_shared.py").write_text("HELPER = 1\n")  # "_" files are helpers, not functions
    with pytest.raises(MissingHandlersError, match="holds no handler"):
        lab.plan("functions")


def test_functions_apply_without_table_names_the_fix(lab: Lab, site_root: Path) -> None:
    ensure_handlers(site_root)
    plan = lab.plan("functions")  # a plan can be shown before the table exists, with a placeholder
    assert "<table_arn>" in plan[1].params["PolicyDocument"]
    with pytest.raises(StepError, match=r"lab.require\('functions'\)"):
        lab.apply("functions")
    assert users_functions_api_resources(lab) == NOTHING_LEFT


def test_build_zip_is_deterministic_and_lambda_ready(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "items.py", tmp_path / "b" / "items.py"
    for path, stamp in ((first, 1_000_000_000), (second, 1_600_000_000)):
        path.parent.mkdir()
        path.write_text("def handler(event, context):\n    return {}\n")
        os.chmod(path, 0o600 if stamp == 1_000_000_000 else 0o755)
        os.utime(path, (stamp, stamp))
    package = build_zip(first)
    assert package == build_zip(second)
    with zipfile.ZipFile(BytesIO(package)) as archive:
        [entry] = archive.infolist()
        assert entry.filename == "items.py"
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644
        assert archive.read("items.py") == first.read_bytes()

    folder = tmp_path / "pkg"
    (folder / "lib" / "__pycache__").mkdir(parents=True)
    (folder / "lib" / "util.py").write_text("X = 1\n")
    (folder / "lib" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\0")
    (folder / "app.py").write_text("def handler(e, c):\n    return {}\n")
    with zipfile.ZipFile(BytesIO(build_zip(folder))) as archive:
        assert archive.namelist() == ["app.py", "lib/util.py"]


def test_functions_of_a_student_whose_name_prefixes_another_are_left_alone(
    make_lab: Callable[..., Lab], site_root: Path, student: str
) -> None:
    """sl-<a>- prefixes every name of student <a>-2: destroying <a> must not touch <a>-2's functions."""
    ensure_handlers(site_root)
    first, second = make_lab(student=student), make_lab(student=f"{student}-2")
    first.require("functions")
    second.require("functions")
    assert sorted(first.step("functions").outputs()["functions"]) == sorted(
        second.step("functions").outputs()["functions"]
    )
    first.destroy()
    # The listing by prefix sees the second student's resources too, so the first's are named exactly.
    left = users_functions_api_resources(first)
    handlers = ensure_handlers(site_root)
    assert left["functions"] == sorted(f"sl-{student}-2-{h}" for h in handlers)
    assert left["log_groups"] == sorted(f"/aws/lambda/sl-{student}-2-{h}" for h in handlers)
    assert first.step("functions").outputs() == {}
    assert second.plan("functions") == []
    assert second.verify("functions").passed
    second.destroy()
    assert users_functions_api_resources(second) == NOTHING_LEFT
