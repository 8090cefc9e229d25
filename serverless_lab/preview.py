"""What `apply` on the aws backend is about to do to a real account, shown before anything changes.

    lab.apply("cdn")                 # aws: prints the plan and the monthly estimate, raises
                                     #      ConfirmationRequiredError; nothing changed
    lab.apply("cdn", confirm=True)   # does it
    serverless-lab apply cdn --backend aws          # shows the same and asks (y/N); --yes skips the question

Offline backends never ask: moto costs nothing.
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfirmationRequiredError
from .steps import Plan

if TYPE_CHECKING:  # the estimate imports pandas; a lab that never previews an apply should not pay for it
    from .flow.estimate import MonthlyEstimate


@dataclass(frozen=True)
class ApplyPreview:
    """The calls each step would make, where, and what a month of use would cost."""

    student: str
    account: str
    region: str
    plans: dict[str, Plan]
    estimate: MonthlyEstimate
    command: str

    @property
    def changes(self) -> int:
        return sum(len(plan) for plan in self.plans.values())

    def __bool__(self) -> bool:
        return self.changes > 0

    def __str__(self) -> str:
        lines = [
            f"apply on AWS account {self.account}, region {self.region}, student {self.student!r}: "
            f"{self.changes} call(s) that change the account"
        ]
        lines += [str(plan) for plan in self.plans.values() if plan]
        lines += [str(self.estimate)]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        plans = "".join(plan._repr_html_() for plan in self.plans.values() if plan)
        estimate = html.escape(str(self.estimate)).replace("\n", "<br>")
        return (
            f"<p><b>apply on AWS account {self.account}, region {self.region}</b>, student "
            f"{html.escape(self.student)}: {self.changes} call(s)</p>{plans}<p>{estimate}</p>"
        )

    def refusal(self) -> ConfirmationRequiredError:
        return ConfirmationRequiredError(
            f"Nothing was changed: apply on the aws backend changes AWS account {self.account} "
            f"({self.region}) and costs money. Review the plan and the estimate shown, then run "
            f"{self.command}.",
            preview=self,
        )


def show(preview: ApplyPreview) -> None:
    """Displays the preview: rich in a notebook, as text elsewhere."""
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import display

            display(preview)
            return
    except ImportError:  # IPython comes with the notebooks' dependencies; without it, text
        pass
    print(preview, flush=True)


def confirmed(lab: Any, step: str | None, *, yes: bool, require: bool) -> bool:
    """On aws: shows what apply would change and cost, then --yes or a typed "y" goes ahead."""
    if not lab.backend.real_aws:
        return True
    preview = lab.preview(step, require=require)
    if not preview:
        return True
    print(preview, flush=True)
    if yes:
        return True
    if not sys.stdin.isatty():
        print(
            "serverless-lab: nothing was changed: apply on aws changes a real account. Fix: review the plan above "
            "and run the same command with --yes.",
            file=sys.stderr,
        )
        return False
    return input("Apply these changes to the account? [y/N] ").strip().lower() in ("y", "yes")
