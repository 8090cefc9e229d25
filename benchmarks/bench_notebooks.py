"""The notebooks: wall time to execute all of them, against the goal (90 s on a 2-core machine) and a baseline.

Measured in this run, with a fresh lab home and the local moto server, the way the notebook tests run them
(nbclient, a fresh kernel per notebook, one student per notebook, widgets headless):

- the baseline: one notebook that only starts the lab (`Lab(student=...)`) in a fresh kernel — the kernel
  start, the imports and the connection every notebook pays;
- every notebook, `--parallel` at a time (default 3, as the tests), and the total wall time;
- the same total as a ratio to the baseline;
- the course's own figures (benchmarks/course_metrics.py): per notebook its code cells, the cells that run
  the student's own code, and the minutes it states.

    .venv/bin/python benchmarks/bench_notebooks.py [--parallel 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
GOAL_S = 90.0
BASELINE_SOURCE = (
    "from serverless_lab import Lab, teaching\nlab = Lab(student=teaching.student())\nlab.status()"
)


def prepare_environment() -> str:
    """Fake credentials and a fresh lab home for this process and the kernels it starts."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    home = tempfile.mkdtemp(prefix="serverless-lab-bench-notebooks-")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "SERVERLESS_LAB_HOME": home,
            "SERVERLESS_LAB_HEADLESS": "1",
        }
    )
    return home


def execute(notebook: nbformat.NotebookNode, student: str) -> float:
    from nbclient import NotebookClient

    environment = dict(os.environ, SERVERLESS_LAB_STUDENT=student)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    started = time.perf_counter()
    client.execute(env=environment)
    return time.perf_counter() - started


def run_notebook(path: Path) -> tuple[str, float]:
    return path.stem, execute(nbformat.read(path, as_version=4), f"bench{path.stem[:2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=3, help="notebooks executed at once (default 3)")
    args = parser.parse_args()

    prepare_environment()
    from serverless_lab.backends import LocalServer, make_backend

    make_backend("local")  # the moto server the kernels share, started before the clock runs
    try:
        baseline = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BASELINE_SOURCE)])
        baseline_s = min(execute(baseline, "benchbase") for _ in range(2))
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
            timings = list(pool.map(run_notebook, NOTEBOOKS))
        total_s = time.perf_counter() - started
    finally:
        LocalServer().stop()

    print(f"notebooks on the local backend, {args.parallel} at a time, {os.cpu_count()} CPU(s)")
    print(f"  baseline (fresh kernel + Lab()):  {baseline_s:6.1f} s")
    for name, seconds in timings:
        print(f"  {name:<18} {seconds:6.1f} s  ({seconds / baseline_s:4.1f}x baseline)")
    verdict = "met" if total_s < GOAL_S else "NOT met"
    print(
        f"  all {len(timings)} notebooks:         {total_s:6.1f} s  ({total_s / baseline_s:4.1f}x baseline)"
    )
    print(f"  goal < {GOAL_S:.0f} s on 2 cores: {verdict} on this machine")
    print()
    import course_metrics  # beside this script

    course_metrics.main()


if __name__ == "__main__":
    main()
