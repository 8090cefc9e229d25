"""The size of a class on one machine: N students at once, each deploying the stack, serving it and running a
short flow, against one student alone measured in the same run.

Each student is a process of its own, as a student's kernel is: it joins the class (the class backend: one
moto server for everyone), deploys the whole stack (`lab.require("api")`), serves it (`lab.serve()`: its own
data plane, as a kernel has), runs a short flow (`lab.run_flow`: simulated users signing up, signing in and
working with items over real HTTP) and then stays alive, so that the memory of the whole class is measured
with every student's data plane and execution environments still there. Between sizes the class's backend
is emptied (moto's reset), so each size starts from nothing.

Printed per size: wall time until the last student finished, per-student time p50 / p95 (and its ratio to the
one-student baseline), the stages' medians, the flow's request latency p50 / p95, errors, the CPU seconds
the moto server and the students used, and memory: PSS of every lab process (the moto server, each
student's process with its zygote and execution environments), in total and per student. One Jupyter
server (what a hub adds per student) is measured on its own.

    .venv/bin/python benchmarks/bench_classroom.py [--sizes 10,20,40] [--flow-users 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("SERVERLESS_LAB_HOME", tempfile.mkdtemp(prefix="bench-classroom-"))
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]

from serverless_lab.backends.local import free_port  # noqa: E402
from serverless_lab.classroom import lifecycle  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proc_stats import cpu_seconds, descendants, pss_mb  # noqa: E402

STUDENT = """
import json, sys, time
started = time.perf_counter()
from serverless_lab import Lab
lab = Lab(student=sys.argv[1])
times = {"connect": time.perf_counter() - started}
mark = time.perf_counter()
lab.require("api")
times["deploy"] = time.perf_counter() - mark
mark = time.perf_counter()
lab.serve()
times["serve"] = time.perf_counter() - mark
mark = time.perf_counter()
flow = lab.run_flow(users=int(sys.argv[2]), concurrency=1, progress=False)
times["flow"] = time.perf_counter() - mark
latencies = [record.client_ms for record in flow.records]
errors = sum(record.status is None or record.status >= 500 for record in flow.records)
print(json.dumps({"times": times, "latencies": latencies, "errors": errors}), flush=True)
sys.stdin.read()  # alive until the benchmark has measured the class's memory
lab.stop_serving()
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class SizeResult:
    students: int
    wall_s: float
    per_student_s: list[float]
    stages: dict[str, list[float]]
    latencies: list[float]
    errors: int
    failed: int
    moto_cpu_s: float
    students_cpu_s: float
    total_pss_mb: float
    shared_pss_mb: float
    processes: int
    load: str


def run_size(settings: lifecycle.ClassSettings, students: int, flow_users: int) -> SizeResult:
    """N student processes at once, from an empty class backend; measured once every one has finished."""
    settings.server.reset()
    moto_pid = settings.server.read_state().pid  # type: ignore[union-attr]
    moto_cpu = cpu_seconds(moto_pid)
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("SERVERLESS_LAB_CLASS", "JUPYTERHUB_"))
    }
    environ.update(settings.environment())
    started = time.perf_counter()
    processes = []
    for number in range(students):
        home = Path(os.environ["SERVERLESS_LAB_HOME"]) / f"n{students}-s{number}"
        home.mkdir(parents=True, exist_ok=True)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", STUDENT, f"s{number}", str(flow_users)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=open(home.with_suffix(".log"), "w"),  # noqa: SIM115 - the student's process keeps it
                text=True,
                env={**environ, "SERVERLESS_LAB_HOME": str(home)},
            )
        )
    reports: list[dict[str, object] | None] = []
    finished_at: list[float] = []
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        finished_at.append(time.perf_counter() - started)
        reports.append(json.loads(line) if line.strip() else None)
    wall = max(finished_at)
    dataplane_pid = lifecycle.dataplane_status(settings)["pid"]
    pids = {moto_pid, dataplane_pid, *descendants(dataplane_pid)}
    for process in processes:
        pids |= {process.pid, *descendants(process.pid)}
    total_pss = sum(pss_mb(pid) for pid in pids)
    shared_pss = pss_mb(moto_pid) + pss_mb(dataplane_pid)  # the class's two processes
    students_cpu = sum(cpu_seconds(pid) for pid in pids - {moto_pid, dataplane_pid})
    moto_cpu = cpu_seconds(moto_pid) - moto_cpu
    failed = 0
    for process in processes:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(120)
    for number, process in enumerate(processes):
        if process.returncode != 0 or reports[number] is None:
            failed += 1
            log = (Path(os.environ["SERVERLESS_LAB_HOME"]) / f"n{students}-s{number}.log").read_text().strip()
            print(f"  student s{number} failed: {log.splitlines()[-1] if log else process.returncode}")
    done = [r for r in reports if r is not None]
    stages: dict[str, list[float]] = {}
    for report in done:
        for stage, seconds in report["times"].items():  # type: ignore[union-attr]
            stages.setdefault(stage, []).append(float(seconds))
    per_student = [sum(float(s) for s in r["times"].values()) for r in done]  # type: ignore[union-attr]
    return SizeResult(
        students=students,
        wall_s=wall,
        per_student_s=per_student,
        stages=stages,
        latencies=[float(v) for r in done for v in r["latencies"]],  # type: ignore[union-attr]
        errors=sum(int(r["errors"]) for r in done),  # type: ignore[call-overload]
        failed=failed,
        moto_cpu_s=moto_cpu,
        students_cpu_s=students_cpu,
        total_pss_mb=total_pss,
        shared_pss_mb=shared_pss,
        processes=len(pids),
        load=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
    )


