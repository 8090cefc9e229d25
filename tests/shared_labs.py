"""Labs that several test folders share (tests/ is on sys.path: its conftest.py sits there)."""

from __future__ import annotations

import uuid

from serverless_lab import Lab


def deployed_memory_lab(prefix: str, run: str | None = None) -> Lab:
    """The whole stack on the memory backend for the student `<prefix>-<run>` (run: random by default)."""
    lab = Lab(backend="memory", student=f"{prefix}-{run or uuid.uuid4().hex[:4]}")
    lab.require("api")
    return lab
