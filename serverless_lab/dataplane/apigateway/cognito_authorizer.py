"""The Cognito user pool authorizer (type COGNITO_USER_POOLS) of a REST API, checking real JWTs.

How API Gateway decides, as documented and observed
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html):

- The token is read from the identity source header (`Authorization` by default), raw or with a
  `Bearer ` prefix (both are accepted by REST API user pool authorizers).
- Signature (RS256, key chosen by `kid` from the pool's JWKS), issuer (one of the providerARNs' pools)
  and expiry are checked. An expired token is 401 "The incoming token has expired"; every other failure,
  including no token at all, is 401 "Unauthorized".
- A method without authorizationScopes takes ID tokens only (`token_use` = `id`); a method with scopes
  takes access tokens only, carrying at least one of the scopes (API_Method.html: "When the method
  scope is configured, the client must provide an access token instead of an identity token").
- The claims reach the function as strings: numbers and booleans stringified, `exp` and `iat` as
  dates ("Tue Apr 04 18:39:39 UTC 2023"), lists joined with commas.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from serverless_lab.dataplane.apigateway.errors import (
    AuthorizerConfigurationError,
    TokenExpired,
    Unauthorized,
)
from serverless_lab.dataplane.apigateway.model import AuthorizerConfig, MethodConfig
from serverless_lab.dataplane.apigateway.proxy_event import MONTHS, WEEKDAYS
from serverless_lab.dataplane.http import HttpRequest

__all__ = ["AuthorizationResult", "CognitoAuthorizer", "format_java_date", "stringify_claims"]

_MAX_CACHED_RESULTS = 4096
# Claims API Gateway renders as dates rather than epoch seconds (auth_time stays a number).
_DATE_CLAIMS = ("exp", "iat")


@dataclass(frozen=True)
class AuthorizationResult:
    """A token the authorizer accepted: its claims as the function will see them, and how it went."""

    claims: dict[str, str]
    token_use: str
    jwks_cache_hit: bool
    result_cache_hit: bool = False
    expires_at: float = 0.0


class CognitoAuthorizer:
    """Verifies user pool tokens; the JWKS of each issuer is fetched once and kept (refreshed on a new kid)."""

    def __init__(
        self,
        jwks_source: Callable[[str], Mapping[str, Any]],
        clock: Callable[[], float] = time.time,
        app_clients_source: Callable[[str], Collection[str]] | None = None,
    ) -> None:
        self._jwks_source = jwks_source
        self._clock = clock
        self._app_clients_source = app_clients_source
        self._key_sets: dict[str, jwt.PyJWKSet] = {}
        # Authorizer result cache, as API Gateway keeps one per identity source value for
        # authorizerResultTtlInSeconds (300 s by default; 0 turns it off). Unlike AWS we still honour exp.
        self._results: dict[tuple[str, str, tuple[str, ...]], tuple[float, AuthorizationResult]] = {}
        self._lock = threading.Lock()

    def authorize(
        self, request: HttpRequest, authorizer: AuthorizerConfig, method: MethodConfig
    ) -> AuthorizationResult:
        """The caller's claims, or Unauthorized / TokenExpired as API Gateway would answer."""
        token = self._read_token(request, authorizer)
        cache_key = (authorizer.id, token, method.authorization_scopes)
        now = self._clock()
        # No lock to read: a dict lookup is atomic under the GIL, and the writer below replaces whole
        # entries. Every authorized request passes here; with eight clients the lock was contended.
        cached = self._results.get(cache_key)
        if cached is not None and now < cached[0]:
            if now >= cached[1].expires_at:
                raise TokenExpired()
            return cached[1]
        result = self._verify(token, authorizer, method)
        if authorizer.result_ttl_in_seconds > 0:
            # Kept as later hits report it, so that a hit returns the stored value and copies nothing.
            hit = dataclasses.replace(result, jwks_cache_hit=True, result_cache_hit=True)
            with self._lock:
                if len(self._results) >= _MAX_CACHED_RESULTS:
                    self._results.clear()
                self._results[cache_key] = (now + authorizer.result_ttl_in_seconds, hit)
        return result

    def _verify(self, token: str, authorizer: AuthorizerConfig, method: MethodConfig) -> AuthorizationResult:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise Unauthorized() from error
        issuer = unverified.get("iss")
        if issuer not in authorizer.issuers or header.get("alg") != "RS256":
            raise Unauthorized()
        key, cache_hit = self._signing_key(issuer, header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                # exp is checked below against the injected clock; aud is the app client id, which a
                # REST API authorizer does not configure.
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized() from error
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise Unauthorized()
        if self._clock() >= expires:
            raise TokenExpired()
        token_use = self._check_token_use(claims, method)
        self._check_app_client(issuer, claims, token_use)
        return AuthorizationResult(stringify_claims(claims), token_use, cache_hit, expires_at=float(expires))

    def _read_token(self, request: HttpRequest, authorizer: AuthorizerConfig) -> str:
        header_name = authorizer.header_name or "Authorization"
        value = (request.header(header_name) or "").strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if not value:
            raise Unauthorized()
        pattern = authorizer.identity_validation_expression
        if pattern and not re.fullmatch(pattern, value):
            raise Unauthorized()
        return value

    def _signing_key(self, issuer: str, kid: str | None) -> tuple[jwt.PyJWK, bool]:
        with self._lock:
            key_set = self._key_sets.get(issuer)
        cache_hit = key_set is not None
        key = _key_by_id(key_set, kid) if key_set else None
        if key is None:  # first use of this pool, or its keys rotated: fetch once more
            key_set = self._fetch_key_set(issuer)
            key = _key_by_id(key_set, kid)
            cache_hit = False
        if key is None:
            raise Unauthorized()
        return key, cache_hit

    def _fetch_key_set(self, issuer: str) -> jwt.PyJWKSet:
        try:
            key_set = jwt.PyJWKSet.from_dict(dict(self._jwks_source(issuer)))
        except (KeyError, LookupError, OSError, jwt.PyJWTError) as error:
            # The pool's keys cannot be read (deleted pool, no keys): AUTHORIZER_CONFIGURATION_ERROR.
            raise AuthorizerConfigurationError() from error
        with self._lock:
            self._key_sets[issuer] = key_set
        return key_set

    @staticmethod
    def _check_token_use(claims: Mapping[str, Any], method: MethodConfig) -> str:
        token_use = claims.get("token_use")
        if not method.authorization_scopes:
            if token_use != "id":
                raise Unauthorized()
            return token_use
        if token_use != "access":
            raise Unauthorized()
        granted = str(claims.get("scope") or "").split()
        if not set(granted) & set(method.authorization_scopes):
            raise Unauthorized()
        return token_use

    def _check_app_client(self, issuer: str, claims: Mapping[str, Any], token_use: str) -> None:
        client_id = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise Unauthorized()
        if self._app_clients_source is None:
            return
        pool_id = issuer.rsplit("/", 1)[1]
        if client_id not in self._app_clients_source(pool_id):
            raise Unauthorized()


def _key_by_id(key_set: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    for key in key_set.keys:
        if key.key_id == kid:
            return key
    return None


def format_java_date(epoch_seconds: float) -> str:
    """Java's Date.toString() in UTC, which is how REST APIs render exp and iat: `Tue Apr 04 18:39:39 UTC 2023`."""
    moment = time.gmtime(epoch_seconds)
    clock = time.strftime("%H:%M:%S", moment)
    return f"{WEEKDAYS[moment.tm_wday]} {MONTHS[moment.tm_mon - 1]} {moment.tm_mday:02d} {clock} UTC {moment.tm_year}"


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the function: every value a string."""
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if value is None:
            continue
        if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            rendered[name] = format_java_date(value)
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            rendered[name] = ",".join(str(item) for item in value)
        else:
            rendered[name] = str(value)
    return rendered
