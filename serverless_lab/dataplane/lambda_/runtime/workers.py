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
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from serverless_lab.dataplane import cpu_placement
from serverless_lab.dataplane.lambda_.runtime.zygote import FrameReader, write_frame

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
        os.set_blocking(response_fd, False)  # so that a read can poll before it sleeps (FrameReader)
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

    def invoke(
        self, header: dict[str, Any], body: bytes, deadline: float, spin_s: float = 0.0
    ) -> tuple[dict[str, Any], bytes]:
        """Sends one invoke and reads its result; spin_s: see FrameReader."""
        if self._request_fd is None or self._response_fd is None:
            raise EOFError
        # A caller's client context or identity may hold values orjson writes differently (NaN).
        caller_data = header["client_context"] is not None or header["identity"] is not None
        try:
            write_frame(self._request_fd, header, body, caller_data=caller_data)
        except BrokenPipeError:
            raise EOFError from None
        return self._responses.read(deadline, spin_s and min(spin_s, deadline - time.monotonic()))

    def rss_mb(self) -> float | None:
        return _read_rss_mb(self.pid)

    def salvage_logs(self, grace_s: float = 0.2) -> list[tuple[int, str]]:
        """The lines a timed-out invocation printed so far (the environment spills them on SIGUSR1)."""
        if self._response_fd is None:
            return []
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGUSR1)
            else:
                os.kill(self.pid, signal.SIGUSR1)
            header, _ = self._responses.read(time.monotonic() + grace_s)
        except (ProcessLookupError, OSError, TimeoutError, EOFError, ValueError):
            return []  # stuck in C code, or gone: the lines are lost, the timeout is still reported
        return [(int(t), str(m)) for t, m in header.get("logs") or []]

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
        self._cpus: frozenset[int] | None = None

    def place(self, cpus: frozenset[int]) -> None:
        """Keeps the zygote, and so every environment it forks from now on, on `cpus`. Without the lock,
        which a zygote being started holds for as long as that takes: _start() places it after Popen
        from `_cpus`, and here the process known now is placed (one of the two sees the other's write)."""
        self._cpus = cpus
        process = self._process
        if process is not None and process.poll() is None:
            cpu_placement.place_process(process.pid, cpus)

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
        if self._cpus is not None:  # before it forks anything: environments inherit it
            cpu_placement.place_process(self._process.pid, self._cpus)
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
    from serverless_lab.dataplane.lambda_.runtime import bootstrap

    return bootstrap


class EnvironSwap:
    """Puts a function's environment variables into os.environ for an invoke, and the lab's back after.

    Only the variables that differ are set or unset. And each of those writes goes to the C environment
    (os.putenv / os.unsetenv, so child processes and C libraries see the function's variables) and to the
    dict of encoded bytes behind os.environ (`os.environ._data`, CPython's POSIX implementation) with
    keys and values encoded once per environment. Why: going through os.environ's mapping methods
    encodes and decodes every key and value on each access; clearing and refilling it twice per invoke
    cost about as much as the rest of an inprocess invoke put together. Elsewhere than POSIX the mapping
    methods are used.
    """

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._data: dict[Any, Any] | None = getattr(os.environ, "_data", None) if os.name == "posix" else None
        if self._data is not None:
            encode = os.environ.encodekey  # type: ignore[attr-defined]
            self._target: dict[Any, Any] = {encode(k): encode(v) for k, v in variables.items()}
        else:
            self._target = dict(variables)

    def apply(self) -> dict[Any, Any]:
        """Make os.environ equal the function's variables; returns what restore() needs."""
        data, target = self._data, self._target
        if data is None:
            return self._apply_through_mapping()
        # Two loops over C-level set differences and dict items, the system calls bound to locals: a lab
        # process has dozens of variables of its own to take out and put back around every invoke.
        undo: dict[Any, Any] = {}
        unsetenv, putenv = os.unsetenv, os.putenv
        for key in data.keys() - target.keys():
            undo[key] = data.pop(key)
            unsetenv(key)
        for key, value in target.items():
            previous = data.get(key)
            if previous != value:
                undo[key] = previous
                putenv(key, value)
                data[key] = value
        return undo

    def restore(self, undo: Mapping[Any, Any]) -> None:
        """Undo apply(), including what the handler itself set, changed or removed meanwhile."""
        data, target = self._data, self._target
        if data is None:
            self._restore_through_mapping(undo)
            return
        unsetenv, putenv = os.unsetenv, os.putenv
        for key in data.keys() - target.keys() - undo.keys():  # set by the handler
            del data[key]
            unsetenv(key)
        for key, wanted in {**target, **undo}.items():
            present = data.get(key)
            if present == wanted:
                continue
            if wanted is None:
                del data[key]
                unsetenv(key)
            else:
                putenv(key, wanted)
                data[key] = wanted

    def _apply_through_mapping(self) -> dict[Any, Any]:
        current, target = os.environ, self._target
        undo: dict[Any, Any] = {}
        for key in [key for key in current if key not in target]:
            undo[key] = current.pop(key)
        for key, value in target.items():
            previous = current.get(key)
            if previous != value:
                undo[key] = previous
                current[key] = value
        return undo

    def _restore_through_mapping(self, undo: Mapping[Any, Any]) -> None:
        current, target = os.environ, self._target
        for key in [key for key in current if key not in target and key not in undo]:
            del current[key]  # set by the handler
        for key, wanted in {**target, **undo}.items():
            if current.get(key) == wanted:
                continue
            if wanted is None:
                del current[key]
            else:
                current[key] = wanted


