"""Deployment packages for Lambda: deterministic zips, so unchanged source never triggers a code update.

Lambda reports a function's code as ``CodeSha256``: the base64 of the SHA-256 of the zip it was given
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html). The functions step compares
that value with the hash of a freshly built zip, so the zip must depend on the source bytes only:

- every entry has the same timestamp, 1980-01-01 00:00:00 (the earliest a zip can hold), not the file's mtime;
- every file has the same permissions, -rw-r--r-- (0644): Lambda runs the code as a user other than the
  owner, so files must be world-readable (https://docs.aws.amazon.com/lambda/latest/dg/python-package.html);
- entries are sorted by their path inside the zip, with "/" separators on every OS;
- entries are STORED (not deflated): deflate output depends on the zlib build (zlib and zlib-ng give
  different bytes for the same input), which would change the hash between two Pythons. Handlers are a few
  kilobytes, far below Lambda's 50 MB limit for a direct upload, so compression buys nothing here.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from ..errors import MissingHandlersError

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, -rw-r--r--
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def package_entries(path: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) of what a package of `path` holds, sorted by name.

    A file is packaged alone at the root of the zip (handlers/items.py -> items.py, so the handler setting
    is ``items.handler``); a folder is packaged with its contents at the root of the zip.
    """
    path = Path(path)
    if path.is_file():
        return [(path.name, path)]
    if not path.is_dir():
        raise MissingHandlersError(f"Cannot package {path}: no such file or folder.")
    entries = []
    for file in path.rglob("*"):
        relative = file.relative_to(path)
        if (
            not file.is_file()
            or SKIPPED_PARTS.intersection(relative.parts)
            or file.suffix in SKIPPED_SUFFIXES
        ):
            continue
        entries.append((relative.as_posix(), file))
    return sorted(entries)


def build_zip(path: Path) -> bytes:
    """The deployment package of a handler file (or folder): the same source gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, file in package_entries(Path(path)):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr carries the mode on every OS
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """The package's hash as Lambda reports it in CodeSha256: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")
