"""The fork server that starts execution environments, and the loop each environment runs.

Why a zygote: a fresh `python` that imports boto3 takes ~150 ms before user code even starts, and the lab
process itself (a Jupyter kernel with threads) must not fork. So the lab starts this script once: a plain
single-threaded interpreter that imports the runtime, boto3 and botocore, then waits. Each new execution
environment is an `os.fork()` of it: a separate process (module state, environment variables, memory limit
and a kill on timeout all stay per environment, as on Lambda) that starts in a few milliseconds with the
SDK already imported; copy-on-write keeps the memory of idle environments small. What is left to time as
"Init Duration" is what Lambda calls the function init: importing the handler module and running its
module-level code. (So Init Duration here is smaller than on Lambda, where the runtime and SDK import
are part of it; a SnapStart-like departure the notebooks point out.)

The lab sends fork requests over a SOCK_SEQPACKET socket pair, which carries the two pipe ends of the new
environment along (SCM_RIGHTS, `socket.send_fds`): the lab keeps the other ends, so a dead environment is
an end-of-file on its pipe. Lab and environment then talk over those pipes with length-prefixed frames:
8 bytes (header length, body length), a JSON header and raw body bytes (event in, response out). Headers
are the lab's own JSON, written and read with orjson (preloaded here, so every environment has it); a header
orjson cannot write exactly goes through the json module instead, marked by a leading space (see
encode_header). The body is never touched: the handler-facing JSON stays simplejson, as in awslambdaric.

Run as a script (`python zygote.py <fd>`), it loads bootstrap.py by path under a private name so that no
module of the lab is importable by user code; imported by the lab, it only supplies the frame helpers.

What a handler can import: the zygote runs on the lab's venv, which holds far more than Lambda's runtime
(requests, orjson, pandas, the lab itself). Once it has preloaded what it needs, the zygote narrows what its
forks inherit to what the Python managed runtimes provide (see _restrict_imports): the standard library,
the runtime-provided packages of RUNTIME_PROVIDED, and, per environment, the task root and the layers.
So `import requests` fails in the lab as on Lambda ("Runtime.ImportModuleError: Unable to import module
'app': No module named 'requests'") unless the function ships it. ("inprocess" isolation cannot do this.)
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import sys
import time
from typing import Any

import orjson

_FRAME_PREFIX = struct.Struct("!II")
_PREFIX_SIZE = _FRAME_PREFIX.size
INIT_PHASE_LIMIT_S = 10.0  # "The Init phase is limited to 10 seconds" (Lambda execution environment docs)

# What the Python managed runtimes (python3.9 to python3.13) provide besides the standard library, as
# {distribution name (normalized): its top-level modules}. Sources: "Building Lambda functions with Python"
# (docs.aws.amazon.com/lambda/latest/dg/lambda-python.html): the runtimes "include the AWS SDK for Python
# (Boto3) and its dependencies", that is boto3's closure (boto3 -> botocore, jmespath, s3transfer;
# botocore -> python-dateutil, urllib3; python-dateutil -> six); AWS's runtime interface client, which the
# runtime itself runs on, with its one dependency simplejson (aws-lambda-python-runtime-interface-client,
# requirements/base.txt; issues #93, #135). Not included: "The Lambda runtimes for Python 3.8 and later
# do not include the 'requests' module" (AWS Compute Blog, "Upcoming changes to the Python SDK in AWS
# Lambda", update of April 26, 2022). No source found lists the whole /var/runtime of every image, so
# this is the union of boto3's dependency closure and the runtime interface client's.
RUNTIME_PROVIDED: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "python_dateutil": ("dateutil",),
    "urllib3": ("urllib3",),
    "six": ("six",),
    "awslambdaric": ("awslambdaric",),
    "simplejson": ("simplejson",),
}
_RUNTIME_MODULES = frozenset(name for names in RUNTIME_PROVIDED.values() for name in names)


def encode_header(header: dict[str, Any], *, caller_data: bool = False) -> bytes:
    """A frame header as JSON: orjson (~10x faster than json.dumps), or json where they would differ.

    orjson refuses what it cannot write exactly (non-str keys, ints beyond 64 bits, lone surrogates), and
    decode_header would read ints beyond 64 bits back as floats: those headers go through json.dumps, marked
    by a leading space (JSON allows it; orjson never writes one). orjson silently writes NaN as null, so a
    header carrying a caller's values (`caller_data`: an invoke's client context or identity) always takes
    the json path. The lab's own headers hold only str, int, float (never NaN), bool and None.
    """
    if not caller_data:
        try:
            return orjson.dumps(header)
        except TypeError:  # orjson.JSONEncodeError
            pass
    return b" " + json.dumps(header, separators=(",", ":")).encode("utf-8")


def decode_header(data: bytes | memoryview) -> dict[str, Any]:
    """The inverse of encode_header (raises ValueError on a malformed header)."""
    if data[:1] == b" ":
        return json.loads(bytes(data))
    return orjson.loads(data)


def write_frame(fd: int, header: dict[str, Any], body: bytes = b"", *, caller_data: bool = False) -> None:
    header_bytes = encode_header(header, caller_data=caller_data)
    data = b"".join((_FRAME_PREFIX.pack(len(header_bytes), len(body)), header_bytes, body))
    written = os.write(fd, data)
    if written < len(data):  # a frame larger than the pipe's free space: the rest in later writes
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


class FrameReader:
    """Reads frames from one pipe, a whole frame per system call when it fits.

    Why buffered: a frame is written with one os.write, so reading up to _READ_SIZE at once usually
    takes it in one os.read, where reading prefix, header and body separately cost three reads (and, with
    a deadline, three waits). On the warm invoke path that is most of the runtime's own overhead. A frame
    leaves the buffer only once it is whole, so a read cut short by the deadline loses nothing.
    The wait uses poll(), not select(), which fails on descriptors numbered 1024 and above (a Jupyter
    kernel with many environments gets there).

    `spin_s`: on a non-blocking descriptor, read() first polls by reading for up to that long before it
    sleeps in poll(). Why: waking a sleeping thread when the frame arrives costs the writer and the
    sleeper ~30 us of kernel time on a virtual machine (an inter-processor interrupt and hypervisor exits),
    more than a short warm invoke's own work; a lab thread that answers a hello route reads its frame
    within ~60 us. Measured with a 1.9 KB event: 104-121 us per round trip sleeping, 63 us polling. The
    runtime asks for it only where it cannot slow the environment (see LambdaRuntime._spin_budgets).
    """

    _READ_SIZE = 1 << 16  # the default capacity of a Linux pipe

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer: bytes | bytearray = b""
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._nonblocking = not os.get_blocking(fd)

    def _fill(self, missing: int, deadline: float | None, spin_s: float = 0.0) -> bytes | bytearray:
        size = max(self._READ_SIZE, missing)
        chunk = self._read_within(size, spin_s) if spin_s > 0 and self._nonblocking else None
        if chunk is None:
            if deadline is not None:
                wait = deadline - time.monotonic()
                # poll() also wakes for POLLHUP/POLLERR; the read below then gives EOF.
                if wait <= 0 or not self._poll.poll(math.ceil(wait * 1000)):
                    raise TimeoutError
            elif self._nonblocking:
                self._poll.poll()
            chunk = os.read(self.fd, size)
        if not chunk:
            raise EOFError
        if not self._buffer:  # usually: the chunk is one whole frame, kept as it is (no copy)
            self._buffer = chunk
        elif isinstance(self._buffer, bytearray):
            self._buffer += chunk
        else:  # a frame over several reads (a large event or response): grow in place from here on
            self._buffer = bytearray(self._buffer) + chunk
        return self._buffer

    def _read_within(self, size: int, spin_s: float) -> bytes | None:
        """What a non-blocking read gets within spin_s, polling; None if nothing came."""
        read, fd, clock = os.read, self.fd, time.perf_counter
        end = clock() + spin_s
        while True:
            try:
                return read(fd, size)
            except BlockingIOError:
                if clock() >= end:
                    return None

    def read(self, deadline: float | None = None, spin_s: float = 0.0) -> tuple[dict[str, Any], bytes]:
        """One frame; EOFError when the other side is gone, TimeoutError when the monotonic deadline passes.
        spin_s: see the class docstring."""
        buffer = self._buffer
        while True:
            size = len(buffer)
            if size >= _PREFIX_SIZE:
                header_size, body_size = _FRAME_PREFIX.unpack_from(buffer)
                end = _PREFIX_SIZE + header_size + body_size
                if size >= end:
                    break
                buffer = self._fill(end - size, deadline, spin_s)
            else:
                buffer = self._fill(_PREFIX_SIZE - size, deadline, spin_s)
        self._buffer = buffer[end:] if size > end else b""
        body_at = _PREFIX_SIZE + header_size
        header = decode_header(memoryview(buffer)[_PREFIX_SIZE:body_at])
        return header, bytes(buffer[body_at:end]) if body_size else b""


# ------------------------------------------------------------- inside the zygote ---------------------------


def _load_bootstrap(runtime_dir: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_serverless_lab_bootstrap", os.path.join(runtime_dir, "bootstrap.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _set_memory_limit(memory_mb: int) -> None:
    """RLIMIT_AS = what the process maps now + the function's memory size.

    Departure: Lambda caps the resident memory of the whole environment (runtime included); an address-space
    limit is what a plain process can set, so the handler gets memory_mb on top of the pre-imported runtime.
    """
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            mapped_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        limit = (mapped_kb + memory_mb * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, StopIteration):  # not Linux, or the OS refuses: run without a limit
        pass


def run_environment(bootstrap: Any, request: dict[str, Any], request_fd: int, response_fd: int) -> None:
    """The forked child: set the environment up, run the function init, then serve invokes until EOF."""
    import logging
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote ignores it to auto-reap; user code may wait
    os.environ.clear()
    os.environ.update(request["environment"])
    time.tzset()  # TZ=:UTC
    os.chdir(request["task_root"])
    sys.path[0:0] = request["code_paths"]  # the task root, then the layers' folders
    _set_memory_limit(int(request["memory_mb"]))
    json_logs, log_level = bootstrap.log_settings(os.environ)
    collector = bootstrap.LogCollector(json_format=json_logs)
    bootstrap.set_process_collector(collector)
    if log_level is not None:
        logging.getLogger().setLevel(log_level)

    started = time.perf_counter()
    try:
        handler = bootstrap.load_handler(request["handler"])
    except SystemExit as exc:  # sys.exit() in module code: the runtime process ends with its status
        header = bootstrap.exit_header(exc, collector, "init_error")
        header["init_ms"] = (time.perf_counter() - started) * 1000
        header["max_memory_used_mb"] = bootstrap.max_memory_used_mb()
        write_frame(response_fd, header)
        os._exit(header["exit_status"])
    except Exception as exc:  # awslambdaric: log a warning and the error, post it as an init error, exit(1)
        error = bootstrap.error_from_exception(exc, None)
        logging.warning(bootstrap.UNHANDLED_EXCEPTION_WARNING)
        collector.add_event(bootstrap.format_error_log(error, json_logs))
        write_frame(
            response_fd,
            {
                "type": "init_error",
                "error": error,
                "init_ms": (time.perf_counter() - started) * 1000,
                "max_memory_used_mb": bootstrap.max_memory_used_mb(),
                "logs": collector.take(),
            },
        )
        os._exit(1)
    write_frame(
        response_fd,
        {
            "type": "ready",
            "init_ms": (time.perf_counter() - started) * 1000,
            "max_memory_used_mb": bootstrap.max_memory_used_mb(),
            "logs": collector.take(),
        },
    )

    # On a timeout the lab sends SIGUSR1 before it stops the environment: the lines the function printed
    # so far go out first, as they reach CloudWatch Logs on Lambda before "Task timed out". Never while a
    # result frame is being written (the two frames would interleave).
    writing_result = False

    def spill_logs(signum: int, frame: Any) -> None:
        if not writing_result:
            write_frame(response_fd, {"type": "logs", "logs": collector.take()})

    signal.signal(signal.SIGUSR1, spill_logs)
    execution_env = os.environ.get("AWS_EXECUTION_ENV")
    # Non-blocking, so that after an answer the environment may poll for the next request as long as the
    # lab's last request allowed (its "spin_s"; see LambdaRuntime._spin_budgets) before it sleeps.
    os.set_blocking(request_fd, False)
    requests = FrameReader(request_fd)
    read, environ = requests.read, os.environ
    lambda_context, run_invoke = bootstrap.LambdaContext, bootstrap.run_invoke
    spin_s = 0.0
    while True:
        try:
            header, body = read(None, spin_s)
        except EOFError:  # the lab closed the environment (Shutdown phase)
            os._exit(0)
        spin_s = header.get("spin_s", 0.0)
        if header["trace_id"]:
            environ["_X_AMZN_TRACE_ID"] = header["trace_id"]
        context = lambda_context(
            request_id=header["request_id"],
            invoked_function_arn=header["invoked_function_arn"],
            deadline_epoch_ms=header["deadline_epoch_ms"],
            environ=environ,
            client_context=header["client_context"],
            identity=header["identity"],
        )
        try:
            outcome = run_invoke(
                handler, event_body=body, context=context, collector=collector, execution_env=execution_env
            )
        except SystemExit as exc:  # awslambdaric catches Exception only: sys.exit() ends the runtime
            writing_result = True
            exited = bootstrap.exit_header(exc, collector)
            write_frame(response_fd, exited)
            os._exit(exited["exit_status"])
        writing_result = True
        write_frame(response_fd, outcome.result_header(), outcome.body)
        writing_result = False
        if outcome.out_of_memory:
            os._exit(137)  # the environment is gone, as after Lambda's out-of-memory kill


def _importable_by_functions(module_name: str) -> bool:
    """The standard library, the runtime-provided packages, and the zygote's own private modules."""
    top = module_name.partition(".")[0]
    return (
        top in sys.stdlib_module_names
        or top in sys.builtin_module_names
        or top in _RUNTIME_MODULES
        or top.startswith("_serverless_lab_")
        or top in ("__main__", "__mp_main__")
    )


