"""Lambda refuses an execution role it cannot assume, as CreateFunction and UpdateFunctionConfiguration do.

Lambda runs a function with temporary credentials of its execution role, so it checks when the function
is created, and when its Role is changed, that it can sts:AssumeRole it: the role must exist in the
function's account and its trust policy must let the service principal lambda.amazonaws.com assume it.
Otherwise the answer is 400 InvalidParameterValueException, "The role defined for the function cannot be
assumed by Lambda." (the same words for a role that does not exist: AWS cannot tell the two apart, and
neither can a role that IAM has not propagated yet), and nothing changes. moto 5 checks only that the role
exists, and only on CreateFunction.

The trust policy is read with the lab's one evaluator (dataplane/iam/), as a resource-based policy for the
caller lambda.amazonaws.com, with the condition keys Lambda's request carries: aws:SourceAccount (the
function's account, which AWS's own templates pin in execution-role trust policies) and aws:SourceArn (the
function's ARN).
"""

from __future__ import annotations

import re
from typing import Any

from serverless_lab.dataplane.iam.evaluation import evaluate
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.request import MalformedPolicyError, Principal, Request

CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."
LAMBDA_SERVICE = "lambda.amazonaws.com"


def role_trusts_lambda(trust_policy: str | None, role_arn: str, account_id: str, function_arn: str) -> bool:
    """Whether a role's trust policy lets Lambda sts:AssumeRole it for this function."""
    if not trust_policy:
        return False
    try:
        policy = Policy.parse(trust_policy)
    except MalformedPolicyError:
        return False
    request = Request(
        "sts:AssumeRole",
        role_arn,
        Principal.service(LAMBDA_SERVICE),
        {"aws:SourceAccount": account_id, "aws:SourceArn": function_arn},
    )
    return evaluate(request, resource=policy).allowed


def check_execution_role(backend: Any, role_arn: Any, function_name: str) -> None:
    """Raises Lambda's own error for a role this backend's Lambda cannot assume."""
    from moto.awslambda.exceptions import (
        CrossAccountNotAllowed,
        InvalidParameterValueException,
        InvalidRoleFormat,
    )
    from moto.awslambda.utils import make_function_arn
    from moto.iam.models import iam_backends

    if not isinstance(role_arn, str) or not re.fullmatch(InvalidRoleFormat.pattern, role_arn):
        raise InvalidRoleFormat(str(role_arn))
    if role_arn.split(":")[4] != backend.account_id:
        raise CrossAccountNotAllowed()
    try:
        role = iam_backends[backend.account_id][backend.partition].get_role_by_arn(role_arn)
    except Exception as missing:  # moto's IAM NotFoundException
        raise InvalidParameterValueException(CANNOT_ASSUME) from missing
    function_arn = make_function_arn(backend.region_name, backend.account_id, function_name)
    if not role_trusts_lambda(role.assume_role_policy_document, role_arn, backend.account_id, function_arn):
        raise InvalidParameterValueException(CANNOT_ASSUME)


def apply() -> None:
    from moto.awslambda.models import LambdaBackend

    if getattr(LambdaBackend.create_function, "_serverless_lab_fix", False):
        return
    original_create = LambdaBackend.create_function
    original_update = LambdaBackend.update_function_configuration

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        if spec.get("FunctionName") is not None:  # moto answers a missing name itself
            check_execution_role(self, spec.get("Role"), spec["FunctionName"])
        return original_create(self, spec)

    def update_function_configuration(
        self: Any, function_name: str, qualifier: str, body: dict[str, Any]
    ) -> Any:
        if "Role" in body:
            function = self.get_function(function_name, qualifier)  # ResourceNotFoundException first
            check_execution_role(self, body["Role"], function.function_name)
        return original_update(self, function_name, qualifier, body)

    for replacement in (create_function, update_function_configuration):
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
    LambdaBackend.create_function = create_function  # type: ignore[method-assign]
    LambdaBackend.update_function_configuration = update_function_configuration  # type: ignore[method-assign]
