"""The instructor's view of a class: exercises by students, deployment state, and who has been stuck longest.

Built from the recorded attempts (progress_store.py) and one inventory of the backend (inventory.py); the
functions here take plain records and return pandas frames, so a test can give them a scripted class.

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
from .progress_store import FIELDS, Attempt

PER_EXERCISE = ("passed", "attempts", "last activity")
DEPLOYED = "deployed"


def attempts_frame(attempts: Iterable[Attempt]) -> pd.DataFrame:
    """One row per recorded attempt, with `time` as a UTC timestamp; sorted by time."""
    frame = pd.DataFrame([a.as_dict() for a in attempts], columns=list(FIELDS))
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    frame["passed"] = frame["passed"].astype(bool)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def exercise_order(frame: pd.DataFrame, known: Mapping[str, str] | None = None) -> list[str]:
    """Every exercise, known (exercise -> notebook) or attempted, in course order: by notebook, then as listed."""
    notebooks = dict(known or {})
    for exercise, notebook in zip(frame["exercise"], frame["notebook"], strict=True):
        notebooks.setdefault(exercise, notebook)
    position = {name: index for index, name in enumerate(notebooks)}
    return sorted(notebooks, key=lambda name: (notebooks[name], position[name]))


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (student, exercise): passed, attempts, highest hint stage, first, last and solved times."""
    if frame.empty:
        columns = ["notebook", "passed", "attempts", "hint_stage", "first", "last", "solved_at"]
        return pd.DataFrame(
            columns=columns, index=pd.MultiIndex.from_tuples([], names=["student", "exercise"])
        )
    solved = frame[frame["passed"]].groupby(["student", "exercise"])["time"].min().rename("solved_at")
    grouped = frame.groupby(["student", "exercise"])
    result = grouped.agg(
        notebook=("notebook", "last"),
        passed=("passed", "any"),
        attempts=("passed", "size"),
        hint_stage=("hint_stage", "max"),
        first=("time", "min"),
        last=("time", "max"),
    )
    return result.join(solved)


def table(
    frame: pd.DataFrame,
    students: Sequence[str],
    deployment: Mapping[str, Mapping[str, str]],
    exercises: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Students by exercises (passed, attempts, last activity) and by steps (their state)."""
    order = exercise_order(frame, exercises)
    rows = summary(frame)
    columns = pd.MultiIndex.from_tuples(
        [(exercise, field) for exercise in order for field in PER_EXERCISE]
        + [(DEPLOYED, step) for step in ORDER],
        names=["exercise", "field"],
    )
    data: list[list[Any]] = []
    for student in students:
        row: list[Any] = []
        for exercise in order:
            if (student, exercise) in rows.index:
                found = rows.loc[(student, exercise)]
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


def stuck(frame: pd.DataFrame, now: datetime | pd.Timestamp | None = None) -> pd.DataFrame:
    """Students whose latest attempt is at an exercise they have not solved, longest stuck first."""
    columns = ["exercise", "notebook", "attempts", "hint stage", "since", "stuck for"]
    if frame.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="student"))
    now = pd.Timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    rows = summary(frame)
    latest = frame.groupby("student").tail(1).set_index("student")
    found = []
    for student, attempt in latest.iterrows():
        entry = rows.loc[(student, attempt["exercise"])]
        if entry["passed"]:
            continue
        found.append(
            {
                "student": student,
                "exercise": attempt["exercise"],
                "notebook": entry["notebook"],
                "attempts": int(entry["attempts"]),
                "hint stage": int(entry["hint_stage"]),
                "since": entry["first"],
                "stuck for": now - entry["first"],
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
