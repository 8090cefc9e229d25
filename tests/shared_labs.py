"""Labs and functions that several test folders share (tests/ is on sys.path: its conftest.py sits there)."""

from __future__ import annotations

import contextlib
import io
import json
import urllib.request
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


def plain_client(backend: Backend, service: str) -> Any:
    """A boto3 client made without the lab (no hook of the lab's), pointed at the backend: what a student
    types in a notebook. On the memory backend, moto answers it in-process."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=backend.endpoint_url,
        region_name=backend.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# boto3's distribution_deployed waiter polls every 60 s; offline a change takes a fraction of a second.
FAST_WAITER = {"Delay": 0.1, "MaxAttempts": 600}


def oac_bucket_policy(bucket: str, distribution_arn: str) -> str:
    """The bucket policy the CloudFront Developer Guide gives for an origin access control."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontServicePrincipalReadOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                }
            ],
        }
    )


def delete_distribution(cloudfront: Any, distribution_id: str) -> None:
    """Deletes a distribution as AWS requires: disabled, Deployed, and named by its current ETag."""
    answer = cloudfront.get_distribution_config(Id=distribution_id)
    if answer["DistributionConfig"]["Enabled"]:
        cloudfront.update_distribution(
            Id=distribution_id,
            IfMatch=answer["ETag"],
            DistributionConfig={**answer["DistributionConfig"], "Enabled": False},
        )
    cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig=FAST_WAITER)
    etag = cloudfront.get_distribution_config(Id=distribution_id)["ETag"]
    cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)


@contextlib.contextmanager
def deploy_time(local_backend: Any, transition: dict[str, Any]) -> Iterator[None]:
    """The moto server's deploy time for distributions, changed for a while with moto's own state-manager
    API (the lab keeps its SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS there)."""

    def post(path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{local_backend.endpoint_url}/moto-api/state-manager/{path}",
            data=json.dumps(body).encode(),
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()

    from serverless_lab.backends.moto_cloudfront_lifecycle import DISTRIBUTION_MODEL

    post("set-transition", {"model_name": DISTRIBUTION_MODEL, "transition": transition})
    try:
        yield
    finally:
        post("unset-transition", {"model_name": DISTRIBUTION_MODEL})
