"""How much the local API Gateway core costs per request, as ratios to a baseline measured in the same run.

Run: `.venv/bin/python benchmarks/bench_gateway_core.py [--number N]`

The baseline is the least any gateway must do per request: serialize the proxy event to JSON and parse
the function's answer (what crossing into a Lambda worker costs). Each case is `Gateway.handle()` with an
instant in-process "Lambda", so the numbers show the gateway's own overhead: routing, event building,
the RS256 check of a Cognito token (JWKS cached after the first request; the authorizer result cached
for authorizerResultTtlInSeconds, or verified every time with a TTL of 0), answer mapping.
"""

from __future__ import annotations

import argparse
import json
import time
import timeit
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from serverless_lab.dataplane.apigateway.gateway import Gateway, LambdaResult
from serverless_lab.dataplane.apigateway.model import (
    AuthorizerConfig,
    IntegrationConfig,
    MethodConfig,
    ResourceConfig,
    RestApiConfig,
    StageConfig,
)
from serverless_lab.dataplane.http import HttpRequest
from serverless_lab.dataplane.iam.policy import Policy

REGION, ACCOUNT, POOL_ID = "us-east-1", "123456789012", "us-east-1_Bench0001"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench"
URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
ANSWER = json.dumps(
    {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"items":[]}'}
)


def build_api() -> RestApiConfig:
    integration = IntegrationConfig(type="AWS_PROXY", uri=URI)
    open_get = MethodConfig(http_method="GET", integration=integration)
    cognito_get = MethodConfig(
        http_method="GET",
        authorization_type="COGNITO_USER_POOLS",
        authorizer_id="a1",
        integration=integration,
    )
    resources = [ResourceConfig(id="root", path="/")]
    for index in range(20):  # a realistic tree: 20 collections with an item resource each
        resources.append(ResourceConfig(id=f"c{index}", path=f"/things{index}", methods={"GET": open_get}))
        resources.append(
            ResourceConfig(id=f"i{index}", path=f"/things{index}/{{id}}", methods={"GET": open_get})
        )
    resources.append(ResourceConfig(id="items", path="/items", methods={"GET": cognito_get}))
    uncached_get = MethodConfig(
        http_method="GET",
        authorization_type="COGNITO_USER_POOLS",
        authorizer_id="a0",
        integration=integration,
    )
    resources.append(ResourceConfig(id="verify", path="/verify", methods={"GET": uncached_get}))
    pool_arn = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{POOL_ID}"
    return RestApiConfig(
        id="benchapi01",
        name="bench",
        region=REGION,
        stage=StageConfig(name="prod"),
        resources=tuple(resources),
        authorizers={
            "a1": AuthorizerConfig(
                id="a1", name="cognito", type="COGNITO_USER_POOLS", provider_arns=(pool_arn,)
            ),
            # authorizerResultTtlInSeconds = 0: every request verifies the RS256 signature again.
            "a0": AuthorizerConfig(
                id="a0",
                name="no-cache",
                type="COGNITO_USER_POOLS",
                provider_arns=(pool_arn,),
                result_ttl_in_seconds=0,
            ),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="requests per case")
    number = parser.parse_args().number

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "alg": "RS256"}
    now = time.time()
    token = jwt.encode(
        {
            "iss": ISSUER,
            "sub": "u1",
            "aud": "client",
            "token_use": "id",
            "exp": int(now) + 3600,
            "iat": int(now),
            "cognito:username": "ada",
        },
        key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    api = build_api()

    def invoke(function_arn: str, event: dict[str, Any], timeout_s: float) -> LambdaResult:
        return LambdaResult(payload=ANSWER)

    # The permission API Gateway needs to invoke the functions (lambda.add_permission), checked per invoke.
    permission = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "lambda:InvokeFunction",
                    "Resource": FUNCTION_ARN,
                    "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:{REGION}:*:{api.id}/*"}},
                }
            ],
        }
    )
    gateway = Gateway(
        api_source=lambda api_id, stage: api,
        invoke=invoke,
        jwks_source=lambda issuer: {"keys": [jwk]},
        function_policy_source=lambda function_arn: permission,
    )
    headers = (("Host", "127.0.0.1:8080"), ("User-Agent", "bench"), ("Accept", "application/json"))
    cases = {
        "open GET /things7/42": HttpRequest("GET", "/things7/42", query="limit=10", headers=headers),
        "Cognito GET /items (cached)": HttpRequest(
            "GET", "/items", headers=(*headers, ("Authorization", token))
        ),
        "Cognito GET /verify (TTL 0)": HttpRequest(
            "GET", "/verify", headers=(*headers, ("Authorization", token))
        ),
        "403 GET /nowhere": HttpRequest("GET", "/nowhere", headers=headers),
    }
    sample_event: dict[str, Any] = {}

    def capture(function_arn: str, event: dict[str, Any], timeout_s: float) -> LambdaResult:
        sample_event.update(event)
        return LambdaResult(payload=ANSWER)

    Gateway(
        api_source=lambda a, s: api,
        invoke=capture,
        jwks_source=lambda i: {"keys": [jwk]},
        function_policy_source=lambda function_arn: permission,
    ).handle(cases["open GET /things7/42"], api.id, "prod")

    def baseline() -> None:
        json.loads(json.dumps(sample_event))
        json.loads(ANSWER)

    base = min(timeit.repeat(baseline, number=number, repeat=5)) / number
    print(f"baseline (event JSON round trip + answer parse): {base * 1e6:8.1f} µs/request")
    for name, request in cases.items():
        gateway.handle(request, api.id, "prod")  # warm: route table built, JWKS cached
        cost = min(
            timeit.repeat(lambda r=request: gateway.handle(r, api.id, "prod"), number=number, repeat=5)
        )
        per_request = cost / number
        print(f"{name:28s} {per_request * 1e6:8.1f} µs/request  = {per_request / base:5.1f} × baseline")


if __name__ == "__main__":
    main()
