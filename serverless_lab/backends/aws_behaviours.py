"""What AWS does and moto does not: injected into a moto server that stands in for AWS in the tests.

moto answers at once and remembers little: a new role can be used at once, a function is Active at once, a
distribution is Deployed at once, a deleted table is gone at once, Cognito sends no e-mail and API Gateway
takes any number of calls. A lab that passes against plain moto may still fail on a real account. This
module puts back, each from the AWS page that documents it:

- IAM propagation: for a while after CreateRole, CreateFunction with the role answers
  InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda." (IAM is
  eventually consistent, "Changes that I make are not always immediately visible", IAM User Guide,
  troubleshoot_general.html; the error: Lambda Developer Guide, troubleshooting-deployment.html);
- Lambda states ("Lambda function states", functions-states.html): a new function is Pending (Invoke,
  UpdateFunctionCode, UpdateFunctionConfiguration and PublishVersion fail), an updated one has
  LastUpdateStatus InProgress (the same updates fail), both with ResourceConflictException;
- CloudFront (aws_behaviours_cloudfront.py): InProgress for minutes after a create, an update or a
  disable, IfMatch enforced and no delete of an enabled or InProgress one (the lab's lifecycle mend,
  moto_cloudfront_lifecycle.py, timed in AWS's minutes); CallerReferences remembered;
- DynamoDB DELETING (DeleteTable, DynamoDB API Reference): a deleted table stays listed, DELETING, for a
  while, still answering reads and writes ("DynamoDB might continue to accept data read and write
  operations ... until the table deletion is complete"), and CreateTable of its name is ResourceInUse;
- Cognito's e-mail (user-pool-email.html; quotas.html): SignUp on a pool that verifies e-mail, and
  AdminCreateUser, ForgotPassword and AdminResetUserPassword without MessageAction=SUPPRESS, send a message;
  the default sender allows only a few a day per account (50 when this was written: check quotas.html),
  then LimitExceededException; a pool with AllowAdminCreateUserOnly refuses SignUp with
  NotAuthorizedException "SignUp is not permitted for this user pool." (AdminCreateUserConfigType);
- API Gateway's control-plane quotas (limits.html): one CreateRestApi per 3 s, one DeleteRestApi per 30 s,
  one CreateDeployment per 5 s per account, else 429 TooManyRequestsException.

Every message the stand-in "sends" and every call it throttles or refuses is kept in a ledger, served at
GET /_aws_behaviours/ledger, so a test proves that none was sent. AWS's minutes run `scale` times faster
(AwsTiming). This is enabled only by the stand-in's server (tests/e2e/aws_stand_in.py), never by
moto_fixes.apply(): the offline backends keep answering at once. It lives in the package, beside the
other moto mends, so that the lead can promote any of it to the offline lab (it is all AWS behaviour).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .quotas import PACED_OPERATIONS

LEDGER_PATH = "/_aws_behaviours/ledger"
INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
StartResponse = Callable[..., Any]


@dataclass
class AwsTiming:
    """AWS's durations in AWS seconds, and how much faster the stand-in's clock runs (`scale`)."""

    scale: float = 0.02
    iam_propagation_s: float = 8.0  # "a few seconds" for a new role to reach Lambda
    lambda_pending_s: float = 5.0
    lambda_update_s: float = 5.0
    cloudfront_deploy_s: float = 180.0  # "a few minutes"
    table_deleting_s: float = 10.0
    cognito_daily_emails: int = 50

    def real(self, aws_seconds: float) -> float:
        return aws_seconds * self.scale


@dataclass
class Ledger:
    """What the stand-in did that AWS would have done to the world: messages sent, calls refused."""

    messages: list[dict[str, str]] = field(default_factory=list)
    throttled: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, kind: str, **entry: str) -> None:
        with self.lock:
            getattr(self, kind).append(entry)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "messages": list(self.messages),
                "throttled": list(self.throttled),
                "refused": list(self.refused),
            }


@dataclass
class Behaviours:
    timing: AwsTiming
    ledger: Ledger = field(default_factory=Ledger)
    role_created: dict[str, float] = field(default_factory=dict)  # role ARN -> monotonic time
    last_call: dict[tuple[str, str], float] = field(default_factory=dict)  # (account, operation) -> time

    def within(self, since: float | None, aws_seconds: float) -> bool:
        return since is not None and time.monotonic() - since < self.timing.real(aws_seconds)


STATE: Behaviours | None = None


def active() -> Behaviours | None:
    return STATE


def apply(timing: AwsTiming | None = None) -> Behaviours:
    """Enables the behaviours in this process (the stand-in's moto server); idempotent, re-times them."""
    global STATE
    STATE = Behaviours(timing or AwsTiming())
    from . import aws_behaviours_cloudfront

    for install in (_iam_and_lambda, _dynamodb, _cognito, _apigateway):
        install()
    aws_behaviours_cloudfront.install(active, _wrap)
    return STATE


def _wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replaces owner.name by make(original) once; the wrapper reads STATE at call time."""
    original = getattr(owner, name)
    if getattr(original, "_aws_behaviour", False):
        return
    wrapper = make(original)
    # The lab's mends mark what they replaced (_serverless_lab_fix): the mark carries over, so a later
    # moto_fixes.apply() sees its mend in place and does not mend again over the behaviour.
    wrapper.__dict__.update(getattr(original, "__dict__", {}))
    wrapper._aws_behaviour = True  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


# --- IAM propagation and Lambda states ---------------------------------------------------------------------


def _lambda_conflict(message: str) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError("ResourceConflictException", message)
    error.code = 409
    return error


def lambda_busy(function: Any) -> str | None:
    """Why Lambda refuses an operation on the function now (Pending or an update InProgress), or None."""
    state = STATE
    if state is None:
        return None
    if state.within(getattr(function, "_aws_created", None), state.timing.lambda_pending_s):
        return "The operation cannot be performed at this time. The function is currently in the following state: Pending"
    if state.within(getattr(function, "_aws_updated", None), state.timing.lambda_update_s):
        return f"The operation cannot be performed at this time. An update is in progress for resource: {function.function_arn}"
    return None


def _iam_and_lambda() -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.iam.models import IAMBackend

    def create_role(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            role = original(self, *args, **kwargs)
            if STATE is not None:
                STATE.role_created[role.arn] = time.monotonic()
            return role

        return wrapper

    def create_function(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, spec: dict[str, Any]) -> Any:
            state = STATE
            if state is not None and state.within(
                state.role_created.get(spec.get("Role", "")), state.timing.iam_propagation_s
            ):
                state.ledger.note(
                    "refused", operation="CreateFunction", code="InvalidParameterValueException"
                )
                raise InvalidParameterValueException(
                    "The role defined for the function cannot be assumed by Lambda."
                )
            function = original(self, spec)
            function._aws_created = time.monotonic()
            return function

        return wrapper

    def update(operation: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(self: Any, function_name: str, *args: Any, **kwargs: Any) -> Any:
                function = self.get_function(function_name)
                busy = lambda_busy(function)
                if busy and STATE is not None:
                    STATE.ledger.note("refused", operation=operation, code="ResourceConflictException")
                    raise _lambda_conflict(busy)
                result = original(self, function_name, *args, **kwargs)
                if operation != "PublishVersion":
                    function._aws_updated = time.monotonic()
                return result

            return wrapper

        return make

    def get_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            config = original(self, *args, **kwargs)
            state = STATE
            if state is None:
                return config
            if state.within(getattr(self, "_aws_created", None), state.timing.lambda_pending_s):
                config.update(
                    State="Pending", StateReason="The function is being created.", StateReasonCode="Creating"
                )
            elif state.within(getattr(self, "_aws_updated", None), state.timing.lambda_update_s):
                config.update(
                    LastUpdateStatus="InProgress",
                    LastUpdateStatusReason="The function is being updated.",
                    LastUpdateStatusReasonCode="InProgress",
                )
            return config

        return wrapper

    _wrap(IAMBackend, "create_role", create_role)
    _wrap(LambdaBackend, "create_function", create_function)
    _wrap(LambdaBackend, "update_function_code", update("UpdateFunctionCode"))
    _wrap(LambdaBackend, "update_function_configuration", update("UpdateFunctionConfiguration"))
    _wrap(LambdaBackend, "publish_version", update("PublishVersion"))
    _wrap(LambdaFunction, "get_configuration", get_configuration)


# --- DynamoDB DELETING ---------------------------------------------------------------------------------------


def _dynamodb() -> None:
    from moto.dynamodb.exceptions import DeletionProtectedException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def delete_table(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, name: str) -> Any:
            state = STATE
            if state is None:
                return original(self, name)
            table = self.get_table(name)
            if getattr(table, "deletion_protection_enabled", False):
                raise DeletionProtectedException(name)
            if getattr(table, "_aws_deleting", None) is None:  # a second DeleteTable: no error, no change
                table._aws_deleting = time.monotonic()
                timer = threading.Timer(
                    state.timing.real(state.timing.table_deleting_s), self.tables.pop, (table.name, None)
                )
                timer.daemon = True
                timer.start()
            return table

        return wrapper

    def describe(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            answer = original(self, *args, **kwargs)
            if getattr(self, "_aws_deleting", None) is not None:
                for body in answer.values():
                    if isinstance(body, dict) and "TableStatus" in body:
                        body["TableStatus"] = "DELETING"
            return answer

        return wrapper

    _wrap(DynamoDBBackend, "delete_table", delete_table)
    _wrap(Table, "describe", describe)


# --- Cognito's messages --------------------------------------------------------------------------------------


def _pool_config(pool: Any) -> dict[str, Any]:
    return dict(getattr(pool, "extended_config", {}) or {})


def _send_message(response: Any, operation: str, pool: Any, username: str, destination: str) -> None:
    """One message from Cognito's default sender, or LimitExceededException past the daily limit."""
    from moto.core.exceptions import JsonRESTError

    state = STATE
    if state is None:
        return
    sender = _pool_config(pool).get("EmailConfiguration", {}).get("EmailSendingAccount", "COGNITO_DEFAULT")
    sent = [
        m
        for m in state.ledger.messages
        if m.get("channel") == "email" and m.get("sender") == "COGNITO_DEFAULT"
    ]
    if (
        destination == "email"
        and sender == "COGNITO_DEFAULT"
        and len(sent) >= state.timing.cognito_daily_emails
    ):
        state.ledger.note("refused", operation=operation, code="LimitExceededException")
        raise JsonRESTError(
            "LimitExceededException",
            "Exceeded daily email limit for the operation or the account. If a higher limit is required, please "
            "configure your user pool to use your own Amazon SES configuration for sending email.",
        )
    state.ledger.note(
        "messages", operation=operation, pool=pool.id, username=username, channel=destination, sender=sender
    )


def _attributes(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in items or []}


def _cognito() -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.responses import CognitoIdpResponse

    def pool_of_client(response: Any, client_id: str) -> Any:
        """SignUp and ForgotPassword are unsigned: the pool is found by its app client, in any Region."""
        from moto.cognitoidp.models import cognitoidp_backends

        for regions in cognitoidp_backends.values():
            for region, backend in regions.items():
                if region == "global":
                    continue
                for pool in backend.user_pools.values():
                    if client_id in pool.clients:
                        return pool
        return None

    def sign_up(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any) -> Any:
            pool = pool_of_client(self, self._get_param("ClientId"))
            if STATE is None or pool is None:
                return original(self)
            config = _pool_config(pool)
            if config.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly"):
                STATE.ledger.note("refused", operation="SignUp", code="NotAuthorizedException")
                raise NotAuthorizedError("SignUp is not permitted for this user pool.")
            attributes = _attributes(self._get_param("UserAttributes"))
            verifies = "email" in (config.get("AutoVerifiedAttributes") or [])
            if verifies and attributes.get("email"):
                _send_message(self, "SignUp", pool, self._get_param("Username"), "email")
            return original(self)

        return wrapper

    def admin_create_user(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any) -> Any:
            pool = self.backend.user_pools.get(self._get_param("UserPoolId"))
            if STATE is not None and pool is not None and self._get_param("MessageAction") != "SUPPRESS":
                # AdminCreateUser sends an invitation unless SUPPRESS: by SMS unless EMAIL is asked for.
                mediums = self._get_param("DesiredDeliveryMediums") or ["SMS"]
                attributes = _attributes(self._get_param("UserAttributes"))
                for medium in mediums:
                    if medium == "EMAIL" and attributes.get("email"):
                        _send_message(self, "AdminCreateUser", pool, self._get_param("Username"), "email")
                    elif medium == "SMS" and attributes.get("phone_number"):
                        _send_message(self, "AdminCreateUser", pool, self._get_param("Username"), "sms")
            return original(self)

        return wrapper

    def reset(operation: str, by_client: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(self: Any) -> Any:
                answer = original(self)  # refuses unknown users as moto does, before anything is sent
                if STATE is not None:
                    pool = (
                        pool_of_client(self, self._get_param("ClientId"))
                        if by_client
                        else self.backend.user_pools.get(self._get_param("UserPoolId"))
                    )
                    if pool is not None:
                        _send_message(self, operation, pool, self._get_param("Username"), "email")
                return answer

            return wrapper

        return make

    _wrap(CognitoIdpResponse, "sign_up", sign_up)
    _wrap(CognitoIdpResponse, "admin_create_user", admin_create_user)
    _wrap(CognitoIdpResponse, "forgot_password", reset("ForgotPassword", by_client=True))
    _wrap(CognitoIdpResponse, "admin_reset_user_password", reset("AdminResetUserPassword", by_client=False))


# --- API Gateway's control-plane quotas --------------------------------------------------------------------------


def _apigateway() -> None:
    from moto.apigateway.models import APIGatewayBackend
    from moto.core.exceptions import JsonRESTError

    class TooManyRequestsException(JsonRESTError):
        code = 429

        def __init__(self) -> None:
            super().__init__("TooManyRequestsException", "Too Many Requests")

    def paced(operation: str, method: str) -> None:
        interval = PACED_OPERATIONS[("apigateway", operation)]

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                state = STATE
                if state is None:
                    return original(self, *args, **kwargs)
                key = (f"{self.account_id}/{self.region_name}", operation)
                with state.ledger.lock:
                    last = state.last_call.get(key)
                    refused = last is not None and time.monotonic() - last < state.timing.real(interval)
                    if not refused:
                        state.last_call[key] = time.monotonic()
                if refused:
                    state.ledger.note("throttled", operation=operation, account=self.account_id)
                    raise TooManyRequestsException()
                return original(self, *args, **kwargs)

            return wrapper

        _wrap(APIGatewayBackend, method, make)

    paced("CreateRestApi", "create_rest_api")
    paced("DeleteRestApi", "delete_rest_api")
    paced("CreateDeployment", "create_deployment")


# --- the stand-in's WSGI routes ------------------------------------------------------------------------------------


class BehaviourRoutes:
    """WSGI middleware: the ledger route, and Invoke refused while the function is Pending."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == LEDGER_PATH:
            body = json.dumps(STATE.ledger.as_dict() if STATE else {}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        match = INVOKE_PATH.fullmatch(path)
        if match and environ.get("REQUEST_METHOD") == "POST":
            refusal = self.pending_refusal(unquote(match["name"]), environ)
            if refusal is not None:
                body = json.dumps({"Type": "User", "message": refusal}).encode()
                start_response(
                    "409 Conflict",
                    [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ResourceConflictException"),
                     ("Content-Length", str(len(body)))],
                )  # fmt: skip
                return [body]
        return self.app(environ, start_response)

    @staticmethod
    def pending_refusal(name: str, environ: dict[str, Any]) -> str | None:
        """Lambda does not invoke a Pending function (an updating one runs its previous code)."""
        import os

        from moto.awslambda.models import lambda_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        account = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)  # moto's own first choice
        scope = re.search(r"Credential=[^/]+/\d+/(?P<region>[^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        region = scope["region"] if scope else "us-east-1"
        try:
            function = lambda_backends[account][region].get_function(name)
        except Exception:  # unknown to moto: Lambda's own 404 comes from the data plane
            return None
        busy = lambda_busy(function)
        if busy and "Pending" in busy:
            if STATE is not None:
                STATE.ledger.note("refused", operation="Invoke", code="ResourceConflictException")
            return busy
        return None
