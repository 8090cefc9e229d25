"""The architecture the folders show is kept: only steps/ changes AWS state, the data-plane cores never
import boto3, and the public API is small and sorted."""

from __future__ import annotations

import ast
from pathlib import Path

import serverless_lab

PACKAGE = Path(serverless_lab.__file__).resolve().parent
# The data plane's window on the control plane (config.py, and cloudfront/s3_origin.py, the S3 read the edge
# delegates to), its composition root and its HTTP adapter may use boto3; the cores below them take plain
# dataclasses. The runtime's worker bootstrap and zygote run inside an execution environment, where the
# handler's own boto3 is timed with botocore hooks.
MAY_IMPORT_BOTO3 = {
    "config.py",
    "service.py",
    "server.py",
    "cloudfront/s3_origin.py",
    "lambda_/runtime/bootstrap.py",
    "lambda_/runtime/zygote.py",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_data_plane_cores_never_import_boto3() -> None:
    assert offenders_importing_boto3(PACKAGE / "dataplane") == []


def offenders_importing_boto3(dataplane: Path) -> list[str]:
    """The modules under dataplane/ that import boto3 or botocore without being allowed to."""
    offenders = []
    for path in sorted(dataplane.rglob("*.py")):
        relative = path.relative_to(dataplane).as_posix()
        if relative in MAY_IMPORT_BOTO3:
            continue
        if imported_modules(path) & {"boto3", "botocore"}:
            offenders.append(relative)
    return offenders


def test_the_boto3_check_catches_a_core_that_imports_boto3(tmp_path: Path) -> None:
    # The same layout as the package, with a core of each service importing boto3 one way or another.
    for relative, source in {
        "config.py": "import boto3\n",
        "apigateway/routing.py": "import boto3.session\n",
        "cloudfront/cache.py": "from botocore.exceptions import ClientError\n",
        "lambda_/runtime/service.py": "def f():\n    import boto3\n",
        "iam/patterns.py": "import re\n",
    }.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source)
    assert offenders_importing_boto3(tmp_path) == [
        "apigateway/routing.py",
        "cloudfront/cache.py",
        "lambda_/runtime/service.py",
    ]


def test_every_allowed_boto3_module_exists() -> None:
    # An allowance for a module that moved or went away would quietly let its replacement import boto3.
    assert sorted(p for p in MAY_IMPORT_BOTO3 if not (PACKAGE / "dataplane" / p).is_file()) == []


def test_only_steps_and_backends_create_aws_resources() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        # teaching/extras.py deploys the small echo and sleepy functions the notebooks add beside the stack
        # (remove_extras and lab.destroy remove them), teaching/course.py the stats function a fresh kernel
        # catches up on (05-functions has the student make it; remove_student_work removes it); everything
        # else goes through the steps.
        if relative.parts[0] in {"steps", "backends"} or relative in (
            Path("teaching/extras.py"),
            Path("teaching/course.py"),
        ):
            continue
        source = path.read_text()
        for call in (
            "create_rest_api",
            "create_function",
            "create_table",
            "create_bucket",
            "create_distribution",
        ):
            if f".{call}(" in source:  # a call, not a hint that names it
                offenders.append(f"{relative}: {call}")
    assert offenders == []


def test_public_api_is_sorted_and_importable() -> None:
    assert serverless_lab.__all__ == sorted(serverless_lab.__all__)
    for name in serverless_lab.__all__:
        assert getattr(serverless_lab, name) is not None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the modules of the package it imports anywhere: at the top, in a
    function (a lazy import still means the two cannot be understood apart) or for type checking only."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*base, node.module] if node.module else base)
                # `from package import module` imports the module; `from module import name` the module.
                candidates = [f"{module}.{alias.name}" for alias in node.names] + [module]
            else:
                continue
            for candidate in candidates:
                if candidate in modules and candidate != name:
                    targets.add(candidate)
                    break
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
