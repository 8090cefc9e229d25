"""IAM enforced for role sessions: every call made with credentials of an sts:AssumeRole session (a Lambda
function's execution role, or a session a user assumed) is checked against the role's policies, and
refused as AWS refuses it.

moto's own check (`INITIAL_NO_AUTH_ACTION_COUNT`) is unusable for the lab: it checks DynamoDB, Logs, Lambda
and Cognito calls against the resource "*", ignores Conditions, answers in the wrong shape, and rejects
the lab's admin keys, unsigned browser calls to Cognito and presigned URLs. It stays off. This replaces
the one method every moto service's check goes through (ActionAuthenticatorMixin.
_authenticate_and_authorize_action, reached by BaseResponse.call_action and S3's handlers, in the local
server and under mock_aws alike) and decides per request:

- No role session (the lab's `testing` keys, an unsigned Cognito call, a presigned URL, an anonymous S3
  read): moto as before, nothing checked. The lab's user is the account's administrator, as on a new
  AWS account, so the lab's own calls and a notebook's pay nothing.
- A session key (ASIA...): the session must exist and its token match (else "The security token
  included in the request is invalid"), must not have expired (ExpiredTokenException); then IAM's
  policy evaluation logic (dataplane/iam/evaluation.py) over the role's inline policies, its attached
  customer and AWS managed policies (default versions), its permissions boundary and the session policy,
  plus an S3 bucket's policy (moto_iam_sessions.py); the action, resource and condition keys come from
  dataplane/iam/actions.py.
  Policies are read live from moto's IAM backend on every call (a document's parse is cached by its
  text), so put_role_policy or detach_role_policy takes effect on the next call.
- A refusal is the service's own: DynamoDB, CloudWatch Logs, Cognito (JSON protocols) 400
  AccessDeniedException; Lambda and the other REST-JSON services 403 AccessDeniedException; S3 403
  AccessDenied (XML); IAM, STS (query) 403 AccessDenied; with AWS's message, "User: arn:aws:sts::<account>:
  assumed-role/<role>/<session> is not authorized to perform: dynamodb:PutItem on resource: <arn>
  because no identity-based policy allows the dynamodb:PutItem action".

Lambda's Invoke never reaches moto (moto_host passes it to the lab's data plane), so `refuse_invoke` makes
the same check for it. SERVERLESS_LAB_IAM=off turns all of it off (read per request).

Departures: the request's signature is not recomputed (the session token, which only the holder of the
credentials has, is compared instead: re-signing costs more than the whole check); a presigned URL made
with session credentials is not checked; resource-based policies other than a bucket's (a Lambda
function's, for a role in the same account) are not consulted.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from typing import Any
from urllib.parse import unquote

from . import moto_managed_policies
from .moto_iam_sessions import Refusal, Session, authorize, resolve_session

ENFORCE_VARIABLE = "SERVERLESS_LAB_IAM"
SESSION_KEY_PREFIX = "ASIA"  # moto's (and STS's) access key ids of temporary credentials
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]*)/([^/]*)/")
_FUNCTION_PATH = re.compile(r"/functions/([^/?]+)")


def enforcing() -> bool:
    """Whether role sessions are checked: yes unless SERVERLESS_LAB_IAM is off (or 0, false, no)."""
    return os.environ.get(ENFORCE_VARIABLE, "on").strip().lower() not in ("off", "0", "false", "no")


# --- the moto funnel --------------------------------------------------------------------------------------


def _json_params(response: Any) -> dict[str, Any]:
    body = response.body
    if isinstance(body, dict):  # DynamoDB's call_action put its parsed parameters there
        return body
    cached = response.__dict__.get("_serverless_lab_json")  # shared with moto_fixes._parse_json_body_once
    if cached is not None and cached[0] is body:
        parsed = cached[1]
    else:
        try:
            parsed = json.loads(body) if body else {}
        except (ValueError, TypeError):
            parsed = None
        response.__dict__["_serverless_lab_json"] = (body, parsed)
    return parsed if isinstance(parsed, dict) else {}


def _rest_params(response: Any) -> dict[str, Any]:
    params = {k: v[0] if isinstance(v, list) and v else v for k, v in (response.querystring or {}).items()}
    matched = _FUNCTION_PATH.search(getattr(response, "path", "") or "")
    if matched:
        params["FunctionName"] = unquote(matched.group(1))
    return params


def _bucket_policy(session: Session | None, resource: str) -> Any:
    """The bucket policy of the bucket a resource ARN names, which S3 weighs with the caller's policies."""
    if session is None or not resource.startswith("arn:"):
        return None
    bucket_name = resource.split(":::", 1)[-1].split("/", 1)[0]
    bucket = session.backend("s3", session.partition).buckets.get(bucket_name)
    policy = getattr(bucket, "policy", None)
    return policy.decode() if isinstance(policy, bytes) else policy


def check_moto_request(response: Any, resource: str) -> None:
    """The check for one request moto is about to answer (a BaseResponse); raises the service's error."""
    headers = response.headers
    environ = getattr(headers, "environ", None)  # werkzeug's headers: the WSGI environ is a plain dict
    if environ is not None:
        authorization = environ.get("HTTP_AUTHORIZATION")
        target, token = environ.get("HTTP_X_AMZ_TARGET"), environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    else:
        authorization = headers.get("Authorization")
        target, token = headers.get("X-Amz-Target"), headers.get("X-Amz-Security-Token")
    matched = _CREDENTIAL.search(authorization or "")
    if matched is None:
        return  # not signed with a header (a presigned URL): not checked
    access_key_id, region, service = matched.groups()
    operation = target.rsplit(".", 1)[-1] if target else response._get_action()
    if not operation:
        return  # moto does not know the operation either, and answers so
    protocol = _protocol(response)
    params = _json_params(response) if protocol == "json" else _rest_params(response)
    session = resolve_session(access_key_id, region)
    try:
        authorize(
            session,
            token=token,
            service=service,
            region=region,
            operation=operation,
            params=params,
            resource=resource,
            resource_policy=_bucket_policy(session, resource) if service == "s3" else None,
        )
    except Refusal as refusal:
        raise _service_error(response, service, protocol, refusal) from None


