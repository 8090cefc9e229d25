"""Deployment packages: verify a zip against the function's CodeSha256 and extract each version once.

Lambda stores the zip and reports CodeSha256 = base64(sha256(zip bytes)) (GetFunctionConfiguration). The
lab runs exactly those bytes: it hashes what `code_loader` returns, refuses a mismatch, and unpacks every
distinct package once into a private temporary folder (the task root, /var/task on Lambda), removed on
shutdown, when the store is collected, or at the latest when the interpreter exits (a kernel stopped
without the data plane's shutdown left one folder in /tmp per run). Nothing is ever imported from the repository's handlers/ folder.

A function's layers are checked the same way (each layer version's content against its CodeSha256) and
extracted, in the function's order, into one folder per combination: /opt on Lambda, where "Lambda
extracts the layers in the order that you added them to the function", a later layer's files replacing
an earlier one's.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tempfile
import threading
import weakref
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from serverless_lab.dataplane.lambda_.runtime.errors import CodeIntegrityError, InvalidParameterValueException

SpecT = TypeVar("SpecT")


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256 of a deployment package."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


class CodeStore:
    """Extracted deployment packages (one folder per CodeSha256) and layer stacks (one folder per ordered
    combination of layer versions), under one temporary root."""

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="serverless-lab-code-"))
        # weakref.finalize also runs at interpreter exit (atexit), so the folder goes with the process.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, ignore_errors=True)
        self._folders: dict[str, Path] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    def task_root(self, function_name: str, expected_sha256: str, load: Callable[[], bytes]) -> Path:
        """The folder holding the package with this sha; `load` is called only the first time."""

        def fill(staging: Path) -> None:
            _extract(load(), expected_sha256, staging, f"function {function_name}", "deployment package")

        return self._folder(expected_sha256, fill)

    def opt_root(self, layers: Sequence[Any], load: Callable[[Any], bytes]) -> Path:
        """The folder holding `layers` (each with .arn and .code_sha256) extracted in order; load(layer)
        gives a layer's content and is called only the first time that combination is needed."""

        def fill(staging: Path) -> None:
            for layer in layers:
                _extract(load(layer), layer.code_sha256, staging, f"layer {layer.arn}", "content")

        return self._folder("layers:" + ",".join(layer.code_sha256 for layer in layers), fill)

    def _folder(self, key: str, fill: Callable[[Path], None]) -> Path:
        folder = self._folders.get(key)  # every warm invoke: one dict read, atomic, no lock
        if folder is not None:
            return folder
        with self._lock:
            folder = self._folders.get(key)
            if folder is not None:
                return folder
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                folder = self._folders.get(key)
            if folder is not None:
                return folder
            staging = Path(tempfile.mkdtemp(dir=self._root, prefix="staging-"))
            try:
                fill(staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            folder = self._root / hashlib.sha256(key.encode()).hexdigest()
            staging.rename(folder)
            with self._lock:
                self._folders[key] = folder
            return folder

    def remove(self) -> None:
        self._cleanup()
        with self._lock:
            self._folders.clear()


def _extract(zip_bytes: object, expected_sha256: str, into: Path, owner: str, what: str) -> None:
    """Checks zip_bytes against expected_sha256 and extracts them into `into` (files already there are
    replaced); errors name the owner ("function items", "layer arn:...")."""
    if not isinstance(zip_bytes, bytes | bytearray):
        raise CodeIntegrityError(
            f"The code loader returned {type(zip_bytes).__name__} for {owner}; it must return the zip as bytes."
        )
    actual = code_sha256(bytes(zip_bytes))
    if actual != expected_sha256:
        raise CodeIntegrityError(
            f"The {what} of {owner} does not match its CodeSha256: expected {expected_sha256}, the zip "
            f"fetched hashes to {actual}. Redeploy it or refresh the function's configuration."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            archive.extractall(into)  # extractall drops absolute paths and ".." parts
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        # CreateFunction's (and PublishLayerVersion's) answer to content that is not a zip.
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from exc
