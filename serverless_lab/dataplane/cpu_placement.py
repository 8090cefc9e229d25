"""Where the served data plane runs: its threads on one CPU, the Lambda environments on the others.

Why: the lab's HTTP server, gateway and runtime are Python threads of one process, so they run one at a
time under the GIL whatever the number of cores. Left to the scheduler they spread over all cores, and
every hand-off of the GIL between threads on two cores is a futex wake of a sleeping thread on another
core (an inter-processor interrupt; on a virtual machine, an exit to the hypervisor). Measured on the
2-core reference machine (benchmarks/bench_dataplane.py), GET /me with eight clients: those hand-offs
were ~40% of the lab's CPU samples, and with the server's threads on one core the lab served 6,000-6,900
requests a second instead of ~3,800.
The environments then get the other cores to themselves, as on Lambda, where an execution environment
never shares its vCPUs with API Gateway; that is also what lets the runtime wait for a short invoke by
polling instead of sleeping (see FrameReader.read).

Only the server's threads are placed: a notebook kernel that serves keeps its own threads (and NumPy's)
on every core. Set SERVERLESS_LAB_CPU_PLACEMENT=off to leave everything to the scheduler.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

ENV_VAR = "SERVERLESS_LAB_CPU_PLACEMENT"


@dataclass(frozen=True)
class CpuPlacement:
    """The CPU of the server's threads and the CPUs left to the execution environments."""

    server_cpus: frozenset[int]
    environment_cpus: frozenset[int]


def plan_placement(pid: int | None = None) -> CpuPlacement | None:
    """A placement on this machine, or None where it cannot help: fewer than two CPUs allowed, no CPU
    affinity (macOS, Windows), or turned off with SERVERLESS_LAB_CPU_PLACEMENT=off.

    The server's CPU is chosen by process id (`pid`, this process by default): the kernels of a classroom
    on one JupyterHub machine each serve a lab, and their servers spread over its CPUs instead of all
    sharing one.
    """
    if os.environ.get(ENV_VAR, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    server = allowed[(os.getpid() if pid is None else pid) % len(allowed)]
    return CpuPlacement(frozenset({server}), frozenset(allowed) - {server})


def process_cpus() -> frozenset[int] | None:
    """The CPUs of this process's main thread (its pid), which the served threads were taken off; None
    without CPU affinity."""
    try:
        return frozenset(os.sched_getaffinity(os.getpid()))
    except (AttributeError, OSError):
        return None


def place_current_thread(cpus: frozenset[int]) -> None:
    """Keeps the calling thread, and every thread it starts from now on, on `cpus` (Linux: pid 0 is the
    calling thread, and a new thread inherits its creator's affinity)."""
    with contextlib.suppress(OSError):  # a CPU taken away meanwhile (cgroup change): stay where we are
        os.sched_setaffinity(0, cpus)


def place_process(pid: int, cpus: frozenset[int]) -> None:
    """Keeps every thread of process `pid` on `cpus`; a process that has ended is skipped."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for thread in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(thread), cpus)


def thread_avoids(cpus: frozenset[int]) -> bool:
    """Whether the calling thread is kept off every CPU in `cpus`."""
    try:
        return os.sched_getaffinity(0).isdisjoint(cpus)
    except (AttributeError, OSError):
        return False
