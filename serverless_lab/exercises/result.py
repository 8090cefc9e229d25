"""What a check tells a student: solved or not, what it looked at, and hints in stages.

A check that is not solved yet shows ONE hint: the first time what to look at, the next time which call
to make, and only at the last stage the answer. `check.x(lab, hint=3)` asks for a stage directly. Every
result carries what a classroom records of it (issue 19 stores these fields): the student, the notebook,
the exercise, passed or not, the attempt number, the time, and the highest hint stage reached.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

HINT_STAGES = ("where to look", "which call", "the answer")


@dataclass(frozen=True)
class Outcome:
    """What a check found, before the attempt is counted: solved, or not yet with its staged hints."""

    title: str
    ok: bool
    message: str
    hints: tuple[str, ...] = ()


def solved(title: str, message: str) -> Outcome:
    return Outcome(title, True, message)


def not_yet(title: str, message: str, *hints: str) -> Outcome:
    """`hints` in stages: where to look, which call, the answer (fewer when the case is simpler)."""
    return Outcome(title, False, message, tuple(hints))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one attempt at an exercise; truthy when the exercise is solved."""

    title: str
    ok: bool
    message: str
    hints: tuple[str, ...] = field(default=())
    exercise: str = ""
    notebook: str = ""
    student: str = ""
    attempt: int = 1
    hint_shown: int = 0  # the stage of the hint this result shows (1-based; 0: none)
    hint_stage: int = 0  # the highest stage this student has been shown for this exercise
    time: str = ""

    @property
    def passed(self) -> bool:
        return self.ok

    def __bool__(self) -> bool:
        return self.ok

    def record(self) -> dict[str, Any]:
        """The fields a classroom stores for this attempt (one item per attempt)."""
        return {
            "student": self.student,
            "notebook": self.notebook,
            "exercise": self.exercise,
            "passed": self.ok,
            "attempt": self.attempt,
            "time": self.time,
            "hint_stage": self.hint_stage,
        }

    def hint_lines(self) -> list[str]:
        if self.ok or not self.hint_shown or not self.hints:
            return []
        stage = self.hint_shown
        label = (
            HINT_STAGES[stage - 1] if len(self.hints) == len(HINT_STAGES) else f"{stage} of {len(self.hints)}"
        )
        lines = [f"hint {stage}/{len(self.hints)} ({label}): {self.hints[stage - 1]}"]
        if stage < len(self.hints):
            lines.append(f"(run the check again for hint {stage + 1}, or pass hint={len(self.hints)})")
        return lines

    def __str__(self) -> str:
        mark = "✓ solved" if self.ok else "✗ not yet"
        return "\n".join(
            [f"{mark}: {self.title}: {self.message}", *(f"  {line}" for line in self.hint_lines())]
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        mark = "✅ solved" if self.ok else "❌ not yet"
        hints = "".join(f"<li>{html.escape(line)}</li>" for line in self.hint_lines())
        return f"<p><b>{mark}</b> — {html.escape(self.title)}: {html.escape(self.message)}</p>" + (
            f"<ul>{hints}</ul>" if hints else ""
        )


class Attempts:
    """Attempts and hint stages per (student, exercise), kept with the backend the lab uses (one per
    kernel and backend), so running a check again shows the next hint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # -> (attempts, highest hint stage)

    def count(
        self, student: str, outcome: Outcome, exercise: str, notebook: str, hint: int | None
    ) -> CheckResult:
        with self._lock:
            attempts, reached = self._counts.get((student, exercise), (0, 0))
            attempts += 1
            shown = 0
            if not outcome.ok and outcome.hints:
                failed_before = attempts - 1
                wanted = hint if hint is not None else failed_before + 1
                shown = max(1, min(int(wanted), len(outcome.hints)))
                reached = max(reached, shown)
            self._counts[(student, exercise)] = (attempts, reached)
        return CheckResult(
            title=outcome.title,
            ok=outcome.ok,
            message=outcome.message,
            hints=outcome.hints,
            exercise=exercise,
            notebook=notebook,
            student=student,
            attempt=attempts,
            hint_shown=shown,
            hint_stage=reached,
            time=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        )
