"""Offline means offline: a full deploy, with real-looking credentials in the shell, sends nothing off loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from serverless_lab.backends import make_backend
from serverless_lab.backends.base import refuse_non_loopback
from serverless_lab.errors import OfflineViolationError

ROOT = Path(__file__).resolve().parent.parent

GUARDED_DEPLOY = textwrap.dedent(
    """
    import json, sys

    sys.path.insert(0, "tests")  # run with cwd at the repository's top
    from loopback_guard import ATTEMPTS as attempts

    from serverless_lab import Lab

    lab = Lab(backend="local", student="guard")
    lab.apply()
    passed = lab.verify().passed
    lab.destroy()
    print(json.dumps({"attempts": attempts, "verified": passed}))
    """
)


@pytest.mark.server
def test_full_deploy_with_every_non_loopback_connection_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Credentials that would work on AWS if anything tried to use them there.
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "SERVERLESS_LAB_HOME": str(tmp_path),
        }
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", GUARDED_DEPLOY],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        import json

        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome == {"attempts": [], "verified": True}
    finally:
        subprocess.run(
            [sys.executable, "-m", "serverless_lab.cli", "backend", "stop"], env=env, capture_output=True
        )


def test_offline_clients_refuse_a_non_loopback_endpoint() -> None:
    class Request:
        method = "GET"
        url = "https://s3.amazonaws.com/"

    with pytest.raises(OfflineViolationError, match="offline"):
        refuse_non_loopback(Request())


def test_offline_backends_hand_children_fake_credentials_and_the_loopback_endpoint() -> None:
    backend = make_backend("memory")
    env = backend.child_environment()
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    credentials = backend.session().get_credentials()
    assert credentials.access_key == "testing"


def test_a_loopback_endpoint_is_offline_and_a_remote_one_is_not() -> None:
    assert make_backend("endpoint", endpoint_url="http://127.0.0.1:4566").offline
    assert not make_backend("endpoint", endpoint_url="https://example.com").offline
