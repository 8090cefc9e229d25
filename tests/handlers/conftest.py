"""Fixtures for the Lambda handlers: moto in process, the handler module imported fresh per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from lambda_test_events import ALICE, BOB, TABLE_NAME, ApiClient, load_handler

from serverless_lab.backends import make_backend
from serverless_lab.steps.table import ATTRIBUTES, KEY_SCHEMA


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, and nothing that could point boto3 at a real endpoint."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("ALLOWED_ORIGIN", "https://d111111abcdef8.cloudfront.net")


@pytest.fixture
def table(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The items table as the table step creates it, on the lab's memory backend (moto in-process).

    The memory backend is shared by the whole test process, so each test gets a table of its own.
    """
    make_backend("memory")
    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TABLE_NAME", name)
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    created = dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=KEY_SCHEMA,  # the table step's own key design
        AttributeDefinitions=ATTRIBUTES,
    )
    yield created
    # Some tests delete the table themselves (to see the handler fail cleanly).
    if name in boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]:
        created.delete()


@pytest.fixture
def items(table: Any) -> ModuleType:
    return load_handler("items")


@pytest.fixture
def me(aws_credentials: None) -> ModuleType:
    return load_handler("me")


@pytest.fixture
def alice(items: ModuleType) -> ApiClient:
    return ApiClient(items, ALICE)


@pytest.fixture
def bob(items: ModuleType) -> ApiClient:
    return ApiClient(items, BOB)
