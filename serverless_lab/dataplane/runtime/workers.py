"""The processes (or, in "inprocess" mode, threads) that run one execution environment each.

Both kinds answer the same three calls, with the messages of zygote.py:
`wait_ready(deadline)` -> {"type": "ready" | "init_error", ...}, `invoke(header, body, deadline)` -> (result
header, response bytes), raising TimeoutError when the deadline passes and EOFError when the environment
died; `kill()` / `close()` end it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from serverless_lab.dataplane.runtime.zygote import FrameReader, write_frame

_RUNTIME_DIR = Path(__file__).resolve().parent
_ZYGOTE_START_LIMIT_S = 60.0


def _read_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


class ProcessWorker:
    """A forked environment: our ends of its request and response pipes, and a pidfd to stop it."""

    def __init__(self, pid: int, request_fd: int, response_fd: int) -> None:
        self.pid = pid
        self._request_fd: int | None = request_fd
        self._response_fd: int | None = response_fd
        self._responses = FrameReader(response_fd)
        try:  # a pidfd names this process even if its pid is reused after it ends
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        if self._response_fd is None:
            raise EOFError
        header, _ = self._responses.read(deadline)
        return header

    def invoke(self, header: dict[str, Any], body: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        if self._request_fd is None or self._response_fd is None:
            raise EOFError
        try:
            write_frame(self._request_fd, header, body)
        except BrokenPipeError:
            raise EOFError from None
        return self._responses.read(deadline)

    def rss_mb(self) -> float | None:
        return _read_rss_mb(self.pid)

    def kill(self) -> None:
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def close(self) -> None:
        """Shutdown phase: closing the request pipe makes the environment exit on its own."""
        fds = (self._request_fd, self._response_fd, self._pidfd)
        self._request_fd = self._response_fd = self._pidfd = None  # close once: fd numbers get reused
        for fd in fds:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


class Zygote:
    """The template process (zygote.py) that forks environments; started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._stderr: Any = None

    def start_in_background(self) -> None:
        def start() -> None:
            with self._lock:
                if self._process is None:
                    # on failure, fork() starts it again and reports the error to its caller
                    with contextlib.suppress(OSError, RuntimeError):
                        self._start()

        threading.Thread(target=start, name="lambda-zygote-start", daemon=True).start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # A clean environment: nothing of the lab's own (no AWS credentials) reaches the environments.
        environment = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "C.UTF-8",
            "MALLOC_ARENA_MAX": "2",  # fewer glibc arenas: less address space counted by RLIMIT_AS
        }
        # What the zygote or an environment writes to file descriptor 2 (outside Python's sys.stderr) lands
        # in a private temporary file, read back only to explain a zygote that fails to start.
        if self._stderr is not None:  # a restart after the zygote died
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - open for the zygote's lifetime, closed in close()
        self._process = subprocess.Popen(
            [sys.executable, str(_RUNTIME_DIR / "zygote.py"), str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=environment,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        theirs.close()
        ours.settimeout(_ZYGOTE_START_LIMIT_S)
        try:
            ready = ours.recv(4096)
        except OSError:
            ready = b""
        if not ready:
            self._process.kill()
            self._process.wait()
            self._stderr.seek(0)
            detail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            raise RuntimeError(f"The Lambda runtime's zygote process did not start. {' '.join(detail)}")
        ours.settimeout(None)
        self._control = ours

    def fork(self, request: dict[str, Any]) -> ProcessWorker:
        import json

        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            assert self._control is not None
            request_read, request_write = os.pipe()
            response_read, response_write = os.pipe()
            try:
                socket.send_fds(self._control, [json.dumps(request).encode()], [request_read, response_write])
                reply = json.loads(self._control.recv(4096))
            finally:
                os.close(request_read)
                os.close(response_write)
            return ProcessWorker(int(reply["pid"]), request_write, response_read)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()  # the zygote exits when its control socket closes
                self._control = None
            if self._process is not None:
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                self._process = None
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None


def _load_bootstrap() -> ModuleType:
    from serverless_lab.dataplane.runtime import bootstrap

    return bootstrap


class InProcessWorker:
    """An environment inside the lab process: fast, weaker isolation (see the LambdaRuntime docstring).

    One invoke at a time in the whole lab process (a class-wide lock), because the function's environment
    variables are swapped into os.environ for its duration. The handler runs on its own thread so a
    timeout can be reported; a timed-out thread cannot be stopped and is abandoned with its environment.
    The modules of the zip are imported under their own names and then removed from sys.modules, so each
    environment has its own module objects and the lab's import table stays clean.
    """

    _lock = threading.RLock()

    def __init__(self, request: dict[str, Any]) -> None:
        self.pid = None
        self._request = request
        self._task_root = request["task_root"]
        self._bootstrap = _load_bootstrap()
        self._handler: Any = None
        self._root_level = logging.WARNING
        self._modules: dict[str, ModuleType] = {}
        self._boto3_session: Any = None  # this environment's boto3.DEFAULT_SESSION

    def _in_environment(self, work: Any, deadline: float) -> tuple[bool, Any]:
        """Run work() on a fresh thread with the function's environment; (finished, result or exception)."""
        bootstrap = self._bootstrap
        outcome: list[Any] = []
        collector = bootstrap.LogCollector()

        def run() -> None:
            bootstrap.set_thread_collector(collector)
            try:
                outcome.append((True, work(collector)))
            except BaseException as exc:  # handed back to the calling thread
                outcome.append((False, exc))
            finally:
                bootstrap.set_thread_collector(None)

        with self._lock:
            saved_environ = dict(os.environ)
            saved_stdout, saved_stderr = sys.stdout, sys.stderr
            root = logging.getLogger()
            saved_level = root.level
            known_modules = set(sys.modules)
            os.environ.clear()
            os.environ.update(self._request["environment"])
            sys.path.insert(0, self._task_root)
            sys.stdout = bootstrap.CapturedStream(saved_stdout)
            sys.stderr = bootstrap.CapturedStream(saved_stderr)
            bootstrap.install_lambda_logging()
            bootstrap.install_call_hooks()
            root.setLevel(self._root_level)
            lab_session = bootstrap.sdk_calls.swap_default_session(self._boto3_session)
            thread = threading.Thread(target=run, name="lambda-inprocess", daemon=True)
            thread.start()
            thread.join(max(0.0, deadline - time.monotonic()))
            self._boto3_session = bootstrap.sdk_calls.swap_default_session(lab_session)
            self._root_level = root.level
            root.setLevel(saved_level)
            sys.stdout, sys.stderr = saved_stdout, saved_stderr
            if self._task_root in sys.path:
                sys.path.remove(self._task_root)
            os.environ.clear()
            os.environ.update(saved_environ)
            for name in set(sys.modules) - known_modules:
                module = sys.modules.get(name)
                if str(getattr(module, "__file__", "") or "").startswith(self._task_root):
                    self._modules[name] = sys.modules.pop(name)
        if not outcome:
            return False, None
        ok, value = outcome[0]
        if not ok:
            raise value
        return True, value

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        bootstrap = self._bootstrap
        started = time.perf_counter()

        def init(collector: Any) -> dict[str, Any]:
            try:
                self._handler = bootstrap.load_handler(self._request["handler"])
            except Exception as exc:
                error = bootstrap.error_from_exception(exc, None)
                logging.warning(bootstrap.UNHANDLED_EXCEPTION_WARNING)
                collector.add_event(bootstrap.format_error_log(error))
                return {"type": "init_error", "error": error, "logs": collector.take()}
            return {"type": "ready", "logs": collector.take()}

        for name in list(sys.modules):  # a module of an earlier environment must not be reused
            if str(getattr(sys.modules.get(name), "__file__", "") or "").startswith(self._task_root):
                del sys.modules[name]
        finished, header = self._in_environment(init, deadline)
        if not finished:
            raise TimeoutError
        header["init_ms"] = (time.perf_counter() - started) * 1000
        return header

    def invoke(self, header: dict[str, Any], body: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        bootstrap = self._bootstrap

        def call(collector: Any) -> Any:
            sys.modules.update(self._modules)  # lazy imports inside the handler find this environment's
            context = bootstrap.LambdaContext(
                request_id=header["request_id"],
                invoked_function_arn=header["invoked_function_arn"],
                deadline_epoch_ms=header["deadline_epoch_ms"],
                environ=dict(os.environ),
                client_context=header.get("client_context"),
                identity=header.get("identity"),
            )
            return bootstrap.run_invoke(
                self._handler,
                event_body=body,
                context=context,
                collector=collector,
                execution_env=self._request["environment"].get("AWS_EXECUTION_ENV"),
            )

        finished, outcome = self._in_environment(call, deadline)
        if not finished:
            raise TimeoutError
        return {
            "type": "result",
            "content_type": outcome.content_type,
            "error": outcome.error,
            "out_of_memory": outcome.out_of_memory,
            "duration_ms": outcome.duration_ms,
            "max_memory_used_mb": round(_read_rss_mb(os.getpid()) or 0),
            "logs": outcome.logs,
            "calls": outcome.calls,
        }, outcome.body

    def rss_mb(self) -> float | None:
        return None

    def kill(self) -> None:
        self._handler = None  # a running thread cannot be stopped; the environment is dropped

    def close(self) -> None:
        self._handler = None
        self._modules.clear()
