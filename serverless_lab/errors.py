"""Every error serverless-lab raises on purpose, as one small tree.

Each error carries the HTTP status it stands for, so the HTTP adapters can answer with it and a
notebook can show it. Errors that copy an AWS answer keep AWS's status and message word for word.

    LabError (500)
    ├── UsageError (400)                 bad input to a public entry point; the message names the fix
    │   ├── UnknownStepError (400)       a step name that is not one of site, cdn, users, table, functions, api
    │   ├── InvalidStudentError (400)    a student name that cannot prefix AWS resource names
    │   ├── UnknownBackendError (400)    a backend other than memory, local, class, endpoint, aws
    │   └── ConfirmationRequiredError (428) apply on the aws backend without confirm=True (CLI: --yes)
    ├── BackendError (503)               the backend cannot be started, reached or trusted
    │   ├── BackendNotRunningError (503) no moto server is running where the state file says
    │   ├── PortInUseError (409)         the requested port is taken by another process
    │   ├── OfflineViolationError (500)  an offline backend was about to talk to a non-loopback host
    │   └── AwsGuardError (409)          the aws backend was about to talk to something other than AWS
    ├── StepError (500)                  a step could not plan, apply, verify or destroy
    │   ├── MissingHandlersError (400)   the handlers/ folder (or a handler in it) is missing
    │   └── StepIncompleteError (409)    a step is half applied; re-run apply to finish it
    └── DataPlaneError (500)             the local data plane answers with an AWS-shaped error
        ├── GatewayError                 API Gateway's own answers: dataplane/apigateway/errors.py draws them
        ├── EdgeError                    CloudFront's own answers: dataplane/cloudfront/errors.py
        └── LambdaError                  the Lambda service's answers to Invoke: dataplane/lambda_/runtime/errors.py

The leaves of the three data-plane branches live beside the core that raises them, each module with its
own part of the tree in its docstring; every leaf keeps AWS's status, error code and message.
"""

from __future__ import annotations


class LabError(Exception):
    """Base class: an error serverless-lab raises on purpose, with the HTTP status it stands for."""

    status: int = 500

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(LabError, ValueError):
    """Bad input to a public entry point; the message says what to change."""

    status = 400


class UnknownStepError(UsageError, KeyError):
    """A step name that is not one of the lab's steps."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class InvalidStudentError(UsageError):
    """A student name that cannot be used as a prefix of AWS resource names."""


class UnknownBackendError(UsageError):
    """A backend name other than memory, local, class, endpoint or aws."""


class ConfirmationRequiredError(UsageError):
    """apply on the aws backend changes a real account: it shows the plan and the cost, then asks first."""

    status = 428

    def __init__(self, message: str = "", *, preview: object = None) -> None:
        super().__init__(message)
        self.preview = preview

    def _render_traceback_(self) -> list[str]:  # IPython shows the message (the plan is shown above it)
        return [f"{type(self).__name__}: {self.message}"]


class BackendError(LabError):
    """The backend cannot be started, reached or trusted."""

    status = 503


class BackendNotRunningError(BackendError):
    """No moto server answers where the lab's state file says one runs."""


class PortInUseError(BackendError):
    """The port asked for is taken by another process."""

    status = 409


class OfflineViolationError(BackendError):
    """An offline backend was about to send a request to a host that is not on loopback."""

    status = 500


class AwsGuardError(BackendError):
    """The aws backend refused a request that would not reach AWS: moto's in-process mock was active, or
    the request's host was not an AWS endpoint."""

    status = 409


class StepError(LabError):
    """A step could not plan, apply, verify or destroy."""


class MissingHandlersError(StepError):
    """The handlers/ folder, or a handler the functions step needs, is missing."""

    status = 400


class StepIncompleteError(StepError):
    """A step is half applied (for example an interrupted deploy); running apply again finishes it."""

    status = 409


class DataPlaneError(LabError):
    """The local data plane answers with an error shaped as the AWS service would shape it."""


class GatewayError(DataPlaneError):
    """An answer of API Gateway itself (not of the integration): status and JSON body as AWS sends them."""

    status = 500
    body_message = "Internal server error"

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or self.body_message, status=status)


class EdgeError(DataPlaneError):
    """An answer of CloudFront itself: status and body as CloudFront sends them."""


class LambdaError(DataPlaneError):
    """An error of the Lambda service on a direct invoke, with the AWS error code."""

    code: str = "ServiceException"
