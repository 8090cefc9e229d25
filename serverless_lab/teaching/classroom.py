"""Every student on a shared backend: who is there, how far each got, resetting one, and what is left.

Students are told apart by the prefix `sl-<student>-` on every resource name (see steps.Names), so an
instructor finds them from the backend itself (tables, user pools, functions, site buckets) and from the
outputs the lab saves per student under the lab home.

On the aws backend the instructor's operations pace themselves: a class shares one account's
control-plane quotas (API Gateway allows one DeleteRestApi per 30 s and one CreateRestApi per 3 s per
account, limits.html), so resets run one student after the other with their deletes spaced by the
backend's pacer (backends/quotas.py), and progress reads two students at a time instead of eight; every
listing pages through the account (an account holds more roles and log groups than one page).
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from ..backends import lab_home
from ..errors import UsageError
from ..lab import STUDENT_PATTERN
from ..steps import ORDER
from .course import remove_student_work
from .extras import remove_extras

# The part after `sl-<student>-` of every name the steps and the notebooks' extras give a resource.
COMPONENTS = frozenset(
    {
        "items",
        "me",
        "stats",
        "echo",
        "sleepy",
        "gatekeeper",
        "echo-api",
        "gatekeeper-api",
        "users",
        "web",
        "oac",
        "lambda",
        "lambda-policy",
        "api",
    }
)
# One pattern per kind of resource every deployed student has at least one of.
STUDENT_PATTERNS = {
    "table": re.compile(r"^sl-(?P<student>.+)-items$"),
    "user pool": re.compile(r"^sl-(?P<student>.+)-users$"),
    "function": re.compile(r"^sl-(?P<student>.+)-(items|me)$"),
    "bucket": re.compile(r"^sl-(?P<student>.+)-site-\d{12}-[a-z0-9-]+$"),
}
SERVICE_OF_KIND = {"table": "dynamodb", "user pool": "cognito-idp", "function": "lambda", "bucket": "s3"}


def _resource_names(backend: Any) -> dict[str, list[str]]:
    """Names of the backend's tables, user pools, functions and buckets (the kinds every student has)."""
    dynamodb, cognito = backend.client("dynamodb"), backend.client("cognito-idp")
    lambda_client, s3 = backend.client("lambda"), backend.client("s3")
    return {
        "table": [n for p in dynamodb.get_paginator("list_tables").paginate() for n in p["TableNames"]],
        "user pool": [
            pool["Name"]
            for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
            for pool in page["UserPools"]
        ],
        "function": [
            f["FunctionName"]
            for page in lambda_client.get_paginator("list_functions").paginate()
            for f in page["Functions"]
        ],
        "bucket": [bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])],
    }


def students(backend: Any) -> list[str]:
    """Every student with resources on the backend or saved outputs under the lab home, sorted."""
    found: set[str] = set()
    for kind, names in _resource_names(backend).items():
        for name in names:
            match = STUDENT_PATTERNS[kind].match(name)
            if match and STUDENT_PATTERN.match(match["student"]):
                found.add(match["student"])
    outputs = lab_home() / "outputs" / backend.key
    if outputs.is_dir():
        found |= {path.stem for path in outputs.glob("*.json") if STUDENT_PATTERN.match(path.stem)}
    return sorted(found)


@dataclass(frozen=True)
class StudentProgress:
    """How far one student got: the state of each step (deployed, partial or absent)."""

    student: str
    states: dict[str, str]

    @property
    def deployed(self) -> int:
        return sum(state == "deployed" for state in self.states.values())

    def row(self) -> dict[str, Any]:
        return {"student": self.student, **self.states, "deployed": f"{self.deployed}/{len(self.states)}"}


def student_progress(backend: Any, student: str) -> StudentProgress:
    from ..lab import Lab

    lab = Lab(backend=backend, student=student)
    return StudentProgress(student, {name: _state(lab, name) for name in ORDER})


def _state(lab: Any, step: str) -> str:
    """A step's state; 'changing' when what it reads goes away under it (the student is deploying or
    tearing down while the instructor looks: the bucket listed a moment ago is gone, say)."""
    try:
        return str(lab.step(step).state())
    except ClientError:
        return "changing"


AWS_WORKERS = 2  # the account's read APIs throttle too (API Gateway: 10 requests per second in all)


