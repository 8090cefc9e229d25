"""The notebooks: the skeleton, no committed outputs, and every one executed top to bottom on `local`.

Execution uses nbclient with the venv's own `python3` kernel (jupyter_client starts it with this Python).
Each notebook gets a fresh kernel and a student of its own (SERVERLESS_LAB_STUDENT), all against the
session's shared moto server (the kernels inherit SERVERLESS_LAB_HOME from tests/conftest.py, so they find
its state file); SERVERLESS_LAB_HEADLESS=1 makes the widgets print text. The notebooks run a few at a time
on threads, so the whole set takes about as long as the slowest few.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
SKELETON = [
    "Goal",
    "Prerequisites",
    "Background",
    "Plan",
    "Apply",
    "Verify",
    "Try it",
    "Exercises",
    "Recap",
    "Next",
]
EXPECTED = [
    "00-overview", "01-static-site", "02-cdn", "03-users", "04-table", "05-functions", "06-api",
    "07-end-to-end", "08-latency", "09-teardown", "10-instructor",
]  # fmt: skip
MAX_CELLS = 25
MAX_CODE_LINES = 10
KERNEL = "python3"
PARALLEL = 3
CELL_TIMEOUT_S = 180
_RUN = uuid.uuid4().hex[:5]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(notebook: nbformat.NotebookNode) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def headings(notebook: nbformat.NotebookNode) -> list[str]:
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found += re.findall(r"^## (.+?)\s*$", cell.source, flags=re.MULTILINE)
    return found


# --- the committed files ----------------------------------------------------------------------------------


def test_the_notebooks_are_the_numbered_course() -> None:
    assert [path.stem for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_carries_no_outputs(path: Path) -> None:
    notebook = read(path)
    nbformat.validate(notebook)
    for cell in code_cells(notebook):
        assert cell.outputs == [], f"{path.name}: cell {cell.id} has outputs"
        assert cell.execution_count is None, f"{path.name}: cell {cell.id} has an execution count"
    assert "widgets" not in notebook.metadata, f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_skeleton(path: Path) -> None:
    notebook = read(path)
    assert notebook.cells[0].source.startswith(f"# {path.stem[:2]} · ")
    assert headings(notebook) == SKELETON
    assert len(notebook.cells) <= MAX_CELLS
    first_code = code_cells(notebook)[0].source
    assert "lab = Lab(student=teaching.student())" in first_code
    if path.stem not in ("00-overview", "01-static-site"):
        assert ".require(" in first_code, f"{path.name} must start by requiring its prerequisites"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_keeps_logic_in_the_library(path: Path) -> None:
    for cell in code_cells(read(path)):
        assert not re.search(r"^\s*(def|class) ", cell.source, flags=re.MULTILINE), (
            f"{path.name}: {cell.source}"
        )
        assert len(cell.source.splitlines()) <= MAX_CODE_LINES, f"{path.name}: a long cell\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ends_with_an_exercise_check(path: Path) -> None:
    sources = [cell.source for cell in code_cells(read(path))]
    assert any("check." in source for source in sources[-3:]), f"{path.name} has no exercise check at its end"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_and_its_text_source_agree(path: Path) -> None:
    # The MyST Markdown file is the source people edit and review; the .ipynb is its jupytext pair.
    import jupytext

    source = path.with_suffix(".md")
    assert source.is_file(), f"{path.name} has no text source: jupytext --set-formats ipynb,md:myst {path}"
    text = jupytext.read(source)
    assert text.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst"
    cells = [(cell.cell_type, cell.source) for cell in text.cells]
    assert cells == [(cell.cell_type, cell.source) for cell in read(path).cells], (
        f"{path.name} and {source.name} differ: run .venv/bin/jupytext --sync notebooks/{source.name}"
    )


# --- execution ------------------------------------------------------------------------------------------------


@dataclass
class Execution:
    path: Path
    student: str
    seconds: float
    notebook: nbformat.NotebookNode
    error: str | None


def ensure_kernel_spec() -> None:
    """The venv's python3 kernel; installed into sys.prefix (the venv) on a machine that lacks it."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import install

        install(prefix=sys.prefix, kernel_name=KERNEL)


def execute(path: Path) -> Execution:
    from nbclient import NotebookClient

    student = f"nb{path.stem[:2]}-{_RUN}"
    environment = dict(os.environ, SERVERLESS_LAB_STUDENT=student, SERVERLESS_LAB_HEADLESS="1")
    notebook = read(path)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute(env=environment)
    except Exception as failure:  # CellExecutionError and kernel deaths: reported by the test below
        error = f"{type(failure).__name__}: {failure}"
    return Execution(path, student, time.perf_counter() - started, notebook, error)


@pytest.fixture(scope="session")
def executions(local_backend: Any) -> dict[str, Execution]:
    """Every notebook executed once per session, PARALLEL at a time, each in a fresh kernel."""
    ensure_kernel_spec()
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return {run.path.stem: run for run in pool.map(execute, NOTEBOOKS)}


@pytest.mark.notebooks
@pytest.mark.server
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(executions: dict[str, Execution], path: Path) -> None:
    run = executions[path.stem]
    assert run.error is None, f"{path.name} failed after {run.seconds:.1f} s:\n{run.error}"
    for cell in code_cells(run.notebook):
        assert cell.execution_count is not None, f"{path.name}: a cell did not run"
        for output in cell.outputs:
            assert output.output_type != "error", (
                f"{path.name}: {output.get('ename')}: {output.get('evalue')}"
            )


@pytest.mark.notebooks
@pytest.mark.server
def test_executed_notebooks_show_what_the_prose_promises(executions: dict[str, Execution]) -> None:
    """A few outcomes the notebooks' prose states, read from the executed outputs."""

    def text(stem: str) -> str:
        parts = []
        for cell in code_cells(executions[stem].notebook):
            for output in cell.outputs:
                parts.append(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")))
        return "\n".join(parts)

    assert "Hit from cloudfront" in text("02-cdn") and "RefreshHit from cloudfront" in text("02-cdn")
    assert "UnauthorizedException" in text("03-users")
    assert "ConditionalCheckFailedException" in text("04-table")
    assert "Task timed out after 1.00 seconds" in text("05-functions")
    assert "Status: timeout" in text("05-functions") and "\\tTask timed out after 1." in text("05-functions")
    assert "MissingAuthenticationTokenException" in text("06-api")
    assert "AccessDeniedException" in text("06-api") and "'principalId': 'student-ada'" in text("06-api")
    assert "lambda-init" in text("07-end-to-end")
    assert "✓ solved: nothing left" in text("09-teardown")
    assert "✓ solved: reset" in text("10-instructor")
    # an unsolved exercise says so, with a hint, instead of failing the notebook
    assert "✗ not yet" in text("04-table") and "hint:" in text("04-table")
