"""One execution environment, as the runtime keeps track of it; service.py creates, reuses and retires
them, outcome.py reports on the one an invoke ran in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from serverless_lab.dataplane.lambda_.runtime.credentials import RoleCredentials
from serverless_lab.dataplane.lambda_.runtime.spec import FunctionSpec
from serverless_lab.dataplane.lambda_.runtime.workers import InProcessWorker, ProcessWorker


@dataclass(eq=False)
class ExecutionEnvironment:
    """One execution environment of a function version: its worker process, and what the runtime knows
    of it (busy, initialised, how many invokes, how quickly it answers)."""

    id: str
    spec: FunctionSpec
    key: tuple[Any, ...]
    log_stream_name: str
    created: float
    last_used: float
    worker: ProcessWorker | InProcessWorker | None = None
    busy: bool = False
    retired: bool = False
    initialized: bool = False
    invocations: int = 0
    max_memory_used_mb: int = 0
    alone: bool = False  # no other environment was busy when this invoke took it
    # Moving averages over warm invokes: request written to result read, and result read to the next
    # request written (see LambdaRuntime._spin_budgets).
    turnaround_s: float = math.inf
    gap_s: float = math.inf
    answered_at: float | None = None
    # The execution role's session this environment's worker was started with (None: no role session).
    credentials: RoleCredentials | None = None