def _is_stdlib_path(path: str, stdlib_dir: str) -> bool:
    """The standard library's own sys.path entries: lib/python3.X, its lib-dynload, lib/python3X.zip."""
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    if path == stdlib_dir or path.startswith(stdlib_dir + os.sep):
        return True
    return os.path.dirname(path) == os.path.dirname(stdlib_dir) and path.endswith(".zip")


def _restrict_imports() -> str:
    """Leave the forks only what a Python managed runtime can import; returns the runtime folder made for it.

    Lambda puts the runtime-provided packages in a folder of their own (/var/runtime, or the runtime's
    site-packages from python3.11 on) after the function's task root and layers. Here that folder is a
    private temporary one holding symlinks to those packages (and their .dist-info, for importlib.metadata)
    in the lab's venv; it takes the place of every site-packages entry of sys.path, and every entry that
    is not the standard library's (a .pth file's, say) is dropped. The import hooks that .pth files
    installed (the lab's editable install, setuptools' distutils shim) go too, and so does every module
    this interpreter loaded that a function could not import on Lambda (orjson, certifi, the editable
    finder, ...): the code that imported them keeps its references, so the zygote's frames still use
    orjson, but `import orjson` in a handler looks for it afresh, and finds it only in the function's code.
    Runs once per zygote start: a few stat calls, one directory listing and a dozen symlinks.
    """
    import importlib.util
    import tempfile

    stdlib_dir = os.path.dirname(os.path.abspath(os.__file__))
    folder = tempfile.mkdtemp(prefix="serverless-lab-runtime-")
    sources: set[str] = set()
    for name in sorted(_RUNTIME_MODULES):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue  # not installed in the lab's venv (awslambdaric, usually)
        if spec.submodule_search_locations:
            source = next(iter(spec.submodule_search_locations), None)  # a package: its folder
        else:
            source = spec.origin if spec.has_location else None  # a module: its file (six.py, a .so)
        if not source or _is_stdlib_path(source, stdlib_dir):
            continue
        os.symlink(source, os.path.join(folder, os.path.basename(source)))
        sources.add(os.path.dirname(source))
    for site_dir in sources:  # the distributions' metadata, so importlib.metadata.version("boto3") works
        for entry in os.listdir(site_dir):
            if entry.endswith(".dist-info"):
                distribution = entry.partition("-")[0].lower().replace(".", "_")
                if distribution in RUNTIME_PROVIDED and not os.path.lexists(os.path.join(folder, entry)):
                    os.symlink(os.path.join(site_dir, entry), os.path.join(folder, entry))

    dropped = [path for path in sys.path if not _is_stdlib_path(path or ".", stdlib_dir)]
    sys.path[:] = [path for path in sys.path if path not in dropped] + [folder]
    for path in dropped:
        sys.path_importer_cache.pop(path, None)

    def installed_by(hook: Any) -> str:
        return str(getattr(hook, "__module__", None) or type(hook).__module__)

    sys.meta_path[:] = [finder for finder in sys.meta_path if _importable_by_functions(installed_by(finder))]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if _importable_by_functions(installed_by(hook))]
    for module_name in [name for name in sys.modules if not _importable_by_functions(name)]:
        del sys.modules[module_name]
    return folder


