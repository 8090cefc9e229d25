"""The class's progress for the instructor's notebook: what each student did, as a table and a chart.

    teaching.record(lab, result)          # every check does this with its result (the class's table)
    table = teaching.progress(lab.backend)   # students by exercises (passed, attempts, last activity) + steps
    teaching.progress_marks(table)        # the same, one short mark per cell: ✓ 2 · ✗ 3 h2 · blank
    teaching.progress_chart(table)        # per exercise: solved, tried and not solved, not tried
    teaching.stuck(lab.backend)           # who has been on an unsolved exercise longest

The records live in the progress tables of the instructor's namespace on the class's backend
(classroom/progress_store.py); the deployment state comes from one inventory of the backend
(classroom/inventory.py), so the whole view is a few list calls and one Scan of one item per exercise a
student tried, however many attempts they made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from ..classroom import progress as core
from ..classroom.inventory import Inventory
from ..classroom.progress_store import Attempt, ProgressStore

MARK_SOLVED = "✓"
MARK_TRIED = "✗"


def known_exercises() -> dict[str, str]:
    """{exercise: notebook} of every check the course defines (empty when the course defines none)."""
    from .. import exercises

    registry = getattr(getattr(exercises, "base", None), "EXERCISES", None)
    return dict(registry) if isinstance(registry, Mapping) else {}


def record(lab: Any, result: Any) -> Attempt:
    """Records one check result in the progress table of the lab's class (made on first use)."""
    return ProgressStore(lab.backend).record(result)


def progress(
    backend: Any,
    names: Iterable[str] | None = None,
    *,
    exercises: Mapping[str, str] | None = None,
    instructor: str | None = None,
) -> pd.DataFrame:
    """One row per student: each exercise's passed / attempts / last activity, then each step's state.

    Students: `names`, or everyone who recorded a check or has a resource on the backend.
    """
    store = ProgressStore(backend, instructor)
    wanted = list(names) if names is not None else None
    summary = core.summary_frame(store.summaries(wanted))
    inventory = Inventory.read(backend)
    if wanted is None:
        tried = set(summary.index.get_level_values("student"))
        wanted = sorted((tried | inventory.students()) - {store.instructor})
    account_id, region = backend.account_id(), backend.region
    deployment = {student: inventory.states(student, account_id, region) for student in wanted}
    known = known_exercises() if exercises is None else exercises
    return core.table(summary, wanted, deployment, known)


def stuck(
    backend: Any, now: datetime | None = None, *, instructor: str | None = None, top: int | None = None
) -> pd.DataFrame:
    """Students whose latest attempt is at an exercise they have not solved, stuck longest first."""
    summary = core.summary_frame(ProgressStore(backend, instructor).summaries())
    found = core.stuck(summary, now)
    return found if top is None else found.head(top)


def progress_marks(table: pd.DataFrame) -> pd.DataFrame:
    """The progress table with one short mark per exercise: `✓ 2` solved in 2 attempts, `✗ 3` tried 3 times
    and not solved, blank when never tried; and `deployed`: how many steps are deployed."""
    exercises = [name for name in table.columns.get_level_values(0).unique() if name != core.DEPLOYED]
    marks = pd.DataFrame(index=table.index)
    for exercise in exercises:
        passed, attempts = table[(exercise, "passed")], table[(exercise, "attempts")]
        marks[exercise] = [
            "" if pd.isna(p) else f"{MARK_SOLVED if p else MARK_TRIED} {n}"
            for p, n in zip(passed, attempts, strict=True)
        ]
    steps = table[core.DEPLOYED]
    marks["deployed"] = [f"{(row == 'deployed').sum()}/{len(row)}" for _, row in steps.iterrows()]
    last = table.xs("last activity", axis=1, level=1) if exercises else pd.DataFrame(index=table.index)
    marks["last activity"] = last.max(axis=1) if not last.empty else pd.NaT
    return marks


def progress_chart(table: pd.DataFrame) -> Any:
    """A matplotlib figure: per exercise, students who solved it, tried and not solved, did not try."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    counts = core.counts(table)
    figure, axes = plt.subplots(figsize=(9, 0.4 * max(len(counts), 3) + 1.2))
    if counts.empty:
        axes.set_title("No exercise checked yet")
        axes.set_axis_off()
        return figure
    counts.iloc[::-1].plot.barh(
        stacked=True, ax=axes, color=["#2e7d32", "#c62828", "#bdbdbd"], width=0.7, edgecolor="white"
    )
    axes.set_xlabel("students")
    axes.set_ylabel("")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Exercises of {len(table)} student(s)")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    plt.close(figure)  # shown once by the notebook's display, not again by pyplot's own hook
    return figure
