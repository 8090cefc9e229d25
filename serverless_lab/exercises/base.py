"""How a check becomes an exercise: the notebook it belongs to, its attempts, its hint stage.

    @exercise("04-table")
    def table_has_index(lab, index_name="by-title") -> Outcome: ...

    check.table_has_index(lab)            # attempt 1: ✗ and hint 1 (where to look)
    check.table_has_index(lab)            # attempt 2: ✗ and hint 2 (which call)
    check.table_has_index(lab, hint=3)    # the answer

A check only reads what the student made (and may invoke or call it, as a tester would); it never raises
for an unsolved exercise, it says what is missing. Every check takes the lab first: its student and its
backend, where the attempts are counted and where every result is recorded for the instructor (issue 19:
the progress tables of the instructor's namespace on that backend, classroom/progress_store.py).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .result import Attempts, CheckResult, Outcome

# exercise (the check's name) -> its notebook; filled as the check modules are imported, then read only.
EXERCISES: dict[str, str] = {}
_ATTEMPTS = "exercise_attempts"
_STORE = "progress_store"


def attempts_of(lab: Any) -> Attempts:
    """The attempts kept with the lab's backend (one registry per backend and kernel)."""
    with lab.backend._lock:
        found = lab.backend.services.get(_ATTEMPTS)
        if found is None:
            found = lab.backend.services[_ATTEMPTS] = Attempts()
        return found  # type: ignore[no-any-return]


def record_result(lab: Any, result: CheckResult) -> None:
    """Records the result in the class's progress tables (made on first use) on the lab's backend.

    A result that cannot be recorded (the class's backend stopped, a refusal on AWS) is still the student's:
    the check shows it and warns that the instructor will not see it, rather than losing the answer.
    """
    from ..classroom.progress_store import ProgressStore  # the classroom imports the lab; checks load first

    with lab.backend._lock:
        store = lab.backend.services.get(_STORE)
        if store is None:
            store = lab.backend.services[_STORE] = ProgressStore(lab.backend)
    try:
        store.record(result)
    except (ClientError, BotoCoreError, OSError) as error:
        warnings.warn(
            f"{result.exercise}: the result was not recorded in the class's progress table "
            f"{store.table_name} ({error}); the instructor will not see this attempt.",
            RuntimeWarning,
            stacklevel=3,
        )


def exercise(notebook: str) -> Callable[[Callable[..., Outcome]], Callable[..., CheckResult]]:
    def wrap(check: Callable[..., Outcome]) -> Callable[..., CheckResult]:
        name = check.__name__

        @functools.wraps(check)
        def run(lab: Any, *args: Any, hint: int | None = None, **kwargs: Any) -> CheckResult:
            outcome = check(lab, *args, **kwargs)
            result = attempts_of(lab).count(lab.student, outcome, name, notebook, hint)
            record_result(lab, result)
            return result

        run.notebook = notebook  # type: ignore[attr-defined]
        EXERCISES[name] = notebook
        return run

    return wrap


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
