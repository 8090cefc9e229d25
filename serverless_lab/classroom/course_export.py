"""The course as an nbgrader course: `serverless-lab course export OUT`.

    OUT/nbgrader_config.py
    OUT/source/<notebook>/<notebook>.ipynb     the instructor's version of each notebook with exercises

Each exercise of a notebook is the code cell of its "Exercises" section that ends with a check,
`check.<exercise>(lab, ...)`. It becomes two cells:

- a solution cell (nbgrader's `solution`): the starter lines the student had (comments, `answer = None`),
  then the instructor's solution from notebooks/instructor-only/solutions.py between `### BEGIN SOLUTION` and
  `### END SOLUTION` (the function, what it needs from that file, and its call), which
  `nbgrader generate_assignment` replaces with a stub in the released version;
- an autograded test cell (`grade`, locked, worth POINTS): `assert check.<exercise>(lab, ...)`.

A solution "returns what the check takes besides the lab" (notebooks/instructor-only/solutions.py): when it returns None it
does the work, and is called with the check's own arguments; otherwise it is called with the arguments the
check takes before the student's answer, and its value is that answer, in the variable the check cell
passed (or `answer` when the cell passed a literal such as "?").

Every other cell stays as it is. During `nbgrader autograde` (NBGRADER_EXECUTION=autograde) `Lab()` uses
the memory backend (backends/classroom.py), so each submission is graded on a fresh backend of its own.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..errors import UsageError
from ..lab import PROJECT_ROOT

POINTS = 1
EXERCISES_HEADING = "## Exercises"
NBGRADER_CONFIG = """# nbgrader's configuration of the course serverless-lab exported (`serverless-lab course export`).
c = get_config()  # noqa: F821 - nbgrader defines it
c.CourseDirectory.course_id = "serverless-lab"
c.CourseDirectory.root = {root!r}
# Each notebook deploys and calls a stack: give a cell the time a deploy takes on a busy machine.
c.ExecutePreprocessor.timeout = 600
c.Execute.timeout = 600
"""


@dataclass(frozen=True)
class Exercise:
    notebook: str
    name: str
    points: int


@dataclass
class ExportedCourse:
    root: Path
    assignments: list[str] = field(default_factory=list)
    exercises: list[Exercise] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)


@dataclass(frozen=True)
class CheckCall:
    """The check a cell ends with: its exercise, its arguments' source, and the starter lines before it."""

    exercise: str
    args: tuple[str, ...]
    keywords: tuple[str, ...]
    starter: str


def check_call(source: str) -> CheckCall | None:
    """The `check.<exercise>(lab, ...)` a cell ends with, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    call = tree.body[-1].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "check"
    ):
        return None
    segment = lambda node: ast.get_source_segment(source, node) or ""  # noqa: E731
    lines = source.splitlines()
    starter = "\n".join(lines[: tree.body[-1].lineno - 1]).rstrip()
    return CheckCall(
        exercise=call.func.attr,
        args=tuple(segment(arg) for arg in call.args),
        keywords=tuple(segment(keyword) for keyword in call.keywords),
        starter=starter,
    )


class Solutions:
    """notebooks/instructor-only/solutions.py read as source: each solution's code and what it needs from the file."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise UsageError(f"No instructor solutions at {path}: they ship with the course's repository.")
        self.source = path.read_text()
        tree = ast.parse(self.source)
        # Each import with the names it binds, so a solution's code carries only the imports it uses.
        self.imports: list[tuple[str, set[str]]] = [
            (
                ast.get_source_segment(self.source, node) or "",
                {(a.asname or a.name).split(".")[0] for a in node.names},
            )
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        ]
        self.constants: dict[str, str] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                self.constants[node.targets[0].id] = ast.get_source_segment(self.source, node) or ""
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node

    def function(self, name: str) -> ast.FunctionDef:
        if name not in self.functions:
            raise UsageError(
                f"notebooks/instructor-only/solutions.py has no solution for the exercise {name!r}."
            )
        return self.functions[name]

    def returns_answer(self, name: str) -> bool:
        returns = self.function(name).returns
        return not (returns is None or (isinstance(returns, ast.Constant) and returns.value is None))

    def required(self, name: str) -> int:
        """How many parameters after the lab have no default (the check passes those first)."""
        arguments = self.function(name).args
        positional = arguments.posonlyargs + arguments.args
        return len(positional) - 1 - len(arguments.defaults)

    def code(self, name: str) -> str:
        """The solution's function with the imports and constants it uses, as a cell can run it."""
        function = self.function(name)
        used = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
        constants = [text for constant, text in self.constants.items() if constant in used]
        imports = [text for text, names in self.imports if names & used]
        body = ast.get_source_segment(self.source, function) or ""
        return "\n".join([*imports, "", *constants, *([""] if constants else []), body])


