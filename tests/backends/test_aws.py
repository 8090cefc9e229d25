"""The aws backend's safety rules (serverless_lab/backends/aws.py), each in a fresh Python process.

A fresh process because the rules are about what a process holds: moto's in-process mock (which the test
session's memory backend has long started) and the environment's endpoint variables. Every process
refuses any connection off loopback and lists each attempt, so a rule that failed would show as an
attempt, a listener that received a connection, or moto's account answering.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from serverless_lab.backends.aws import configured_region, is_aws_host
from serverless_lab.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = textwrap.dedent(
    """
    import ipaddress, json, os, socket, sys

    sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
    from loopback_guard import ATTEMPTS as attempts

    def error_of(call):
        try:
            call()
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return ""

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    leftover = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def connections():
        listener.settimeout(0)
        count = 0
        while True:
            try:
                listener.accept()[0].close()
                count += 1
            except BlockingIOError:
                return count
    """
)


def run_isolated(body: str, tmp_path: Path, **env_vars: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/EXAMPLEKEY",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "SERVERLESS_LAB_HOME": str(tmp_path), **env_vars})  # fmt: skip
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(facts))\n"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_memory_backend_kernel_cannot_reach_aws(tmp_path: Path) -> None:
    facts = run_isolated(
        """
        from serverless_lab import Lab
        memory = Lab(backend="memory", student="offline")
        facts = {"memory_account": memory.names.account_id}
        facts["aws"] = error_of(lambda: Lab(backend="aws", region="eu-west-1", student="ada"))
        facts["attempts"] = attempts
        """,
        tmp_path,
    )
    assert facts["memory_account"] == "123456789012"
    assert facts["aws"].startswith("AwsGuardError: This Python process runs moto's in-process mock")
    assert "would deploy into moto (account 123456789012), not into your account" in facts["aws"]
    assert "restart the kernel" in facts["aws"]
    assert facts["attempts"] == []


def test_a_mock_started_after_the_aws_backend_answers_none_of_its_requests(tmp_path: Path) -> None:
    facts = run_isolated(
        """
        from moto import mock_aws
        from serverless_lab.backends import make_backend
        backend = make_backend("aws", region="eu-west-1")  # no mock yet: it starts
        sts = backend.client("sts")
        mock = mock_aws()
        mock.start()  # a test's @mock_aws, or a notebook cell, after the backend started
        facts = {"call": error_of(sts.get_caller_identity), "attempts": attempts}
        facts["memory"] = error_of(lambda: make_backend("memory"))
        mock.stop()
        """,
        tmp_path,
    )
    # Without the guard, moto would answer account 123456789012 and the call would succeed.
    assert facts["call"].startswith(
        "AwsGuardError: Refused to send POST https://sts.eu-west-1.amazonaws.com/"
    )
    assert "moto's in-process mock is active" in facts["call"]
    assert facts["memory"].startswith("AwsGuardError: This Python process already uses Lab(backend='aws')")
    assert facts["attempts"] == []


def test_endpoint_variables_and_a_profiles_endpoint_url_cannot_redirect_aws(tmp_path: Path) -> None:
    config = tmp_path / "config"
    facts = run_isolated(
        f"""
        config = {str(config)!r}
        open(config, "w").write(
            "[profile leftover]\\nregion = ap-southeast-2\\n"
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\\naws_secret_access_key = wJalrXUtnFEMI/EXAMPLEKEY\\n"
            f"endpoint_url = {{leftover}}\\nservices = leftover-services\\n\\n"
            f"[services leftover-services]\\nlambda =\\n  endpoint_url = {{leftover}}\\n"
        )
        os.environ.update({{"AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL": leftover,
                            "AWS_ENDPOINT_URL_S3": leftover, "AWS_ENDPOINT_URL_STS": leftover}})
        import boto3
        from serverless_lab.backends import make_backend

        # The variables work in this process: a plain client follows them (a LocalStack leftover would).
        facts = {{"plain": boto3.session.Session(profile_name="leftover").client("lambda").meta.endpoint_url,
                  "leftover": leftover}}
        backend = make_backend("aws", profile="leftover")
        facts["region"] = backend.region  # the profile's, as no AWS_REGION is set
        services = ["sts", "s3", "lambda", "cloudfront", "dynamodb", "cognito-idp", "apigateway", "logs", "iam"]
        facts["endpoints"] = {{s: backend.client(s).meta.endpoint_url for s in services}}
        # Where the one call would go, seen after the backend's own guard let it pass; stopped there
        # (botocore would retry a refused connection for seconds).
        class Sent(Exception):
            pass

        def stop_at_send(request, **_):
            raise Sent(request.url)

        backend.client("sts").meta.events.register("before-send.sts.GetCallerIdentity", stop_at_send)
        facts["call"] = error_of(backend.account_id)
        facts["attempts"], facts["connections"] = attempts, connections()
        """,
        tmp_path,
    )
    assert facts["plain"] == facts["leftover"]
    assert facts["region"] == "ap-southeast-2"
    assert facts["endpoints"] == {
        "sts": "https://sts.ap-southeast-2.amazonaws.com",
        "s3": "https://s3.ap-southeast-2.amazonaws.com",
        "lambda": "https://lambda.ap-southeast-2.amazonaws.com",
        "cloudfront": "https://cloudfront.amazonaws.com",
        "dynamodb": "https://dynamodb.ap-southeast-2.amazonaws.com",
        "cognito-idp": "https://cognito-idp.ap-southeast-2.amazonaws.com",
        "apigateway": "https://apigateway.ap-southeast-2.amazonaws.com",
        "logs": "https://logs.ap-southeast-2.amazonaws.com",
        "iam": "https://iam.amazonaws.com",
    }
    # The one call went for AWS, never to the leftover.
    assert facts["call"] == "Sent: https://sts.ap-southeast-2.amazonaws.com/"
    assert facts["attempts"] == [] and facts["connections"] == 0


def test_a_request_for_another_host_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    facts = run_isolated(
        """
        from dataclasses import dataclass
        from serverless_lab.backends.aws import AwsBackend

        @dataclass
        class Misdirected(AwsBackend):  # as if some configuration had reached the clients
            def endpoint_for(self, service):
                return leftover

        backend = Misdirected(region="eu-west-1")
        backend.start()
        facts = {"call": error_of(backend.client("sts").get_caller_identity)}
        facts["attempts"], facts["connections"] = attempts, connections()
        """,
        tmp_path,
    )
    assert facts["call"].startswith("AwsGuardError: Refused to send POST http://127.0.0.1:")
    assert "is not an AWS endpoint" in facts["call"]
    assert facts["attempts"] == [] and facts["connections"] == 0


def test_aws_hosts_are_the_api_domains_of_aws_partitions() -> None:
    assert is_aws_host("sts.eu-west-1.amazonaws.com")
    assert is_aws_host("lambda.cn-north-1.amazonaws.com.cn")
    assert is_aws_host("s3.dualstack.eu-west-1.api.aws")
    assert not is_aws_host("127.0.0.1")
    assert not is_aws_host("localhost.localstack.cloud")
    assert not is_aws_host("amazonaws.com.evil.example")
    assert not is_aws_host(None)


def test_the_region_comes_from_the_users_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile teacher]\nregion = eu-north-1\n[default]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert configured_region("teacher") == "eu-north-1"
    assert configured_region(None) == "sa-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert configured_region("teacher") == "ap-south-1"
    monkeypatch.setenv("AWS_REGION", "ca-central-1")  # the SDKs' newer variable comes first
    assert configured_region("teacher") == "ca-central-1"
    with pytest.raises(
        UsageError, match=r"\(nobody\) could not be found. Fix: name a profile of ~/\.aws/config"
    ):
        configured_region("nobody")


def test_no_configured_region_is_a_usage_error_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    with pytest.raises(UsageError, match=r"pass region='eu-west-1' \(CLI: --region\), set AWS_REGION"):
        configured_region(None)


def test_a_profile_is_only_for_the_aws_backend() -> None:
    from serverless_lab.backends import make_backend

    with pytest.raises(UsageError, match="profile is only used with backend='aws', not 'memory'"):
        make_backend("memory", profile="teacher")
