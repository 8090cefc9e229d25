"""USER_SRP_AUTH in moto's Cognito, as Cognito runs it: the password is checked, the user id is the username.

Secure Remote Password (SRP-6a) is the sign-in flow of the AWS SDKs and Amplify (amazon-cognito-identity-js
uses it by default): the client proves it knows the password without sending it. moto 5.2 gets it wrong in
two ways (getmoto/moto#7562):

- InitiateAuth answers ``USER_ID_FOR_SRP`` = the user's sub. Cognito answers the username (a browser's
  InitiateAuth recorded in 2023: ``"USER_ID_FOR_SRP":"blog3"``), and the clients send that value back as
  USERNAME, which moto then cannot find: every SRP sign-in failed with UserNotFoundException.
- SALT and SRP_B are random hex, and RespondToAuthChallenge never checks PASSWORD_CLAIM_SIGNATURE: any
  password would sign in, which is more permissive than Cognito.

Here InitiateAuth answers the server's half of SRP computed from the user's password (moto keeps it; Cognito
keeps a verifier made from it), and RespondToAuthChallenge checks the client's signature, answering a wrong
password with Cognito's ``NotAuthorizedException: Incorrect username or password.``. The Cognito-specific
primitives (the 3072-bit group, k, u, the HKDF "Caldera Derived Key", the padding of hex values) are
pycognito's, the client side of the same protocol; only the server's two equations are written here:

    B = k·v + g^b mod N      v = g^x mod N,  x = H(salt | H(pool name | user id | ":" | password))
    S = (A · v^u)^b mod N    signature = HMAC-SHA256(HKDF(S, u), pool name | user id | secret block | timestamp)
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

_STATE = "_serverless_lab_srp"  # per backend: the SRP exchanges begun, by their secret block


@dataclass(frozen=True)
class SrpExchange:
    """The server's side of one sign-in, between InitiateAuth and RespondToAuthChallenge."""

    username: str
    pool_name: str  # the part of the pool id after "_"
    big_a: int
    big_b: int
    small_b: int
    verifier: int


def apply() -> None:
    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend.initiate_auth, "_serverless_lab_fix", False):
        return
    original_initiate = CognitoIdpBackend.initiate_auth
    original_respond = CognitoIdpBackend.respond_to_auth_challenge

    def initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        answer = original_initiate(self, client_id, auth_flow, auth_parameters)
        if answer.get("ChallengeName") != "PASSWORD_VERIFIER":
            return answer
        return begin_exchange(self, answer, auth_parameters)

    def respond_to_auth_challenge(
        self: Any, session: str, client_id: str, challenge_name: str, challenge_responses: dict[str, str]
    ) -> Any:
        if challenge_name == "PASSWORD_VERIFIER":
            check_password_claim(self, challenge_responses)
        return original_respond(self, session, client_id, challenge_name, challenge_responses)

    initiate_auth._serverless_lab_fix = True  # type: ignore[attr-defined]
    CognitoIdpBackend.initiate_auth = initiate_auth  # type: ignore[method-assign]
    CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge  # type: ignore[method-assign]


def begin_exchange(backend: Any, answer: dict[str, Any], auth_parameters: dict[str, str]) -> dict[str, Any]:
    """The PASSWORD_VERIFIER challenge with a real SALT, SRP_B and SECRET_BLOCK, and the username as
    USER_ID_FOR_SRP; moto's session moves to the secret block, which the client sends back."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from pycognito import aws_srp

    username, user_pool = backend.sessions.pop(answer["Session"])
    user = backend.admin_get_user(user_pool.id, username)
    big_n, g = aws_srp.hex_to_long(aws_srp.N_HEX), aws_srp.hex_to_long(aws_srp.G_HEX)
    big_a = aws_srp.hex_to_long(auth_parameters.get("SRP_A") or "0")
    if big_a % big_n == 0:  # SRP's safety check: A = 0 mod N would make the shared secret known
        raise NotAuthorizedError("Incorrect username or password.")
    pool_name = user_pool.id.split("_", 1)[1]
    salt_hex = aws_srp.long_to_hex(aws_srp.get_random(16))
    identity = aws_srp.hash_sha256(f"{pool_name}{user.username}:{user.password}".encode())
    x = aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(salt_hex) + identity))
    verifier = pow(g, x, big_n)
    k = aws_srp.hex_to_long(aws_srp.hex_hash("00" + aws_srp.N_HEX + "0" + aws_srp.G_HEX))
    small_b = aws_srp.get_random(128) % big_n
    big_b = (k * verifier + pow(g, small_b, big_n)) % big_n
    secret_block = base64.standard_b64encode(os.urandom(64)).decode()
    backend.sessions[secret_block] = (user.username, user_pool)
    exchanges = backend.__dict__.setdefault(_STATE, {})
    exchanges[secret_block] = SrpExchange(user.username, pool_name, big_a, big_b, small_b, verifier)
    return {
        "ChallengeName": "PASSWORD_VERIFIER",
        "Session": secret_block,
        "ChallengeParameters": {
            "SALT": salt_hex,
            "SRP_B": aws_srp.long_to_hex(big_b),
            "USERNAME": user.username,
            "USER_ID_FOR_SRP": user.username,
            "SECRET_BLOCK": secret_block,
        },
    }


def check_password_claim(backend: Any, responses: dict[str, str]) -> None:
    """The client's PASSWORD_CLAIM_SIGNATURE proves the password, or the answer is NotAuthorizedException
    and the exchange is over (a new InitiateAuth starts again, as with Cognito)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from pycognito import aws_srp

    secret_block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
    exchange: SrpExchange | None = backend.__dict__.get(_STATE, {}).pop(secret_block, None)
    if exchange is None:
        return  # not an exchange begun here: moto answers it (ResourceNotFoundException)
    big_n = aws_srp.hex_to_long(aws_srp.N_HEX)
    u = aws_srp.calculate_u(exchange.big_a, exchange.big_b)
    shared = pow(exchange.big_a * pow(exchange.verifier, u, big_n), exchange.small_b, big_n)
    key = aws_srp.compute_hkdf(
        bytearray.fromhex(aws_srp.pad_hex(shared)), bytearray.fromhex(aws_srp.pad_hex(aws_srp.long_to_hex(u)))
    )
    try:
        message = (
            exchange.pool_name.encode()
            + exchange.username.encode()
            + base64.standard_b64decode(secret_block)
            + (responses.get("TIMESTAMP") or "").encode()
        )
    except ValueError:
        message = b""
    expected = base64.standard_b64encode(hmac.new(key, message, sha256).digest()).decode()
    claimed = responses.get("PASSWORD_CLAIM_SIGNATURE") or ""
    if u == 0 or responses.get("USERNAME") != exchange.username or not hmac.compare_digest(expected, claimed):
        backend.sessions.pop(secret_block, None)
        raise NotAuthorizedError("Incorrect username or password.")
