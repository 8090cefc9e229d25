"""Deployment packages: verify a zip against the function's CodeSha256 and extract each version once.

Lambda stores the zip and reports CodeSha256 = base64(sha256(zip bytes)) (GetFunctionConfiguration). The
lab runs exactly those bytes: it hashes what `code_loader` returns, refuses a mismatch, and unpacks every
distinct package once into a private temporary folder (the task root, /var/task on Lambda), removed on
shutdown. Nothing is ever imported from the repository's handlers/ folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from serverless_lab.dataplane.runtime.errors import CodeIntegrityError, InvalidParameterValueException

SpecT = TypeVar("SpecT")


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256 of a deployment package."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


class CodeStore:
    """Extracted deployment packages, one folder per CodeSha256, under one temporary root."""

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="serverless-lab-code-"))
        self._folders: dict[str, Path] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    def task_root(self, function_name: str, expected_sha256: str, load: Callable[[], bytes]) -> Path:
        """The folder holding the package with this sha; `load` is called only the first time."""
        folder = self._folders.get(expected_sha256)  # every warm invoke: one dict read, atomic, no lock
        if folder is not None:
            return folder
        with self._lock:
            folder = self._folders.get(expected_sha256)
            if folder is not None:
                return folder
            lock = self._locks.setdefault(expected_sha256, threading.Lock())
        with lock:
            with self._lock:
                folder = self._folders.get(expected_sha256)
            if folder is not None:
                return folder
            zip_bytes = load()
            if not isinstance(zip_bytes, bytes | bytearray):
                raise CodeIntegrityError(
                    f"The code loader returned {type(zip_bytes).__name__} for function {function_name}; "
                    "it must return the deployment package as bytes."
                )
            actual = code_sha256(bytes(zip_bytes))
            if actual != expected_sha256:
                raise CodeIntegrityError(
                    f"The deployment package of function {function_name} does not match its CodeSha256: "
                    f"the function expects {expected_sha256}, the package fetched hashes to {actual}. "
                    "Redeploy the function or refresh its configuration."
                )
            folder = self._root / hashlib.sha256(bytes(zip_bytes)).hexdigest()
            staging = Path(tempfile.mkdtemp(dir=self._root, prefix="staging-"))
            try:
                with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                    archive.extractall(staging)  # extractall drops absolute paths and ".." parts
            except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
                shutil.rmtree(staging, ignore_errors=True)
                # CreateFunction's answer to a package that is not a zip.
                raise InvalidParameterValueException(
                    "Could not unzip uploaded file. Please check your file, then try to upload again."
                ) from exc
            staging.rename(folder)
            with self._lock:
                self._folders[expected_sha256] = folder
            return folder

    def remove(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)
        with self._lock:
            self._folders.clear()
