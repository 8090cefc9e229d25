"""The local Lambda runtime: runs a function's deployment package the way AWS Lambda's Python runtime does.

    with LambdaRuntime(code_loader=fetch_zip, base_environment=offline_env) as runtime:
        invocation = runtime.invoke(spec, {"httpMethod": "GET", ...})
        invocation.payload, invocation.logs, invocation.cold

See service.py for what is copied from Lambda and where the lab departs from it.
"""

from __future__ import annotations

from serverless_lab.dataplane.lambda_.runtime.code import code_sha256
from serverless_lab.dataplane.lambda_.runtime.errors import (
    CodeIntegrityError,
    InvalidParameterValueException,
    InvalidRequestContentException,
    InvalidRuntimeException,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
    UnknownOperationException,
    ValidationException,
)
from serverless_lab.dataplane.lambda_.runtime.results import EnvironmentInfo, Invocation
from serverless_lab.dataplane.lambda_.runtime.service import LambdaRuntime
from serverless_lab.dataplane.lambda_.runtime.spec import FunctionSpec, LayerSpec

__all__ = [
    "CodeIntegrityError",
    "EnvironmentInfo",
    "FunctionSpec",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvalidRuntimeException",
    "Invocation",
    "LambdaRuntime",
    "LayerSpec",
    "RequestTooLargeException",
    "ResourceNotFoundException",
    "TooManyRequestsException",
    "UnknownOperationException",
    "ValidationException",
    "code_sha256",
]
