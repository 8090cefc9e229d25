"""Every exercise check of every student, recorded where the whole class can write and the instructor read.

The store is the `progress` step's two tables of the instructor's namespace (steps/progress.py) on the
backend the class shares: plain DynamoDB tables, never a local file, so a student's kernel on a hub, another
kernel of the same student and the instructor's notebook all see the same records, and the instructor can
read them with boto3 too. Each attempt is one PutItem in the log (`attempts`) and one UpdateItem of the
student's summary of that exercise (`progress`: ADD attempts and passes, the first and last time, the hint
stages reached), so reading the class is one Scan of one item per exercise a student tried.

Why the summary: moto copies every item it scans (~0.85 ms an item here), and a class of 40 has ~1,700
attempts after a workshop: scanning the log took 1.4 s, the summaries of the same class (560 items) a third
of that. On AWS it is the same pattern for the same reason: a read that does not grow with the attempts.

The attempt number is the one the check counted in its kernel; the instructor's view counts the recorded
attempts (a new kernel counts from 1 again, the table does not forget).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..backends import Backend
from ..backends.classroom import DEFAULT_INSTRUCTOR, current_class
from ..errors import UsageError
from ..lab import PROJECT_ROOT, validate_student
from ..steps.base import Names, StepContext, is_error
from ..steps.progress import ProgressStep

FIELDS = ("student", "notebook", "exercise", "passed", "attempt", "time", "hint_stage")
# BatchWriteItem takes at most 25 requests.
BATCH = 25


@dataclass(frozen=True)
class Attempt:
    """One check result as the class records it."""

    student: str
    notebook: str
    exercise: str
    passed: bool
    attempt: int
    time: str  # ISO 8601 in UTC, as the check stamped it
    hint_stage: int = 0

    @classmethod
    def of(cls, result: Any) -> Attempt:
        """From a check result (anything with `.record()`, as exercises' CheckResult) or a mapping of FIELDS."""
        if isinstance(result, Attempt):
            return result
        fields = result.record() if hasattr(result, "record") else result
        if not isinstance(fields, Mapping):
            raise UsageError(
                f"A check result to record is a CheckResult or a mapping of {FIELDS}, not {result!r}."
            )
        missing = [name for name in FIELDS if name not in fields and name != "hint_stage"]
        if missing:
            raise UsageError(f"The check result to record has no {', '.join(missing)}: {dict(fields)!r}.")
        stamp = str(fields["time"]) or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(
            student=validate_student(str(fields["student"])),
            notebook=str(fields["notebook"]),
            exercise=str(fields["exercise"]),
            passed=bool(fields["passed"]),
            attempt=int(fields["attempt"]),
            time=stamp,
            hint_stage=int(fields.get("hint_stage") or 0),
        )

    def item(self, nonce: str | None = None) -> dict[str, dict[str, Any]]:
        """The DynamoDB item: the sort key starts with the time it is recorded, to the microsecond, so a
        student's attempts come in order (`time`, the check's stamp, is to the second: three attempts in one
        second would sort by the random nonce)."""
        recorded = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        attempt_id = f"{recorded}#{self.notebook}#{self.exercise}#{nonce or uuid.uuid4().hex[:8]}"
        return {
            "student": {"S": self.student},
            "attempt_id": {"S": attempt_id},
            "notebook": {"S": self.notebook},
            "exercise": {"S": self.exercise},
            "passed": {"BOOL": self.passed},
            "attempt": {"N": str(self.attempt)},
            "time": {"S": self.time},
            "hint_stage": {"N": str(self.hint_stage)},
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Mapping[str, Any]]) -> Attempt:
        return cls(
            student=item["student"]["S"],
            notebook=item["notebook"]["S"],
            exercise=item["exercise"]["S"],
            passed=bool(item["passed"]["BOOL"]),
            attempt=int(item["attempt"]["N"]),
            time=item["time"]["S"],
            hint_stage=int(item.get("hint_stage", {}).get("N", 0)),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExerciseSummary:
    """One student's record of one exercise, as the `progress` table keeps it."""

    student: str
    notebook: str
    exercise: str
    attempts: int
    passes: int
    hint_stage: int
    first: str
    last: str
    solved_at: str | None = None

    @property
    def passed(self) -> bool:
        return self.passes > 0

    @classmethod
    def from_item(cls, item: Mapping[str, Mapping[str, Any]]) -> ExerciseSummary:
        stages = [int(value) for value in item.get("hint_stages", {}).get("NS", [])]
        return cls(
            student=item["student"]["S"],
            notebook=item["notebook"]["S"],
            exercise=item["exercise"]["S"],
            attempts=int(item["attempts"]["N"]),
            passes=int(item.get("passes", {}).get("N", 0)),
            hint_stage=max(stages, default=0),
            first=item["first_time"]["S"],
            last=item["last_time"]["S"],
            solved_at=item.get("solved_at", {}).get("S"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def summary_update(attempt: Attempt) -> dict[str, Any]:
    """The UpdateItem parameters that add one attempt to the student's summary of the exercise."""
    sets = ["#nb = :nb", "#ex = :ex", "#last = :t", "#first = if_not_exists(#first, :t)"]
    names = {"#nb": "notebook", "#ex": "exercise", "#last": "last_time", "#first": "first_time",
             "#att": "attempts", "#pass": "passes", "#hs": "hint_stages"}  # fmt: skip
    if attempt.passed:
        sets.append("#solved = if_not_exists(#solved, :t)")
        names["#solved"] = "solved_at"
    return {
        "Key": {
            "student": {"S": attempt.student},
            "exercise_key": {"S": f"{attempt.notebook}#{attempt.exercise}"},
        },
        # ADD of a number set keeps every hint stage reached (DynamoDB has no max in an update expression).
        "UpdateExpression": "SET " + ", ".join(sets) + " ADD #att :one, #pass :passed, #hs :stage",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {
            ":nb": {"S": attempt.notebook},
            ":ex": {"S": attempt.exercise},
            ":t": {"S": attempt.time},
            ":one": {"N": "1"},
            ":passed": {"N": "1" if attempt.passed else "0"},
            ":stage": {"NS": [str(attempt.hint_stage)]},
        },
    }


def instructor_of(backend: Backend) -> str:
    """The instructor's namespace of the backend's class (class.json), else the default one."""
    settings = getattr(backend, "settings", None) or current_class()
    return settings.instructor if settings is not None else DEFAULT_INSTRUCTOR


class ProgressStore:
    """The progress tables of one class: record, read, forget a student, remove."""

    def __init__(self, backend: Backend, instructor: str | None = None) -> None:
        self.backend = backend
        self.instructor = validate_student(instructor or instructor_of(backend))
        names = Names(self.instructor, backend.account_id(), backend.region)
        self.step = ProgressStep(StepContext(backend, names, {}, PROJECT_ROOT))

    @property
    def table_name(self) -> str:
        return self.step.table_name

    @property
    def attempts_table(self) -> str:
        return self.step.attempts_table

    @property
    def dynamodb(self) -> Any:
        return self.backend.client("dynamodb")

    def ensure(self) -> dict[str, Any]:
        """Creates the tables when they are missing (the progress step's plan); their outputs."""
        return self.step.apply()

    def record(self, result: Any) -> Attempt:
        """Stores one check result (a CheckResult or a mapping of FIELDS); the tables are made on first use."""
        attempt = Attempt.of(result)
        try:
            self._write(attempt)
        except ClientError as error:
            if not is_error(error, "ResourceNotFoundException"):
                raise
            self.ensure()
            self._write(attempt)
        return attempt

    def _write(self, attempt: Attempt) -> None:
        self.dynamodb.put_item(TableName=self.attempts_table, Item=attempt.item())
        self.dynamodb.update_item(TableName=self.table_name, **summary_update(attempt))

    def summaries(self, students: Iterable[str] | None = None) -> list[ExerciseSummary]:
        """Every student's summary of every exercise they tried (one Scan), or some students' (a Query each)."""
        return [ExerciseSummary.from_item(item) for item in self._items(self.table_name, students)]

    def attempts(self, students: Iterable[str] | None = None) -> list[Attempt]:
        """Every recorded attempt, in each student's order of time (the log)."""
        return [Attempt.from_item(item) for item in self._items(self.attempts_table, students)]

    def _items(self, table: str, students: Iterable[str] | None) -> list[dict[str, Any]]:
        try:
            if students is None:
                pages = self.dynamodb.get_paginator("scan").paginate(TableName=table)
                return [item for page in pages for item in page["Items"]]
            return [item for student in students for item in self._query(table, student)]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return []  # nobody has checked anything yet
            raise

    def _query(self, table: str, student: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="student = :s",
            ExpressionAttributeValues={":s": {"S": student}},
        )
        return [item for page in pages for item in page["Items"]]

    def forget(self, student: str) -> int:
        """Deletes one student's records from both tables (a reset starts anew); how many attempts went."""
        forgotten = 0
        for table, sort_key in ((self.attempts_table, "attempt_id"), (self.table_name, "exercise_key")):
            try:
                keys = [{"student": i["student"], sort_key: i[sort_key]} for i in self._query(table, student)]
            except ClientError as error:
                if is_error(error, "ResourceNotFoundException"):
                    continue
                raise
            if table == self.attempts_table:
                forgotten = len(keys)
            for start in range(0, len(keys), BATCH):
                requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH]]
                pending: dict[str, Any] = {table: requests}
                while pending:  # BatchWriteItem may hand back what it did not process: send that again
                    pending = (
                        self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                    )
        return forgotten

    def destroy(self) -> None:
        self.step.destroy()
