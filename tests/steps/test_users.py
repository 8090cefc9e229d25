"""The `users` step on the memory backend: pool, browser app client, sample users who can sign in."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from stack_helpers import NOTHING_LEFT, operations, users_functions_api_resources

from serverless_lab.lab import Lab
from serverless_lab.steps.users import AUTH_FLOWS


def sample_users(root: Path) -> list[dict]:
    return json.loads((root / "data" / "users.json").read_text())


def expected_plan(users: list[dict]) -> list[str]:
    return ["create_user_pool", "create_user_pool_client"] + [
        "admin_create_user",
        "admin_set_user_password",
    ] * len(users)


def test_users_lifecycle_plan_apply_verify_destroy(lab: Lab, site_root: Path) -> None:
    users = sample_users(site_root)
    assert users, "the test needs data/users.json"
    plan = lab.plan("users")
    assert operations(plan) == expected_plan(users)
    assert plan[0].params["PoolName"] == f"sl-{lab.student}-users"
    assert plan[0].params["Policies"]["PasswordPolicy"]["MinimumLength"] == 8

    outputs = lab.apply("users")
    assert lab.plan("users") == []
    report = lab.verify("users")
    assert report.passed, str(report)

    pool_id = outputs["user_pool_id"]
    assert outputs["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert outputs["user_pool_arn"].endswith(f":userpool/{pool_id}")
    assert sorted(outputs["sample_subs"]) == sorted(u["username"] for u in users)
    assert len(set(outputs["sample_subs"].values())) == len(users)
    assert all(outputs["sample_subs"].values())

    lab.destroy("users")
    assert users_functions_api_resources(lab) == NOTHING_LEFT
    lab.destroy("users")  # idempotent
    assert lab.step("users").outputs() == {}
    assert operations(lab.plan("users")) == expected_plan(users)


def test_users_client_is_a_browser_client_and_tokens_name_pool_and_client(lab: Lab, site_root: Path) -> None:
    outputs = lab.apply("users")
    cognito = lab.backend.client("cognito-idp")
    client = cognito.describe_user_pool_client(
        UserPoolId=outputs["user_pool_id"], ClientId=outputs["client_id"]
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    assert sorted(client["ExplicitAuthFlows"]) == AUTH_FLOWS
    assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (
        60,
        60,
        30,
    )

    user = sample_users(site_root)[1]
    tokens = cognito.initiate_auth(
        ClientId=outputs["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )["AuthenticationResult"]
    # Here the signature is checked too, against the pool's published keys, as the authorizer will.
    keys = {key["kid"]: key for key in lab.backend.jwks(outputs["user_pool_id"])["keys"]}
    header = jwt.get_unverified_header(tokens["IdToken"])
    public_key = jwt.PyJWK(keys[header["kid"]]).key
    claims = jwt.decode(
        tokens["IdToken"],
        public_key,
        algorithms=["RS256"],
        audience=outputs["client_id"],
        issuer=outputs["issuer"],
    )
    assert claims["sub"] == outputs["sample_subs"][user["username"]]
    assert claims["cognito:username"] == user["username"]

    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=outputs["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"] + "x"},
        )
    lab.destroy("users")


def test_users_interrupted_apply_is_partial_and_reapply_completes(lab: Lab, site_root: Path) -> None:
    step = lab.step("users")
    plan = step.plan()
    # Interrupted after every call in turn: the plan is then exactly the calls not made yet; after
    # admin_create_user, the user waits in FORCE_CHANGE_PASSWORD for its password.
    for done, call in enumerate(plan[:-1], start=1):
        step.execute(call)
        assert operations(lab.plan("users")) == operations(plan)[done:], (
            f"after {call.operation} (call {done})"
        )
        if done == 3:
            assert lab.status().loc["users", "state"] == "partial"
    lab.apply("users")
    assert lab.plan("users") == []
    assert lab.verify("users").passed
    lab.destroy("users")


def test_users_without_sample_file_makes_no_users(make_lab, site_root: Path) -> None:
    (site_root / "data" / "users.json").unlink()
    lab = make_lab()
    assert operations(lab.plan("users")) == ["create_user_pool", "create_user_pool_client"]
    outputs = lab.apply("users")
    assert outputs["sample_subs"] == {}
    assert lab.verify("users").passed
    lab.destroy("users")
    assert users_functions_api_resources(lab) == NOTHING_LEFT


def test_users_drifted_password_policy_is_planned_back(lab: Lab) -> None:
    outputs = lab.apply("users")
    lab.backend.client("cognito-idp").update_user_pool(
        UserPoolId=outputs["user_pool_id"],
        Policies={"PasswordPolicy": {"MinimumLength": 6, "RequireUppercase": False}},
        AutoVerifiedAttributes=["email"],
    )
    report = lab.verify("users")
    assert not report.passed
    assert [c.description for c in report.failures()] == [
        "passwords need 8+ characters with upper case, lower case and digits"
    ]
    assert operations(lab.plan("users")) == ["update_user_pool"]
    lab.apply("users")
    assert lab.verify("users").passed
    lab.destroy("users")
