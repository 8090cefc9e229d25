"""The errors of the Lambda service (not of the function) that the local runtime raises.

A function's own failures are not exceptions here: like Lambda's Invoke, they come back as an `Invocation`
with `function_error="Unhandled"` and the runtime's error document. These are the answers Lambda gives
*instead of* running the function, each with the HTTP status and error code of the Invoke API
(docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, "Errors").

    LambdaError (serverless_lab.errors)
    ├── TooManyRequestsException (429)          throttled: reserved or account concurrency is used up
    ├── ValidationException (400)               a configuration value out of Lambda's bounds
    ├── InvalidParameterValueException (400)    a configuration value Lambda refuses (reserved env keys ...)
    ├── InvalidRequestContentException (400)    the event is not JSON
    ├── RequestTooLargeException (413)          the event is over 6 MB
    ├── ResourceNotFoundException (404)         Invoke names a function (or version) that does not exist
    ├── UnknownOperationException (404)         a request under /2015-03-31/functions/ that is not Invoke
    ├── InvalidRuntimeException (502)           a runtime the local runtime cannot run (not python3.x)
    └── CodeIntegrityError (502)                the zip's sha256 is not the function's CodeSha256
"""

from __future__ import annotations

from serverless_lab.errors import LambdaError


class TooManyRequestsException(LambdaError):
    """Lambda throttled the request (Invoke: 429 TooManyRequestsException)."""

    status = 429
    code = "TooManyRequestsException"

    # Lambda answers every throttle with "Rate Exceeded." and tells the cause in the Reason field
    # (botocore Lambda.Client.exceptions.TooManyRequestsException: Reason, retryAfterSeconds).
    def __init__(self, reason: str, message: str = "Rate Exceeded.") -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after_seconds: str | None = None


class ValidationException(LambdaError):
    """A value outside Lambda's documented bounds (memory 128-10240 MB, timeout 1-900 s ...)."""

    status = 400
    code = "ValidationException"


class InvalidParameterValueException(LambdaError):
    """A parameter Lambda refuses, for example an environment variable with a reserved name."""

    status = 400
    code = "InvalidParameterValueException"


class InvalidRequestContentException(LambdaError):
    """The request body (the event) could not be parsed as JSON."""

    status = 400
    code = "InvalidRequestContentException"


class RequestTooLargeException(LambdaError):
    """The synchronous invoke payload is over 6 MB."""

    status = 413
    code = "RequestTooLargeException"


class ResourceNotFoundException(LambdaError):
    """The function (or the version or alias a qualifier names) does not exist."""

    status = 404
    code = "ResourceNotFoundException"


class UnknownOperationException(LambdaError):
    """A path or method under Lambda's /2015-03-31/functions/ that the lab does not serve (it serves Invoke)."""

    status = 404
    code = "UnknownOperationException"


class InvalidRuntimeException(LambdaError):
    """The function's runtime cannot run locally: the lab runs python3.x functions only."""

    status = 502
    code = "InvalidRuntimeException"


class CodeIntegrityError(LambdaError):
    """The deployment package the lab fetched does not hash to the function's CodeSha256."""

    status = 502
    code = "ServiceException"
