"""The code store's temporary folder (the task roots of every package) goes with the store: on remove(), when
the store is collected, and when the process exits without the data plane's shutdown (a kernel stopped)."""

from __future__ import annotations

import gc
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from serverless_lab.dataplane.lambda_.runtime.code import CodeStore, code_sha256


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def test_remove_takes_the_extracted_packages_away() -> None:
    store, package = CodeStore(), _package()
    task_root = store.task_root("fn", code_sha256(package), lambda: package)
    assert (task_root / "app.py").is_file()
    store.remove()
    assert not store.root.exists()
    store.remove()  # twice is harmless


def test_a_collected_store_leaves_no_folder() -> None:
    store, package = CodeStore(), _package()
    store.task_root("fn", code_sha256(package), lambda: package)
    root = store.root
    del store
    gc.collect()
    assert not root.exists()


def test_a_process_that_exits_without_shutdown_leaves_no_folder() -> None:
    script = (
        "import io, zipfile\n"
        "from serverless_lab.dataplane.lambda_.runtime.code import CodeStore, code_sha256\n"
        "buffer = io.BytesIO()\n"
        "with zipfile.ZipFile(buffer, 'w') as archive: archive.writestr('app.py', 'x = 1')\n"
        "package = buffer.getvalue()\n"
        "STORE = CodeStore()  # a module global, alive until the interpreter exits\n"
        "print(STORE.task_root('fn', code_sha256(package), lambda: package))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    task_root = Path(done.stdout.strip())
    assert task_root.name and not task_root.parent.exists()
