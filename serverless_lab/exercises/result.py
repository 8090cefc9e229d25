"""What a check tells a student: solved or not, what it looked at, and a hint towards the solution."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one exercise check; truthy when the exercise is solved."""

    exercise: str
    ok: bool
    message: str
    hints: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = "✓ solved" if self.ok else "✗ not yet"
        lines = [f"{mark}: {self.exercise}: {self.message}"]
        lines += [f"  hint: {hint}" for hint in self.hints if not self.ok]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        mark = "✅ solved" if self.ok else "❌ not yet"
        hints = "".join(f"<li>{html.escape(hint)}</li>" for hint in self.hints if not self.ok)
        return f"<p><b>{mark}</b> — {html.escape(self.exercise)}: {html.escape(self.message)}</p>" + (
            f"<ul>{hints}</ul>" if hints else ""
        )


def solved(exercise: str, message: str) -> CheckResult:
    return CheckResult(exercise, True, message)


def not_yet(exercise: str, message: str, *hints: str) -> CheckResult:
    return CheckResult(exercise, False, message, tuple(hints))
