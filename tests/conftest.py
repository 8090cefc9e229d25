"""Fixtures shared by every test: a private lab home, no real credentials, one local moto server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports boto3: tests never see the developer's real credentials or profile, and keep
# the lab's state (backend.json, outputs) in a folder of their own.
for _variable in list(os.environ):
    if _variable.startswith("AWS_"):
        del os.environ[_variable]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
)
# A distribution change stays InProgress this long on the lab's moto (2 s by default): short, so the many
# tests that create and delete distributions wait little (about 0.2 s each, 250 waits in a run), but not 0,
# so every step still waits as it must; tests that read InProgress hold a deployment longer themselves.
os.environ["SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS"] = "0.1"
_HOME = tempfile.mkdtemp(prefix="serverless-lab-test-home-")
os.environ["SERVERLESS_LAB_HOME"] = _HOME

ROOT = Path(__file__).resolve().parent.parent


def pytest_unconfigure(config: pytest.Config) -> None:
    """The private lab home goes with the run (each run left one serverless-lab-test-home-* in /tmp)."""
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_home() -> Path:
    return Path(_HOME)


@pytest.fixture(scope="session")
def local_backend() -> Iterator[object]:
    """The shared local backend: a real moto server process on 127.0.0.1, stopped after the session."""
    from serverless_lab.backends import LocalServer, make_backend

    backend = make_backend("local")
    yield backend
    LocalServer().stop()


@pytest.fixture
def artifacts_dir() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
