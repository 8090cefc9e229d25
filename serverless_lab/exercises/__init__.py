"""The exercises at the end of each notebook and the checks students run to see whether they solved them.

    from serverless_lab.exercises import check
    check.table_has_index(lab, "by-title")      # ✓ solved, or ✗ not yet with a hint

`solutions` holds one way to solve each (for instructors and the tests).
"""

from __future__ import annotations

from . import check, solutions
from .result import CheckResult

__all__ = ["CheckResult", "check", "solutions"]
