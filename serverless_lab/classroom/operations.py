"""Class-wide operations for the instructor, each a plan first: bring students up to a step, reset, remove.

    operation = bring_up(backend, "api")                # every student, or students=["ada"]
    operation                                           # the plan: per student, what each step would do
    operation.apply()                                   # then a table of what happened to each student

    reset(backend, ["ada"]).apply()                     # ada's resources and progress records go
    remove_class(backend).apply()                       # every student, then the progress table

A plan is a list of `Change`s (student, action, the boto3 calls or resources concerned), computed read-only,
so it can be printed and compared before anything changes. Apply works student by student, each through the
same lab methods a student uses (`require`, `destroy`), so every other student is left as they were, and
one student's failure is reported in its row without stopping the others.

Pacing: offline (memory, local, class, a loopback endpoint) a few students are worked on at once. On AWS,
API Gateway's control plane allows only a few calls per second per account (issue 20 documents the quotas),
so `pacer_for` gives the aws backend an `AwsPacer`: one student at a time with a pause between them, the hook
where those quotas belong.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from ..errors import UsageError
from ..steps import ORDER
from .inventory import Inventory
from .progress_store import ProgressStore

OFFLINE_WORKERS = 4


class Pacer(Protocol):
    """How fast an operation may go: how many students at once, and a wait before each student's action."""

    workers: int

    def wait(self) -> None: ...


@dataclass
class NoPacing:
    """Offline: moto has no quotas; a few students at once keep the server's threads busy, not swamped."""

    workers: int = OFFLINE_WORKERS

    def wait(self) -> None:
        return None


@dataclass
class AwsPacer:
    """On AWS: one student at a time and a pause between students, under API Gateway's control-plane quotas.

    The hook for issue 20's figures: `pause_s` is a floor between two students' actions (each student's
    own calls are retried with backoff by the boto3 clients, standard mode, 10 attempts).
    """

    pause_s: float = 5.0
    workers: int = 1
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _last: float | None = field(default=None, repr=False)

    def wait(self) -> None:
        if self._last is not None:
            delay = self._last + self.pause_s - self.clock()
            if delay > 0:
                self.sleep(delay)
        self._last = self.clock()


def pacer_for(backend: Any) -> Pacer:
    return AwsPacer() if backend.name == "aws" else NoPacing()


@dataclass(frozen=True)
class Change:
    """What an operation would do to one student (or to the class): an action and what it concerns."""

    student: str
    action: str
    details: tuple[str, ...] = ()

    def row(self) -> dict[str, Any]:
        shown = "; ".join(self.details[:3]) + (
            f"; … {len(self.details) - 3} more" if len(self.details) > 3 else ""
        )
        return {"student": self.student, "action": self.action, "count": len(self.details), "what": shown}