def jupyter_server_pss_mb() -> float:
    """One idle Jupyter server, as a hub starts for each student (with this environment's extensions)."""
    port = free_port()
    token = "bench"
    root = tempfile.mkdtemp(prefix="bench-jupyter-")
    args = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        time.sleep(1.0)
        return pss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(20)


def report(result: SizeResult, baseline: SizeResult) -> None:
    p50, p95 = percentile(result.per_student_s, 0.5), percentile(result.per_student_s, 0.95)
    base = percentile(baseline.per_student_s, 0.5)
    stages = ", ".join(
        f"{stage} {statistics.median(values):.1f} s" for stage, values in result.stages.items()
    )
    per_student_mb = (result.total_pss_mb - result.shared_pss_mb) / max(1, result.students)
    print(
        f"N={result.students:>3}: wall {result.wall_s:6.1f} s; per student p50 {p50:5.1f} s, p95 {p95:5.1f} s "
        f"(p50 {p50 / base:4.1f}x one student alone); errors {result.errors}, failed students {result.failed}"
    )
    print(f"        stages (median): {stages}")
    print(
        f"        flow requests: {len(result.latencies)}, p50 {percentile(result.latencies, 0.5):.0f} ms, "
        f"p95 {percentile(result.latencies, 0.95):.0f} ms"
    )
    cpu_per_student = (result.moto_cpu_s + result.students_cpu_s) / max(1, result.students)
    base_cpu = (baseline.moto_cpu_s + baseline.students_cpu_s) / max(1, baseline.students)
    share = (result.moto_cpu_s + result.students_cpu_s) / (result.wall_s * (os.cpu_count() or 1))
    print(
        f"        CPU: moto server {result.moto_cpu_s:.0f} s, students' processes {result.students_cpu_s:.0f} s, "
        f"{cpu_per_student:.1f} s per student ({cpu_per_student / base_cpu:.1f}x one alone); the class used "
        f"{share:.0%} of {os.cpu_count()} cores over {result.wall_s:.0f} s (load average {result.load})"
    )
    print(
        f"        memory: {result.total_pss_mb:,.0f} MB PSS in {result.processes} processes; the class's moto server "
        f"and data plane {result.shared_pss_mb:.0f} MB, per student {per_student_mb:.0f} MB (process, data plane, "
        "zygote, environments)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,20,40", help="class sizes to run, comma-separated")
    parser.add_argument("--flow-users", type=int, default=2, help="simulated users of each student's flow")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    home = Path(tempfile.mkdtemp(prefix="bench-class-"))
    settings = lifecycle.start_class("bench", home=home)
    try:
        print(f"one Jupyter server (what a hub adds per student): {jupyter_server_pss_mb():.0f} MB PSS idle")
        baseline = run_size(settings, 1, args.flow_users)
        report(baseline, baseline)
        for size in sizes:
            report(run_size(settings, size, args.flow_users), baseline)
    finally:
        lifecycle.stop_class(settings)


if __name__ == "__main__":
    main()
