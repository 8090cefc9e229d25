"""Shared pieces for the API Gateway tests: a user pool's signing keys, a hand-built API, a fake Lambda.

The fake Lambda stands in for the Lambda service at the gateway's `invoke` boundary (the runtime has
its own tests); everything else is the real gateway code. Its functions' resource policies let API Gateway
invoke them from the API, as lambda.add_permission would (`invoke_permission`), unless a test says otherwise.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from serverless_lab.dataplane.apigateway.gateway import Gateway, LambdaResult
from serverless_lab.dataplane.apigateway.invoke_permission import PolicySource
from serverless_lab.dataplane.apigateway.model import (
    AuthorizerConfig,
    GatewayResponseConfig,
    IntegrationConfig,
    IntegrationResponseConfig,
    MethodConfig,
    ResourceConfig,
    RestApiConfig,
    StageConfig,
)
from serverless_lab.dataplane.iam.policy import Policy

REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = 1_700_000_000.0  # Tue Nov 14 22:13:20 UTC 2023
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ada-items"
LAMBDA_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"


@cache
def _private_key(seed: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class UserPoolKeys:
    """A user pool's RS256 key, its JWKS as Cognito publishes it, and tokens signed like Cognito's."""

    pool_id: str = f"{REGION}_LabPool01"
    kid: str = "lab-key-1"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    @property
    def arn(self) -> str:
        return f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{self.pool_id}"

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return _private_key(self.pool_id + self.kid)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, key: Any = None) -> str:
        return jwt.encode(
            claims, key or self.private_key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def id_claims(self, **overrides: Any) -> dict[str, Any]:
        claims = {
            "sub": "5f1b2c3d-0000-4000-8000-00000000ada1",
            "email_verified": True,
            "iss": self.issuer,
            "cognito:username": "ada",
            "cognito:groups": ["admins", "learners"],
            "origin_jti": str(uuid.UUID(int=1)),
            "aud": CLIENT_ID,
            "event_id": str(uuid.UUID(int=2)),
            "token_use": "id",
            "auth_time": int(NOW) - 60,
            "exp": int(NOW) + 3600,
            "iat": int(NOW) - 60,
            "jti": str(uuid.UUID(int=3)),
            "email": "ada@example.com",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def access_claims(self, **overrides: Any) -> dict[str, Any]:
        claims = {
            "sub": "5f1b2c3d-0000-4000-8000-00000000ada1",
            "iss": self.issuer,
            "client_id": CLIENT_ID,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin items/read",
            "auth_time": int(NOW) - 60,
            "exp": int(NOW) + 3600,
            "iat": int(NOW) - 60,
            "jti": str(uuid.UUID(int=4)),
            "username": "ada",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}


POOL = UserPoolKeys()
OTHER_POOL = UserPoolKeys(pool_id=f"{REGION}_OtherPool9", kid="other-key")


def lambda_method(
    http_method: str, *, cognito: bool = False, scopes: tuple[str, ...] = (), timeout_ms: int = 29_000
) -> MethodConfig:
    return MethodConfig(
        http_method=http_method,
        authorization_type="COGNITO_USER_POOLS" if cognito else "NONE",
        authorizer_id="auth01" if cognito else None,
        authorization_scopes=scopes,
        integration=IntegrationConfig(
            type="AWS_PROXY", uri=LAMBDA_URI, http_method="POST", timeout_in_millis=timeout_ms
        ),
    )


def cors_method() -> MethodConfig:
    return MethodConfig(
        http_method="OPTIONS",
        integration=IntegrationConfig(
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
            integration_responses={
                "200": IntegrationResponseConfig(
                    status_code="200",
                    response_parameters={
                        "method.response.header.Access-Control-Allow-Origin": "'*'",
                        "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
                        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
                    },
                    response_templates={"application/json": ""},
                )
            },
        ),
    )


def make_api(
    *,
    binary_media_types: tuple[str, ...] = (),
    variables: dict[str, str] | None = None,
    timeout_ms: int = 29_000,
    gateway_responses: tuple[GatewayResponseConfig, ...] = (),
    endpoint_types: tuple[str, ...] = ("REGIONAL",),
) -> RestApiConfig:
    """The lab's API: /items (GET, POST with Cognito, OPTIONS mock), /items/{id}, a literal, a proxy.
    REGIONAL, as the lab makes it; a REST API made without an endpoint configuration is EDGE."""

    def resource(rid: str, path: str, *methods: MethodConfig) -> ResourceConfig:
        _parent, _, part = path.rpartition("/")
        return ResourceConfig(
            id=rid,
            path=path,
            path_part=part or None,
            parent_id=None if path == "/" else "root",
            methods={m.http_method: m for m in methods},
        )

    return RestApiConfig(
        id="a1b2c3d4e5",
        name="ada-items-api",
        region=REGION,
        stage=StageConfig(name="prod", deployment_id="dep123", variables=variables or {}),
        endpoint_types=endpoint_types,
        resources=(
            resource("root", "/", lambda_method("GET")),
            resource(
                "res01",
                "/items",
                lambda_method("GET", cognito=True, timeout_ms=timeout_ms),
                lambda_method("POST", cognito=True),
                cors_method(),
            ),
            resource("res02", "/items/{id}", lambda_method("GET", cognito=True), lambda_method("DELETE")),
            resource("res03", "/items/special", lambda_method("GET")),
            resource("res04", "/items/{id}/tags/{tag}", lambda_method("PUT")),
            resource(
                "res05",
                "/public",
            ),
            resource("res06", "/public/{proxy+}", lambda_method("ANY")),
            resource("res07", "/reports", lambda_method("GET", cognito=True, scopes=("items/read",))),
            resource("res08", "/files", lambda_method("POST")),
        ),
        authorizers={
            "auth01": AuthorizerConfig(
                id="auth01", name="lab-cognito", type="COGNITO_USER_POOLS", provider_arns=(POOL.arn,)
            )
        },
        binary_media_types=binary_media_types,
        gateway_responses={response.response_type: response for response in gateway_responses},
    )


@dataclass
class FakeLambda:
    """Stands in for the Lambda service: records each invoke and answers with a prepared result."""

    result: LambdaResult = field(
        default_factory=lambda: LambdaResult(payload=b'{"statusCode": 200, "body": "ok"}')
    )
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)

    def __call__(self, function_arn: str, event: dict[str, Any], timeout_s: float) -> LambdaResult:
        self.calls.append((function_arn, event, timeout_s))
        return self.result

    @property
    def last_event(self) -> dict[str, Any]:
        return self.calls[-1][1]


@dataclass
class JwksServer:
    """Serves the pools' JWKS by issuer and counts the fetches (to observe the authorizer's cache)."""

    pools: tuple[UserPoolKeys, ...] = (POOL, OTHER_POOL)
    fetches: list[str] = field(default_factory=list)

    def __call__(self, issuer: str) -> dict[str, Any]:
        self.fetches.append(issuer)
        for pool in self.pools:
            if pool.issuer == issuer:
                return pool.jwks()
        raise KeyError(issuer)


def invoke_permission(source_arn: str = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/*") -> Policy:
    """A function's resource policy as lambda.add_permission writes it: API Gateway may invoke it from
    `source_arn` (any stage, method, path and authorizer of the test API by default)."""
    return Policy.parse(
        {
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [
                {
                    "Sid": "apigateway",
                    "Effect": "Allow",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "lambda:InvokeFunction",
                    "Resource": "*",
                    "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}},
                }
            ],
        }
    )


def make_gateway(
    api: RestApiConfig | None = None,
    fake_lambda: Any = None,
    jwks: JwksServer | None = None,
    clock: Any = None,
    api_keys: dict[str, Any] | None = None,
    policies: PolicySource | None = None,
) -> tuple[Gateway, Any, JwksServer]:
    """The gateway core serving `api` (the lab's API by default) with a fake Lambda (any callable taking
    function ARN, event and timeout), the pools' JWKS, as the stage's usage plans `api_keys`, and as the
    functions' resource policies `policies` (by function ARN; every function may be invoked from the API
    by default)."""
    api = api or make_api()
    granted = invoke_permission()
    fake_lambda = fake_lambda or FakeLambda()
    jwks = jwks or JwksServer()

    def api_source(rest_api_id: str, stage: str) -> RestApiConfig:
        if rest_api_id != api.id or stage != api.stage.name:
            raise KeyError((rest_api_id, stage))
        return api

    gateway = Gateway(
        api_source=api_source,
        invoke=fake_lambda,
        jwks_source=jwks,
        clock=clock or (lambda: NOW),
        account_id=ACCOUNT,
        api_keys_source=lambda rest_api_id, stage: api_keys or {},
        function_policy_source=policies or (lambda function_arn: granted),
    )
    return gateway, fake_lambda, jwks
