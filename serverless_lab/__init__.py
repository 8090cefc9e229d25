"""serverless-lab: the classic AWS serverless web app, offline on moto or on a real account.

The public API is small: `Lab` (one student's stack on one backend) and the error tree. `Lab` is imported
on first use, so a Lambda execution environment that imports the lab's runtime does not pay for boto3,
pandas and the steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BackendError,
    DataPlaneError,
    GatewayError,
    LabError,
    StepError,
    UsageError,
)

if TYPE_CHECKING:
    from .lab import Lab

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "DataPlaneError",
    "GatewayError",
    "Lab",
    "LabError",
    "StepError",
    "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Lab":
        from .lab import Lab

        return Lab
    raise AttributeError(f"module 'serverless_lab' has no attribute {name!r}")
