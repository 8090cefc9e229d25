"""IAM's condition operators, as the IAM JSON policy element reference ("Condition operators") defines them.

- A key that the request does not carry makes the condition false, except with a negated operator
  (StringNotEquals, ArnNotLike, NotIpAddress, ...), which is then true; `...IfExists` makes any operator
  true when the key is missing; `Null` tests whether the key is there.
- `ForAllValues:` holds when every value of the request's set matches (also when the set is empty or
  missing), `ForAnyValue:` when at least one does (false when missing).
- String operators compare case-sensitively (except `...IgnoreCase`), `StringLike` with `*` and `?`;
  the Arn operators compare each of the six colon-separated parts apart, with `*` and `?` in each;
  Bool compares "true"/"false"; Numeric and Date compare numbers and ISO 8601 times (or epoch seconds);
  IpAddress takes CIDR blocks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from serverless_lab.dataplane.iam.patterns import pattern_matches
from serverless_lab.dataplane.iam.request import MalformedPolicyError, Request, substitute


def _string(policy: str, value: str) -> bool:
    return policy == value


def _string_ignore_case(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _string_like(policy: str, value: str) -> bool:
    return pattern_matches(policy, value, ignore_case=False)


def _arn_like(policy: str, value: str) -> bool:
    policy_parts, value_parts = policy.split(":", 5), value.split(":", 5)
    if len(policy_parts) != 6 or len(value_parts) != 6:
        return False
    return all(
        pattern_matches(p, v, ignore_case=False) for p, v in zip(policy_parts, value_parts, strict=True)
    )


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> float:
    try:
        return float(text)  # epoch seconds
    except ValueError:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _compare(
    convert: Callable[[str], float], test: Callable[[float, float], bool]
) -> Callable[[str, str], bool]:
    def compare(policy: str, value: str) -> bool:
        try:
            return test(convert(value), convert(policy))
        except ValueError:
            return False

    return compare


def _bool(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _ip(policy: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


# operator -> (matches one policy value against one request value, negated)
OPERATORS: Mapping[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string, False),
    "StringNotEquals": (_string, True),
    "StringEqualsIgnoreCase": (_string_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_compare(_number, lambda a, b: a == b), False),
    "NumericNotEquals": (_compare(_number, lambda a, b: a == b), True),
    "NumericLessThan": (_compare(_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_compare(_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_compare(_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_compare(_number, lambda a, b: a >= b), False),
    "DateEquals": (_compare(_date, lambda a, b: a == b), False),
    "DateNotEquals": (_compare(_date, lambda a, b: a == b), True),
    "DateLessThan": (_compare(_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_compare(_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_compare(_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_compare(_date, lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_string, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


@dataclass(frozen=True)
class Condition:
    """One key under one operator: `"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [...]}`."""

    operator: str  # without qualifier and IfExists: "StringEquals", "Null", ...
    key: str
    values: tuple[str, ...]
    qualifier: str | None = None  # "ForAllValues" or "ForAnyValue"
    if_exists: bool = False

    def holds(self, request: Request, variables: bool = True) -> bool:
        found = request.value(self.key)
        if self.operator == "Null":
            missing = found is None or (isinstance(found, list | tuple) and not found)
            return all((value.lower() == "true") == missing for value in self.values)
        compare, negated = OPERATORS[self.operator]
        policy_values = self._policy_values(request, variables)
        if found is None or (isinstance(found, list | tuple) and not found):
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            return negated and self.qualifier is None

        def one(value: str) -> bool:
            matched = any(compare(policy, value) for policy in policy_values)
            return not matched if negated else matched

        values = [_text(item) for item in (found if isinstance(found, list | tuple) else [found])]
        if self.qualifier == "ForAllValues":
            return all(one(value) for value in values)
        if self.qualifier == "ForAnyValue" or not negated:
            return any(one(value) for value in values)
        return all(one(value) for value in values)  # a negated operator: no request value may match

    def _policy_values(self, request: Request, variables: bool) -> list[str]:
        if not variables:
            return list(self.values)
        return [value for value in (substitute(v, request) for v in self.values) if value is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_conditions(raw: Any) -> tuple[Condition, ...]:
    """A statement's Condition element, or MalformedPolicyError for an operator IAM does not know."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise MalformedPolicyError("Syntax errors in policy: Condition must be an object.")
    conditions = []
    for full_operator, block in raw.items():
        qualifier, _, operator = full_operator.rpartition(":")
        if qualifier not in ("", "ForAllValues", "ForAnyValue"):
            raise MalformedPolicyError(f"Invalid Condition type : {full_operator}.")
        if_exists = operator.endswith("IfExists") and operator != "IfExists"
        operator = operator.removesuffix("IfExists") if if_exists else operator
        if operator not in OPERATORS and operator != "Null":
            raise MalformedPolicyError(f"Invalid Condition type : {full_operator}.")
        if not isinstance(block, Mapping):
            raise MalformedPolicyError("Syntax errors in policy: a condition operator takes an object.")
        for key, values in block.items():
            listed = values if isinstance(values, list) else [values]
            texts = tuple(_text(value) for value in listed)
            conditions.append(Condition(operator, key, texts, qualifier or None, if_exists))
    return tuple(conditions)
