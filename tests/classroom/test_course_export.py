"""The course as an nbgrader course: the export's cells, and nbgrader's generate, autograde and feedback on a
submission that solves half the exercises of an assignment, graded with exactly their points.

nbgrader runs as an instructor runs it: its own command, in the exported course's folder (it finds
nbgrader_config.py there), with this environment's bin/ first on PATH (nbgrader calls `alembic` by name).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from serverless_lab.classroom.course_export import export_course

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "04-table"
SOLVED = "table_has_index"  # the submission solves this exercise of the two, and not titles_in_order
UNSOLVED = "titles_in_order"
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("SERVERLESS_LAB_CLASS", "JUPYTERHUB_"))
    }
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
    done = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=environ, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def cells_by_grade_id(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("course")
    export_course(root)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return root


def test_every_notebook_with_exercises_is_an_assignment_with_a_solution_and_a_check_per_exercise(
    tmp_path: Path,
) -> None:
    exported = export_course(tmp_path / "course")
    assert exported.assignments == [
        path.parent.name for path in sorted((tmp_path / "course" / "source").glob("*/*.ipynb"))
    ]
    assert len(exported.exercises) >= 10 and exported.points == len(exported.exercises)
    for exercise in exported.exercises:
        notebook = nbformat.read(
            tmp_path / "course" / "source" / exercise.notebook / f"{exercise.notebook}.ipynb", 4
        )
        cells = cells_by_grade_id(notebook)
        solution, test = cells[f"solution-{exercise.name}"], cells[f"check-{exercise.name}"]
        assert solution.metadata["nbgrader"]["solution"] and not solution.metadata["nbgrader"]["grade"]
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert (
            test.metadata["nbgrader"] | {"points": 1} == test.metadata["nbgrader"]
            and test.metadata["nbgrader"]["locked"]
        )
        assert test.source.startswith(f"assert check.{exercise.name}(lab")
        # The solution cell comes right before its check, and the check's plain call is gone.
        index = notebook.cells.index(solution)
        assert notebook.cells[index + 1] is test
        assert not any(c.source.lstrip().startswith(f"check.{exercise.name}(") for c in notebook.cells)


def test_the_released_assignment_has_no_solutions(course: Path) -> None:
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    for grade_id, cell in cells_by_grade_id(released).items():
        if grade_id.startswith("solution-"):
            assert "BEGIN SOLUTION" not in cell.source and "raise NotImplementedError()" in cell.source
            assert "def " not in cell.source  # the instructor's function is gone
            assert cell.source != cells_by_grade_id(source)[grade_id].source
        else:
            assert cell.source == cells_by_grade_id(source)[grade_id].source


def test_a_submission_solving_half_the_exercises_gets_exactly_their_points(course: Path) -> None:
    source = cells_by_grade_id(nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4))
    submission = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    solved = cells_by_grade_id(submission)[f"solution-{SOLVED}"]
    # What a student who solved it would have written: the solution, without nbgrader's markers.
    solved.source = "\n".join(
        line for line in source[f"solution-{SOLVED}"].source.splitlines() if "### " not in line
    )
    folder = course / "submitted" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(submission, folder / f"{ASSIGNMENT}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = gradebook.find_submission(ASSIGNMENT, "ada")
        assert (graded.score, graded.max_score) == (1.0, 2.0)
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada")
        scores = {grade.name: grade.score for grade in notebook.grades}
    assert scores == {f"check-{SOLVED}": 1.0, f"check-{UNSOLVED}": 0.0}
    feedback = (course / "feedback" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: 1.0 / 2.0" in feedback or "1.0 / 2.0" in feedback
    shutil.rmtree(course / "autograded" / "ada", ignore_errors=True)
