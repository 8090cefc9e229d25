"""Reading the class's progress for 40 students on the local backend (goal: under 2 s), against the
per-student status the instructor's view read before (every step's plan of every student), in the same run.

The class: 40 students on a class backend of its own (one moto server), each with the whole stack deployed
and 14 exercises checked about three times each (1,680 recorded attempts), as after a busy workshop.

    .venv/bin/python benchmarks/bench_progress.py [--students 40] [--repeat 5]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SERVERLESS_LAB_HOME", tempfile.mkdtemp(prefix="bench-progress-"))
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]

from serverless_lab import Lab  # noqa: E402
from serverless_lab.classroom import lifecycle  # noqa: E402
from serverless_lab.classroom.progress_store import Attempt, ProgressStore  # noqa: E402
from serverless_lab.teaching import class_progress  # noqa: E402
from serverless_lab.teaching.classroom import step_states as per_step_progress  # noqa: E402

EXERCISES = [f"exercise_{n:02d}" for n in range(14)]


def timed(function: object, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = lifecycle.start_class("bench", home=Path(tempfile.mkdtemp(prefix="bench-progress-class-")))
    try:
        backend = lifecycle.class_backend(settings)
        students = [f"s{number:02d}" for number in range(args.students)]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda s: Lab(backend=backend, student=s).require("api"), students))
        store = ProgressStore(backend)
        rng = random.Random(7)
        attempts = 0
        for student in students:
            for number, exercise in enumerate(EXERCISES):
                tries = rng.randint(1, 5)
                for attempt in range(1, tries + 1):
                    store.record(Attempt(student, f"{number:02d}-notebook", exercise, attempt == tries and rng.random() < 0.8,
                                         attempt, f"2026-03-02T{9 + number // 6:02d}:{(number * 7 + attempt) % 60:02d}:00Z", min(attempt, 3)))  # fmt: skip
                    attempts += 1
        print(
            f"set-up: {args.students} students deployed, {attempts} attempts recorded in {time.perf_counter() - started:.0f} s"
        )
        known = {exercise: f"{n:02d}-notebook" for n, exercise in enumerate(EXERCISES)}
        table = class_progress.progress(backend, exercises=known)
        assert len(table) == args.students and (table[(EXERCISES[0], "attempts")] > 0).all()
        fast = timed(lambda: class_progress.progress(backend, exercises=known), args.repeat)
        stuck = timed(lambda: class_progress.stuck(backend), args.repeat)
        log = timed(lambda: store.attempts(), args.repeat)
        slow = timed(lambda: per_step_progress(backend, students), max(1, args.repeat // 2))
        median = statistics.median(fast)
        print(
            f"teaching.progress(), {args.students} students x {len(EXERCISES)} exercises + deployment state: median "
            f"{median:.2f} s, slowest {max(fast):.2f} s of {len(fast)} (goal < 2 s: {'met' if max(fast) < 2 else 'NOT met'})"
        )
        print(f"teaching.stuck(): median {statistics.median(stuck):.2f} s")
        print(
            f"reading the log of every attempt instead of the summaries: median {statistics.median(log):.2f} s"
        )
        print(
            f"baseline, every step's plan of every student (the view before): median {statistics.median(slow):.2f} s, "
            f"{statistics.median(slow) / median:.0f}x the time of the class view"
        )
    finally:
        lifecycle.stop_class(settings)


if __name__ == "__main__":
    main()
