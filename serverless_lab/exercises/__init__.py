"""The exercises at the end of each notebook and the checks students run to see whether they solved them.

    from serverless_lab.exercises import check
    check.table_has_index(lab, "by-title")      # ✓ solved, or ✗ not yet with a hint (the next one next time)

The solutions are the instructor's: they live outside the package, in notebooks/instructor-only/solutions.py, which
10-instructor loads explicitly; a student's `import serverless_lab.exercises.solutions` fails.
"""

from __future__ import annotations

from . import check
from .base import EXERCISES
from .result import CheckResult, Outcome

__all__ = ["EXERCISES", "CheckResult", "Outcome", "check"]
