"""Helpers of the users, functions and api step tests: what is left of a student, tiny handlers, operations."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from serverless_lab.lab import Lab

TINY_HANDLERS = {
    "items.py": "import json\n\n\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps([])}\n",
    "me.py": "import json\n\n\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps({})}\n",
}


def operations(plan: Iterable[Any]) -> list[str]:
    return [call.operation for call in plan]


def ensure_handlers(root: Path) -> list[str]:
    """The handler names under root/handlers; two tiny handlers are written when there are none yet."""
    folder = root / "handlers"
    folder.mkdir(exist_ok=True)
    if not [p for p in folder.glob("*.py") if not p.name.startswith("_")]:
        for name, source in TINY_HANDLERS.items():
            (folder / name).write_text(source)
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def users_functions_api_resources(lab: Lab) -> dict[str, list[str]]:
    """Every Cognito, IAM, Lambda, CloudWatch Logs and API Gateway resource named with the student's prefix.

    The prefix ends with "-", so student "t-1" never sees those of "t-10"; it does see those of "t-1-2".
    """
    prefix = lab.names.prefix + "-"
    client = lab.backend.client
    pools = [
        pool["Name"]
        for page in client("cognito-idp").get_paginator("list_user_pools").paginate(MaxResults=60)
        for pool in page["UserPools"]
        if pool["Name"].startswith(prefix)
    ]
    roles = [
        role["RoleName"]
        for page in client("iam").get_paginator("list_roles").paginate()
        for role in page["Roles"]
        if role["RoleName"].startswith(prefix)
    ]
    policies = [
        policy["PolicyName"]
        for page in client("iam").get_paginator("list_policies").paginate(Scope="Local")
        for policy in page["Policies"]
        if policy["PolicyName"].startswith(prefix)
    ]
    functions = [
        function["FunctionName"]
        for page in client("lambda").get_paginator("list_functions").paginate()
        for function in page["Functions"]
        if function["FunctionName"].startswith(prefix)
    ]
    log_groups = [
        group["logGroupName"]
        for page in client("logs")
        .get_paginator("describe_log_groups")
        .paginate(logGroupNamePrefix=f"/aws/lambda/{prefix}")
        for group in page["logGroups"]
    ]
    apis = [
        api["name"]
        for page in client("apigateway").get_paginator("get_rest_apis").paginate()
        for api in page["items"]
        if api["name"].startswith(prefix)
    ]
    return {
        "user_pools": pools,
        "roles": roles,
        "policies": policies,
        "functions": functions,
        "log_groups": log_groups,
        "rest_apis": apis,
    }


NOTHING_LEFT = {
    "user_pools": [],
    "roles": [],
    "policies": [],
    "functions": [],
    "log_groups": [],
    "rest_apis": [],
}
