"""Whether API Gateway may invoke a Lambda function: the function's resource-based policy, as Lambda reads it.

API Gateway invokes a function (a Lambda proxy integration, a TOKEN or REQUEST authorizer) as the service
principal `apigateway.amazonaws.com`, naming what it serves as the source of the call:

- an integration: `arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<resource path>`, the
  resource's path as the API defines it (`items/{id}`, `{proxy+}`): the permissions AWS's console writes
  look like `<api-id>/*/GET/pets/{petId}` and `<api-id>/*/*/{proxy+}`. For an ANY method the console
  writes `*` in the method's place, so the METHOD here is the request's own.
- an authorizer: `arn:aws:execute-api:<region>:<account>:<api-id>/authorizers/<authorizer-id>` (the source
  ARN AWS documents for authorizer permissions; `<api-id>/*/*/*` does not cover it, `<api-id>/*` does).

Lambda runs the function only when the policy of what is invoked allows `lambda:InvokeFunction` to that
principal, the statement's conditions holding for `aws:SourceArn` (ArnLike: `*` and `?` within each part
of the ARN, slashes included) and `aws:SourceAccount`. Each qualifier has its own policy ("If you use a
qualifier, the invoker must use the full ARN of that version or alias", AddPermission reference): a
permission on the function does not cover an invoke of its alias, nor the reverse. The policy is evaluated
by the lab's one IAM evaluator (dataplane/iam). Without a permission API Gateway logs "Execution failed due
to configuration error: Invalid permissions on Lambda function" and answers 500: the integration's
`{"message": "Internal server error"}`, an authorizer's AUTHORIZER_CONFIGURATION_ERROR.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from serverless_lab.dataplane.apigateway.model import RestApiConfig
from serverless_lab.dataplane.iam.evaluation import Outcome, evaluate
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.request import Principal, Request
from serverless_lab.dataplane.lambda_.invoke_api import FUNCTION_NAME

__all__ = [
    "INVOKE_ACTION",
    "PRINCIPAL",
    "InvokePermissions",
    "authorizer_source_arn",
    "function_resource_arn",
    "integration_source_arn",
]

INVOKE_ACTION = "lambda:InvokeFunction"
PRINCIPAL = Principal.service("apigateway.amazonaws.com")
# The resource policy of a function's ARN, or of a version's or alias's (qualified): None when it has none.
PolicySource = Callable[[str], Policy | None]
_MAX_DECISIONS = 4096


def integration_source_arn(api: RestApiConfig, account_id: str, http_method: str, resource_path: str) -> str:
    """The source ARN of an integration's invoke: the stage, the request's method, the resource's path."""
    prefix = f"arn:aws:execute-api:{api.region}:{account_id}:{api.id}/{api.stage.name}/{http_method}"
    return prefix + resource_path


def authorizer_source_arn(api: RestApiConfig, account_id: str, authorizer_id: str) -> str:
    """The source ARN of a Lambda authorizer's invoke."""
    return f"arn:aws:execute-api:{api.region}:{account_id}:{api.id}/authorizers/{authorizer_id}"


def function_resource_arn(function: str, region: str, account_id: str) -> str:
    """The ARN a statement of the function's policy names as its Resource: the function's, with the version
    or alias invoked ($LATEST is the function itself, which cannot have a policy of its own)."""
    matched = FUNCTION_NAME.fullmatch(function)
    if matched is None:
        return function
    name, qualifier = matched.group(7), matched.group(9)
    partition = matched.group(2) or "aws"
    region = (matched.group(3) or f"{region}:")[:-1]
    account = (matched.group(5) or f"{account_id}:")[:-1]
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier and qualifier != "$LATEST" else arn


class InvokePermissions:
    """Decides, from the resource policies `policy_source` reads, whether API Gateway may invoke a function
    for a source ARN. A decision is kept for as long as the policy it was made from is the one read."""

    def __init__(self, policy_source: PolicySource, *, account_id: str) -> None:
        self._policy_source = policy_source
        self._account_id = account_id
        # (function, source ARN) -> (the policy read, the refusal or None, the function's resource ARN)
        self._decisions: dict[tuple[str, str], tuple[Policy | None, str | None, str]] = {}
        self._lock = threading.Lock()

    def refusal(self, function: str, source_arn: str, region: str) -> str | None:
        """None when API Gateway may invoke `function` (an ARN, qualified or not) from `source_arn`; else
        why not, in words, with what to add."""
        key = (function, source_arn)
        kept = self._decisions.get(key)
        resource = kept[2] if kept is not None else function_resource_arn(function, region, self._account_id)
        policy = self._policy_source(resource)
        if kept is not None and kept[0] is policy:
            return kept[1]
        cause = self._decide(policy, resource, source_arn)
        with self._lock:
            if len(self._decisions) >= _MAX_DECISIONS:
                self._decisions.clear()
            self._decisions[key] = (policy, cause, resource)
        return cause

    def _decide(self, policy: Policy | None, resource: str, source_arn: str) -> str | None:
        name, _, qualifier = resource.partition(":function:")[2].partition(":")
        what = f"{name}:{qualifier}" if qualifier else name
        fix = (
            f"add one: lambda.add_permission(FunctionName={name!r}"
            + (f", Qualifier={qualifier!r}" if qualifier else "")
            + ", StatementId='apigateway-invoke', Action='lambda:InvokeFunction', "
            f"Principal='apigateway.amazonaws.com', SourceArn={source_arn!r}) (wildcards such as "
            f"'{source_arn.split('/', 1)[0]}/*' cover more)"
        )
        if policy is None:
            return (
                f"Invalid permissions on Lambda function: {what} has no resource-based policy, so API "
                f"Gateway may not invoke it from {source_arn}; {fix}"
            )
        request = Request(
            INVOKE_ACTION,
            resource,
            PRINCIPAL,
            {"aws:SourceArn": source_arn, "aws:SourceAccount": self._account_id},
        )
        decision = evaluate(request, resource=policy)
        if decision.allowed:
            return None
        if decision.outcome is Outcome.RESOURCE_DENY:
            sid = decision.statement.sid if decision.statement is not None else None
            return (
                f"Invalid permissions on Lambda function: a Deny statement{f' ({sid})' if sid else ''} of "
                f"the resource-based policy of {what} refuses API Gateway's invoke from {source_arn}"
            )
        return (
            f"Invalid permissions on Lambda function: no statement of the resource-based policy of {what} "
            f"lets apigateway.amazonaws.com invoke it from {source_arn} (a permission's SourceArn must "
            f"cover it, and a permission is per version or alias); {fix}"
        )
