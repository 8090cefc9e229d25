"""A request as IAM evaluates it (action, resource, caller, condition keys) and the policy variables
taken from it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ContextValue = str | bool | int | float | list[str] | tuple[str, ...]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class MalformedPolicyError(ValueError):
    """IAM's MalformedPolicyDocument: the document is not a policy."""


@dataclass(frozen=True)
class Principal:
    """Who makes a request, as a resource-based policy's Principal element can name it.

    `arn` is the caller's own ARN (an assumed-role session's `arn:aws:sts::<account>:assumed-role/<role>/
    <session>`, a user's, or a service name such as "apigateway.amazonaws.com"); `names` are the other
    values a Principal element may give for the same caller (the role's ARN for one of its sessions).
    """

    kind: Literal["AWS", "Service", "Federated", "CanonicalUser", "Anonymous"]
    arn: str
    account: str = ""
    names: tuple[str, ...] = ()

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("Service", name)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls("Anonymous", "anonymous")

    @classmethod
    def assumed_role(cls, account: str, role_name: str, session: str, partition: str = "aws") -> Principal:
        """A session of a role (its role path is not part of the session ARN, as in STS's answers)."""
        return cls(
            "AWS",
            f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}",
            account,
            (f"arn:{partition}:iam::{account}:role/{role_name}",),
        )

    def named_by(self, kind: str, value: str) -> bool:
        """Whether a Principal element entry (kind "AWS", "Service", ...) names this caller."""
        if kind == "AWS" and value == "*":
            return True  # {"AWS": "*"} is anyone, anonymous callers included
        if kind != self.kind:
            return False
        if kind != "AWS":
            return value == self.arn
        if value in (self.account, f"arn:aws:iam::{self.account}:root") and self.account:
            return True
        # A role's ARN with its path names its sessions; STS session ARNs carry no path.
        if value == self.arn or value in self.names:
            return True
        return any(_without_role_path(value) == name for name in self.names)


def _without_role_path(arn: str) -> str:
    head, _, rest = arn.partition(":role/")
    return f"{head}:role/{rest.rsplit('/', 1)[-1]}" if rest else arn


class LowerCaseContext(dict[str, ContextValue]):
    """Condition keys already in lower case (a Request then takes them as they are, without a copy)."""

    @classmethod
    def of(cls, context: Mapping[str, ContextValue]) -> LowerCaseContext:
        return cls({key.lower(): value for key, value in context.items()})


@dataclass(frozen=True)
class Request:
    """One request as IAM evaluates it: the action, the resource ARN, the caller, the condition keys.

    Condition key names are case-insensitive (the context is looked up in lower case); a multivalued key
    (dynamodb:LeadingKeys, dynamodb:Attributes) is a list.
    """

    action: str
    resource: str
    principal: Principal | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.context, LowerCaseContext):
            object.__setattr__(self, "context", LowerCaseContext.of(self.context))

    def value(self, key: str) -> ContextValue | None:
        return self.context.get(key.lower())


def substitute(text: str, request: Request, *, wildcard: bool = False) -> str | None:
    """`text` with its policy variables replaced from the request's context; None when one has no value
    and no default. `${*}`, `${?}` and `${$}` stand for the literal characters. In a Resource
    (`wildcard`), a context value holding * or ? must not widen the match: it makes the element not match
    (IAM matches such a value only as itself, which a wildcard pattern cannot say)."""
    if "${" not in text:
        return text
    missing = False

    def value_of(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1).strip()
        if inner in _ESCAPES:
            return _ESCAPES[inner]
        key, _, default = inner.partition(",")
        found = request.value(key.strip())
        if found is None or isinstance(found, list | tuple):
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                return default[1:-1]
            missing = True
            return ""
        text_value = str(found).lower() if isinstance(found, bool) else str(found)
        if wildcard and ("*" in text_value or "?" in text_value):
            missing = True
        return text_value

    result = _VARIABLE.sub(value_of, text)
    return None if missing else result
