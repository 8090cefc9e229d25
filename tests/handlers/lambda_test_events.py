"""REST API proxy events, Cognito claims and a Lambda context for calling the handlers as API Gateway does.

`build_rest_proxy_event` makes the event API Gateway (REST API, Lambda proxy integration, payload format
1.0) sends after a Cognito user pool authorizer accepted the caller, shaped as in
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
(the lead may later swap it for the gateway core's own builder).
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
TABLE_NAME = "ada-items"
STAGE = "prod"


@dataclass(frozen=True)
class CognitoUser:
    """The claims a Cognito user pool authorizer puts in requestContext.authorizer.claims."""

    sub: str
    username: str
    email: str

    def claims(self) -> dict[str, str]:
        # A REST API passes every claim as a string, as API Gateway does.
        return {
            "sub": self.sub,
            "cognito:username": self.username,
            "email": self.email,
            "email_verified": "true",
            "aud": "4hkd3ao0vfo0b1sq5sopl3oq0c",
            "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Lab000001",
            "token_use": "id",
            "auth_time": "1717000000",
            "iat": "1717000000",
            "exp": "Wed Jun 05 16:26:40 UTC 2024",
            "event_id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        }


ALICE = CognitoUser(sub="11111111-aaaa-4aaa-8aaa-111111111111", username="alice", email="alice@example.com")
BOB = CognitoUser(sub="22222222-bbbb-4bbb-8bbb-222222222222", username="bob", email="bob@example.com")


@dataclass
class LambdaTestContext:
    """The attributes of the Lambda context object the handlers (and most code) read."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "ada-items"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ada-items"
    log_group_name: str = "/aws/lambda/ada-items"
    log_stream_name: str = "2024/06/05/[$LATEST]0123456789abcdef0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def build_rest_proxy_event(
    method: str,
    resource: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    user: CognitoUser | None = ALICE,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A complete REST API proxy event. `body` may be a str (sent as is) or any JSON value (dumped)."""
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "+}", value).replace("{" + name + "}", value)
    all_headers = {
        "Accept": "application/json",
        "Host": "abc123defg.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "pytest",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **({"Authorization": "eyJraWQiOi.test.token"} if user else {}),
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "authorizer": {"claims": user.claims()} if user else None,
            "domainName": all_headers["Host"],
            "domainPrefix": "abc123defg",
            "extendedRequestId": "Yk0P3FmSIAMFq6Q=",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest", "accessKey": None, "user": None},
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": "05/Jun/2024:15:26:40 +0000",
            "requestTimeEpoch": 1717601200000,
            "resourceId": "a1b2c3",
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def load_handler(name: str) -> ModuleType:
    """Import handlers/<name>.py as a new module: a fresh init phase, as in a new execution environment."""
    spec = importlib.util.spec_from_file_location(
        f"lab_handler_{name}_{uuid.uuid4().hex}", HANDLERS / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class ApiClient:
    """Calls a handler the way API Gateway does and decodes the proxy response."""

    module: ModuleType
    user: CognitoUser | None = ALICE

    def call(self, method: str, resource: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        kwargs.setdefault("user", self.user)
        event = build_rest_proxy_event(method, resource, **kwargs)
        response = self.module.handler(event, LambdaTestContext())
        assert set(response) >= {"statusCode", "headers", "body"}
        assert isinstance(response["body"], str)
        body = json.loads(response["body"]) if response["body"] else None
        return response["statusCode"], body, response["headers"]

    def create(self, **body: Any) -> dict[str, Any]:
        status, created, _ = self.call("POST", "/items", body=body)
        assert status == 201, created
        return created
