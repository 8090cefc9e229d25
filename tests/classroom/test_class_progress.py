"""The class's progress: recorded check results of a scripted class, read back as the instructor sees them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from serverless_lab import Lab
from serverless_lab.classroom.progress import counts as counts_of
from serverless_lab.classroom.progress_store import Attempt, ProgressStore
from serverless_lab.errors import UsageError
from serverless_lab.teaching import class_progress

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXERCISES = {"site_has_page": "01-static-site", "table_has_index": "04-table", "item_created": "06-api"}


def stamp(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class ScriptedClass:
    """Students on one memory backend, checks recorded as the checks record them (one result per attempt)."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:4]
        self.instructor = f"teach-{run}"
        self.names = {name: f"{name}-{run}" for name in ("ada", "bob", "cy", "dee")}
        self.lab = Lab(backend="memory", student=self.names["ada"])
        self.store = ProgressStore(self.lab.backend, self.instructor)
        self.attempts: dict[tuple[str, str], int] = {}

    def check(self, who: str, exercise: str, passed: bool, minute: int, hint_stage: int = 0) -> None:
        student = self.names[who]
        number = self.attempts[(student, exercise)] = self.attempts.get((student, exercise), 0) + 1
        self.store.record(
            {
                "student": student,
                "notebook": EXERCISES[exercise],
                "exercise": exercise,
                "passed": passed,
                "attempt": number,
                "time": stamp(minute),
                "hint_stage": hint_stage,
            }
        )

    def progress(self) -> pd.DataFrame:
        return class_progress.progress(
            self.lab.backend, list(self.names.values()), exercises=EXERCISES, instructor=self.instructor
        )


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedClass]:
    klass = ScriptedClass()
    klass.lab.require("site")  # ada deployed the site; dee the users step only (below)
    Lab(backend=klass.lab.backend, student=klass.names["dee"]).apply("users")
    klass.check("ada", "site_has_page", True, 1)
    klass.check("ada", "table_has_index", False, 10, 1)
    klass.check("ada", "table_has_index", False, 12, 2)
    klass.check("ada", "table_has_index", True, 15, 2)
    klass.check("bob", "site_has_page", False, 2, 1)  # bob is stuck since minute 2
    klass.check("bob", "site_has_page", False, 20, 2)
    klass.check("bob", "site_has_page", False, 30, 3)
    klass.check("cy", "site_has_page", True, 3)
    klass.check("cy", "table_has_index", False, 25, 1)  # cy since minute 25
    klass.check("cy", "table_has_index", False, 28, 2)
    yield klass
    # The memory backend is the whole process's: the class's tables go, as a later test lists tables.
    klass.store.destroy()


def test_progress_is_exercises_by_students_in_course_order(scripted: ScriptedClass) -> None:
    table = scripted.progress()
    n = scripted.names
    assert list(table.index) == [n["ada"], n["bob"], n["cy"], n["dee"]]
    assert list(table.columns.get_level_values(0).unique()) == [*EXERCISES, "deployed"]
    assert table.loc[n["ada"], ("table_has_index", "passed")] is True
    assert table.loc[n["ada"], ("table_has_index", "attempts")] == 3
    assert table.loc[n["ada"], ("table_has_index", "last activity")] == pd.Timestamp(stamp(15))
    assert table.loc[n["bob"], ("site_has_page", "passed")] is False
    assert table.loc[n["bob"], ("site_has_page", "attempts")] == 3
    assert table.loc[n["cy"], ("site_has_page", "passed")] is True
    assert table.loc[n["cy"], ("site_has_page", "attempts")] == 1
    # Never tried: passed is NaN, no attempt, no activity; an exercise nobody tried is still a column.
    assert pd.isna(table.loc[n["dee"], ("site_has_page", "passed")])
    assert table.loc[n["dee"], ("site_has_page", "attempts")] == 0
    assert pd.isna(table.loc[n["dee"], ("site_has_page", "last activity")])
    assert table[("item_created", "attempts")].sum() == 0


def test_progress_carries_each_students_deployment_state(scripted: ScriptedClass) -> None:
    deployed = scripted.progress()["deployed"]
    n = scripted.names
    assert deployed.loc[n["ada"]].to_dict() == {
        "site": "deployed", "cdn": "absent", "users": "absent", "table": "absent", "functions": "absent",
        "api": "absent",
    }  # fmt: skip
    assert deployed.loc[n["dee"], "users"] == "deployed"
    assert set(deployed.loc[n["bob"]]) == {"absent"}


def test_stuck_names_who_has_been_on_an_unsolved_exercise_longest(scripted: ScriptedClass) -> None:
    found = class_progress.stuck(
        scripted.lab.backend, START + timedelta(minutes=40), instructor=scripted.instructor
    )
    n = scripted.names
    mine = found.loc[[s for s in found.index if s in n.values()]]
    assert list(mine.index) == [n["bob"], n["cy"]]  # ada solved hers; dee never tried
    assert mine.loc[n["bob"], "exercise"] == "site_has_page"
    assert mine.loc[n["bob"], "stuck for"] == timedelta(minutes=38)
    assert mine.loc[n["bob"], "hint stage"] == 3
    assert mine.loc[n["cy"], ["exercise", "attempts"]].tolist() == ["table_has_index", 2]


