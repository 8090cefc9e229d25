"""The `aws` backend: a real account, and nothing but AWS.

Only ``Lab(backend="aws")`` (or ``--backend aws``) selects it; it is never a default and never guessed from
the environment. Three guards keep what it sends on AWS:

- **No configured endpoint.** botocore (>= 1.31) sends a client wherever ``AWS_ENDPOINT_URL``,
  ``AWS_ENDPOINT_URL_<SERVICE>`` or a profile's ``endpoint_url`` (and its ``services`` section) say, a
  leftover LocalStack variable included. The backend's botocore session sets the documented switch
  ``ignore_configured_endpoint_urls`` (the variable AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "Service-specific
  endpoints", AWS SDKs and Tools Reference Guide), so every client resolves AWS's own endpoint.
- **AWS hosts only.** A botocore ``before-send`` hook refuses any request whose host is not one of AWS's
  API domains (``*.amazonaws.com``, ``*.amazonaws.com.cn``, ``*.api.aws``), before anything is sent.
- **No moto in the process.** The memory backend starts moto's ``mock_aws()``, which patches botocore for
  the whole process (its stubber answers every client's requests, and it swaps the environment's
  credentials for fake ones): an aws backend beside it would "deploy" into moto, as account 123456789012,
  successfully. The backend refuses to start in such a process, the memory backend refuses to start
  beside an aws backend, and the ``before-send`` hook refuses to send while a mock is active (a test's
  ``@mock_aws`` started later included). The fix is to use another process (restart the kernel), with the
  `local` backend beside it: its moto server runs in a process of its own.

Region and profile: the region comes from the user's configuration (AWS_REGION, AWS_DEFAULT_REGION, the
profile's region) unless given. Control-plane quotas (API Gateway's one DeleteRestApi per 30 s per account)
are paced in the process (quotas.py), and every client retries throttling as boto3's standard mode does.

The one seam for tests is `endpoint_for`, `_allowed_host`, `public_url` and `time_scale`, which a subclass (tests/e2e/aws_stand_in.py)
overrides to reach a local stand-in of AWS; no configuration reaches them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import botocore.session

from ..errors import AwsGuardError, UsageError
from .base import Backend
from .quotas import ControlPlanePacer

# The API domains of AWS's partitions (aws, aws-us-gov, aws-cn) and their dual-stack names.
AWS_API_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".api.amazonwebservices.com.cn")
MOCK_FIX = (
    "Fix: restart the kernel (or use another Python process) for Lab(backend='aws'), and use "
    "backend='local' for offline work beside it: its moto server runs in a process of its own."
)


def moto_mock_active() -> bool:
    """True while moto's in-process mock (mock_aws, the memory backend) patches botocore in this process."""
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None)
    if getattr(stubber, "enabled", False):
        return True
    memory = sys.modules.get("serverless_lab.backends.memory")
    return getattr(getattr(memory, "MemoryBackend", None), "_mock", None) is not None


def is_aws_host(host: str | None) -> bool:
    return bool(host) and any(str(host).lower().endswith(domain) for domain in AWS_API_DOMAINS)


@dataclass
class AwsBackend(Backend):
    """A real AWS account, with the credentials of the profile named (or boto3's default chain)."""

    profile: str | None = None
    # Every AwsBackend of the process: the memory backend refuses to start beside one.
    instances: ClassVar[int] = 0
    # 1.0 on AWS: how much faster than AWS's clock the lab's waits and pacing run (a stand-in compresses it).
    time_scale: float = field(init=False, default=1.0)

    def __post_init__(self) -> None:
        self.name = "aws"
        self.offline = False
        self._account: str | None = None
        self.pacer = ControlPlanePacer(self)

    @property
    def real_aws(self) -> bool:
        return True

    @property
    def endpoint_url(self) -> str | None:
        return None

    @property
    def key(self) -> str:
        return f"aws-{self.account_id()}-{self.region}"

    def start(self) -> None:
        if moto_mock_active():
            raise AwsGuardError(
                "This Python process runs moto's in-process mock (Lab(backend='memory') or mock_aws()), which "
                "answers every boto3 call of the process: Lab(backend='aws') would deploy into moto "
                f"(account 123456789012), not into your account. {MOCK_FIX}"
            )
        AwsBackend.instances += 1

    # --- boto3 --------------------------------------------------------------------------------------
    def session(self) -> boto3.session.Session:
        core = botocore.session.Session(profile=self.profile)
        # Endpoint variables and a profile's endpoint_url must not redirect the aws backend (see above).
        core.set_config_variable("ignore_configured_endpoint_urls", True)
        return boto3.session.Session(botocore_session=core, region_name=self.region)

    def _new_client(
        self, service: str, *, validate: bool = True, credentials: dict[str, str] | None = None
    ) -> Any:
        client = super()._new_client(service, validate=validate, credentials=credentials)
        client.meta.events.register_first("before-send.*.*", self._refuse_anything_but_aws)
        self.pacer.watch(client)
        return client

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL a client is made with: None, AWS's own (a stand-in's subclass overrides it)."""
        return None

    def _allowed_host(self, host: str | None) -> bool:
        return is_aws_host(host)

    def _refuse_anything_but_aws(self, request: Any, **_: Any) -> None:
        if moto_mock_active():
            raise AwsGuardError(
                f"Refused to send {request.method} {request.url}: moto's in-process mock is active in this "
                f"process and would answer instead of AWS. {MOCK_FIX}"
            )
        host = urlsplit(request.url).hostname
        if not self._allowed_host(host):
            raise AwsGuardError(
                f"Refused to send {request.method} {request.url}: the aws backend talks to AWS only, and "
                f"{host!r} is not an AWS endpoint. Fix: use Lab(backend='endpoint', endpoint_url=...) for "
                "another endpoint."
            )

    def account_id(self) -> str:
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    def public_url(self, url: str) -> str:
        """Where an HTTP client reaches one of AWS's public URLs (a distribution, a stage, Cognito): there."""
        return url

    def jwks(self, user_pool_id: str) -> dict[str, Any]:
        """The pool's public signing keys, from https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json."""
        import json
        import urllib.request

        url = self.public_url(self.issuer(user_pool_id) + "/.well-known/jwks.json")
        request = urllib.request.Request(url, headers={"Host": f"cognito-idp.{self.region}.amazonaws.com"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    def cognito_endpoint(self) -> str:
        return self.public_url(f"https://cognito-idp.{self.region}.amazonaws.com/")

    def sleep(self, seconds: float) -> None:
        """Waits `seconds` of AWS's clock (a stand-in's clock may run faster)."""
        import time

        time.sleep(seconds * self.time_scale)


def configured_region(profile: str | None) -> str:
    """The region of the user's configuration: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region."""
    import os

    if profile is not None and profile not in botocore.session.Session().available_profiles:
        # Checked first: with AWS_REGION set the profile would otherwise fail only at the first call.
        raise UsageError(
            f"The config profile ({profile}) could not be found. Fix: name a profile of ~/.aws/config "
            "(`aws configure list-profiles`), or leave profile out."
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        try:
            region = botocore.session.Session(profile=profile).get_config_variable("region")
        except botocore.exceptions.ProfileNotFound as error:
            raise UsageError(
                f"{error}. Fix: name a profile of ~/.aws/config, or leave profile out."
            ) from None
    if not region:
        raise UsageError(
            "No AWS region is configured for the aws backend. Fix: pass region='eu-west-1' (CLI: --region), "
            "set AWS_REGION, or set region in your profile (`aws configure`)."
        )
    return str(region)
