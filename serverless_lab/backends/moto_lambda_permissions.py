"""Lambda resource-based policies per qualifier, for moto, which keeps one policy per function.

On Lambda each of the function (unqualified, which $LATEST shares), each version and each alias has a
policy of its own: "You can apply the policy at the function level, or specify a qualifier to restrict
access to a single version or alias. If you use a qualifier, the invoker must use the full Amazon Resource
Name (ARN) of that version or alias to invoke the function" (AddPermission, Lambda API reference), and an
alias's permission does not cover an invoke without the alias, even of the version it points to (Lambda
developer guide, "Lambda function aliases", Resource policies). moto shares one policy object between the
function and all its versions (a published version is a shallow copy), ignores a qualifier given in the
function name ("f:live") and RemovePermission's Qualifier.

Here AddPermission, GetPolicy and RemovePermission address the policy of the qualifier named by the
Qualifier parameter or the function name (name, partial ARN or ARN), $LATEST being the function's own. A
statement keeps what moto writes from AddPermission's parameters (SourceArn as ArnLike AWS:SourceArn,
SourceAccount as StringEquals AWS:SourceAccount, the qualified ARN as its Resource). A StatementId already
in the policy is refused as Lambda refuses it (ResourceConflictException). Deleting an alias or a version
deletes its policy.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

# Where the qualified policies live: on the function's $LATEST object, so that they go with the function.
_ATTRIBUTE = "serverless_lab_qualified_policies"
_NAME = re.compile(
    r"(?:arn:[\w-]+:lambda:[\w-]+:\d{12}:function:|\d{12}:function:)?(?P<name>[\w.-]+)(?::(?P<qualifier>[\w$-]+))?"
)


def split_function_name(function_name: str, qualifier: str | None) -> tuple[str, str | None]:
    """(function name, qualifier or None for the function itself) of a FunctionName and Qualifier."""
    found = _NAME.fullmatch(function_name)
    if found is None:
        return function_name, qualifier or None
    chosen = found["qualifier"] or qualifier
    return found["name"], None if chosen in (None, "", "$LATEST") else chosen


def _policy_of(backend: Any, function_name: str, qualifier: str | None) -> Any:
    """The moto Policy of the function, version or alias named; moto's 404 when it does not exist."""
    from moto.awslambda.policy import Policy

    name, qualifier = split_function_name(function_name, qualifier)
    latest = backend.get_function(name)
    if qualifier is None:
        return latest.policy
    backend.get_function(name, qualifier)  # a version or alias that does not exist: moto's 404
    policies = latest.__dict__.setdefault(_ATTRIBUTE, {})
    if qualifier not in policies:
        policies[qualifier] = Policy(latest)
    return policies[qualifier]


def _conflict(statement_id: str) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(
        "ResourceConflictException",
        f"The statement id ({statement_id}) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.",
    )
    error.code = 409
    return error


def apply() -> None:
    from moto.awslambda import models, responses
    from moto.awslambda.exceptions import UnknownFunctionException

    backend_class = models.LambdaBackend
    if getattr(backend_class.add_permission, "_serverless_lab_fix", False):
        return
    original_delete_function = backend_class.delete_function
    original_delete_alias = models.LambdaStorage.delete_alias

    def add_permission(self: Any, function_name: str, qualifier: str | None, raw: str) -> dict[str, Any]:
        policy = _policy_of(self, function_name, qualifier)
        statement_id = json.loads(raw).get("StatementId")
        if statement_id is not None and any(s.get("Sid") == statement_id for s in policy.statements):
            raise _conflict(statement_id)
        _, resolved = split_function_name(function_name, qualifier)
        statement, _revision = policy.add_statement(raw, resolved)
        return statement  # type: ignore[no-any-return]

    def get_policy(self: Any, function_name: str, qualifier: str | None = None) -> str:
        return _policy_of(self, function_name, qualifier).wire_format()  # type: ignore[no-any-return]

    def remove_permission(self: Any) -> Any:
        # moto's handler reads neither the Qualifier nor the RevisionId's value (it passes the list).
        function_name = unquote(self.path.split("/")[-3])
        statement_id = unquote(self.path.split("/")[-1].split("?")[0])
        qualifier = self.querystring.get("Qualifier", [None])[0]
        revision = self.querystring.get("RevisionId", [""])[0]
        _policy_of(self.backend, function_name, qualifier).del_statement(statement_id, revision)
        return 204, {"status": 204}, "{}"

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        name, resolved = split_function_name(function_name, qualifier)
        latest = self.get_function(name) if resolved is not None else None
        original_delete_function(self, function_name, qualifier)
        if latest is not None:
            latest.__dict__.get(_ATTRIBUTE, {}).pop(resolved, None)

    def delete_alias(self: Any, name: str, function_name: str) -> None:
        original_delete_alias(self, name, function_name)
        try:
            latest = self.get_function_by_name_or_arn_with_qualifier(function_name)
        except UnknownFunctionException:  # the function is gone, and its policies with it
            return
        latest.__dict__.get(_ATTRIBUTE, {}).pop(name, None)

    for replacement in (add_permission, get_policy, remove_permission, delete_function, delete_alias):
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
    backend_class.add_permission = add_permission  # type: ignore[method-assign]
    backend_class.get_policy = get_policy  # type: ignore[method-assign]
    backend_class.delete_function = delete_function  # type: ignore[method-assign]
    models.LambdaStorage.delete_alias = delete_alias  # type: ignore[method-assign]
    responses.LambdaResponse.remove_permission = remove_permission  # type: ignore[method-assign]
