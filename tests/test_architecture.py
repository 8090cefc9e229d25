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
        # (remove_extras and lab.destroy remove them); everything else goes through the steps.
        if relative.parts[0] in {"steps", "backends"} or relative == Path("teaching/extras.py"):
            continue
        source = path.read_text()
        for call in (
            "create_rest_api",
            "create_function",
            "create_table",
            "create_bucket",
            "create_distribution",
        ):
            if call in source:
                offenders.append(f"{relative}: {call}")
    assert offenders == []


def test_public_api_is_sorted_and_importable() -> None:
    assert serverless_lab.__all__ == sorted(serverless_lab.__all__)
    for name in serverless_lab.__all__:
        assert getattr(serverless_lab, name) is not None
