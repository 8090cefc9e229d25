"""What every student of a class has deployed, read with one listing per kind of resource for the whole class.

A student's own `lab.status()` asks each step for its plan (tens of calls a student); for 40 students that
is seconds. The class view lists each kind once (buckets, distributions, origin access controls, user
pools, tables, roles, functions, REST APIs) and tells students apart by their prefix, `sl-<student>-`:

    step        its resources                                 state
    site        bucket sl-<s>-site-<account>-<region>         deployed when they all exist,
    cdn         distribution "serverless-lab <s> (...)",       partial when some do,
                origin access control sl-<s>-oac              absent when none does
    users       user pool sl-<s>-users
    table       table sl-<s>-items
    functions   role sl-<s>-lambda, functions sl-<s>-items and sl-<s>-me
    api         REST API sl-<s>-api

"deployed" here means the resources exist; whether they are right is what `lab.verify(step)` checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..lab import STUDENT_PATTERN
from ..steps import ORDER

_DISTRIBUTION_COMMENT = re.compile(r"^serverless-lab (?P<student>\S+) \(sl-(?P=student)\)$")


@dataclass
class Inventory:
    """The names of every resource of each kind on the backend, listed once."""

    buckets: set[str] = field(default_factory=set)
    distributions: set[str] = field(default_factory=set)  # the students whose distribution exists
    access_controls: set[str] = field(default_factory=set)
    user_pools: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    rest_apis: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, backend: Any) -> Inventory:
        s3, cloudfront = backend.client("s3"), backend.client("cloudfront")
        cognito, dynamodb = backend.client("cognito-idp"), backend.client("dynamodb")
        iam, lambda_client = backend.client("iam"), backend.client("lambda")
        found = cls()
        found.buckets = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
        for page in cloudfront.get_paginator("list_distributions").paginate():
            for item in page["DistributionList"].get("Items") or []:
                match = _DISTRIBUTION_COMMENT.match(item.get("Comment") or "")
                if match:
                    found.distributions.add(match["student"])
        oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []
        found.access_controls = {item["Name"] for item in oacs}
        found.user_pools = {
            pool["Name"]
            for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
            for pool in page["UserPools"]
        }
        found.tables = {
            n for page in dynamodb.get_paginator("list_tables").paginate() for n in page["TableNames"]
        }
        found.roles = {
            r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]
        }
        found.functions = {
            f["FunctionName"]
            for page in lambda_client.get_paginator("list_functions").paginate()
            for f in page["Functions"]
        }
        found.rest_apis = {
            api["name"]
            for page in backend.client("apigateway").get_paginator("get_rest_apis").paginate()
            for api in page.get("items", [])
        }
        return found

    def resources(self, student: str, account_id: str, region: str) -> dict[str, list[bool]]:
        """For each step, whether each of its resources exists for this student."""
        prefix = f"sl-{student}"
        return {
            "site": [f"{prefix}-site-{account_id}-{region}" in self.buckets],
            "cdn": [student in self.distributions, f"{prefix}-oac" in self.access_controls],
            "users": [f"{prefix}-users" in self.user_pools],
            "table": [f"{prefix}-items" in self.tables],
            "functions": [f"{prefix}-lambda" in self.roles]
            + [f"{prefix}-{name}" in self.functions for name in ("items", "me")],
            "api": [f"{prefix}-api" in self.rest_apis],
        }

    def states(self, student: str, account_id: str, region: str) -> dict[str, str]:
        """{step: deployed / partial / absent} for one student, in the steps' order."""
        found = self.resources(student, account_id, region)
        return {step: _state(found[step]) for step in ORDER}

    def students(self) -> set[str]:
        """Every student with at least one of the lab's resources."""
        names: set[str] = set(self.distributions)
        patterns = (
            (self.buckets, re.compile(r"^sl-(?P<s>.+)-site-\d{12}-[a-z0-9-]+$")),
            (self.user_pools, re.compile(r"^sl-(?P<s>.+)-users$")),
            (self.tables, re.compile(r"^sl-(?P<s>.+)-items$")),
            (self.functions, re.compile(r"^sl-(?P<s>.+)-(items|me)$")),
            (self.rest_apis, re.compile(r"^sl-(?P<s>.+)-api$")),
        )
        for resource_names, pattern in patterns:
            for name in resource_names:
                match = pattern.match(name)
                if match:
                    names.add(match["s"])
        return {name for name in names if STUDENT_PATTERN.fullmatch(name)}


def _state(present: list[bool]) -> str:
    if all(present):
        return "deployed"
    return "partial" if any(present) else "absent"


def deployment_states(backend: Any, students: Iterable[str]) -> dict[str, dict[str, str]]:
    """{student: {step: state}} for the given students, from one inventory of the backend."""
    inventory = Inventory.read(backend)
    account_id, region = backend.account_id(), backend.region
    return {student: inventory.states(student, account_id, region) for student in students}
