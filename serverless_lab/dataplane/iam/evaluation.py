"""IAM's policy evaluation logic for requests within one account, and the words of AWS's refusals.

As "Policy evaluation logic" (IAM User Guide) decides, in this order:

1. An explicit Deny in any policy that applies (identity-based, resource-based, the permissions boundary,
   the session policy) refuses the request.
2. Within one account, an Allow in the resource-based policy for this caller is enough, without an
   identity-based Allow; a service principal (cloudfront.amazonaws.com, apigateway.amazonaws.com) has
   no identity policies, so only the resource-based policy can let it in.
3. Otherwise an identity-based policy must allow it, and then the permissions boundary and the session
   policy, where there are any, must allow it too.
4. Anything else is an implicit deny.

AWS's AccessDenied messages say which of these refused ("... because no identity-based policy allows the
dynamodb:PutItem action", "... with an explicit deny in an identity-based policy"); `denial_message`
writes them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from serverless_lab.dataplane.iam.policy import Policy, Statement
from serverless_lab.dataplane.iam.request import Request


class Outcome(enum.Enum):
    """What decided, worded as AWS words it after "is not authorized to perform: <action> on resource: <arn>"."""

    ALLOWED = ""
    NO_IDENTITY_ALLOW = "because no identity-based policy allows the {action} action"
    NO_RESOURCE_ALLOW = "because no resource-based policy allows the {action} action"
    NO_BOUNDARY_ALLOW = "because no permissions boundary allows the {action} action"
    NO_SESSION_ALLOW = "because no session policy allows the {action} action"
    IDENTITY_DENY = "with an explicit deny in an identity-based policy"
    RESOURCE_DENY = "with an explicit deny in a resource-based policy"
    BOUNDARY_DENY = "with an explicit deny in a permissions boundary"
    SESSION_DENY = "with an explicit deny in a session policy"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    statement: Statement | None = None  # the statement that decided (the Allow or the Deny), if one did

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED

    @property
    def explicit_deny(self) -> bool:
        return self.outcome.name.endswith("_DENY")


def matching(
    policies: Iterable[Policy], request: Request, effect: str, *, check_principal: bool = False
) -> Statement | None:
    """The first statement of `effect` in these policies that applies to the request."""
    for policy in policies:
        for statement in policy.statements_for(request.action):
            if statement.effect == effect and statement.applies_to(
                request, check_principal=check_principal, action_known=True
            ):
                return statement
    return None


def evaluate(
    request: Request,
    *,
    identity: Sequence[Policy] = (),
    resource: Policy | None = None,
    boundary: Policy | None = None,
    session: Policy | None = None,
) -> Decision:
    """The decision for a request of a principal of the resource's own account."""
    resource_policies = (resource,) if resource is not None else ()
    for policies, outcome, by_principal in (
        (identity, Outcome.IDENTITY_DENY, False),
        (resource_policies, Outcome.RESOURCE_DENY, True),
        ((boundary,) if boundary else (), Outcome.BOUNDARY_DENY, False),
        ((session,) if session else (), Outcome.SESSION_DENY, False),
    ):
        denied = matching(policies, request, "Deny", check_principal=by_principal)
        if denied is not None:
            return Decision(outcome, denied)
    granted = matching(resource_policies, request, "Allow", check_principal=True)
    if granted is None:
        granted = matching(identity, request, "Allow")
        if granted is None:
            # A service or an anonymous caller has no identity policies: the resource policy had to let it in.
            outside = request.principal is not None and request.principal.kind in ("Service", "Anonymous")
            return Decision(Outcome.NO_RESOURCE_ALLOW if outside else Outcome.NO_IDENTITY_ALLOW)
    if boundary is not None and matching((boundary,), request, "Allow") is None:
        return Decision(Outcome.NO_BOUNDARY_ALLOW)
    if session is not None and matching((session,), request, "Allow") is None:
        return Decision(Outcome.NO_SESSION_ALLOW)
    return Decision(Outcome.ALLOWED, granted)


def denial_message(caller_arn: str, request: Request, decision: Decision) -> str:
    """AWS's AccessDenied message for a refused request."""
    reason = decision.outcome.value.format(action=request.action)
    return (
        f"User: {caller_arn} is not authorized to perform: {request.action} on resource: {request.resource} "
        f"{reason}"
    )
