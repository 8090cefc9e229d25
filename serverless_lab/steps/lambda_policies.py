"""The IAM documents of the functions step, as plain data: who may assume the role, what the role may do.

Pure functions (no boto3), so the policy can be read, printed and tested on its own.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from .arns import partition

TABLE_ACTIONS = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]

# Only the Lambda service may assume the role
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
LAMBDA_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def log_group_name(function_name: str) -> str:
    """Where Lambda sends a function's logs."""
    return f"/aws/lambda/{function_name}"


def lambda_policy(region: str, account_id: str, table_arn: str, function_names: list[str]) -> dict[str, Any]:
    """Least privilege for the handlers: five item actions on one table, and writing their own log groups.

    Each action is one a route needs (the test in tests/e2e/test_least_privilege.py takes each out in turn
    and shows what breaks): Query for GET /items, PutItem for POST /items, GetItem, UpdateItem and
    DeleteItem for GET, PUT and DELETE /items/{id}; CreateLogStream and PutLogEvents for every function's
    log lines, which Lambda writes as the execution role. The log statement names each function's log
    group, as the Lambda console does for a new role, rather than AWSLambdaBasicExecutionRole's "*" or a
    wildcard such as `sl-ada-*` (which would also match the functions of student `ada-2`). No
    logs:CreateLogGroup: the step creates each log group itself, with a retention, so the role never has to
    (Lambda's own groups would keep logs forever).
    """
    logs = f"arn:{partition(region)}:logs:{region}:{account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ItemsTable", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": table_arn},
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": LOG_ACTIONS,
                "Resource": [f"{logs}:log-group:{log_group_name(name)}:*" for name in sorted(function_names)],
            },
        ],
    }


def normalize_policy(document: Any) -> list[dict[str, Any]]:
    """Statements with Action/Resource as sorted lists and no Sid, so equal policies compare equal.

    IAM returns documents as it stored them (boto3 decodes the URL-encoded JSON), where a single action may
    be a string or a one-item list; both mean the same.
    """
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    normalized = []
    for statement in statements:
        entry = {k: v for k, v in statement.items() if k != "Sid"}
        for key in ("Action", "Resource"):
            if key in entry:
                value = entry[key]
                entry[key] = sorted([value] if isinstance(value, str) else value)
        normalized.append(entry)
    return sorted(normalized, key=lambda s: json.dumps(s, sort_keys=True))


def least_privilege_problems(document: Any, table_arn: str | None) -> list[str]:
    """What a policy grants beyond the items table and CloudWatch Logs; [] when it grants nothing more."""
    problems = []
    for statement in normalize_policy(document):
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            problems.append(f"unexpected statement {statement}")
        elif all(a.startswith("dynamodb:") for a in actions):
            if not set(actions) <= set(TABLE_ACTIONS) or resources != [table_arn]:
                problems.append(f"{actions} on {resources}")
        elif all(a.startswith("logs:") for a in actions):
            if "*" in resources:
                problems.append(f"{actions} on every resource")
        else:
            problems.append(f"actions outside DynamoDB and CloudWatch Logs: {actions}")
    return problems


def missing_table_actions(document: Any, table_arn: str | None) -> list[str]:
    """The item actions of TABLE_ACTIONS that no Allow statement grants on the table (wildcards read as IAM
    reads them: fnmatch's * and ? are IAM's wildcards, and ARNs hold no '['); [] when the handlers may
    make every call they make."""
    granted: set[str] = set()
    for statement in normalize_policy(document):
        if statement.get("Effect") != "Allow":
            continue
        resources = statement.get("Resource", [])
        if not any(table_arn and fnmatch.fnmatchcase(table_arn, pattern) for pattern in resources):
            continue
        for action in TABLE_ACTIONS:
            if any(
                fnmatch.fnmatchcase(action.lower(), pattern.lower())
                for pattern in statement.get("Action", [])
            ):
                granted.add(action)
    return [action for action in TABLE_ACTIONS if action not in granted]