@functools.cache
def _service_protocol(service_name: str) -> tuple[str, str]:
    """(protocol, JSON version) of a service, from botocore's model as moto loads it."""
    from moto.core.utils import get_service_model

    try:
        metadata = get_service_model(service_name).metadata
    except Exception:
        return "json", "1.1"
    return str(metadata.get("protocol", "json")), str(metadata.get("jsonVersion", "1.1"))


def _protocol(response: Any) -> str:
    return _service_protocol(response.boto3_service_name)[0]


_CODES = {  # (protocol family, kind) -> (status, code)
    ("json", "denied"): (400, "AccessDeniedException"),
    ("json", "invalid"): (400, "UnrecognizedClientException"),
    ("json", "expired"): (400, "ExpiredTokenException"),
    ("rest-json", "denied"): (403, "AccessDeniedException"),
    ("rest-json", "invalid"): (403, "UnrecognizedClientException"),
    ("rest-json", "expired"): (403, "ExpiredTokenException"),
    ("query", "denied"): (403, "AccessDenied"),
    ("query", "invalid"): (403, "InvalidClientTokenId"),
    ("query", "expired"): (403, "ExpiredToken"),
}


def _service_error(response: Any, service: str, protocol: str, refusal: Refusal) -> Exception:
    if service == "s3":
        from moto.s3.exceptions import S3ClientError, S3InvalidTokenError

        if refusal.kind == "invalid":
            return S3InvalidTokenError()
        if refusal.kind == "expired":
            return S3ClientError("ExpiredToken", "The provided token has expired.")
        return S3ClientError("AccessDenied", refusal.message)
    from moto.core.exceptions import JsonRESTError, _RESTError

    family = protocol if protocol in ("json", "rest-json") else "query"
    status, code = _CODES[(family, refusal.kind)]
    if family == "query":
        error: Exception = _RESTError(code, refusal.message)
        response.response_headers["Content-Type"] = "text/xml"
    else:
        error = JsonRESTError(code, refusal.message)
        version = _json_version(response) if family == "json" else None
        response.response_headers["Content-Type"] = (
            f"application/x-amz-json-{version}" if version else "application/json"
        )
        response.response_headers["x-amzn-ErrorType"] = code
    error.code = status  # type: ignore[attr-defined]
    return error


def _json_version(response: Any) -> str:
    return _service_protocol(response.boto3_service_name)[1]


# --- Lambda's Invoke, which the lab's data plane answers ----------------------------------------------------


def refuse_invoke(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """Lambda's answer when a role session may not invoke the function (403 AccessDeniedException, or
    the invalid/expired token errors); None when it may, or when the caller is no role session."""
    matched = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION") or "")
    if matched is None or not matched.group(1).startswith(SESSION_KEY_PREFIX) or not enforcing():
        return None
    access_key_id, region, service = matched.groups()
    path = environ.get("PATH_INFO", "")
    function = _FUNCTION_PATH.search(path)
    params: dict[str, Any] = {"FunctionName": unquote(function.group(1)) if function else ""}
    for pair in (environ.get("QUERY_STRING") or "").split("&"):
        name, _, value = pair.partition("=")
        if name == "Qualifier" and value:
            params["Qualifier"] = unquote(value)
    try:
        authorize(
            resolve_session(access_key_id, region),
            token=environ.get("HTTP_X_AMZ_SECURITY_TOKEN"),
            service=service,
            region=region,
            operation="Invoke",
            params=params,
        )
    except Refusal as refusal:
        status, code = _CODES[("rest-json", refusal.kind)]
        body = json.dumps({"Type": "User", "message": refusal.message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        return f"{status} Forbidden", headers, body
    return None


_applied = threading.Event()
_apply_lock = threading.Lock()


def applied() -> bool:
    return _applied.is_set()


def apply() -> None:
    """Installs the check (idempotent, thread-safe): moto_fixes.apply() calls it, and the local server's
    routes before the first request reaches moto, so no call slips through while the server warms up."""
    if _applied.is_set():
        return
    with _apply_lock:
        if not _applied.is_set():
            _install()
            _applied.set()


def _install() -> None:
    from moto.core import authorization

    moto_managed_policies.apply()
    mixin = authorization.ActionAuthenticatorMixin
    original = mixin._authenticate_and_authorize_action
    if getattr(original, "_serverless_lab_fix", False):
        return

    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        # The lab's admin keys and every unsigned call take the first branch: moto as it was.
        if not getattr(self, "access_key", "").startswith(SESSION_KEY_PREFIX) or not enforcing():
            return original(self, iam_request_cls, resource)  # type: ignore[no-any-return]
        check_moto_request(self, resource)
        return None

    _authenticate_and_authorize_action._serverless_lab_fix = True  # type: ignore[attr-defined]
    mixin._authenticate_and_authorize_action = _authenticate_and_authorize_action  # type: ignore[method-assign]