def test_marks_and_chart_summarise_the_table(scripted: ScriptedClass) -> None:
    table = scripted.progress()
    marks = class_progress.progress_marks(table)
    n = scripted.names
    assert marks.loc[n["ada"], "table_has_index"] == "✓ 3"
    assert marks.loc[n["bob"], "site_has_page"] == "✗ 3"
    assert marks.loc[n["dee"], "site_has_page"] == ""
    assert marks.loc[n["ada"], "deployed"] == "1/6"
    counts = counts_of(table)
    assert counts.loc["site_has_page"].tolist() == [2, 1, 1]  # ada and cy solved, bob tried, dee did not
    assert counts.loc["table_has_index"].tolist() == [1, 1, 2]
    assert counts.loc["item_created"].tolist() == [0, 0, 4]
    # The chart draws those counts: one bar per exercise and kind, bottom to top in course order.
    bars = class_progress.progress_chart(table).axes[0].patches
    drawn = [bar.get_width() for bar in bars]
    assert drawn == [value for kind in counts.columns for value in counts[kind].iloc[::-1]]


def test_the_records_are_plain_tables_the_instructor_reads_with_boto3(scripted: ScriptedClass) -> None:
    dynamodb = scripted.lab.backend.client("dynamodb")
    bob = {":s": {"S": scripted.names["bob"]}}
    log = dynamodb.query(TableName=f"sl-{scripted.instructor}-attempts", KeyConditionExpression="student = :s",
                         ExpressionAttributeValues=bob)["Items"]  # fmt: skip
    assert [item["attempt"]["N"] for item in log] == ["1", "2", "3"]  # in time order: the sort key
    assert {item["exercise"]["S"] for item in log} == {"site_has_page"}
    assert [item["hint_stage"]["N"] for item in log] == ["1", "2", "3"]
    assert all(item["passed"]["BOOL"] is False for item in log)
    (summary,) = dynamodb.query(TableName=f"sl-{scripted.instructor}-progress", KeyConditionExpression="student = :s",
                                ExpressionAttributeValues=bob)["Items"]  # fmt: skip
    assert summary["exercise_key"]["S"] == "01-static-site#site_has_page"
    assert (summary["attempts"]["N"], summary["passes"]["N"]) == ("3", "0")
    assert sorted(summary["hint_stages"]["NS"]) == ["1", "2", "3"]
    assert (summary["first_time"]["S"], summary["last_time"]["S"]) == (stamp(2), stamp(30))
    assert "solved_at" not in summary


def test_the_summary_keeps_when_an_exercise_was_first_solved(scripted: ScriptedClass) -> None:
    (ada,) = [s for s in scripted.store.summaries([scripted.names["ada"]]) if s.exercise == "table_has_index"]
    assert (ada.attempts, ada.passes, ada.passed, ada.hint_stage) == (3, 1, True, 2)
    assert (ada.first, ada.last, ada.solved_at) == (stamp(10), stamp(15), stamp(15))


def test_a_new_kernel_counting_from_one_again_adds_to_the_attempts(scripted: ScriptedClass) -> None:
    # A second kernel of one student starts its own count; the table keeps both kernels' attempts.
    student = f"eve-{uuid.uuid4().hex[:4]}"
    for minute, attempt in ((1, 1), (2, 2), (3, 1)):
        scripted.store.record({"student": student, "notebook": "01-static-site", "exercise": "site_has_page",
                               "passed": False, "attempt": attempt, "time": stamp(minute), "hint_stage": 1})  # fmt: skip
    table = class_progress.progress(
        scripted.lab.backend, [student], exercises=EXERCISES, instructor=scripted.instructor
    )
    assert table.loc[student, ("site_has_page", "attempts")] == 3


def test_forget_removes_one_students_records_only(scripted: ScriptedClass) -> None:
    store = ProgressStore(scripted.lab.backend, f"other-{uuid.uuid4().hex[:4]}")
    for who in ("a", "b"):
        for minute in range(30):  # more than one BatchWriteItem of 25
            store.record({"student": who, "notebook": "n", "exercise": "e", "passed": False, "attempt": 1,
                          "time": stamp(minute)})  # fmt: skip
    try:
        assert store.forget("a") == 30
        assert {a.student for a in store.attempts()} == {"b"}
        assert {s.student for s in store.summaries()} == {"b"}
        assert len(store.attempts(["b"])) == 30
    finally:
        store.destroy()


def test_a_check_result_object_is_recorded_through_its_record_method() -> None:
    class Result:
        def record(self) -> dict[str, Any]:
            return {"student": "ada", "notebook": "04-table", "exercise": "table_has_index", "passed": True,
                    "attempt": 2, "time": "2026-03-02T09:00:00Z", "hint_stage": 1}  # fmt: skip

    assert Attempt.of(Result()) == Attempt(
        "ada", "04-table", "table_has_index", True, 2, "2026-03-02T09:00:00Z", 1
    )


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"student": "ada"}, "has no notebook, exercise, passed, attempt, time"),
        ("passed", "is a CheckResult or a mapping"),
        (
            {"student": "Ada!", "notebook": "n", "exercise": "e", "passed": 1, "attempt": 1, "time": ""},
            "Invalid student",
        ),
    ],
)
def test_a_result_that_is_not_one_is_refused_with_what_is_missing(result: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Attempt.of(result)


def test_no_records_yet_is_an_empty_progress_not_an_error() -> None:
    lab = Lab(backend="memory", student="nobody")
    instructor = f"none-{uuid.uuid4().hex[:4]}"
    with pytest.raises(ClientError):
        lab.backend.client("dynamodb").describe_table(TableName=f"sl-{instructor}-progress")
    table = class_progress.progress(lab.backend, ["nobody"], exercises=EXERCISES, instructor=instructor)
    assert table[("site_has_page", "attempts")].tolist() == [0]
    assert class_progress.stuck(lab.backend, instructor=instructor).empty
