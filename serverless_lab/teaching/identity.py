"""Who is working (the student's name), the sample users, their Cognito tokens, decoded and tampered with."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pandas as pd

from ..classroom.identity import current_student
from ..errors import UsageError
from ..lab import PROJECT_ROOT
from .deployed import deployed

STUDENT_VARIABLE = "SERVERLESS_LAB_STUDENT"
DEFAULT_STUDENT = "student"

# What each claim of a Cognito token means (Amazon Cognito Developer Guide, "Understanding the ID token"
# and "Understanding the access token"), shown beside its value in claims_table().
CLAIM_MEANINGS = {
    "sub": "the user's unique, immutable id: the items API keys every item by it",
    "iss": "the user pool that issued the token (the authorizer checks it)",
    "aud": "ID token: the app client the token was issued to (the authorizer checks it)",
    "client_id": "access token: the app client the token was issued to",
    "token_use": "'id' or 'access'; a Cognito authorizer without scopes accepts ID tokens",
    "auth_time": "when the user signed in",
    "iat": "issued at",
    "exp": "expires at: after it API Gateway answers 401 (the token has expired)",
    "email": "an attribute of the user, copied into the ID token",
    "email_verified": "whether the email address was confirmed",
    "cognito:username": "the name the user signs in with",
    "username": "access token: the name the user signs in with",
    "jti": "the token's unique id",
    "origin_jti": "the id of the sign-in that produced this token",
    "event_id": "the sign-in event",
    "scope": "access token: what the token allows (aws.cognito.signin.user.admin)",
}
TIME_CLAIMS = ("auth_time", "iat", "exp")


def student(default: str = DEFAULT_STUDENT) -> str:
    """The student name for this notebook: on a JupyterHub the hub's user, made a valid name by the rule in
    classroom/identity.py; else $SERVERLESS_LAB_STUDENT, else `default` (tests set one per notebook)."""
    return current_student(default)


def sample_users(root: Path = PROJECT_ROOT) -> list[dict[str, str]]:
    """data/users.json: the users the users step creates (username, email, password)."""
    return list(json.loads((root / "data" / "users.json").read_text()))


def sample_password(username: str, root: Path = PROJECT_ROOT) -> str:
    for user in sample_users(root):
        if user["username"] == username:
            return user["password"]
    names = ", ".join(u["username"] for u in sample_users(root))
    raise UsageError(f"{username!r} is not a sample user. Fix: use one of {names}, or pass password=...")


@dataclass(frozen=True)
class Tokens:
    """What Cognito's InitiateAuth answers on a successful sign-in (AuthenticationResult)."""

    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int

    def _repr_html_(self) -> str:
        return (
            f"<p>ID token ({len(self.id_token)} characters), access token ({len(self.access_token)}), "
            f"refresh token ({len(self.refresh_token)}); valid for {self.expires_in} s.</p>"
        )


def sign_in(lab: Any, username: str = "ada", password: str | None = None) -> Tokens:
    """Signs a user in with USER_PASSWORD_AUTH, as the web app's sign-in form does."""
    users = deployed(lab, "users")
    answer = lab.backend.client("cognito-idp").initiate_auth(
        ClientId=users["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": username,
            "PASSWORD": password if password is not None else sample_password(username, lab.root),
        },
    )["AuthenticationResult"]
    return Tokens(
        id_token=answer["IdToken"],
        access_token=answer["AccessToken"],
        refresh_token=answer.get("RefreshToken", ""),
        expires_in=int(answer.get("ExpiresIn", 3600)),
    )


def decode_token(token: str) -> dict[str, dict[str, Any]]:
    """{"header": ..., "claims": ...} of a JWT, read without checking the signature (for display only:
    the API's Cognito authorizer is what verifies it)."""
    try:
        return {
            "header": jwt.get_unverified_header(token),
            "claims": jwt.decode(token, options={"verify_signature": False}),
        }
    except jwt.PyJWTError as error:
        raise UsageError(f"Not a JWT ({error}). Fix: pass tokens.id_token or tokens.access_token.") from error


def claims_table(token: str) -> pd.DataFrame:
    """One row per claim: its value (times also as UTC dates) and what it means."""
    rows = []
    for claim, value in decode_token(token)["claims"].items():
        shown = value
        if claim in TIME_CLAIMS and isinstance(value, int | float):
            shown = f"{value} ({datetime.fromtimestamp(value, UTC):%Y-%m-%d %H:%M:%S} UTC)"
        rows.append({"claim": claim, "value": str(shown), "meaning": CLAIM_MEANINGS.get(claim, "")})
    return pd.DataFrame(rows).set_index("claim")


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def tamper_token(token: str, **changes: Any) -> str:
    """The same token with some claims changed and the original signature kept, as an attacker would try.

    Only the payload is re-encoded (base64url JSON, RFC 7519); without the pool's private key the
    signature no longer matches, so the authorizer answers 401.
    """
    try:
        header, _payload, signature = token.split(".")
    except ValueError as error:
        raise UsageError("Not a JWT: a token has three parts separated by dots.") from error
    claims = decode_token(token)["claims"] | changes
    payload = _base64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{signature}"


def verify_id_token(lab: Any, token: str) -> str:
    """What API Gateway's Cognito authorizer decides about an ID token, in one line: the signature against
    the pool's published keys (JWKS, the key named by `kid`), the issuer, the audience (the app client),
    `token_use` and the expiry, with PyJWT, as the authorizer of 06-api does on every request."""
    users = deployed(lab, "users")
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = jwt.PyJWKSet.from_dict(dict(lab.backend.jwks(users["user_pool_id"])))
        key = next((k for k in keys.keys if k.key_id == kid), None)
        if key is None:
            return f"rejected: no key {kid!r} in the pool's JWKS"
        claims = jwt.decode(
            token, key, algorithms=["RS256"], audience=users["client_id"], issuer=users["issuer"]
        )
    except jwt.PyJWTError as error:
        return f"rejected: {type(error).__name__}: {error}"
    if claims.get("token_use") != "id":
        return f"rejected: token_use is {claims.get('token_use')!r}, not 'id'"
    return f"valid: sub={claims['sub']} ({claims.get('cognito:username')}), signed by the pool's key {kid}"
