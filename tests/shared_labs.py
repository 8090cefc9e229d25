"""Labs and functions that several test folders share (tests/ is on sys.path: its conftest.py sits there)."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from serverless_lab import Lab
from serverless_lab.backends import Backend


def deployed_memory_lab(prefix: str, run: str | None = None) -> Lab:
    """The whole stack on the memory backend for the student `<prefix>-<run>` (run: random by default)."""
    lab = Lab(backend="memory", student=f"{prefix}-{run or uuid.uuid4().hex[:4]}")
    lab.require("api")
    return lab


# What the Lambda developer guide has a new function's role hold: writing its logs ("AWSLambdaBasicExecutionRole").
BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
ROLE_POLICY = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
)


def zip_source(source: str, name: str = "app.py") -> bytes:
    """A deployment package holding one file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


@contextlib.contextmanager
def plain_function(
    backend: Backend,
    source: str,
    prefix: str = "plain",
    managed_policies: tuple[str, ...] = (BASIC_EXECUTION_ROLE,),
    **settings: Any,
) -> Iterator[str]:
    """A python3.12 function `app.handler` (and its role, with `managed_policies` attached: by default
    AWSLambdaBasicExecutionRole, so its logs reach CloudWatch Logs) made with plain boto3, not through the
    lab; removed afterwards unless a test deleted it already. `settings` go to create_function as they are."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    iam = backend.client("iam")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    for policy_arn in managed_policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    backend.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source(source)},
        **settings,
    )
    try:
        yield name
    finally:
        with contextlib.suppress(ClientError):
            backend.client("lambda").delete_function(FunctionName=name)
        for policy_arn in managed_policies:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy_arn)
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