def step_states(backend: Any, names: Iterable[str] | None = None, *, workers: int = 8) -> pd.DataFrame:
    """One row per student, one column per step (deployed / partial / absent) as each step's own read-only
    plan sees it, read in parallel: slower than `teaching.progress`'s one inventory of the backend, and
    what `lab.verify` would start from."""
    wanted = list(names) if names is not None else students(backend)
    if getattr(backend, "real_aws", False):
        workers = min(workers, AWS_WORKERS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        rows = [p.row() for p in pool.map(lambda s: student_progress(backend, s), wanted)]
    return pd.DataFrame(rows, columns=["student", *ORDER, "deployed"]).set_index("student")


def reset_students(backend: Any, names: Iterable[str]) -> pd.DataFrame:
    """Resets several students one after the other (never in parallel: they share the account's quotas);
    returns what is left of them all (empty when every reset worked)."""
    frames = [reset_student(backend, student) for student in names]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["service", "kind", "name"])
    )


def reset_student(backend: Any, student: str) -> pd.DataFrame:
    """Destroys everything of one student (steps in reverse order, the notebooks' extras, saved outputs);
    returns what is left of the student (an empty table when the reset worked)."""
    from ..lab import Lab

    lab = Lab(backend=backend, student=student)
    remove_extras(lab)
    remove_student_work(lab)
    lab.destroy()
    outputs = lab_home() / "outputs" / backend.key / f"{student}.json"
    outputs.unlink(missing_ok=True)
    return leftovers(lab)


def _owned(lab: Any, name: str) -> bool:
    prefix = lab.names.prefix + "-"
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix) :]
    return rest in COMPONENTS or rest.startswith("site-")


def leftovers(lab: Any) -> pd.DataFrame:
    """Every resource of this student the backend still holds: service, kind, name (empty when none)."""
    backend = lab.backend
    rows = [
        {"service": SERVICE_OF_KIND[kind], "kind": kind, "name": name}
        for kind, names in _resource_names(backend).items()
        for name in names
        if _owned(lab, name)
    ]
    cloudfront, iam = backend.client("cloudfront"), backend.client("iam")
    comment = f"serverless-lab {lab.names.student} ("
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items") or []:
            if (item.get("Comment") or "").startswith(comment):
                rows.append({"service": "cloudfront", "kind": "distribution", "name": item["Id"]})
    for item in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []:
        if _owned(lab, item["Name"]):
            rows.append({"service": "cloudfront", "kind": "origin access control", "name": item["Name"]})
    roles = (r for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"])
    rows += [
        {"service": "iam", "kind": "role", "name": r["RoleName"]} for r in roles if _owned(lab, r["RoleName"])
    ]
    policies = (
        p for page in iam.get_paginator("list_policies").paginate(Scope="Local") for p in page["Policies"]
    )
    rows += [{"service": "iam", "kind": "policy", "name": p["PolicyName"]}
             for p in policies if _owned(lab, p["PolicyName"])]  # fmt: skip
    apis = (
        a
        for page in backend.client("apigateway").get_paginator("get_rest_apis").paginate()
        for a in page.get("items", [])
    )
    rows += [
        {"service": "apigateway", "kind": "rest api", "name": a["name"]}
        for a in apis
        if _owned(lab, a["name"])
    ]
    groups = (
        g
        for page in backend.client("logs")
        .get_paginator("describe_log_groups")
        .paginate(logGroupNamePrefix="/aws/lambda/" + lab.names.prefix)
        for g in page["logGroups"]
    )
    rows += [{"service": "logs", "kind": "log group", "name": g["logGroupName"]}
             for g in groups if _owned(lab, g["logGroupName"].removeprefix("/aws/lambda/"))]  # fmt: skip
    return pd.DataFrame(rows, columns=["service", "kind", "name"])


def load_solutions(root: Path) -> ModuleType:
    """The instructor's solutions, loaded from `<root>/notebooks/instructor-only/solutions.py` (outside the package, so
    no student imports them by accident); 10-instructor and the tests load them with this."""
    path = Path(root) / "notebooks" / "instructor-only" / "solutions.py"
    if not path.is_file():
        raise UsageError(f"No instructor solutions at {path}: they ship with the course's repository.")
    spec = importlib.util.spec_from_file_location("instructor_solutions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
