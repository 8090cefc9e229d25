"""The Cognito user pool authorizer: which tokens pass, which get 401, and the claims the function sees."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_helpers import CLIENT_ID, NOW, OTHER_POOL, POOL, JwksServer, make_api

from serverless_lab.dataplane.apigateway.cognito_authorizer import (
    CognitoAuthorizer,
    format_java_date,
    stringify_claims,
)
from serverless_lab.dataplane.apigateway.errors import (
    AuthorizerConfigurationError,
    TokenExpired,
    Unauthorized,
)
from serverless_lab.dataplane.apigateway.model import AuthorizerConfig, MethodConfig
from serverless_lab.dataplane.http import HttpRequest

AUTHORIZER = make_api().authorizers["auth01"]
ID_METHOD = MethodConfig(http_method="GET", authorization_type="COGNITO_USER_POOLS", authorizer_id="auth01")
SCOPED_METHOD = MethodConfig(
    http_method="GET",
    authorization_type="COGNITO_USER_POOLS",
    authorizer_id="auth01",
    authorization_scopes=("items/read",),
)
FORGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def authorize(authorization: str | None, method: MethodConfig = ID_METHOD, **options):
    headers = (("Authorization", authorization),) if authorization is not None else ()
    authorizer = CognitoAuthorizer(JwksServer(), clock=lambda: NOW, **options)
    return authorizer.authorize(HttpRequest("GET", "/items", headers=headers), AUTHORIZER, method)


def test_valid_id_token_passes_with_string_claims() -> None:
    result = authorize(POOL.sign(POOL.id_claims()))
    assert result.token_use == "id"
    claims = result.claims
    assert claims["sub"] == "5f1b2c3d-0000-4000-8000-00000000ada1"
    assert claims["cognito:username"] == "ada"
    assert claims["email_verified"] == "true"
    assert claims["cognito:groups"] == "admins,learners"
    assert claims["auth_time"] == str(int(NOW) - 60)
    assert claims["exp"] == "Tue Nov 14 23:13:20 UTC 2023"
    assert claims["iat"] == "Tue Nov 14 22:12:20 UTC 2023"
    assert claims["aud"] == CLIENT_ID
    assert all(isinstance(value, str) for value in claims.values())


def test_bearer_prefix_is_accepted() -> None:
    assert authorize("Bearer " + POOL.sign(POOL.id_claims())).claims["cognito:username"] == "ada"


@pytest.mark.parametrize(
    ("authorization", "method"),
    [
        pytest.param(None, ID_METHOD, id="missing header"),
        pytest.param("", ID_METHOD, id="empty header"),
        pytest.param("Bearer ", ID_METHOD, id="bearer without token"),
        pytest.param("not-a-jwt", ID_METHOD, id="garbage"),
        pytest.param(POOL.sign(POOL.id_claims(), key=FORGER_KEY), ID_METHOD, id="forged signature"),
        pytest.param(POOL.sign(POOL.id_claims(), kid="unknown-kid"), ID_METHOD, id="unknown kid"),
        pytest.param(OTHER_POOL.sign(OTHER_POOL.id_claims()), ID_METHOD, id="token of another pool"),
        pytest.param(POOL.sign(POOL.id_claims(iss=OTHER_POOL.issuer)), ID_METHOD, id="issuer swapped"),
        pytest.param(
            POOL.sign(POOL.access_claims()), ID_METHOD, id="access token on a method without scopes"
        ),
        pytest.param(POOL.sign(POOL.id_claims()), SCOPED_METHOD, id="id token on a scoped method"),
        pytest.param(
            POOL.sign(POOL.access_claims(scope="items/write")), SCOPED_METHOD, id="scope not granted"
        ),
        pytest.param(POOL.sign(POOL.id_claims(aud=None)), ID_METHOD, id="id token without audience"),
        pytest.param(POOL.sign(POOL.id_claims(exp=None)), ID_METHOD, id="no exp"),
        pytest.param(POOL.sign(POOL.id_claims(token_use="refresh")), ID_METHOD, id="wrong token_use"),
    ],
)
def test_rejected_with_401_unauthorized(authorization: str | None, method: MethodConfig) -> None:
    with pytest.raises(Unauthorized) as caught:
        authorize(authorization, method)
    assert type(caught.value) is Unauthorized
    assert (caught.value.status, caught.value.body()) == (401, b'{"message":"Unauthorized"}')


def test_hs256_token_is_rejected() -> None:
    forged = jwt.encode(POOL.id_claims(), "s" * 32, algorithm="HS256", headers={"kid": POOL.kid})
    with pytest.raises(Unauthorized):
        authorize(forged)


def test_expired_token_has_its_own_message() -> None:
    with pytest.raises(TokenExpired) as caught:
        authorize(POOL.sign(POOL.id_claims(exp=int(NOW) - 1)))
    assert caught.value.status == 401
    assert caught.value.body() == b'{"message":"The incoming token has expired"}'


def test_access_token_with_a_granted_scope_passes_on_a_scoped_method() -> None:
    result = authorize(POOL.sign(POOL.access_claims()), SCOPED_METHOD)
    assert result.token_use == "access"
    assert result.claims["scope"] == "aws.cognito.signin.user.admin items/read"


def test_audience_checked_against_the_pool_app_clients_when_known() -> None:
    clients = {POOL.pool_id: {CLIENT_ID}}
    token = POOL.sign(POOL.id_claims(aud="someone-elses-client"))
    with pytest.raises(Unauthorized):
        authorize(token, app_clients_source=lambda pool_id: clients.get(pool_id, set()))
    ok = POOL.sign(POOL.id_claims())
    assert (
        authorize(ok, app_clients_source=lambda pool_id: clients.get(pool_id, set())).claims["aud"]
        == CLIENT_ID
    )


def test_identity_validation_expression() -> None:
    authorizer = AuthorizerConfig(
        id="a",
        name="a",
        type="COGNITO_USER_POOLS",
        provider_arns=(POOL.arn,),
        identity_validation_expression=r"^ey[\w.-]+$",
    )
    checker = CognitoAuthorizer(JwksServer(), clock=lambda: NOW)
    token = POOL.sign(POOL.id_claims())
    assert checker.authorize(
        HttpRequest("GET", "/", headers=(("Authorization", token),)), authorizer, ID_METHOD
    )
    with pytest.raises(Unauthorized):
        request = HttpRequest("GET", "/", headers=(("Authorization", token + "!"),))
        checker.authorize(request, authorizer, ID_METHOD)


def test_custom_identity_source_header() -> None:
    authorizer = AuthorizerConfig(
        id="a",
        name="a",
        type="COGNITO_USER_POOLS",
        provider_arns=(POOL.arn,),
        identity_source="method.request.header.X-Id-Token",
    )
    checker = CognitoAuthorizer(JwksServer(), clock=lambda: NOW)
    token = POOL.sign(POOL.id_claims())
    with pytest.raises(Unauthorized):
        checker.authorize(HttpRequest("GET", "/", headers=(("Authorization", token),)), authorizer, ID_METHOD)
    request = HttpRequest("GET", "/", headers=(("x-id-token", token),))
    assert checker.authorize(request, authorizer, ID_METHOD).claims["sub"]


def test_jwks_fetched_once_per_issuer() -> None:
    jwks = JwksServer()
    checker = CognitoAuthorizer(jwks, clock=lambda: NOW)
    request = HttpRequest("GET", "/", headers=(("Authorization", POOL.sign(POOL.id_claims())),))
    first = checker.authorize(request, AUTHORIZER, ID_METHOD)
    second = checker.authorize(request, AUTHORIZER, ID_METHOD)
    assert (first.jwks_cache_hit, second.jwks_cache_hit) == (False, True)
    assert jwks.fetches == [POOL.issuer]


def test_unreadable_pool_keys_are_an_authorizer_configuration_error() -> None:
    checker = CognitoAuthorizer(JwksServer(pools=()), clock=lambda: NOW)
    request = HttpRequest("GET", "/", headers=(("Authorization", POOL.sign(POOL.id_claims())),))
    with pytest.raises(AuthorizerConfigurationError) as caught:
        checker.authorize(request, AUTHORIZER, ID_METHOD)
    assert (caught.value.status, caught.value.body()) == (500, b'{"message":null}')


def test_stringify_claims() -> None:
    assert stringify_claims({"n": 3, "f": 1.5, "b": False, "l": ["x"], "none": None, "exp": 0}) == {
        "n": "3",
        "f": "1.5",
        "b": "false",
        "l": "x",
        "exp": "Thu Jan 01 00:00:00 UTC 1970",
    }
    assert format_java_date(1680629979) == "Tue Apr 04 17:39:39 UTC 2023"


def test_result_cache_serves_the_same_token_and_still_honours_exp() -> None:
    clock = [NOW]
    checker = CognitoAuthorizer(JwksServer(), clock=lambda: clock[0])
    token = POOL.sign(POOL.id_claims(exp=int(NOW) + 100))
    request = HttpRequest("GET", "/", headers=(("Authorization", token),))
    assert checker.authorize(request, AUTHORIZER, ID_METHOD).result_cache_hit is False
    clock[0] = NOW + 50
    assert checker.authorize(request, AUTHORIZER, ID_METHOD).result_cache_hit is True
    clock[0] = NOW + 100
    with pytest.raises(TokenExpired):
        checker.authorize(request, AUTHORIZER, ID_METHOD)


def test_result_cache_off_with_ttl_zero() -> None:
    authorizer = AuthorizerConfig(
        id="a", name="a", type="COGNITO_USER_POOLS", provider_arns=(POOL.arn,), result_ttl_in_seconds=0
    )
    checker = CognitoAuthorizer(JwksServer(), clock=lambda: NOW)
    request = HttpRequest("GET", "/", headers=(("Authorization", POOL.sign(POOL.id_claims())),))
    results = [checker.authorize(request, authorizer, ID_METHOD) for _ in range(2)]
    assert [r.result_cache_hit for r in results] == [False, False]
    assert [r.jwks_cache_hit for r in results] == [False, True]
