"""The instructor's view of a class: exercises by students, deployment state, and who has been stuck longest.

Built from the students' summaries of each exercise (progress_store.py) and one inventory of the backend
(inventory.py); the functions here take plain records and return pandas frames, so a test can give them a
scripted class.

    table(...)   one row per student; for each exercise (in course order) `passed` (True, False when
                 tried and not solved, NaN when never tried), `attempts` (recorded attempts) and `last
                 activity` (UTC); then `deployed` and each step's state
    stuck(...)   students whose latest attempt is at an exercise they have not solved, longest first:
                 they have been on it since their first attempt at it
    counts(...)  per exercise, how many students solved it, tried without solving, did not try
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from ..steps import ORDER
from .progress_store import ExerciseSummary

PER_EXERCISE = ("passed", "attempts", "last activity")
DEPLOYED = "deployed"
SUMMARY_COLUMNS = ["notebook", "passed", "attempts", "hint_stage", "first", "last", "solved_at"]


def summary_frame(summaries: Iterable[ExerciseSummary]) -> pd.DataFrame:
    """One row per (student, exercise): notebook, passed, attempts, highest hint stage, first and last
    attempt and when it was solved (UTC timestamps)."""
    rows = [s.as_dict() for s in summaries]
    frame = pd.DataFrame(rows, columns=["student", "exercise", *SUMMARY_COLUMNS])
    for column in ("first", "last", "solved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame["passed"] = frame["passed"].astype(bool)
    frame["attempts"] = frame["attempts"].astype(int)
    return frame.set_index(["student", "exercise"]).sort_index()


def exercise_order(summary: pd.DataFrame, known: Mapping[str, str] | None = None) -> list[str]:
    """Every exercise, known (exercise -> notebook) or tried, in course order: by notebook, then as listed."""
    notebooks = dict(known or {})
    for (_student, exercise), notebook in summary["notebook"].items():
        notebooks.setdefault(exercise, notebook)
    position = {name: index for index, name in enumerate(notebooks)}
    return sorted(notebooks, key=lambda name: (notebooks[name], position[name]))


def table(
    summary: pd.DataFrame,
    students: Sequence[str],
    deployment: Mapping[str, Mapping[str, str]],
    exercises: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Students by exercises (passed, attempts, last activity) and by steps (their state)."""
    order = exercise_order(summary, exercises)
    columns = pd.MultiIndex.from_tuples(
        [(exercise, field) for exercise in order for field in PER_EXERCISE]
        + [(DEPLOYED, step) for step in ORDER],
        names=["exercise", "field"],
    )
    data: list[list[Any]] = []
    for student in students:
        row: list[Any] = []
        for exercise in order:
            if (student, exercise) in summary.index:
                found = summary.loc[(student, exercise)]
                row += [bool(found["passed"]), int(found["attempts"]), found["last"]]
            else:
                row += [float("nan"), 0, pd.NaT]
        states = deployment.get(student, {})
        row += [states.get(step, "absent") for step in ORDER]
        data.append(row)
    result = pd.DataFrame(data, index=pd.Index(list(students), name="student"), columns=columns)
    for exercise in order:
        result[(exercise, "attempts")] = result[(exercise, "attempts")].astype(int)
        result[(exercise, "last activity")] = pd.to_datetime(result[(exercise, "last activity")], utc=True)
    return result


def stuck(summary: pd.DataFrame, now: datetime | pd.Timestamp | None = None) -> pd.DataFrame:
    """Students whose latest attempt is at an exercise they have not solved, longest stuck first."""
    columns = ["exercise", "notebook", "attempts", "hint stage", "since", "stuck for"]
    now = pd.Timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    found = []
    if not summary.empty:
        latest = summary.reset_index().sort_values("last", kind="stable").groupby("student").tail(1)
        for entry in latest.itertuples(index=False):
            if entry.passed:
                continue
            found.append(
                {
                    "student": entry.student,
                    "exercise": entry.exercise,
                    "notebook": entry.notebook,
                    "attempts": int(entry.attempts),
                    "hint stage": int(entry.hint_stage),
                    "since": entry.first,
                    "stuck for": now - entry.first,
                }
            )
    if not found:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="student"))
    result = pd.DataFrame(found).set_index("student")[columns]
    return result.sort_values(["stuck for", "attempts"], ascending=False, kind="stable")


def counts(progress: pd.DataFrame) -> pd.DataFrame:
    """Per exercise (in the table's order): students who solved it, tried without solving, did not try."""
    exercises = [name for name in progress.columns.get_level_values(0).unique() if name != DEPLOYED]
    rows = []
    for exercise in exercises:
        passed = progress[(exercise, "passed")]
        rows.append(
            {
                "exercise": exercise,
                "solved": int((passed == True).sum()),  # noqa: E712 - NaN (never tried) is neither
                "tried, not solved": int((passed == False).sum()),  # noqa: E712
                "not tried": int(passed.isna().sum()),
            }
        )
    return pd.DataFrame(rows, columns=["exercise", "solved", "tried, not solved", "not tried"]).set_index(
        "exercise"
    )