def _remove_runtime_folder(folder: str) -> None:
    """The folder holds symlinks (removed, never followed) and maybe a __pycache__ of six.py."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def serve(control_fd: int) -> None:
    """The zygote: preload, report ready, then fork one environment per request until the lab goes away."""
    import gc
    import signal
    import socket

    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    lab_root = os.path.dirname(os.path.dirname(os.path.dirname(runtime_dir)))
    # An editable install of the lab adds import hooks for serverless_lab; user code gets none of them.
    sys.path[:] = [
        p
        for p in sys.path
        if p and os.path.abspath(p) not in (runtime_dir, lab_root) and "__editable__" not in p
    ]
    sys.meta_path[:] = [f for f in sys.meta_path if "serverless_lab" not in str(getattr(f, "__module__", ""))]
    bootstrap = _load_bootstrap(runtime_dir)

    import boto3  # noqa: F401  (preloaded for every environment: the reason this zygote exists)
    import botocore.session  # noqa: F401

    bootstrap.install_call_hooks()
    bootstrap.install_lambda_logging()
    runtime_folder = _restrict_imports()
    sys.stdout = bootstrap.CapturedStream(None)
    sys.stderr = bootstrap.CapturedStream(None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the lab's terminal is not for environments
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # environments are reaped by the kernel
    gc.freeze()  # keep preloaded objects out of the collector so forks share their pages

    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"type": "ready", "pid": os.getpid()}).encode())
    try:
        while True:
            try:
                message, fds, _flags, _address = socket.recv_fds(control, 1 << 20, 2)
            except OSError:
                return
            if not message:
                return
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:  # the child never leaves this branch: os._exit skips the cleanup below
                try:
                    control.close()
                    run_environment(bootstrap, request, fds[0], fds[1])
                finally:
                    os._exit(70)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"type": "forked", "pid": pid}).encode())
    finally:  # the lab closed the zygote (a killed zygote leaves the folder, a few symlinks, in the temp dir)
        _remove_runtime_folder(runtime_folder)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
