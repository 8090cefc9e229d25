"""The course's own figures, read from the notebooks' text sources: per notebook its code cells, the cells
in which the student's own boto3 or handler code runs (tagged `student`), and the minutes it states.

    .venv/bin/python benchmarks/course_metrics.py

Goal (issue 18): in 01 to 06, at least a third of the code cells run the student's own code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.md"))
BUILD_NOTEBOOKS = ("01", "02", "03", "04", "05", "06")
STUDENT_TAG = "student"
SHARE_GOAL = 1 / 3
# "**Time:** 30 min: core 20 (...), optional 10 (...)" or "**Time:** 10 min, all core."
TIME = re.compile(
    r"\*\*Time:\*\* (?P<total>\d+) min(?:: core (?P<core>\d+)(?: \([^)]*\))?, optional (?P<optional>\d+))?"
)


@dataclass(frozen=True)
class NotebookFigures:
    name: str
    code_cells: int
    student_cells: int
    minutes: int
    core_minutes: int

    @property
    def optional_minutes(self) -> int:
        return self.minutes - self.core_minutes


def figures(path: Path) -> NotebookFigures:
    notebook = jupytext.read(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    student = [cell for cell in code if STUDENT_TAG in cell.metadata.get("tags", [])]
    match = TIME.search(notebook.cells[0].source)
    total = int(match["total"]) if match else 0
    core = int(match["core"]) if match and match["core"] else total
    return NotebookFigures(path.stem, len(code), len(student), total, core)


def course() -> list[NotebookFigures]:
    return [figures(path) for path in NOTEBOOKS]


def build_share(rows: list[NotebookFigures]) -> float:
    build = [row for row in rows if row.name[:2] in BUILD_NOTEBOOKS]
    return sum(row.student_cells for row in build) / max(1, sum(row.code_cells for row in build))


def main() -> None:
    rows = course()
    print(f"{'notebook':<18} {'code':>5} {'student':>8} {'min':>4} {'core':>5} {'optional':>9}")
    for row in rows:
        print(f"{row.name:<18} {row.code_cells:>5} {row.student_cells:>8} {row.minutes:>4} {row.core_minutes:>5} "
              f"{row.optional_minutes:>9}")  # fmt: skip
    share = build_share(rows)
    verdict = "met" if share >= SHARE_GOAL else "NOT met"
    print(f"01-06: {share:.0%} of code cells run the student's own code (goal >= 33%: {verdict})")
    students = [row for row in rows if row.name[:2] != "10"]
    print(
        f"00-09: {sum(r.core_minutes for r in students)} min core, {sum(r.minutes for r in students)} min in all"
    )


if __name__ == "__main__":
    main()
