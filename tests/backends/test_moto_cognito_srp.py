"""USER_SRP_AUTH on the memory backend, signed in with pycognito's SRP client (the client side of Cognito's
SRP, as the AWS SDKs run it): the right password signs in, a wrong one gets Cognito's answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from serverless_lab.backends import make_backend

PASSWORD = "Srp-passw0rd"


@pytest.fixture(scope="module")
def pool() -> tuple[Any, str, str]:
    """A user pool with a confirmed user, as the users step makes it (SRP, password and refresh flows)."""
    backend = make_backend("memory")
    idp = backend.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName=f"srp-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client_id, Username="grace", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="grace")
    return idp, pool_id, client_id


def srp(pool: tuple[Any, str, str], password: str, username: str = "grace") -> AWSSRP:
    idp, pool_id, client_id = pool
    return AWSSRP(username=username, password=password, pool_id=pool_id, client_id=client_id, client=idp)


def test_the_right_password_signs_in_with_srp(pool: tuple[Any, str, str]) -> None:
    tokens = srp(pool, PASSWORD).authenticate_user()
    assert set(tokens["AuthenticationResult"]) >= {"IdToken", "AccessToken", "RefreshToken"}


def test_the_challenge_names_the_user_by_username_as_cognito_does(pool: tuple[Any, str, str]) -> None:
    idp, _pool_id, client_id = pool
    client = srp(pool, PASSWORD)
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=client.get_auth_params()
    )
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    parameters = challenge["ChallengeParameters"]
    assert parameters["USER_ID_FOR_SRP"] == parameters["USERNAME"] == "grace"  # moto answered the sub
    assert int(parameters["SRP_B"], 16) > 0 and int(parameters["SALT"], 16) > 0


def test_a_wrong_password_is_refused_as_cognito_refuses_it(pool: tuple[Any, str, str]) -> None:
    with pytest.raises(ClientError) as refused:
        srp(pool, "Wrong-passw0rd").authenticate_user()
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", "Incorrect username or password.")


def test_a_refused_claim_cannot_be_retried_with_the_same_challenge(pool: tuple[Any, str, str]) -> None:
    idp, _pool_id, client_id = pool
    client = srp(pool, "Wrong-passw0rd")
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=client.get_auth_params()
    )
    claim = client.process_challenge(challenge["ChallengeParameters"], client.get_auth_params())

    def respond(responses: dict[str, str]) -> Any:
        return idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
        )

    with pytest.raises(ClientError) as refused:
        respond(claim)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # Before the fix any signature passed; now even the same secret block with another one does not.
    with pytest.raises(ClientError) as again:
        respond({**claim, "PASSWORD_CLAIM_SIGNATURE": "AAAA"})
    # The exchange is over: moto no longer has the session (its answer for an unknown one).
    assert again.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_claim_must_name_the_user_it_was_made_for(pool: tuple[Any, str, str]) -> None:
    idp, pool_id, client_id = pool
    idp.admin_create_user(UserPoolId=pool_id, Username="mallory", TemporaryPassword="Tmp-passw0rd")
    client = srp(pool, PASSWORD)
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=client.get_auth_params()
    )
    claim = client.process_challenge(challenge["ChallengeParameters"], client.get_auth_params())
    with pytest.raises(ClientError) as refused:
        idp.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses={**claim, "USERNAME": "mallory"},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