@dataclass
class ClassOperation:
    """A class-wide operation: its plan (computed when it is made) and how to apply it."""

    title: str
    backend: Any
    changes: list[Change]
    run: Callable[[Change], str]
    pacer: Pacer = field(default_factory=NoPacing)
    results: pd.DataFrame | None = None

    def plan(self) -> pd.DataFrame:
        return pd.DataFrame([c.row() for c in self.changes], columns=["student", "action", "count", "what"])

    def apply(self) -> pd.DataFrame:
        """Applies the plan's changes student by student; one row per change: done or the error."""

        def one(change: Change) -> dict[str, Any]:
            self.pacer.wait()
            started = time.perf_counter()
            try:
                outcome, ok = self.run(change), True
            except Exception as error:  # reported in its row; the other students go on
                outcome, ok = f"{type(error).__name__}: {error}", False
            seconds = round(time.perf_counter() - started, 2)
            return {
                "student": change.student,
                "action": change.action,
                "ok": ok,
                "outcome": outcome,
                "seconds": seconds,
            }

        # Changes of one student run in order; students run side by side (up to the pacer's workers).
        by_student: dict[str, list[Change]] = {}
        for change in self.changes:
            by_student.setdefault(change.student, []).append(change)
        last = [c for c in self.changes if c.student == CLASS]
        groups = [changes for student, changes in by_student.items() if student != CLASS]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, self.pacer.workers)) as pool:
            rows = [row for rows in pool.map(lambda group: [one(c) for c in group], groups) for row in rows]
        rows += [one(change) for change in last]  # what concerns the whole class, once the students are done
        self.results = pd.DataFrame(rows, columns=["student", "action", "ok", "outcome", "seconds"])
        return self.results

    def __str__(self) -> str:
        if not self.changes:
            return f"{self.title}: nothing to do"
        return f"{self.title}: {len(self.changes)} change(s)\n" + self.plan().to_string(index=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self.changes:
            return f"<p><b>{self.title}</b>: nothing to do</p>"
        return (
            f"<p><b>{self.title}</b>: {len(self.changes)} change(s), nothing changed yet (apply() does)</p>"
            + (self.plan().to_html(index=False))
        )


CLASS = "(class)"  # the row of a change that concerns the whole class, not one student


def class_students(
    backend: Any, students: Iterable[str] | None = None, *, instructor: str | None = None
) -> list[str]:
    """The students named, or every student with a resource or a record on the backend (not the instructor)."""
    store = ProgressStore(backend, instructor)
    if students is not None:
        wanted = list(dict.fromkeys(students))
        if store.instructor in wanted:
            raise UsageError(f"{store.instructor!r} is the instructor's namespace, not a student's.")
        return wanted
    found = Inventory.read(backend).students() | {a.student for a in store.attempts()}
    return sorted(found - {store.instructor})


def _lab(backend: Any, student: str) -> Any:
    from ..lab import Lab

    return Lab(backend=backend, student=student)


def bring_up(backend: Any, step: str, students: Sequence[str] | None = None) -> ClassOperation:
    """Every student (or those named) up to `step`: each step not yet as planned is applied, in order."""
    if step not in ORDER:
        raise UsageError(f"Unknown step {step!r}. Fix: use one of {', '.join(ORDER)}.")
    targets = ORDER[: ORDER.index(step) + 1]
    names = class_students(backend, students)

    def changes_of(student: str) -> list[Change]:
        lab = _lab(backend, student)
        found = []
        for name in targets:
            plan = lab.plan(name)
            if plan:
                calls = tuple(f"{call.service}.{call.operation}" for call in plan)
                found.append(Change(student, f"apply {name}", calls))
        return found

    with concurrent.futures.ThreadPoolExecutor(max_workers=OFFLINE_WORKERS) as pool:
        changes = [change for found in pool.map(changes_of, names) for change in found]

    def run(change: Change) -> str:
        name = change.action.removeprefix("apply ")
        _lab(backend, change.student).require(name)
        return f"{name} deployed"

    return ClassOperation(
        f"Bring {len(names)} student(s) up to {step}", backend, changes, run, pacer_for(backend)
    )


def _reset_changes(backend: Any, names: Sequence[str], store: ProgressStore) -> list[Change]:
    from ..teaching.classroom import leftovers

    records: dict[str, int] = {}
    for attempt in store.attempts(names):
        records[attempt.student] = records.get(attempt.student, 0) + 1
    changes = []
    for student in names:
        left = leftovers(_lab(backend, student))
        if len(left):
            changes.append(Change(student, "destroy", tuple(f"{r.kind} {r.name}" for r in left.itertuples())))
        if records.get(student):
            changes.append(Change(student, "forget progress", (f"{records[student]} recorded attempt(s)",)))
    return changes


def _run_reset(backend: Any, store: ProgressStore) -> Callable[[Change], str]:
    def run(change: Change) -> str:
        from ..teaching.classroom import reset_student

        if change.action == "destroy":
            left = reset_student(backend, change.student)
            if len(left):
                raise RuntimeError(f"still there: {', '.join(left['name'])}")
            return "nothing left"
        if change.action == "forget progress":
            return f"{store.forget(change.student)} record(s) deleted"
        if change.action == "delete progress table":
            store.destroy()
            return f"{store.table_name} deleted"
        raise UsageError(f"unknown change {change.action!r}")

    return run


def reset(
    backend: Any, students: Sequence[str] | None = None, *, instructor: str | None = None
) -> ClassOperation:
    """The students named (or all): every resource of theirs destroyed, their progress records deleted."""
    store = ProgressStore(backend, instructor)
    names = class_students(backend, students, instructor=instructor)
    changes = _reset_changes(backend, names, store)
    title = f"Reset {len(names)} student(s)"
    return ClassOperation(title, backend, changes, _run_reset(backend, store), pacer_for(backend))


def remove_class(backend: Any, *, instructor: str | None = None) -> ClassOperation:
    """Every student reset, then the class's progress table deleted: the backend keeps nothing of the class."""
    store = ProgressStore(backend, instructor)
    names = class_students(backend, instructor=instructor)
    changes = _reset_changes(backend, names, store)
    if store.step.outputs():
        changes.append(Change(CLASS, "delete progress table", (store.table_name,)))
    title = f"Remove the class: {len(names)} student(s) and the progress table"
    return ClassOperation(title, backend, changes, _run_reset(backend, store), pacer_for(backend))
