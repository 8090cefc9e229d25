"""The functions' execution role with one permission fewer, for a notebook to show what a refusal looks
like: where it shows (the handler's error, the function's log, the trace) and how the lab names its cause.

    with teaching.without_permission(lab, "dynamodb:PutItem"):
        refused = teaching.call_api(lab, "POST", "/items", user="ada", body={"title": "milk"})
    flow.refusals(flow.spans_frame(refused.spans))   # which role may not do what, and what to add

It changes the role's policy with plain boto3, as a student would (a new default version of the functions
step's policy), and puts it back afterwards; the change takes effect on the next call, without redeploying.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from ..errors import UsageError
from .deployed import deployed


@contextlib.contextmanager
def without_permission(lab: Any, action: str) -> Iterator[dict[str, Any]]:
    """The functions step's policy without `action` while the block runs; yields the document in force."""
    iam = lab.backend.client("iam")
    policy_arn = deployed(lab, "functions")["policy_arn"]
    original = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=original)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    statements, removed = [], False
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        kept = [name for name in actions if name.lower() != action.lower()]
        removed = removed or len(kept) < len(actions)
        if kept:
            statements.append({**statement, "Action": kept})
    if not removed:
        raise UsageError(f"The functions' policy does not grant {action!r}: nothing to take out.")
    narrowed = {**document, "Statement": statements}
    versions = iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]
    if len(versions) >= 5:  # IAM keeps at most five versions of a managed policy
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId=oldest["VersionId"])
    created = iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(narrowed), SetAsDefault=True
    )["PolicyVersion"]["VersionId"]
    try:
        yield narrowed
    finally:
        iam.set_default_policy_version(PolicyArn=policy_arn, VersionId=original)
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId=created)