def solution_cell(call: CheckCall, solutions: Solutions) -> tuple[str, str]:
    """(the solution cell's source, the test cell's source) for one check."""
    name = call.exercise
    if solutions.returns_answer(name):
        required = solutions.required(name)
        if len(call.args) <= required + 1:  # the cell passes no answer slot: a check that takes its answer
            raise UsageError(f"The check cell of {name!r} passes no answer after {required} argument(s).")
        before, answer, after = (
            call.args[1 : required + 1],
            call.args[required + 1],
            call.args[required + 2 :],
        )
        variable = answer if answer.isidentifier() else "answer"
        starter = call.starter if answer.isidentifier() else f"{variable} = {answer}"
        solved = f"{variable} = {name}({', '.join(['lab', *before])})"
        test_args = [call.args[0], *before, variable, *after, *call.keywords]
    else:
        starter = call.starter
        solved = f"{name}({', '.join([*call.args, *call.keywords])})"
        test_args = [*call.args, *call.keywords]
    region = "### BEGIN SOLUTION\n" + solutions.code(name) + "\n\n" + solved + "\n### END SOLUTION"
    solution = (starter + "\n" if starter else "") + region
    test = f"assert check.{name}({', '.join(test_args)})"
    return solution, test


def nbgrader_metadata(grade_id: str, *, solution: bool, points: int = 0) -> dict[str, Any]:
    """The cell metadata nbgrader's schema 3 gives a solution cell or an autograded test cell."""
    metadata: dict[str, Any] = {
        "grade": not solution,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if not solution:
        metadata["points"] = points
    return metadata


def export_notebook(
    path: Path, solutions: Solutions, points: int = POINTS
) -> tuple[nbformat.NotebookNode, list[Exercise]]:
    """The instructor's version of one notebook, and its exercises (none: not an assignment)."""
    notebook = nbformat.read(path, as_version=4)
    cells, exercises = [], []
    in_exercises = False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            headings = [line for line in cell.source.splitlines() if line.startswith("## ")]
            if headings:
                in_exercises = headings[-1].strip() == EXERCISES_HEADING
        call = check_call(cell.source) if in_exercises and cell.cell_type == "code" else None
        if call is None:
            cells.append(cell)
            continue
        solution, test = solution_cell(call, solutions)
        cells.append(nbformat.v4.new_code_cell(
            solution, metadata={"nbgrader": nbgrader_metadata(f"solution-{call.exercise}", solution=True)}
        ))  # fmt: skip
        cells.append(nbformat.v4.new_code_cell(
            test, metadata={"nbgrader": nbgrader_metadata(f"check-{call.exercise}", solution=False, points=points)}
        ))  # fmt: skip
        exercises.append(Exercise(path.stem, call.exercise, points))
    notebook.cells = cells
    for index, cell in enumerate(notebook.cells):  # nbformat 4.5 wants unique ids: new cells get their own
        cell["id"] = cell.get("id") or f"cell-{index}"
    return notebook, exercises


def export_course(out: Path, notebooks: Path | None = None, root: Path = PROJECT_ROOT) -> ExportedCourse:
    """Writes the nbgrader course of every notebook with exercises into `out`."""
    notebooks = Path(notebooks) if notebooks is not None else root / "notebooks"
    paths = sorted(notebooks.glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        raise UsageError(f"No notebooks (NN-topic.ipynb) in {notebooks}.")
    solutions = Solutions(root / "notebooks" / "instructor-only" / "solutions.py")
    out = Path(out).resolve()
    course = ExportedCourse(root=out)
    for path in paths:
        notebook, exercises = export_notebook(path, solutions)
        if not exercises:
            continue
        target = out / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        course.assignments.append(path.stem)
        course.exercises += exercises
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(root=str(out)))
    (out / "README.md").write_text(
        textwrap.dedent(
            f"""\
            # serverless-lab, as an nbgrader course

            {len(course.assignments)} assignments (one per notebook with exercises), {course.points} points:
            one per exercise, each an autograded `assert check.<exercise>(lab, ...)`.

                nbgrader generate_assignment --all     # release/: the notebooks without solutions
                nbgrader autograde ASSIGNMENT          # submitted/<student>/ASSIGNMENT/ re-run and graded
                nbgrader generate_feedback ASSIGNMENT  # feedback/<student>/ASSIGNMENT/*.html
            """
        )
    )
    return course
