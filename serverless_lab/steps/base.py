"""Deploying as data: a step's plan is a list of `Call`s, one boto3 call each, printed before it runs.

A plan is computed read-only from what the backend holds now, so an applied step plans nothing and an
interrupted apply plans exactly what is missing. Calls may refer to values that an earlier call of the same
apply returns (a new API's id, say) through `Ref`; `execute` resolves them in order.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from ..backends import Backend
from .calls import Call, Ref
from .plan_code import Code, plan_code

# Every resource the lab creates carries this tag with the student's name, so destroy finds it by tag.
STUDENT_TAG = "serverless-lab:student"


def policy_document(text: str | None) -> dict[str, Any] | None:
    """A policy as a dict (S3 and IAM may return it reformatted, so compare parsed documents)."""
    return json.loads(text) if text else None


def find_distribution(cloudfront: Any, comment: str) -> dict[str, Any] | None:
    """The distribution summary (Id, ARN, DomainName, Status, ...) whose Comment is `comment`: the cdn step
    names the student's distribution by its Comment, and the site step invalidates what it replaced."""
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items") or []:
            if item.get("Comment") == comment:
                return dict(item)
    return None


class Plan(list[Call]):
    """The calls a step would make; prints as a table (text, or HTML in a notebook)."""

    def __init__(self, step: str, calls: list[Call] | None = None) -> None:
        super().__init__(calls or [])
        self.step = step

    def rows(self) -> list[dict[str, str]]:
        return [
            {"service": c.service, "operation": c.operation, "parameters": c.describe_params(), "why": c.why}
            for c in self
        ]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=["service", "operation", "parameters", "why"])

    def __str__(self) -> str:
        if not self:
            return f"{self.step}: nothing to do (deployed as planned)"
        lines = [f"{self.step}: {len(self)} call(s)"]
        lines += [
            f"  {i:>2}. {c.service}.{c.operation}({c.describe_params()})" for i, c in enumerate(self, 1)
        ]
        return "\n".join(lines)

    def code(self) -> Code:
        """Every call with its parameters in full, as boto3 code to read, paste into a cell and edit."""
        return plan_code(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text view (headless runs)
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self:
            return f"<p><b>{self.step}</b>: nothing to do (deployed as planned)</p>"
        return self.to_frame().to_html(index=False)


@dataclass(frozen=True)
class Check:
    """One read-only verification, phrased as what a student expects to be true."""

    description: str
    ok: bool
    detail: str = ""

    def __str__(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.description}" + (f" ({self.detail})" if self.detail and not self.ok else "")


class Report(list[Check]):
    """The checks of a step's verify; truthy only when every check passed."""

    def __init__(self, step: str, checks: list[Check] | None = None) -> None:
        super().__init__(checks or [])
        self.step = step

    @property
    def passed(self) -> bool:
        return bool(self) and all(c.ok for c in self)

    def failures(self) -> list[Check]:
        return [c for c in self if not c.ok]

    def __str__(self) -> str:
        return "\n".join(
            [f"{self.step}: {sum(c.ok for c in self)}/{len(self)} checks passed"] + [f"  {c}" for c in self]
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text view (headless runs)
        printer.text(str(self))

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li>{'✅' if c.ok else '❌'} {c.description}{'' if c.ok else ' — ' + c.detail}</li>"
            for c in self
        )
        return (
            f"<p><b>{self.step}</b>: {sum(c.ok for c in self)}/{len(self)} checks passed</p><ul>{items}</ul>"
        )


@dataclass
class Names:
    """Resource names of one student: every name starts with the student's prefix."""

    student: str
    account_id: str
    region: str

    @property
    def prefix(self) -> str:
        return f"sl-{self.student}"

    def __call__(self, component: str) -> str:
        return f"{self.prefix}-{component}"

    @property
    def distribution_comment(self) -> str:
        # The student's distribution is found by its Comment (list_distributions cannot filter by tag).
        return f"serverless-lab {self.student} ({self.prefix})"

    @property
    def site_bucket(self) -> str:
        # S3 bucket names are global on AWS: the account and region make the student's name unique.
        return f"{self.prefix}-site-{self.account_id}-{self.region}"

    # The names the steps look for, so a student who builds a component by hand with these names has it
    # graded by lab.verify and adopted by lab.apply (the steps find their resources by name).
    @property
    def oac(self) -> str:
        return self("oac")

    @property
    def user_pool(self) -> str:
        return self("users")

    @property
    def app_client(self) -> str:
        return self("web")

    @property
    def table(self) -> str:
        return self("items")

    @property
    def role(self) -> str:
        return self("lambda")

    @property
    def role_policy(self) -> str:
        return self("lambda-policy")

    @property
    def api(self) -> str:
        return self("api")

    @property
    def authorizer(self) -> str:
        return self("cognito")

    def function(self, handler: str) -> str:
        """The function made of handlers/<handler>.py (or a handler of the student's own)."""
        return self(handler)


@dataclass
class StepContext:
    """What a step works with: the backend, the student's names, the outputs of every step, the files."""

    backend: Backend
    names: Names
    outputs: dict[str, dict[str, Any]]
    root: Path
    on_call: Callable[[Call], None] | None = None

    def client(self, service: str) -> Any:
        return self.backend.client(service)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def handlers_dir(self) -> Path:
        return self.root / "handlers"


def resolve(value: Any, refs: Mapping[str, Any]) -> Any:
    if isinstance(value, Ref):
        if value.name not in refs:
            raise KeyError(f"no value for {value!r} yet")
        return refs[value.name]
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(resolve(v, refs) for v in value)
    if isinstance(value, str) and "<" in value:
        return re.sub(r"<([a-z_]+)>", lambda m: str(refs.get(m.group(1), m.group(0))), value)
    return value


def dig(result: Mapping[str, Any], path: str) -> Any:
    value: Any = result
    for part in path.split("."):
        value = value[part]
    return value


def is_error(error: ClientError, *codes: str) -> bool:
    return error.response.get("Error", {}).get("Code") in codes


class Step(ABC):
    """One component of the stack: plan (read-only), apply (idempotent), verify (read-only), destroy."""

    name: ClassVar[str]
    title: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.names = context.names
        self.refs: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        return self.context.client(service)

    @abstractmethod
    def plan(self) -> Plan:
        """The calls still needed, computed read-only from the backend's state; also fills self.refs."""

    @abstractmethod
    def outputs(self) -> dict[str, Any]:
        """Ids, ARNs and URLs of what is deployed now (read-only); {} when nothing is."""

    @abstractmethod
    def verify(self) -> Report:
        """Read-only checks with readable results."""

    @abstractmethod
    def destroy(self) -> None:
        """Removes everything the step made; idempotent."""

    def apply(self) -> dict[str, Any]:
        """Makes the plan's calls in order; running it again after an interruption finishes the job."""
        for call in self.plan():
            self.execute(call)
        return self.outputs()

    def execute(self, call: Call) -> Any:
        if self.context.on_call:
            self.context.on_call(call)
        params = resolve(dict(call.params), self.refs)
        client = self.client(call.service)
        if call.operation.startswith("wait:"):
            # A waiter, as on AWS where tables, functions and distributions take time to become ready.
            client.get_waiter(call.operation[5:]).wait(
                **params, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
            return None
        result = getattr(client, call.operation)(**params)
        for name, path in (call.save, *call.also_save) if call.save else call.also_save:
            self.refs[name] = dig(result, path)
        return result

    def state(self) -> str:
        """'deployed', 'partial' (something exists but the plan is not empty) or 'absent'."""
        pending = self.plan()
        return state_of(pending, self.outputs() if pending else {"deployed": True})


def state_of(plan: Plan, outputs: dict[str, Any]) -> str:
    """A step's state from its plan and its outputs, as status() shows it."""
    if not plan:
        return "deployed"
    return "partial" if outputs else "absent"
