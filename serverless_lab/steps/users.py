"""The `users` step: the Cognito user pool people sign in to, the browser's app client, sample users.

- Password policy: at least 8 characters with upper case, lower case and digits (symbols optional), so the
  sample passwords in data/users.json and what a student types in the sign-up form follow one rule.
- Usernames are kept as entered ("ada"), not replaced by the email address (no UsernameAttributes), and
  matched case-insensitively as AWS recommends for new pools. The email is an attribute, verified
  automatically by a code Cognito sends (AutoVerifiedAttributes).
- The app client runs in a browser, which cannot keep a secret: GenerateSecret=False. It allows
  USER_PASSWORD_AUTH (the lab's sign-in form sends the password to Cognito over TLS), USER_SRP_AUTH (what the
  Amplify libraries use) and refresh tokens. ID and access tokens last 60 minutes, refresh tokens 30 days.
- Sample users are created by an administrator (admin_create_user with MessageAction=SUPPRESS: no invitation
  email) and then given a permanent password (admin_set_user_password), which moves them from
  FORCE_CHANGE_PASSWORD to CONFIRMED so they can sign in at once.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from botocore.exceptions import ClientError

from .base import STUDENT_TAG, Call, Check, Plan, Ref, Report, Step, is_error

PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
    "TemporaryPasswordValidityDays": 7,
}
AUTH_FLOWS = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]
TOKEN_VALIDITY = {"AccessTokenValidity": 60, "IdTokenValidity": 60, "RefreshTokenValidity": 30}
TOKEN_UNITS = {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}


READ_ATTRIBUTES = sorted(["email", "email_verified", "preferred_username"])


class UsersStep(Step):
    name = "users"
    title = "Cognito user pool"
    requires = ()

    @property
    def pool_name(self) -> str:
        return self.names("users")

    @property
    def client_name(self) -> str:
        return self.names("web")

    # --- reading the backend ----------------------------------------------------------------------
    def find_pool(self) -> dict[str, Any] | None:
        """The student's pool, found by name (Cognito does not make pool names unique; the lab never makes two)."""
        paginator = self.client("cognito-idp").get_paginator("list_user_pools")
        for page in paginator.paginate(MaxResults=60):
            for pool in page.get("UserPools", []):
                if pool["Name"] == self.pool_name:
                    try:
                        return self.client("cognito-idp").describe_user_pool(UserPoolId=pool["Id"])[
                            "UserPool"
                        ]
                    except ClientError as error:  # deleted between the list and the describe
                        if is_error(error, "ResourceNotFoundException"):
                            return None
                        raise
        return None

    def find_client(self, pool_id: str) -> dict[str, Any] | None:
        cognito = self.client("cognito-idp")
        for page in cognito.get_paginator("list_user_pool_clients").paginate(
            UserPoolId=pool_id, MaxResults=60
        ):
            for client in page.get("UserPoolClients", []):
                if client["ClientName"] == self.client_name:
                    return cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])[
                        "UserPoolClient"
                    ]
        return None

    def find_user(self, pool_id: str, username: str) -> dict[str, Any] | None:
        try:
            return self.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            if is_error(error, "UserNotFoundException"):
                return None
            raise

    def sample_users(self) -> list[dict[str, Any]]:
        """data/users.json: a list of {username, email, password, ...}; no file, no sample users."""
        path = self.context.data_dir / "users.json"
        if not path.exists():
            return []
        return list(json.loads(path.read_text()))

    # --- desired settings -------------------------------------------------------------------------
    def pool_settings(self) -> dict[str, Any]:
        """Settings of the pool that update_user_pool can change (it resets any setting it is not given)."""
        return {
            "UserPoolTags": {STUDENT_TAG: self.names.student},
            "Policies": {"PasswordPolicy": PASSWORD_POLICY},
            "AutoVerifiedAttributes": ["email"],
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},  # the site has a sign-up form
            "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        }

    def client_settings(self) -> dict[str, Any]:
        return {
            "ExplicitAuthFlows": AUTH_FLOWS,
            **TOKEN_VALIDITY,
            "TokenValidityUnits": TOKEN_UNITS,
            # "Incorrect username or password." whether or not the user exists, as AWS advises.
            "PreventUserExistenceErrors": "ENABLED",
            # The attributes the browser app may read; Cognito puts readable ones (email) in the ID token.
            "ReadAttributes": READ_ATTRIBUTES,
        }

    def pool_differs(self, pool: dict[str, Any]) -> bool:
        policy = pool.get("Policies", {}).get("PasswordPolicy", {})
        wanted = {k: v for k, v in PASSWORD_POLICY.items() if k != "TemporaryPasswordValidityDays"}
        return any(policy.get(k) != v for k, v in wanted.items()) or pool.get("AutoVerifiedAttributes") != [
            "email"
        ]

    def client_differs(self, client: dict[str, Any]) -> bool:
        if sorted(client.get("ExplicitAuthFlows", [])) != AUTH_FLOWS:
            return True
        if sorted(client.get("ReadAttributes", [])) != READ_ATTRIBUTES:
            return True
        return any(client.get(k) != v for k, v in TOKEN_VALIDITY.items())

    # --- plan -------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        plan = Plan(self.name)
        pool = self.find_pool()
        pool_id: str | Ref = Ref("user_pool_id")
        if pool is None:
            plan.append(
                Call(
                    "cognito-idp",
                    "create_user_pool",
                    {
                        "PoolName": self.pool_name,
                        **self.pool_settings(),
                        "UsernameConfiguration": {"CaseSensitive": False},
                        "Schema": [
                            {
                                "Name": "email",
                                "AttributeDataType": "String",
                                "Required": True,
                                "Mutable": True,
                            }
                        ],
                    },
                    why="password policy, email verified automatically",
                    save=("user_pool_id", "UserPool.Id"),
                )
            )
        else:
            pool_id = pool["Id"]
            if self.pool_differs(pool):
                plan.append(
                    Call(
                        "cognito-idp",
                        "update_user_pool",
                        {"UserPoolId": pool_id, **self.pool_settings()},
                        why="restore the password policy",
                    )
                )
        client = None if pool is None else self.find_client(pool["Id"])
        if client is None:
            plan.append(
                Call(
                    "cognito-idp",
                    "create_user_pool_client",
                    {
                        "UserPoolId": pool_id,
                        "ClientName": self.client_name,
                        "GenerateSecret": False,
                        **self.client_settings(),
                    },
                    why="browser app client: no secret, password + refresh flows",
                    save=("client_id", "UserPoolClient.ClientId"),
                )
            )
        elif self.client_differs(client):
            plan.append(
                Call(
                    "cognito-idp",
                    "update_user_pool_client",
                    {
                        "UserPoolId": pool_id,
                        "ClientId": client["ClientId"],
                        "ClientName": self.client_name,
                        **self.client_settings(),
                    },
                    why="restore auth flows and token validity",
                )
            )
        for user in self.sample_users():
            existing = None if pool is None else self.find_user(pool["Id"], user["username"])
            if existing is None:
                attributes = [
                    {"Name": "email", "Value": user["email"]},
                    {"Name": "email_verified", "Value": "true"},
                ]
                plan.append(
                    Call(
                        "cognito-idp",
                        "admin_create_user",
                        {
                            "UserPoolId": pool_id,
                            "Username": user["username"],
                            "UserAttributes": attributes,
                            "MessageAction": "SUPPRESS",
                        },
                        why=f"sample user {user['username']} (no invitation email)",
                    )
                )
            if existing is None or existing.get("UserStatus") != "CONFIRMED":
                plan.append(
                    Call(
                        "cognito-idp",
                        "admin_set_user_password",
                        {
                            "UserPoolId": pool_id,
                            "Username": user["username"],
                            "Password": user["password"],
                            "Permanent": True,
                        },
                        why=f"{user['username']}: FORCE_CHANGE_PASSWORD -> CONFIRMED",
                    )
                )
        return plan

    # --- outputs ----------------------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        pool = self.find_pool()
        if pool is None:
            return {}
        client = self.find_client(pool["Id"])
        subs = {}
        for user in self.sample_users():
            found = self.find_user(pool["Id"], user["username"])
            if found is not None:
                attributes = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
                subs[user["username"]] = attributes.get("sub", "")
        return {
            "user_pool_id": pool["Id"],
            "user_pool_arn": pool["Arn"],
            "client_id": client["ClientId"] if client else "",
            "issuer": self.context.backend.issuer(pool["Id"]),
            "sample_subs": subs,
        }

    # --- verify -----------------------------------------------------------------------------------
    def verify(self) -> Report:
        report = Report(self.name)
        pool = self.find_pool()
        report.append(Check(f"user pool {self.pool_name} exists", pool is not None))
        if pool is None:
            return report
        policy = pool.get("Policies", {}).get("PasswordPolicy", {})
        report.append(
            Check(
                "passwords need 8+ characters with upper case, lower case and digits",
                not self.pool_differs(pool),
                json.dumps(policy),
            )
        )
        client = self.find_client(pool["Id"])
        report.append(Check(f"app client {self.client_name} exists", client is not None))
        if client is None:
            return report
        report.append(
            Check("app client has no secret (it runs in a browser)", not client.get("ClientSecret"))
        )
        flows = sorted(client.get("ExplicitAuthFlows", []))
        report.append(
            Check(
                "app client allows USER_PASSWORD_AUTH and refresh tokens",
                {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(flows),
                str(flows),
            )
        )
        issuer = self.context.backend.issuer(pool["Id"])
        for user in self.sample_users():
            report.extend(self.verify_sample_user(pool["Id"], client["ClientId"], issuer, user))
        report.append(self.verify_jwks(pool["Id"]))
        return report

    def verify_sample_user(
        self, pool_id: str, client_id: str, issuer: str, user: dict[str, Any]
    ) -> list[Check]:
        found = self.find_user(pool_id, user["username"])
        status = (found or {}).get("UserStatus")
        detail = "missing: lab.apply('users') creates it" if found is None else f"it is {status}"
        checks = [Check(f"sample user {user['username']} is CONFIRMED", status == "CONFIRMED", detail)]
        try:
            result = self.client("cognito-idp").initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
            )["AuthenticationResult"]
            # Only the claims are read here; the signature is verified by the API's Cognito authorizer
            # (and checked in the data plane's tests), not by this sign-in check.
            claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
            ok = (
                claims.get("iss") == issuer
                and claims.get("aud") == client_id
                and claims.get("token_use") == "id"
            )
            detail = f"iss={claims.get('iss')} aud={claims.get('aud')}"
        except (ClientError, KeyError, jwt.PyJWTError) as error:
            ok, detail = False, str(error)
        checks.append(
            Check(f"{user['username']} signs in and gets an ID token for this pool and client", ok, detail)
        )
        return checks

    def verify_jwks(self, pool_id: str) -> Check:
        try:
            keys = self.context.backend.jwks(pool_id).get("keys", [])
        except (OSError, ValueError) as error:
            return Check("the pool publishes its signing keys (JWKS)", False, str(error))
        rs256 = [k for k in keys if k.get("kty") == "RSA" and k.get("alg", "RS256") == "RS256"]
        return Check("the pool publishes an RS256 signing key (JWKS)", bool(rs256), f"{len(keys)} key(s)")

    # --- destroy ----------------------------------------------------------------------------------
    def destroy(self) -> None:
        """Deletes the app client and the pool; deleting a pool deletes its users."""
        cognito = self.client("cognito-idp")
        while (pool := self.find_pool()) is not None:  # twice only if someone made a second pool by hand
            client = self.find_client(pool["Id"])
            try:
                if client is not None:
                    cognito.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
                cognito.delete_user_pool(UserPoolId=pool["Id"])
            except ClientError as error:
                if not is_error(error, "ResourceNotFoundException"):
                    raise
