"""Every exercise check of every student, recorded where the whole class can write and the instructor read.

The store is the `progress` table of the instructor's namespace (steps/progress.py) on the backend the class
shares: a plain DynamoDB table, never a local file, so a student's kernel on a hub, another kernel of the
same student and the instructor's notebook all see the same records, and the instructor can read them with
boto3 too. One item per attempt; the attempt number is the one the check counted in its kernel, and the
instructor's view counts the recorded items (a new kernel counts from 1 again, the table does not forget).
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
        """The DynamoDB item: the sort key starts with the time, so a student's attempts come in order."""
        attempt_id = f"{self.time}#{self.notebook}#{self.exercise}#{nonce or uuid.uuid4().hex[:8]}"
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


def instructor_of(backend: Backend) -> str:
    """The instructor's namespace of the backend's class (class.json), else the default one."""
    settings = getattr(backend, "settings", None) or current_class()
    return settings.instructor if settings is not None else DEFAULT_INSTRUCTOR


class ProgressStore:
    """The progress table of one class: record, read, forget a student, remove."""

    def __init__(self, backend: Backend, instructor: str | None = None) -> None:
        self.backend = backend
        self.instructor = validate_student(instructor or instructor_of(backend))
        names = Names(self.instructor, backend.account_id(), backend.region)
        self.step = ProgressStep(StepContext(backend, names, {}, PROJECT_ROOT))

    @property
    def table_name(self) -> str:
        return self.step.table_name

    @property
    def dynamodb(self) -> Any:
        return self.backend.client("dynamodb")

    def ensure(self) -> dict[str, Any]:
        """Creates the table when it is missing (the progress step's plan); its outputs."""
        return self.step.apply()

    def record(self, result: Any) -> Attempt:
        """Stores one check result (a CheckResult or a mapping of FIELDS); the table is made on first use."""
        attempt = Attempt.of(result)
        try:
            self.dynamodb.put_item(TableName=self.table_name, Item=attempt.item())
        except ClientError as error:
            if not is_error(error, "ResourceNotFoundException"):
                raise
            self.ensure()
            self.dynamodb.put_item(TableName=self.table_name, Item=attempt.item())
        return attempt

    def attempts(self, students: Iterable[str] | None = None) -> list[Attempt]:
        """Every recorded attempt (one Scan of the table), or those of some students (one Query each)."""
        try:
            if students is None:
                pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table_name)
                items = [item for page in pages for item in page["Items"]]
            else:
                items = [item for student in students for item in self._query(student)]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return []  # nobody has checked anything yet
            raise
        return [Attempt.from_item(item) for item in items]

    def _query(self, student: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="student = :s",
            ExpressionAttributeValues={":s": {"S": student}},
        )
        return [item for page in pages for item in page["Items"]]

    def forget(self, student: str) -> int:
        """Deletes every attempt of one student (a reset starts their record anew); how many went."""
        try:
            keys = [
                {"student": item["student"], "attempt_id": item["attempt_id"]}
                for item in self._query(student)
            ]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return 0
            raise
        for start in range(0, len(keys), BATCH):
            requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH]]
            pending: dict[str, Any] = {self.table_name: requests}
            while pending:  # BatchWriteItem may hand back what it did not process: send that again
                pending = self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return len(keys)

    def destroy(self) -> None:
        self.step.destroy()
