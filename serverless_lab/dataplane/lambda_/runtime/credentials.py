"""The temporary credentials of a function's execution role, as Lambda gives them to an environment.

"Lambda ... assumes the execution role and passes the temporary credentials to the function" as the
reserved variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Lambda developer guide,
"Defined runtime environment variables"); the SDK in the function reads them, so every AWS call it makes
is one of the role's session `arn:aws:sts::<account>:assumed-role/<role>/<function>`. The runtime takes
them from a provider (dataplane/config.py asks STS), so this core stays without boto3.
"""

from __future__ import annotations

from dataclasses import dataclass

# An environment whose credentials expire within this many seconds takes no new request: the request gets
# a new environment with fresh credentials instead, so a handler never holds keys that lapse mid-invoke
# (the longest invoke is 900 s).
EXPIRY_MARGIN_S = 960.0


@dataclass(frozen=True)
class RoleCredentials:
    """An sts:AssumeRole session of the execution role: its keys, and when they expire (epoch seconds)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def expiring(self, now: float, margin_s: float = EXPIRY_MARGIN_S) -> bool:
        return self.expiration - now < margin_s
