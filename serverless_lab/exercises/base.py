"""How a check becomes an exercise: the notebook it belongs to, its attempts, its hint stage.

    @exercise("04-table")
    def table_has_index(lab, index_name="by-title") -> Outcome: ...

    check.table_has_index(lab)            # attempt 1: ✗ and hint 1 (where to look)
    check.table_has_index(lab)            # attempt 2: ✗ and hint 2 (which call)
    check.table_has_index(lab, hint=3)    # the answer

A check only reads what the student made (and may invoke or call it, as a tester would); it never raises
for an unsolved exercise, it says what is missing. Every check takes the lab first: its student and its
backend, where the attempts are counted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .result import Attempts, CheckResult, Outcome

# exercise (the check's name) -> its notebook; filled as the check modules are imported, then read only.
EXERCISES: dict[str, str] = {}
_ATTEMPTS = "exercise_attempts"


def attempts_of(lab: Any) -> Attempts:
    """The attempts kept with the lab's backend (one registry per backend and kernel)."""
    with lab.backend._lock:
        found = lab.backend.services.get(_ATTEMPTS)
        if found is None:
            found = lab.backend.services[_ATTEMPTS] = Attempts()
        return found  # type: ignore[no-any-return]


def exercise(notebook: str) -> Callable[[Callable[..., Outcome]], Callable[..., CheckResult]]:
    def wrap(check: Callable[..., Outcome]) -> Callable[..., CheckResult]:
        name = check.__name__

        @functools.wraps(check)
        def run(lab: Any, *args: Any, hint: int | None = None, **kwargs: Any) -> CheckResult:
            outcome = check(lab, *args, **kwargs)
            return attempts_of(lab).count(lab.student, outcome, name, notebook, hint)

        run.notebook = notebook  # type: ignore[attr-defined]
        EXERCISES[name] = notebook
        return run

    return wrap


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
