"""One boto3 call of a plan (`Call`) and the values earlier calls of the same apply produce (`Ref`).

Deploying as data: a plan is a list of these small frozen values, printed before anything runs, compared
with `==` in tests, then executed by the step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A value an earlier call of the same apply produces, shown as <name> in a plan."""

    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class Call:
    """One boto3 call, shown to the student before it runs.

    `save` names a value of the result to keep for later calls: ``save=("rest_api_id", "id")`` keeps
    ``result["id"]`` as Ref("rest_api_id"); `also_save` keeps more values of the same result.
    """

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    why: str = ""
    save: tuple[str, str] | None = None
    also_save: tuple[tuple[str, str], ...] = ()

    def describe_params(self) -> str:
        return ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())


def _short(value: Any, limit: int = 60) -> str:
    text = repr(_printable(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Bytes:
    """How a plan shows bytes (a zip, a file body): size and a short hash, never the raw bytes."""

    def __init__(self, data: bytes) -> None:
        self.text = f"<{len(data):,} bytes sha256:{hashlib.sha256(data).hexdigest()[:10]}>"

    def __repr__(self) -> str:
        return self.text


def _printable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return _Bytes(bytes(value))
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_printable(v) for v in value)
    return value
