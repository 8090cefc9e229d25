"""LambdaRuntime: runs Python functions locally the way the Lambda service runs them.

What it copies from Lambda (docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
lambda-concurrency.html, configuration-envvars.html):

- One request at a time per execution environment; a request that finds no idle environment of the function
  creates one (a cold start: Init Duration in REPORT). Environments belong to one function configuration and
  code version; after an update, new requests get new environments and the old ones are retired.
- Module-level state lives as long as its environment. An exception in the handler is reported and the
  environment stays warm (the Python runtime catches it); a timeout, an out-of-memory or a runtime exit
  resets the environment, and its next request pays a *suppressed init* folded into Duration.
- Reserved concurrency caps the environments busy at once (0 throttles every request); functions without
  a reservation share the account's concurrency minus the reservations. Excess requests get 429
  TooManyRequestsException "Rate Exceeded.".
- Idle environments are shut down after idle_timeout_s (Lambda keeps them for an unpublished while).
- Each environment runs as the function's execution role: `credentials(spec)` gives an sts:AssumeRole
  session of the role, named after the function, and the environment gets its keys as AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. An environment whose keys are about to expire takes no new
  request (credentials.EXPIRY_MARGIN_S); the next one starts with fresh keys.
- A function's layers (layer_loader fetches each version's content) are extracted in order into one folder
  standing in for /opt; its python/ and python/lib/<runtime>/site-packages/ folders come after the task
  root on sys.path, as in Lambda's Python runtime.

isolation="process" (default) forks each environment from a zygote (see zygote.py). isolation="inprocess"
runs handlers on threads of the lab process: much cheaper for tests, but weaker: one invoke at a time,
environment variables swapped into os.environ during an invoke, no memory limit, a timed-out thread is
abandoned rather than killed, and Max Memory Used is the lab process's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from serverless_lab.dataplane import cpu_placement
from serverless_lab.dataplane.lambda_.runtime import logs
from serverless_lab.dataplane.lambda_.runtime.code import CodeStore
from serverless_lab.dataplane.lambda_.runtime.credentials import RoleCredentials
from serverless_lab.dataplane.lambda_.runtime.environment import ExecutionEnvironment
from serverless_lab.dataplane.lambda_.runtime.errors import (
    InvalidParameterValueException,
    TooManyRequestsException,
)
from serverless_lab.dataplane.lambda_.runtime.outcome import (
    RESPONSE_LIMIT,
    Outcome,
    empty_invocation,
    encode_event,
)
from serverless_lab.dataplane.lambda_.runtime.results import EnvironmentInfo, Invocation
from serverless_lab.dataplane.lambda_.runtime.spec import FunctionSpec, LayerSpec
from serverless_lab.dataplane.lambda_.runtime.workers import InProcessWorker, ProcessWorker, Zygote
from serverless_lab.dataplane.lambda_.runtime.zygote import INIT_PHASE_LIMIT_S
from serverless_lab.errors import UsageError

LogSink = Callable[[str, str, list[tuple[int, str]]], None]
# The longest a lab thread polls for a result before it sleeps (FrameReader's spin_s), and only for an
# environment whose recent invokes came back sooner: a hello route answers in ~60 us, a DynamoDB call in
# milliseconds (polling for that would only burn CPU that the backend needs).
SPIN_LIMIT_S = 0.00025
# The longest an environment polls for its next request after answering, and only while its requests
# come back to back (one client at a time: the lab answers, the client asks again within ~200 us).
NEXT_REQUEST_SPIN_LIMIT_S = 0.0003
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_logger = logging.getLogger(__name__)


def _function_id(spec: FunctionSpec) -> tuple[str, str, str]:
    return (spec.account_id, spec.region, spec.name)


class LambdaRuntime:
    """Execution environments for any number of functions; `invoke()` is Lambda's Invoke."""

    def __init__(
        self,
        *,
        code_loader: Callable[[FunctionSpec], bytes],
        layer_loader: Callable[[LayerSpec], bytes] | None = None,
        log_sink: LogSink | None = None,
        base_environment: Mapping[str, str] | None = None,
        credentials: Callable[[FunctionSpec], RoleCredentials | None] | None = None,
        isolation: Literal["process", "inprocess"] = "process",
        idle_timeout_s: float = 300.0,
        account_concurrency: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isolation not in ("process", "inprocess"):
            raise UsageError(f"isolation must be 'process' or 'inprocess', not {isolation!r}.")
        if not callable(code_loader):
            raise UsageError("code_loader must be a callable that returns a function's zip as bytes.")
        self._code_loader = code_loader
        self._layer_loader = layer_loader
        self._log_sink = log_sink
        self._base_environment = dict(base_environment or {})
        self._credentials = credentials
        self._isolation = isolation
        self._idle_timeout_s = float(idle_timeout_s)
        self._account_concurrency = int(account_concurrency)
        self._clock = clock
        self._lock = threading.Lock()
        self._environments: list[ExecutionEnvironment] = []
        # The configuration of each function version that new environments get: (function id, version).
        self._current_keys: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}
        self._reservations: dict[tuple[str, str, str], int | None] = {}
        self._code = CodeStore()
        self._zygote = Zygote() if isolation == "process" else None
        if self._zygote is not None:
            self._zygote.start_in_background()  # ready by the time a notebook sends its first request
        self._background: list[threading.Thread] = []
        self._closed = False
        self._environment_cpus: frozenset[int] | None = None
        self._thread_placement = threading.local()

    def keep_environments_on(self, cpus: frozenset[int] | None) -> None:
        """Runs the execution environments (the zygote, every environment it has forked and will fork) on
        `cpus` only; the served data plane keeps its own threads off them (see cpu_placement). None: back
        on every CPU the lab process may use, and no polling (when the data plane stops serving)."""
        self._environment_cpus = None if cpus is None else frozenset(cpus)
        where = self._environment_cpus or cpu_placement.process_cpus()
        if where is None:
            return
        if self._zygote is not None:
            self._zygote.place(where)
        with self._lock:
            workers = [env.worker for env in self._environments]
        for worker in workers:
            if isinstance(worker, ProcessWorker):
                cpu_placement.place_process(worker.pid, where)

    # ------------------------------------------------------------------ public API

    def invoke(
        self,
        spec: FunctionSpec,
        event: Any,
        *,
        invocation_type: str = "RequestResponse",
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
        trace_id: str | None = None,
        invoked_arn: str | None = None,
        json_native: bool = False,
    ) -> Invocation:
        """Run the function on `event` (a JSON-able value, or the raw payload as bytes).

        `invoked_arn` is the ARN the caller named (an alias or version suffix included), which Lambda gives
        the handler as context.invoked_function_arn; without it, the configuration's own FunctionArn.
        `json_native`: the caller vouches that `event` holds only JSON's own types (dicts with str keys,
        lists, str, int, bool, None, finite floats), as the gateway's proxy events do; it is then encoded
        without the check that reads it back.
        """
        if self._closed:
            raise UsageError("This LambdaRuntime is shut down; create a new one.")
        if not isinstance(spec, FunctionSpec):
            raise UsageError(f"invoke() needs a FunctionSpec, not {type(spec).__name__}.")
        if invocation_type not in _INVOCATION_TYPES:
            raise InvalidParameterValueException(
                f"Invalid invocation type {invocation_type!r}: use RequestResponse, Event or DryRun."
            )
        body = encode_event(event, json_native=json_native)
        if invocation_type == "DryRun":  # validates the request, runs nothing: 204
            return empty_invocation(spec, status_code=204)
        if invocation_type == "Event":  # queued: Lambda answers 202 at once and runs it later
            invocation = empty_invocation(spec, status_code=202)
            worker = threading.Thread(
                target=self._run_event,
                args=(spec, body, invocation.request_id, invoked_arn),
                name=f"lambda-event-{spec.name}",
                daemon=True,
            )
            self._background = [t for t in self._background if t.is_alive()]
            self._background.append(worker)
            worker.start()
            return invocation
        return self._run(spec, body, None, client_context, identity, trace_id, invoked_arn)

    @property
    def code_root(self) -> Path:
        """The temporary folder holding the extracted deployment packages (removed on shutdown)."""
        return self._code.root

    def environments(self) -> list[EnvironmentInfo]:
        self.reap_idle()
        with self._lock:
            snapshot = list(self._environments)
        return [
            EnvironmentInfo(
                id=env.id,
                function=env.spec.name,
                state="busy" if env.busy else "idle",
                invocations=env.invocations,
                created=env.created,
                last_used=env.last_used,
                rss_mb=env.worker.rss_mb() if env.worker is not None else None,
                log_stream_name=env.log_stream_name,
                pid=env.worker.pid if env.worker is not None else None,
            )
            for env in snapshot
        ]

    def reap_idle(self) -> int:
        """Shut down the environments idle for idle_timeout_s or more; how many were."""
        now = self._clock()
        with self._lock:
            expired = [
                env
                for env in self._environments
                if not env.busy and now - env.last_used >= self._idle_timeout_s
            ]
            for env in expired:
                self._environments.remove(env)
        for env in expired:
            _close(env)
        return len(expired)

    def shutdown(self) -> None:
        """Stop every environment and the zygote, and remove the extracted code."""
        self._closed = True
        for worker in list(self._background):
            worker.join(timeout=1.0)
        with self._lock:
            environments, self._environments = self._environments, []
        for env in environments:
            if env.busy:  # its invoking thread sees the end of the process and closes the pipes itself
                if env.worker is not None:
                    env.worker.kill()
            else:
                _close(env)
        if self._zygote is not None:
            self._zygote.close()
        self._code.remove()

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ environments

    def _acquire(self, spec: FunctionSpec) -> ExecutionEnvironment:
        function = _function_id(spec)
        key = spec.configuration_key()
        stale: list[ExecutionEnvironment] = []
        now = self._clock()
        with self._lock:
            # Idle environments past idle_timeout_s are shut down here, in the pass that picks one (what
            # reap_idle() does, without a lock and a scan of its own on every invoke).
            idle_limit = self._idle_timeout_s
            for env in [e for e in self._environments if not e.busy and now - e.last_used >= idle_limit]:
                self._environments.remove(env)
                stale.append(env)
            # A new configuration retires the environments of that version only: on Lambda each version
            # (and $LATEST) has environments of its own, so invoking version 1 leaves $LATEST's warm.
            version = (*function, spec.version)
            if self._current_keys.get(version) != key:
                for env in [
                    e
                    for e in self._environments
                    if _function_id(e.spec) == function and e.spec.version == spec.version
                ]:
                    env.retired = True
                    if not env.busy:
                        self._environments.remove(env)
                        stale.append(env)
                self._current_keys[version] = key
            self._reservations[function] = spec.reserved_concurrency
            # One pass: the busy environments, and the idle one of this configuration used last (the first
            # of equals).
            busy: list[ExecutionEnvironment] = []
            env = None
            wall_clock = time.time()
            for candidate in list(self._environments):
                if candidate.busy:
                    busy.append(candidate)
                elif candidate.credentials is not None and candidate.credentials.expiring(wall_clock):
                    self._environments.remove(candidate)  # its keys lapse soon: a new one gets fresh keys
                    stale.append(candidate)
                elif (
                    not candidate.retired
                    and (env is None or candidate.last_used > env.last_used)
                    and candidate.key == key
                ):
                    env = candidate
            self._check_concurrency(function, spec.reserved_concurrency, busy)
            if env is None:
                stream, suffix = logs.new_log_stream(
                    spec.version, function_name=spec.name if spec.custom_log_group else None
                )
                env = ExecutionEnvironment(suffix, spec, key, stream, now, now)
                self._environments.append(env)
            env.busy = True
            env.alone = not busy
        for old in stale:
            _close(old)
        return env

    def _check_concurrency(
        self, function: tuple[str, str, str], reserved: int | None, busy: list[ExecutionEnvironment]
    ) -> None:
        if reserved is not None:
            if sum(1 for e in busy if _function_id(e.spec) == function) >= reserved:
                raise TooManyRequestsException("ReservedFunctionConcurrentInvocationLimitExceeded")
            return
        carved_out = sum(r for f, r in self._reservations.items() if r is not None and f != function)
        unreserved_busy = sum(1 for e in busy if self._reservations.get(_function_id(e.spec)) is None)
        if unreserved_busy >= self._account_concurrency - carved_out:
            raise TooManyRequestsException("ConcurrentInvocationLimitExceeded")

    def _release(self, env: ExecutionEnvironment, *, dead: bool = False) -> None:
        with self._lock:
            env.busy = False
            env.invocations += 1
            env.last_used = self._clock()
            drop = dead or env.retired or self._closed
            if drop and env in self._environments:
                self._environments.remove(env)
        if drop:
            _close(env)

    def _environment_variables(
        self, spec: FunctionSpec, env: ExecutionEnvironment, task_root: Path
    ) -> dict[str, str]:
        """Lambda's unreserved defaults, the configured variables over them, then the lab's base (endpoint,
        fake credentials), then Lambda's reserved ones (the execution role's keys among them).

        As the Lambda developer guide ("Defined runtime environment variables") lists them: LANG, PATH,
        LD_LIBRARY_PATH, PYTHONPATH and the X-Ray ones are set by Lambda but "can be extended in your
        function configuration", so a configured value wins; the reserved ones (TZ among them in today's
        guide) are Lambda's. The paths name the lab's folders where Lambda's name /var/runtime and /var/task.
        """
        runtime_dir = str(Path(__file__).resolve().parent)
        variables = {
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LD_LIBRARY_PATH": f"{runtime_dir}:{task_root}:{task_root}/lib:/opt/lib",
            "PYTHONPATH": runtime_dir,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        }
        variables.update(spec.environment)
        variables.update(self._base_environment)
        variables.update(
            {
                "_HANDLER": spec.handler,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_EXECUTION_ENV": spec.execution_env,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
                **_log_format_variables(spec),
                "AWS_LAMBDA_LOG_STREAM_NAME": env.log_stream_name,
                "LAMBDA_TASK_ROOT": str(task_root),
                "LAMBDA_RUNTIME_DIR": runtime_dir,
                "TZ": ":UTC",
                **(env.credentials.environment() if env.credentials is not None else {}),
            }
        )
        # Lab-only: no shared credentials file and no instance metadata, so an environment never picks up the
        # lab user's own AWS identity (Lambda has neither; its credentials come from the execution role).
        variables.setdefault("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        variables.setdefault("AWS_CONFIG_FILE", "/dev/null")
        variables.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        return variables

    def _layer_paths(self, spec: FunctionSpec) -> list[str]:
        """Where the function's layers are importable from, after the task root as on Lambda (sys.path of
        the Python runtime: /var/task, then /opt/python/lib/python3.x/site-packages, then /opt/python)."""
        if not spec.layers:
            return []
        if self._layer_loader is None:
            raise UsageError(
                f"Function {spec.name} uses layers, and this LambdaRuntime has no layer_loader to fetch them."
            )
        opt = self._code.opt_root(spec.layers, self._layer_loader)
        return [str(opt / "python" / "lib" / spec.runtime / "site-packages"), str(opt / "python")]

    def _start_worker(self, spec: FunctionSpec, env: ExecutionEnvironment, task_root: Path) -> Any:
        request = {
            "environment": self._environment_variables(spec, env, task_root),
            "task_root": str(task_root),
            # sys.path of the function: its task root, then its layers
            "code_paths": [str(task_root), *self._layer_paths(spec)],
            "handler": spec.handler,
            "memory_mb": spec.memory_mb,
        }
        if self._zygote is not None:
            return self._zygote.fork(request)
        return InProcessWorker(request)

    # ------------------------------------------------------------------ one invoke

    def _run_event(self, spec: FunctionSpec, body: bytes, request_id: str, invoked_arn: str | None) -> None:
        # Lambda queues asynchronous events and retries throttles itself; the lab retries a few times.
        for attempt in range(5):
            if self._closed:
                return
            try:
                self._run(spec, body, request_id, None, None, None, invoked_arn)
                return
            except TooManyRequestsException:
                time.sleep(0.2 * (attempt + 1))
            except Exception:
                _logger.exception("Asynchronous invoke of %s failed", spec.name)
                return

    def _run(
        self,
        spec: FunctionSpec,
        body: bytes,
        request_id: str | None,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
        trace_id: str | None,
        invoked_arn: str | None = None,
    ) -> Invocation:
        task_root = self._code.task_root(spec.name, spec.code_sha256, lambda: self._code_loader(spec))
        env = self._acquire(spec)
        dead = False
        try:
            if env.worker is None and self._credentials is not None:
                # Before the Init phase is timed: Lambda assumes the role before it starts the environment.
                env.credentials = self._credentials(spec)
            invocation, dead = self._run_in(
                env,
                spec,
                task_root,
                body,
                request_id or logs.new_request_id(),
                client_context,
                identity,
                trace_id,
                invoked_arn or spec.arn,
            )
        except BaseException:
            dead = True
            raise
        finally:
            if dead and env.worker is not None:
                env.worker.kill()
            self._release(env, dead=dead)
        self._deliver_logs(invocation)
        return invocation

    def _run_in(
        self,
        env: ExecutionEnvironment,
        spec: FunctionSpec,
        task_root: Path,
        body: bytes,
        request_id: str,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
        trace_id: str | None,
        invoked_arn: str,
    ) -> tuple[Invocation, bool]:
        events: list[tuple[int, str]] = []
        outcome = Outcome(request_id=request_id, spec=spec, env=env)
        started = time.monotonic()
        if env.worker is None:
            outcome.cold = True
            outcome.suppressed_init = env.initialized
            if env.initialized:  # a suppressed init runs inside the invoke phase, after START
                outcome.start_ms = logs.now_ms()
            elif not spec.json_logs:
                events.append((logs.now_ms(), logs.init_start_line(spec.runtime)))
            elif logs.system_logs_shown(spec.system_log_level):
                now = logs.now_ms()
                events.append((now, logs.init_start_record(spec.runtime, spec.name, spec.version, now)))
            limit = spec.timeout_s if env.initialized else INIT_PHASE_LIMIT_S
            worker = self._start_worker(spec, env, task_root)
            try:
                ready = worker.wait_ready(started + limit)
            except (TimeoutError, EOFError) as failure:
                worker.kill()
                worker.close()
                outcome.fail_platform(isinstance(failure, TimeoutError), started)
                if not outcome.suppressed_init:
                    _add_init_report(events, spec, outcome.duration_ms, outcome.error_type, outcome.status)
                    outcome.start_at = len(events)
                return outcome.finish(events), True
            outcome.init_ms = (time.monotonic() - started) * 1000
            outcome.max_memory_used_mb = env.max_memory_used_mb = int(ready.get("max_memory_used_mb", 0))
            events.extend(logs.keep_application_lines(ready["logs"], spec.application_log_level))
            if ready["type"] == "init_error":
                worker.close()
                exit_status = ready.get("exit_status")  # sys.exit() in module code: the runtime ended
                outcome.error = (
                    ready["error"] if exit_status is None else logs.exit_error(request_id, exit_status)
                )
                _add_init_report(events, spec, outcome.init_ms, outcome.error["errorType"], "error")
                outcome.start_at = len(events)
                outcome.status, outcome.error_type = "error", outcome.error["errorType"]
                outcome.init_ms = None if outcome.suppressed_init else outcome.init_ms
                return outcome.finish(events), True
            env.worker = worker
            env.initialized = True
            outcome.start_at = len(events)
        # The function timeout bounds the invoke phase; a first init has its own 10 s limit, a suppressed
        # init runs inside the invoke phase and counts against the timeout.
        invoke_started = time.monotonic()
        invoke_started_ms = logs.now_ms()
        if outcome.start_ms is None:
            outcome.start_ms = invoke_started_ms
        deadline = (started if outcome.suppressed_init else invoke_started) + spec.timeout_s
        header = {
            "request_id": request_id,
            "invoked_function_arn": invoked_arn,
            "deadline_epoch_ms": invoke_started_ms + int((deadline - invoke_started) * 1000),
            "client_context": client_context,
            "identity": identity,
            "trace_id": trace_id,
        }
        result_spin_s, header["spin_s"] = self._spin_budgets(env)
        try:
            sent = time.perf_counter()
            if env.answered_at is not None:
                env.gap_s = _moving_average(env.gap_s, sent - env.answered_at, NEXT_REQUEST_SPIN_LIMIT_S)
            result, response = env.worker.invoke(header, body, deadline, result_spin_s)
            env.answered_at = answered = time.perf_counter()
            env.turnaround_s = _moving_average(env.turnaround_s, answered - sent, SPIN_LIMIT_S)
        except (TimeoutError, EOFError) as failure:
            outcome.max_memory_used_mb = round(env.worker.rss_mb() or env.max_memory_used_mb)
            if isinstance(failure, TimeoutError):
                events.extend(
                    logs.keep_application_lines(env.worker.salvage_logs(), spec.application_log_level)
                )
            env.worker.kill()
            env.worker.close()
            env.worker = None  # reset: the next request re-runs the init (suppressed init)
            outcome.fail_platform(isinstance(failure, TimeoutError), invoke_started)
            return outcome.finish(events), False
        events.extend(logs.keep_application_lines(result["logs"], spec.application_log_level))
        if result["type"] == "exit":  # the handler called sys.exit(): its lines, then the runtime is gone
            env.worker.kill()
            env.worker.close()
            env.worker = None  # the next request re-runs the init (suppressed init)
            outcome.fail_platform(False, invoke_started, result["exit_status"])
            return outcome.finish(events), False
        outcome.calls = result["calls"]
        outcome.duration_ms = result["duration_ms"]
        outcome.max_memory_used_mb = env.max_memory_used_mb = int(result["max_memory_used_mb"])
        outcome.content_type = result["content_type"]
        if result["out_of_memory"]:
            env.worker.close()
            env.worker = None
            outcome.error = logs.out_of_memory_error(request_id)
            outcome.status, outcome.error_type = "error", "Runtime.OutOfMemory"
        elif result["error"] is not None:
            outcome.error = result["error"]
            outcome.raw = response
        elif len(response) > RESPONSE_LIMIT:
            outcome.error = logs.response_too_large_error(len(response))
        else:
            outcome.raw = response
        return outcome.finish(events), False

    def _spin_budgets(self, env: ExecutionEnvironment) -> tuple[float, float]:
        """How long the invoking thread may poll for the result, and the environment for its next request,
        before each sleeps (FrameReader's spin_s).

        Why poll at all: waking a sleeping process costs ~30 us of kernel time on a virtual machine, and a
        request to a warm hello route crosses four sleeps (client, lab, environment, lab, client). With one
        client, polling on both sides of the lab-environment pipe took GET /me from ~3,000 to 4,100-4,500
        requests a second on the 2-core reference machine (benchmarks/bench_dataplane.py); the client then
        tends to run on the lab's CPU, which it wakes without an interrupt.

        Only where polling cannot slow anything down: the environments run on CPUs the invoking thread
        is kept off (cpu_placement), so neither poll takes the other's CPU; no other invoke is running (it
        could use the CPU either poll holds); and this environment's recent invokes came back within
        SPIN_LIMIT_S (a function that waits on DynamoDB for milliseconds leaves the CPU to the backend),
        and, for the environment's poll, its requests followed its answers within
        NEXT_REQUEST_SPIN_LIMIT_S. Eight clients keep several environments busy: nothing polls, and the
        environments share their CPUs.
        """
        cpus = self._environment_cpus
        if cpus is None or not env.alone:
            return 0.0, 0.0
        placement = self._thread_placement
        if getattr(placement, "cpus", None) != cpus:  # asked once per thread and placement
            placement.cpus, placement.avoids = cpus, cpu_placement.thread_avoids(cpus)
        if not placement.avoids or env.turnaround_s >= SPIN_LIMIT_S:
            return 0.0, 0.0
        return SPIN_LIMIT_S, NEXT_REQUEST_SPIN_LIMIT_S if env.gap_s < NEXT_REQUEST_SPIN_LIMIT_S else 0.0

    def _deliver_logs(self, invocation: Invocation) -> None:
        if self._log_sink is None:
            return
        try:
            self._log_sink(invocation.log_group_name, invocation.log_stream_name, invocation.log_events)
        except Exception:  # a broken sink must not fail the function's answer
            _logger.exception("The log sink failed for %s", invocation.log_group_name)


def _add_init_report(
    events: list[tuple[int, str]],
    spec: FunctionSpec,
    init_ms: float,
    error_type: str | None,
    status: str | None,
) -> None:
    """The report of a failed Init phase: INIT_REPORT, or platform.initReport with the JSON log format."""
    now = logs.now_ms()
    if not spec.json_logs:
        events.append((now, logs.init_report_line(init_ms, error_type, status)))
    elif logs.system_logs_shown(spec.system_log_level):
        events.append((now, logs.init_report_record(init_ms, error_type, status, now)))


def _log_format_variables(spec: FunctionSpec) -> dict[str, str]:
    """What Lambda's Python runtime reads for the JSON log format (awslambdaric: AWS_LAMBDA_LOG_FORMAT and
    AWS_LAMBDA_LOG_LEVEL, the application log level); with the text format it sets neither."""
    if not spec.json_logs:
        return {}
    return {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": str(spec.application_log_level)}


def _moving_average(average: float, sample: float, limit: float) -> float:
    """An exponential moving average (weight 1/4 to the new sample); a sample is counted as at most ten
    times `limit`, so that one long pause (an idle minute) is forgotten after a few quick requests."""
    sample = min(sample, 10 * limit)
    return sample if average == math.inf else 0.75 * average + 0.25 * sample


def _close(env: ExecutionEnvironment) -> None:
    if env.worker is not None:
        env.worker.close()
        env.worker = None