def _last_module() -> str | None:
    try:
        return next(reversed(sys.modules))
    except (RuntimeError, StopIteration):  # another thread imported at that very moment
        return None


def _imported_since(last_module: str | None) -> list[str]:
    """Names added to sys.modules after `last_module` (sys.modules keeps insertion order).

    Why not a set difference of sys.modules before and after: the lab's table holds a few thousand names
    and warm invokes rarely import anything. When that cannot be told (`last_module` went away, or another
    thread imports while we look), every name is returned; the caller filters by the task root.
    """
    if last_module is None or last_module not in sys.modules:
        return list(sys.modules)
    names = []
    try:
        for name in reversed(sys.modules):
            if name == last_module:
                return names
            names.append(name)
    except RuntimeError:  # sys.modules changed size while we looked
        pass
    return list(sys.modules)


class _EnvironmentThread:
    """The long-lived thread that runs one inprocess environment's init and invokes, one after another.

    Starting a thread per invoke cost ~0.15 ms; handing work to a waiting thread costs a queue put and a
    lock. The caller still waits with a timeout, so a handler past its deadline is reported while it
    goes on running here; its environment is then dropped, and this thread ends after that last task.
    """

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            task()

    def run(self, work: Callable[[], Any], timeout_s: float) -> tuple[bool, Any]:
        """(finished, result or exception) of work() on this thread; finished is False after timeout_s."""
        outcome: list[tuple[bool, Any]] = []
        # A lock taken here and released by the task: a one-shot signal in C, where threading.Event's
        # set() and wait() run a Condition's Python code on both threads.
        done = threading.Lock()
        done.acquire()

        def task() -> None:
            try:
                outcome.append((True, work()))
            except BaseException as exc:  # handed back to the calling thread
                outcome.append((False, exc))
            finally:
                done.release()

        self._tasks.put(task)
        if not done.acquire(timeout=min(max(0.0, timeout_s), threading.TIMEOUT_MAX)):
            return False, None
        ok, value = outcome[0]
        if not ok:
            raise value
        return True, value

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def stop(self) -> None:
        self._tasks.put(None)


class _LabRecordsAtLabLevel(logging.Filter):
    """Passes the records of the function's thread, and the lab's own at the lab's root level or above."""

    def __init__(self, level: int, function_thread: int | None) -> None:
        super().__init__()
        self.level = level
        self.function_thread = function_thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or record.thread == self.function_thread


def _keep_lab_records_at(
    level: int, function_thread: int | None, root: logging.Logger, runtime_handler: type
) -> list[tuple[logging.Handler, logging.Filter]]:
    """While an inprocess invoke lowers the root logger's level (the function's JSON ApplicationLogLevel, or
    its own setLevel), the lab's other threads would log below the lab's level to the lab's handlers: each
    of those handlers gets a filter that stops them for the invoke's duration."""
    guard = _LabRecordsAtLabLevel(level, function_thread)
    guarded = []
    for handler in root.handlers:
        if not isinstance(
            handler, runtime_handler
        ):  # the runtime's own handler sees the function's thread only
            handler.addFilter(guard)
            guarded.append((handler, guard))
    return guarded


