"""IAM policy documents, parsed once into frozen statements, and whether one statement applies to a request.

Follows the IAM JSON policy element reference:

- Effect is "Allow" or "Deny", exactly; Action/NotAction are matched case-insensitively with `*` and `?`,
  Resource/NotResource case-sensitively. A statement without Resource (a trust policy, a bucket policy's
  statement is never without one) applies to any resource.
- Principal/NotPrincipal name who a resource-based policy applies to: "*" (anyone, anonymous callers
  included), an account ("123456789012" or "arn:aws:iam::123456789012:root": every principal of that
  account), a role (its assumed-role sessions too), a session, a user, or a service
  ("cloudfront.amazonaws.com"). IAM allows no other wildcard in a principal.
- Condition: every operator block must hold, every key within a block must hold, and a key holds when
  any of its values matches (conditions.py has the operators).
- Policy variables (`${aws:username}`, `${cognito-identity.amazonaws.com:sub}`, `${key, 'default'}`) are
  replaced in Resource and in condition values from the request's context, in version 2012-10-17 only;
  a variable with no value makes the element not match.

A malformed document raises MalformedPolicyError, with the message IAM gives for it where it gives one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from serverless_lab.dataplane.iam.conditions import Condition, parse_conditions
from serverless_lab.dataplane.iam.patterns import action_matches, resource_matches
from serverless_lab.dataplane.iam.request import MalformedPolicyError, Principal, Request, substitute


@dataclass(frozen=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    not_action: bool = False
    resources: tuple[str, ...] | None = None  # None: no Resource element
    not_resource: bool = False
    principals: tuple[tuple[str, str], ...] | None = None  # (kind, value); None: no Principal element
    not_principal: bool = False
    conditions: tuple[Condition, ...] = ()
    sid: str | None = None
    variables: bool = True  # version 2012-10-17: ${...} in Resource and Condition are policy variables

    def applies_to(
        self, request: Request, *, check_principal: bool = False, action_known: bool = False
    ) -> bool:
        """Whether this statement covers the request (its Effect then decides what that means).
        `action_known`: the caller already knows that the Action element covers the request's action."""
        if not action_known and not self.covers_action(request.action):
            return False
        if self.resources is not None:
            resources = self.resources
            if self.variables:
                resources = tuple(r for r in (substitute(p, request, wildcard=True) for p in resources) if r)
            if resource_matches(resources, request.resource) == self.not_resource:
                return False
        if check_principal and not self._names(request.principal):
            return False
        return all(condition.holds(request, self.variables) for condition in self.conditions)

    def covers_action(self, action: str) -> bool:
        return action_matches(self.actions, action) != self.not_action

    def _names(self, principal: Principal | None) -> bool:
        if self.principals is None:
            return False  # a resource-based policy's statement must name a principal
        caller = principal or Principal.anonymous()
        named = any(kind == "*" or caller.named_by(kind, value) for kind, value in self.principals)
        return named != self.not_principal


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str = "2008-10-17"
    # action (lower case) -> the statements whose Action/NotAction covers it, in order; filled as asked.
    # Actions are few and a parsed policy is kept (cached by its text), so a check of a warm call matches
    # no action pattern at all.
    _by_action: dict[str, tuple[Statement, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )

    def statements_for(self, action: str) -> tuple[Statement, ...]:
        """The statements that cover `action` (a statement's other elements still decide)."""
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            found = tuple(statement for statement in self.statements if statement.covers_action(action))
            if len(self._by_action) < 512:
                self._by_action[key] = found
        return found

    @classmethod
    def parse(cls, document: str | Mapping[str, Any]) -> Policy:
        """The policy of a JSON document (text or already parsed); text is parsed once and cached."""
        if isinstance(document, str):
            return _parse_text(document)
        return _parse_document(document)


@lru_cache(maxsize=2048)
def _parse_text(text: str) -> Policy:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise MalformedPolicyError("Syntax errors in policy.") from error
    return _parse_document(document)


def _parse_document(document: Any) -> Policy:
    if not isinstance(document, Mapping):
        raise MalformedPolicyError("Syntax errors in policy.")
    version = document.get("Version", "2008-10-17")
    if version not in ("2008-10-17", "2012-10-17"):
        raise MalformedPolicyError("The policy failed legacy parsing")
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise MalformedPolicyError("Syntax errors in policy.")
    return Policy(tuple(_statement(item, version == "2012-10-17") for item in raw), version)


def _statement(raw: Any, variables: bool) -> Statement:
    if not isinstance(raw, Mapping):
        raise MalformedPolicyError("Syntax errors in policy.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyError(f"Invalid effect: {effect}")
    actions, not_action = _either(raw, "Action", "NotAction", required=True)
    resources, not_resource = _either(raw, "Resource", "NotResource", required=False)
    principals, not_principal = _principals(raw)
    sid = raw.get("Sid")
    return Statement(
        effect=effect,
        actions=actions or (),
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=parse_conditions(raw.get("Condition")),
        sid=sid if isinstance(sid, str) else None,
        variables=variables,
    )


def _either(raw: Mapping[str, Any], name: str, negated: str, *, required: bool) -> tuple[Any, bool]:
    if name in raw and negated in raw:
        raise MalformedPolicyError(f"Statement cannot have both {name} and {negated}")
    if name not in raw and negated not in raw:
        if required:
            raise MalformedPolicyError(f"Policy statement must contain {name.lower()}s.")
        return None, False
    return _strings(raw[name] if name in raw else raw[negated], name), negated in raw


def _strings(value: Any, element: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise MalformedPolicyError(
            f"Syntax errors in policy: {element} must be a string or a list of strings."
        )
    return tuple(values)


def _principals(raw: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...] | None, bool]:
    if "Principal" in raw and "NotPrincipal" in raw:
        raise MalformedPolicyError("Statement cannot have both Principal and NotPrincipal")
    negated = "NotPrincipal" in raw
    value = raw.get("NotPrincipal" if negated else "Principal")
    if value is None:
        return None, False
    if value == "*":
        return (("*", "*"),), negated
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicyError("Invalid principal in policy")
    entries: list[tuple[str, str]] = []
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicyError("Invalid principal in policy")
        entries.extend((kind, name) for name in _strings(names, "Principal"))
    return tuple(entries), negated
