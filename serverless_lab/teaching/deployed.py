"""The outputs of a step that is already deployed, read without applying anything.

`lab.require(step)` re-applies every step up to `step` whose settings differ from the lab's, which would
undo what an exercise asks a student to change (a TTL, a function's memory). Helpers read instead.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError


class StepNotDeployedError(UsageError):
    """A helper needs a step that this student has not deployed."""


def deployed(lab: Any, step: str) -> dict[str, Any]:
    """The step's outputs (ids, ARNs, names), from the lab's saved outputs or read from the backend."""
    outputs = lab.outputs.get(step) or lab.step(step).outputs()
    if not outputs:
        raise StepNotDeployedError(
            f"The {step} step is not deployed for student {lab.student!r}. Fix: lab.require({step!r})."
        )
    return dict(outputs)
