"""Fixtures of the runtime tests: the fixture handlers zipped at test time, specs, and runtimes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from serverless_lab.dataplane.lambda_.runtime import FunctionSpec, LambdaRuntime, code_sha256

FIXTURE_HANDLERS = Path(__file__).resolve().parents[3] / "handlers_fixtures"


def zip_handlers(extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE_HANDLERS.glob("*.py")):
            archive.write(path, path.name)
        for name, source in (extra or {}).items():
            archive.writestr(name, source)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def handlers_zip() -> bytes:
    return zip_handlers()


@pytest.fixture
def make_spec(handlers_zip: bytes) -> Callable[..., FunctionSpec]:
    def make(handler: str, **overrides: Any) -> FunctionSpec:
        name = overrides.pop("name", handler.split(".")[0])
        values: dict[str, Any] = {
            "name": name,
            "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            "runtime": "python3.12",
            "handler": handler,
            "code_sha256": code_sha256(handlers_zip),
            "memory_mb": 128,
            "timeout_s": 3.0,
        }
        values.update(overrides)
        return FunctionSpec(**values)

    return make


class LogSinkRecorder:
    """A log_sink that keeps what the runtime delivers, as the lead's CloudWatch writer would receive it."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, str, list[tuple[int, str]]]] = []

    def __call__(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        self.deliveries.append((group, stream, list(events)))


@pytest.fixture
def log_sink() -> LogSinkRecorder:
    return LogSinkRecorder()


@pytest.fixture
def runtime(handlers_zip: bytes, log_sink: LogSinkRecorder) -> Iterator[LambdaRuntime]:
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, log_sink=log_sink) as lambda_runtime:
        yield lambda_runtime
