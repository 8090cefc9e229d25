"""The architecture the folders show is kept: only steps/ changes AWS state, the data-plane cores never
import boto3, and the public API is small and sorted."""

from __future__ import annotations

import ast
from pathlib import Path

import serverless_lab

PACKAGE = Path(serverless_lab.__file__).resolve().parent
# The data plane's window on the control plane (config.py, and s3_origin.py, the S3 read it delegates to),
# its composition root and its HTTP adapter may use boto3; the cores below them take plain dataclasses.
# The runtime's worker bootstrap runs inside an execution environment, where the handler's own boto3 is
# timed with botocore hooks.
MAY_IMPORT_BOTO3 = {"config.py", "s3_origin.py", "service.py", "server.py"}


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
    offenders = []
    for path in sorted((PACKAGE / "dataplane").rglob("*.py")):
        if path.name in MAY_IMPORT_BOTO3 and path.parent.name == "dataplane":
            continue
        if path.parent.name == "runtime" and path.name in {"bootstrap.py", "zygote.py"}:
            continue
        if imported_modules(path) & {"boto3", "botocore"}:
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


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
