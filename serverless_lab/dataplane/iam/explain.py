"""AWS's AccessDenied messages read back into words: who was refused, which action on which resource, why,
and what to add.

AWS writes every identity-based refusal the same way ("User: <caller ARN> is not authorized to perform:
<action> on resource: <ARN> because no identity-based policy allows the <action> action", or "... with an
explicit deny in an identity-based policy"; evaluation.Outcome holds each reason's wording), in the
ClientError a handler raises, in the `[ERROR] ClientError: ...` line of the function's log, and in the
error of the SDK call the lab's trace records. `explain_access_denied` finds that sentence in any of them;
the lab and real AWS are read alike.

    >>> denial = explain_access_denied(error)        # a ClientError, a log line, a message
    >>> print(denial)
    role sl-ada-lambda (function sl-ada-items) may not dynamodb:PutItem on table sl-ada-items: no policy
    of the role allows it. Add it to the role's policy: ...
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from serverless_lab.dataplane.iam.evaluation import Outcome

_DENIED = re.compile(
    r"User: (?P<caller>\S+) is not authorized to perform: (?P<action>\S+) on resource: \"?(?P<resource>[^\"\s]*)"
    r"\"? (?P<reason>because no [a-z -]+ allows the \S+ action|with an explicit deny in an? [a-z -]+policy"
    r"|with an explicit deny in a permissions boundary)"
)
# Each reason's wording up to the action it names: "because no identity-based policy allows the ".
_REASONS = {outcome.value.split("{action}")[0]: outcome for outcome in Outcome if outcome.value}


@dataclass(frozen=True)
class AccessDenied:
    """One refusal, as AWS's message gives it."""

    caller: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>, or a user's ARN
    action: str
    resource: str
    outcome: Outcome

    @property
    def role(self) -> str | None:
        """The role's name when the caller is one of its sessions (a function's: the session is its name)."""
        if ":assumed-role/" not in self.caller:
            return None
        return self.caller.split(":assumed-role/", 1)[1].split("/", 1)[0]

    @property
    def session(self) -> str | None:
        if ":assumed-role/" not in self.caller:
            return None
        return self.caller.rsplit("/", 1)[-1]

    def who(self) -> str:
        if self.role is None:
            return self.caller.rsplit(":", 1)[-1]
        return f"role {self.role} (session {self.session}, as Lambda names a function's)"

    def cause(self) -> str:
        """Which role may not do what, and which kind of policy decided, in a sentence."""
        return f"{self.who()} may not {self.action} on {describe_resource(self.resource)}: {self._why()}"

    def fix(self) -> str:
        """What to change so the call is allowed, with the boto3 call that does it."""
        role = self.role or "<role>"
        statement = {"Effect": "Allow", "Action": self.action, "Resource": self.resource}
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        short = self.action.split(":", 1)[-1]
        if self.outcome is Outcome.NO_IDENTITY_ALLOW:
            return (
                f"Add it to the role's policy: iam.put_role_policy(RoleName={role!r}, "
                f"PolicyName='allow-{short}', PolicyDocument='{document}'), or add the action to the "
                "statement that already names this resource. It takes effect on the next call, without "
                "redeploying."
            )
        if self.outcome is Outcome.IDENTITY_DENY:
            return (
                f"A Deny beats every Allow: find the statement denying {self.action} in the role's policies "
                f"(iam.list_role_policies(RoleName={role!r}), iam.list_attached_role_policies(...)) and "
                "remove or narrow it."
            )
        if self.outcome in (Outcome.NO_BOUNDARY_ALLOW, Outcome.BOUNDARY_DENY):
            return (
                f"The role's permissions boundary caps what its policies grant: allow {self.action} in the "
                f"boundary policy too, or remove the boundary (iam.delete_role_permissions_boundary("
                f"RoleName={role!r}))."
            )
        if self.outcome in (Outcome.NO_SESSION_ALLOW, Outcome.SESSION_DENY):
            return f"Assume the role without a session policy, or let the session policy allow {self.action}."
        return f"Let the resource's own policy (a bucket policy, a function's policy) allow {self.action}."

    def _why(self) -> str:
        return {
            Outcome.NO_IDENTITY_ALLOW: "no policy of the role allows it",
            Outcome.IDENTITY_DENY: "a Deny statement in one of the role's policies refuses it",
            Outcome.NO_BOUNDARY_ALLOW: "the role's permissions boundary does not allow it",
            Outcome.BOUNDARY_DENY: "the role's permissions boundary denies it",
            Outcome.NO_SESSION_ALLOW: "the session policy does not allow it",
            Outcome.SESSION_DENY: "the session policy denies it",
            Outcome.NO_RESOURCE_ALLOW: "the resource's policy does not allow it",
            Outcome.RESOURCE_DENY: "the resource's policy denies it",
        }.get(self.outcome, "it is not allowed")

    def __str__(self) -> str:
        return f"{self.cause()}. {self.fix()}"


def describe_resource(arn: str) -> str:
    """A resource ARN as words: "table items (arn:...)", "log group /aws/lambda/f (arn:...)"."""
    if arn == "*":
        return "any resource (*)"
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    service, rest = parts[2], parts[5]
    if service == "dynamodb" and rest.startswith("table/"):
        table, _, index = rest.removeprefix("table/").partition("/index/")
        return f"index {index} of table {table} ({arn})" if index else f"table {table} ({arn})"
    if service == "logs" and rest.startswith("log-group:"):
        return f"log group {rest.removeprefix('log-group:').split(':', 1)[0]} ({arn})"
    if service == "lambda" and rest.startswith("function:"):
        return f"function {rest.removeprefix('function:')} ({arn})"
    if service == "s3":
        bucket, _, key = rest.partition("/")
        return f"object {key} of bucket {bucket} ({arn})" if key else f"bucket {bucket} ({arn})"
    return arn


def explain_access_denied(source: Any) -> AccessDenied | None:
    """The refusal in `source` (a botocore ClientError, its message, a function's log line or lines, a
    trace's SDK call), or None when it holds no AccessDenied message."""
    text = _text_of(source)
    matched = _DENIED.search(text)
    if matched is None:
        return None
    reason = matched.group("reason")
    outcome = next(
        (o for prefix, o in _REASONS.items() if reason.startswith(prefix)), Outcome.NO_IDENTITY_ALLOW
    )
    return AccessDenied(matched.group("caller"), matched.group("action"), matched.group("resource"), outcome)


def _text_of(source: Any) -> str:
    response = getattr(source, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Message") or "")
    if isinstance(source, dict):
        return str(source.get("error_message") or source.get("errorMessage") or source.get("error") or "")
    if isinstance(source, list | tuple):
        return "\n".join(_text_of(item) for item in source)
    return str(source or "")
