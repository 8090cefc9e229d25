"""Class-wide operations: a plan first, then each student through the lab's own methods; the others untouched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from serverless_lab import Lab
from serverless_lab.backends.classroom import ClassBackend, ClassSettings
from serverless_lab.classroom import lifecycle
from serverless_lab.classroom.inventory import Inventory
from serverless_lab.classroom.operations import (
    CLASS,
    AwsPacer,
    NoPacing,
    bring_up,
    pacer_for,
    remove_class,
    reset,
)
from serverless_lab.classroom.progress_store import ProgressStore
from serverless_lab.errors import UsageError
from serverless_lab.teaching.classroom import leftovers

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClassBackend]:
    """A class of its own (its own moto server), so that removing the class removes nobody else's work."""
    settings = lifecycle.start_class(f"ops{uuid.uuid4().hex[:4]}", home=tmp_path_factory.mktemp("ops"))
    yield lifecycle.class_backend(settings)
    lifecycle.stop_class(settings)


def snapshot(backend: ClassBackend, student: str) -> tuple[dict[str, str], list[str], int]:
    """What a student has: each step's state, every resource's name, the number of progress records."""
    lab = Lab(backend=backend, student=student)
    states = Inventory.read(backend).states(student, backend.account_id(), backend.region)
    return states, sorted(leftovers(lab)["name"]), len(ProgressStore(backend).attempts([student]))


def record(backend: ClassBackend, student: str, passed: bool) -> None:
    ProgressStore(backend).record({"student": student, "notebook": "01-static-site", "exercise": "site_has_page",
                                   "passed": passed, "attempt": 1, "time": "2026-03-02T09:00:00Z"})  # fmt: skip


def test_bring_up_plans_then_deploys_one_student_and_leaves_the_others(backend: ClassBackend) -> None:
    Lab(backend=backend, student="bo").apply("site")
    record(backend, "bo", False)
    before = snapshot(backend, "bo")
    operation = bring_up(backend, "users", ["al"])
    plan = operation.plan()
    assert plan["action"].tolist() == ["apply site", "apply cdn", "apply users"]
    assert set(plan["student"]) == {"al"}
    assert "s3.create_bucket" in plan.loc[0, "what"]
    assert snapshot(backend, "al")[0]["site"] == "absent"  # the plan changed nothing
    results = operation.apply()
    assert results["ok"].all(), results.to_string()
    states = snapshot(backend, "al")[0]
    assert [states[s] for s in ("site", "cdn", "users", "table")] == [
        "deployed",
        "deployed",
        "deployed",
        "absent",
    ]
    assert snapshot(backend, "bo") == before
    # Brought up already: the plan is empty.
    assert bring_up(backend, "users", ["al"]).changes == []


def test_reset_plans_then_removes_one_student_and_leaves_the_others(backend: ClassBackend) -> None:
    Lab(backend=backend, student="cy").apply("site")
    Lab(backend=backend, student="di").apply("site")
    record(backend, "cy", True)
    record(backend, "di", True)
    before = snapshot(backend, "di")
    operation = reset(backend, ["cy"])
    assert [(c.student, c.action) for c in operation.changes] == [
        ("cy", "destroy"),
        ("cy", "forget progress"),
    ]
    assert any(detail.startswith("bucket sl-cy-site-") for detail in operation.changes[0].details)
    assert snapshot(backend, "cy")[2] == 1  # nothing changed yet
    results = operation.apply()
    assert results["ok"].all(), results.to_string()
    assert snapshot(backend, "cy") == (
        {s: "absent" for s in ("site", "cdn", "users", "table", "functions", "api")},
        [],
        0,
    )
    assert snapshot(backend, "di") == before


def test_a_students_failure_is_reported_in_its_row_and_the_others_go_on(backend: ClassBackend) -> None:
    operation = bring_up(backend, "site", ["ev", "fa"])
    original = operation.run

    def run(change: object) -> str:
        if getattr(change, "student", "") == "ev":
            raise RuntimeError("the backend refused")
        return original(change)  # type: ignore[arg-type]

    operation.run = run
    results = operation.apply().set_index("student")
    assert not results.loc["ev", "ok"] and "RuntimeError: the backend refused" in results.loc["ev", "outcome"]
    assert results.loc["fa", "ok"]
    assert snapshot(backend, "fa")[0]["site"] == "deployed"


def test_remove_the_class_leaves_nothing_of_it(backend: ClassBackend) -> None:
    record(backend, "gi", False)
    operation = remove_class(backend)
    assert operation.changes[-1].student == CLASS
    assert operation.changes[-1].action == "delete progress table"
    students = {c.student for c in operation.changes} - {CLASS}
    assert {"al", "bo", "di", "fa", "gi"} <= students
    results = operation.apply()
    assert results["ok"].all(), results.to_string()
    assert Inventory.read(backend).students() == set()
    assert ProgressStore(backend).step.outputs() == {}
    assert all(len(leftovers(Lab(backend=backend, student=s))) == 0 for s in students)


def test_the_instructor_is_not_a_student_of_an_operation(backend: ClassBackend) -> None:
    with pytest.raises(UsageError, match="is the instructor's namespace"):
        reset(backend, ["instructor"])
    with pytest.raises(UsageError, match="Unknown step 'everything'"):
        bring_up(backend, "everything")


def test_operations_pace_themselves_on_aws_only(backend: ClassBackend) -> None:
    assert isinstance(pacer_for(backend), NoPacing)
    aws = type("Aws", (), {"name": "aws"})()
    pacer = pacer_for(aws)
    assert isinstance(pacer, AwsPacer) and pacer.workers == 1
    now = [100.0]
    slept: list[float] = []
    clocked = AwsPacer(
        pause_s=5.0, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s))
    )
    clocked.wait()  # the first student goes at once
    now[0] += 2.0  # that student took 2 s
    clocked.wait()
    now[0] += 9.0
    clocked.wait()  # a student that took longer than the pause needs none
    assert slept == [3.0]


def test_settings_of_a_class_backend_name_its_instructor(backend: ClassBackend) -> None:
    assert isinstance(backend.settings, ClassSettings)
    assert ProgressStore(backend).instructor == "instructor"