class InProcessWorker:
    """An environment inside the lab process: fast, weaker isolation (see the LambdaRuntime docstring).

    One invoke at a time in the whole lab process (a class-wide lock), because the function's environment
    variables are swapped into os.environ for its duration. The handler runs on a thread of its
    environment so a timeout can be reported; a timed-out thread cannot be stopped and is abandoned with
    its environment. The modules of the zip are imported under their own names and then removed from
    sys.modules, so each environment has its own module objects and the lab's import table stays clean.
    """

    _lock = threading.RLock()

    def __init__(self, request: dict[str, Any]) -> None:
        self.pid = None
        self._request = request
        self._environment: dict[str, str] = dict(request["environment"])
        self._environ_swap = EnvironSwap(self._environment)
        self._task_root = request["task_root"]
        self._code_paths: list[str] = list(request["code_paths"])  # the task root, then the layers'
        # Modules loaded from these folders belong to the environment (see the class docstring).
        self._code_prefixes = tuple(self._code_paths)
        self._bootstrap = _load_bootstrap()
        self._handler: Any = None
        json_logs, log_level = self._bootstrap.log_settings(self._environment)
        self._json_logs = json_logs
        self._root_level = logging.getLevelNamesMapping()[log_level] if log_level else logging.WARNING
        self._modules: dict[str, ModuleType] = {}
        self._boto3_session: Any = None  # this environment's boto3.DEFAULT_SESSION
        self._thread: _EnvironmentThread | None = None

    def _in_environment(self, work: Any, deadline: float) -> tuple[bool, Any]:
        """Run work() on this environment's thread with the function's environment; (finished, result)."""
        bootstrap = self._bootstrap
        collector = bootstrap.LogCollector(json_format=self._json_logs)

        def run() -> Any:
            bootstrap.set_thread_collector(collector)
            try:
                return work(collector)
            finally:
                bootstrap.set_thread_collector(None)

        with self._lock:
            thread = self._thread
            if thread is None:
                thread = self._thread = _EnvironmentThread("lambda-inprocess")
            saved_stdout, saved_stderr = sys.stdout, sys.stderr
            root = logging.getLogger()
            saved_level = root.level
            last_module = _last_module()
            undo = self._environ_swap.apply()
            sys.path[0:0] = self._code_paths
            sys.stdout = bootstrap.CapturedStream(saved_stdout)
            sys.stderr = bootstrap.CapturedStream(saved_stderr)
            bootstrap.install_lambda_logging()
            bootstrap.install_call_hooks()
            if root.level != self._root_level:  # setLevel() empties every logger's cache, even unchanged
                root.setLevel(self._root_level)
            guarded = (
                _keep_lab_records_at(saved_level, thread.ident, root, bootstrap.LambdaLogHandler)
                if root.level < saved_level
                else []
            )
            lab_session = bootstrap.sdk_calls.swap_default_session(self._boto3_session)
            try:
                finished, value = thread.run(run, deadline - time.monotonic())
            finally:
                for handler, guard in guarded:
                    handler.removeFilter(guard)
                self._boto3_session = bootstrap.sdk_calls.swap_default_session(lab_session)
                self._root_level = root.level
                if root.level != saved_level:
                    root.setLevel(saved_level)
                sys.stdout, sys.stderr = saved_stdout, saved_stderr
                for path in self._code_paths:
                    if path in sys.path:
                        sys.path.remove(path)
                self._environ_swap.restore(undo)
                for name in _imported_since(last_module):
                    if str(getattr(sys.modules.get(name), "__file__", "") or "").startswith(
                        self._code_prefixes
                    ):
                        self._modules[name] = sys.modules.pop(name)
        return finished, value

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        bootstrap = self._bootstrap
        started = time.perf_counter()

        def init(collector: Any) -> dict[str, Any]:
            try:
                self._handler = bootstrap.load_handler(self._request["handler"])
            except SystemExit as exc:  # not the lab's exit: the environment's, as in process isolation
                return bootstrap.exit_header(exc, collector, "init_error")
            except Exception as exc:
                error = bootstrap.error_from_exception(exc, None)
                logging.warning(bootstrap.UNHANDLED_EXCEPTION_WARNING)
                collector.add_event(bootstrap.format_error_log(error, collector.json_format))
                return {"type": "init_error", "error": error, "logs": collector.take()}
            return {"type": "ready", "logs": collector.take()}

        for name in list(sys.modules):  # a module of an earlier environment must not be reused
            if str(getattr(sys.modules.get(name), "__file__", "") or "").startswith(self._code_prefixes):
                del sys.modules[name]
        finished, header = self._in_environment(init, deadline)
        if not finished:
            raise TimeoutError
        header["init_ms"] = (time.perf_counter() - started) * 1000
        return header

    def invoke(
        self, header: dict[str, Any], body: bytes, deadline: float, spin_s: float = 0.0
    ) -> tuple[dict[str, Any], bytes]:
        """Runs one invoke on a thread (spin_s is for ProcessWorker's interface: a thread is not woken
        through the kernel)."""
        bootstrap = self._bootstrap

        def call(collector: Any) -> Any:
            sys.modules.update(self._modules)  # lazy imports inside the handler find this environment's
            context = bootstrap.LambdaContext(
                request_id=header["request_id"],
                invoked_function_arn=header["invoked_function_arn"],
                deadline_epoch_ms=header["deadline_epoch_ms"],
                environ=os.environ,  # read once, here, on the environment's thread
                client_context=header.get("client_context"),
                identity=header.get("identity"),
            )
            try:
                return bootstrap.run_invoke(
                    self._handler,
                    event_body=body,
                    context=context,
                    collector=collector,
                    execution_env=self._environment.get("AWS_EXECUTION_ENV"),
                )
            except SystemExit as exc:  # ends the environment, never the lab process
                return bootstrap.exit_header(exc, collector)

        finished, outcome = self._in_environment(call, deadline)
        if not finished:
            raise TimeoutError
        if isinstance(outcome, dict):  # the exit header
            return outcome, b""
        return outcome.result_header(), outcome.body  # Max Memory Used: the lab process's peak RSS

    def rss_mb(self) -> float | None:
        return None

    def salvage_logs(self, grace_s: float = 0.2) -> list[tuple[int, str]]:
        return []  # the abandoned thread keeps writing into its own collector; nothing to take safely

    def kill(self) -> None:
        self._handler = None  # a running thread cannot be stopped; the environment is dropped
        self._stop_thread()

    def close(self) -> None:
        self._handler = None
        self._modules.clear()
        self._stop_thread()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.stop()  # it ends once its current task, if any, returns
            self._thread = None
