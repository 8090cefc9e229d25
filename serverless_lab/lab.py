"""The lab: one student's stack on one backend, deployed step by step.

    lab = Lab(student="ada")          # the shared local moto server, started when missing
    lab.require("api")                # applies whatever earlier steps are missing
    lab.status()                      # one row per step: deployed, verified, key outputs

Outputs (ids, ARNs, URLs) are derived from the backend itself and saved per student beside the backend's
state file, so another kernel or the CLI finds them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import EndpointConnectionError

from serverless_lab.dataplane.lambda_.runtime import ResourceNotFoundException

from .backends import Backend, default_backend_name, lab_home, make_backend
from .errors import BackendNotRunningError, InvalidStudentError, StepError, UnknownStepError, UsageError
from .preview import ApplyPreview, show
from .steps import ORDER, STEPS, Names, Plan, Report, Step, StepContext
from .steps.base import state_of

if TYPE_CHECKING:
    from serverless_lab.dataplane.lambda_.runtime import Invocation
    from serverless_lab.dataplane.server import DataPlaneServer
    from serverless_lab.dataplane.service import DataPlane

STUDENT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$|^[a-z]$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What status() shows of each step's outputs (lab.outputs has them all).
KEY_OUTPUTS = {
    "site": ("bucket", "files"),
    "cdn": ("distribution_id", "domain_name"),
    "users": ("user_pool_id", "client_id"),
    "table": ("table_name",),
    "functions": ("role_arn",),
    "api": ("rest_api_id", "url"),
}
# On the aws backend the stage throttles every method to this by default (the account's default is 10,000
# requests per second with a burst of 5,000: "API Gateway quotas", limits.html), so a runaway client or a
# load test cannot run up a bill; Lab(stage_throttle=None) keeps the account's default.
AWS_STAGE_THROTTLE = {"rateLimit": 10.0, "burstLimit": 20}  # BurstLimit is an integer (ThrottleSettings)
_DEFAULT: Any = object()


F = TypeVar("F", bound=Callable[..., Any])


def _reaching_the_backend(method: F) -> F:
    """A backend that no longer answers (a stopped moto server, a wrong endpoint URL, no network) is a
    BackendNotRunningError that says how to bring it back, not botocore's EndpointConnectionError."""

    @functools.wraps(method)
    def call(self: Lab, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except EndpointConnectionError as error:
            fixes = {
                "local": "start it again with `serverless-lab backend start` (a new Lab() starts one too)",
                "class": "ask the instructor to start the class's backend (`serverless-lab class start`)",
                "endpoint": "start the service that should answer there, or fix endpoint_url",
                "aws": "check your network connection",
            }
            fix = fixes.get(self.backend.name, "start the backend again")
            raise BackendNotRunningError(
                f"The {self.backend.name} backend does not answer ({error}). Fix: {fix}."
            ) from None

    return call  # type: ignore[return-value]


def validate_student(student: str) -> str:
    if not isinstance(student, str) or not STUDENT_PATTERN.fullmatch(
        student
    ):  # not match: $ allows a final \n
        raise InvalidStudentError(
            f"Invalid student name {student!r}: it prefixes S3 bucket and other AWS resource names, so use 1 to 20 "
            "lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen "
            "(for example 'ada' or 'team-7')."
        )
    return student


def step_names(name: str | None, *, every_step_if_none: bool = True) -> list[str]:
    """[name], or every step for None where the method takes all steps (apply, verify, destroy)."""
    if name is None and every_step_if_none:
        return list(ORDER)
    if not isinstance(name, str) or name not in STEPS:
        raise UnknownStepError(f"Unknown step {name!r}. Fix: use one of {', '.join(ORDER)}.")
    return [name]


@dataclass
class Lab:
    """One student's serverless stack on one backend."""

    # "local", or "class" inside a class ($SERVERLESS_LAB_CLASS: see backends/classroom.py)
    backend: Backend | str = field(default_factory=default_backend_name)
    student: str = "default"
    # Offline us-east-1 unless given; on aws the user's configuration (AWS_REGION, the profile) unless given.
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    port: int | None = None
    root: Path = PROJECT_ROOT
    # Whether anyone on the internet may sign up to the user pool: offline yes (the site's form), on aws
    # only when asked (the pool then allows AdminCreateUser only).
    self_sign_up: bool | None = None
    # The stage's default throttle: AWS_STAGE_THROTTLE on aws, none offline unless given.
    stage_throttle: dict[str, float] | None = _DEFAULT
    _outputs: dict[str, dict[str, Any]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        validate_student(self.student)
        self.root = Path(self.root)
        if not isinstance(self.backend, Backend):
            self.backend = make_backend(
                self.backend,
                region=self.region,
                endpoint_url=self.endpoint_url,
                profile=self.profile,
                port=self.port,
            )
        self.region = self.backend.region
        if self.self_sign_up is None:
            self.self_sign_up = not self.backend.real_aws
        if self.stage_throttle is _DEFAULT:
            self.stage_throttle = dict(AWS_STAGE_THROTTLE) if self.backend.real_aws else None
        self.names = Names(self.student, self.backend.account_id(), self.region)
        self._outputs = self._load_outputs()
        if self.backend.offline:  # every lab of a backend answers with the backend's one data plane
            self.backend.serve_invoke_with(self._invoke_api)

    @classmethod
    def connect(cls, **kwargs: Any) -> Lab:
        """The same as Lab(...): reads a notebook more naturally (it connects to a running backend)."""
        return cls(**kwargs)

    # --- steps --------------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[str, ...]:
        return ORDER

    def step(self, name: str) -> Step:
        step_names(name, every_step_if_none=False)
        context = StepContext(
            self.backend,  # type: ignore[arg-type]
            self.names,
            self._outputs,
            self.root,
            self_sign_up=bool(self.self_sign_up),
            stage_throttle=self.stage_throttle,
        )
        return STEPS[name](context)

    @_reaching_the_backend
    def plan(self, name: str) -> Plan:
        """The boto3 calls `apply(name)` would make now; changes nothing."""
        return self.step(name).plan()

    # --- asking before a real account changes --------------------------------------------------------
    def preview(self, name: str | None = None, *, require: bool = False) -> ApplyPreview:
        """The plans of what apply(name) (or require(name)) would change, with a monthly cost estimate."""
        from .flow.estimate import monthly_estimate

        if require:
            targets = list(ORDER[: ORDER.index(step_names(name, every_step_if_none=False)[0]) + 1])
        else:
            targets = step_names(name)
        plans = {step_name: self.plan(step_name) for step_name in targets}
        changed = [step_name for step_name, plan in plans.items() if plan]
        verb = "require" if require else "apply"
        argument = "" if name is None else f"{name!r}, "
        return ApplyPreview(
            student=self.student,
            account=self.names.account_id,
            region=self.region or "",
            plans=plans,
            estimate=monthly_estimate(self.root, changed),
            command=f"lab.{verb}({argument}confirm=True) (CLI: --yes)",
        )

    def _ask_first(self, name: str | None, *, confirm: bool, require: bool = False) -> None:
        """On aws, without confirm: shows what would change and what it costs, and refuses (nothing changed)."""
        if not self.backend.real_aws or confirm:
            return
        preview = self.preview(name, require=require)
        if preview:
            show(preview)
            raise preview.refusal()

    @_reaching_the_backend
    def apply(self, name: str | None = None, *, confirm: bool = False) -> dict[str, Any]:
        """Applies one step (or all, in order); idempotent. Returns the step's outputs.

        On the aws backend it first shows the plan and an estimated monthly cost, and changes the account
        only with confirm=True (ConfirmationRequiredError otherwise; nothing is changed).
        """
        self._ask_first(name, confirm=confirm)
        outputs: dict[str, Any] = {}
        for step_name in step_names(name):
            outputs = self.step(step_name).apply()
            self._record(step_name, outputs)
            if step_name != "site" and self._outputs.get("site"):
                # config.js is generated from the other steps' outputs: refresh it when they change.
                site = self.step("site")
                if site.plan():
                    self._record("site", site.apply())
        return outputs

    @_reaching_the_backend
    def require(self, name: str, *, confirm: bool = False) -> dict[str, Any]:
        """Applies `name` and every step before it that is not fully deployed, so a fresh kernel can start
        anywhere. On the aws backend, as apply: only with confirm=True when anything would change."""
        targets = ORDER[: ORDER.index(step_names(name, every_step_if_none=False)[0]) + 1]
        self._ask_first(name, confirm=confirm, require=True)
        for step_name in targets:
            step = self.step(step_name)
            if step.plan():
                self.apply(step_name, confirm=True)
            else:
                self._record(step_name, step.outputs())
        return self._outputs[targets[-1]]

    @_reaching_the_backend
    def deployed(self, name: str) -> dict[str, Any]:
        """The outputs of `name` and the steps before it, read without changing anything; StepError naming
        the first step that is not deployed. What reading a URL uses on aws: it never deploys."""
        targets = ORDER[: ORDER.index(step_names(name, every_step_if_none=False)[0]) + 1]
        for step_name in targets:
            outputs = self.step(step_name).outputs()
            if not outputs:
                raise StepError(
                    f"The {step_name} step is not deployed for student {self.student!r} on the "
                    f"{self.backend.name} backend ({self.region}). Fix: lab.require({name!r}"
                    + (", confirm=True)" if self.backend.real_aws else ")"),
                    status=409,
                )
            self._record(step_name, outputs)
        return self._outputs[targets[-1]]

    @_reaching_the_backend
    def verify(self, name: str | None = None) -> Report:
        """Read-only checks of one step (or all) with readable results."""
        if name is not None:
            return self.step(name).verify()
        report = Report("all steps")
        for step_name in ORDER:
            report.extend(self.step(step_name).verify())
        return report

    @_reaching_the_backend
    def destroy(self, name: str | None = None) -> None:
        """Tears down one step, or every step in reverse order; leaves nothing of this student behind.

        A step that cannot be removed (a table with deletion protection, a backend error) does not stop
        the others: every step that can go goes, then one StepError names each that could not, and why.
        """
        failures: list[str] = []
        if self.backend.real_aws:
            print(
                f"destroy: searching AWS account {self.names.account_id}, region {self.region} (CloudFront and "
                f"IAM are global), for what student {self.student!r} owns",
                flush=True,
            )
        for step_name in reversed(step_names(name)):
            if step_name == "site" and any(f.startswith("cdn:") for f in failures):
                # A distribution left behind would still name the bucket, whose name anyone may take once it
                # is deleted (bucket names are global): the bucket stays until the cdn step is gone.
                failures.append("site: not destroyed, because the cdn step could not be (see above)")
                continue
            try:
                self.step(step_name).destroy()
            except Exception as error:  # reported below, after the other steps are gone
                failures.append(f"{step_name}: {type(error).__name__}: {error}")
                continue
            self._outputs.pop(step_name, None)
            self._save_outputs()
        if name not in (None, "site") and not failures and self.step("site").outputs():
            # config.js names what is deployed: once a step is gone, its values become null there too.
            self._record("site", self.step("site").apply())
        if failures:
            raise StepError(
                "Could not destroy every step; the others are gone.\n  "
                + "\n  ".join(failures)
                + "\nFix what the messages say, then run destroy again: it removes only what is left."
            )

    @_reaching_the_backend
    def status(self) -> Any:
        """A pandas DataFrame, one row per step: state (deployed / partial / absent), verified, key outputs."""
        import pandas as pd

        rows = []
        for step_name in ORDER:
            step = self.step(step_name)
            outputs = step.outputs()
            state = state_of(step.plan(), outputs)
            verified: bool | None = None
            if state != "absent":
                verified = step.verify().passed
            rows.append(
                {
                    "step": step_name,
                    "component": step.title,
                    "state": state,
                    "verified": verified,
                    "key outputs": ", ".join(
                        f"{k}={outputs[k]}" for k in KEY_OUTPUTS[step_name] if outputs.get(k) is not None
                    ),
                }
            )
        return pd.DataFrame(rows).set_index("step")

    # --- data plane ---------------------------------------------------------------------------------
    def dataplane(self, **options: Any) -> DataPlane:
        """The local data plane of this lab's backend (one per backend and process), created on first use."""
        from serverless_lab.dataplane.service import DataPlane

        if not self.backend.offline:
            # The local runtime would run the functions on this machine with the user's credentials and
            # write made-up log lines into the account's log groups: on AWS, AWS serves the traffic.
            raise UsageError(
                f"The {self.backend.name} backend has no local data plane: AWS serves the traffic. Fix: "
                "lab.invoke() calls Lambda's Invoke API, teaching.call_api()/edge_get() send real HTTPS "
                "requests, lab.site_url() is the distribution's URL."
            )
        with self.backend._lock:
            if "dataplane" not in self.backend.services:
                self.backend.services["dataplane"] = DataPlane(self.backend, **options)
            return self.backend.services["dataplane"]  # type: ignore[no-any-return]

    def _invoke_api(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The backend's Lambda clients' Invoke calls, answered by the local runtime (see serve_invoke_with)."""
        from serverless_lab.dataplane.http import HttpRequest

        answer = self.dataplane().handle(HttpRequest(method, path, query, tuple(headers), body))
        return answer.status, answer.headers, answer.body

    def serve(self) -> DataPlaneServer:
        """Serves the data plane on loopback in the background (idempotent); returns the running server."""
        from serverless_lab.dataplane.server import DataPlaneServer

        if not self.backend.offline:
            raise UsageError(
                "On the aws backend, AWS serves the traffic: use lab.outputs['cdn'] and ['api'] URLs."
            )
        dataplane = self.dataplane()
        with self.backend._lock:
            server = self.backend.services.get("server")
            if server is None:
                server = DataPlaneServer(dataplane, **self.backend.serve_options())
                self.backend.services["server"] = server
        return server.start()

    def stop_serving(self) -> None:
        """Stops what serve() started in this process (the backend and other processes are left alone)."""
        with self.backend._lock:
            server = self.backend.services.pop("server", None)
        if server is not None:
            server.stop()

    def function_name(self, function: str) -> str:
        """'items' -> this student's function name; a full name or ARN is kept as it is."""
        if not isinstance(function, str) or not function:
            raise UsageError(
                f"A function is named by a non-empty string ('items', 'me' or a full name), not {function!r}."
            )
        if function.startswith("arn:") or function.startswith(self.names.prefix + "-"):
            return function
        return self.names(function)

    @_reaching_the_backend
    def invoke(self, function: str, event: Any = None) -> Invocation:
        """Invokes a function: the payload and Lambda's metrics (cold, durations, logs). Offline on the local
        runtime; on aws through Lambda's Invoke API (the metrics from the REPORT line of its log tail)."""
        name = self.function_name(function)
        if not self.backend.offline:
            from .remote_invoke import invoke_on_lambda

            return invoke_on_lambda(self.backend.client("lambda"), name, {} if event is None else event)
        try:
            return self.dataplane().invoke(name, {} if event is None else event)
        except ResourceNotFoundException as missing:
            raise ResourceNotFoundException(
                f"{missing.message}. Fix: deploy it first (lab.require('functions') for the lab's own "
                "functions), or check the name."
            ) from None

    def trace(self, **options: Any) -> Any:
        """One simulated user through the whole stack: a DataFrame of every hop (see serverless_lab.flow)."""
        from .flow import trace

        return trace(self, **options)

    def run_flow(self, **options: Any) -> Any:
        """N simulated users at a concurrency: spans, requests and a summary (see serverless_lab.flow)."""
        from .flow import run_flow

        return run_flow(self, **options)

    def site_url(self) -> str:
        """Where a browser opens the site: the distribution's URL (served on loopback offline). On aws it
        only reads: a distribution that is not deployed is an error naming the fix, never a deploy."""
        if not self.backend.offline:
            return f"https://{self.deployed('cdn')['domain_name']}/"
        distribution_id = self.require("cdn")["distribution_id"]
        return self.serve().distribution_url(distribution_id)

    # --- outputs ------------------------------------------------------------------------------------
    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self._outputs

    def _outputs_file(self) -> Path | None:
        if self.backend.name == "memory":  # lives and dies with this process
            return None
        return lab_home() / "outputs" / self.backend.key / f"{self.student}.json"

    def _load_outputs(self) -> dict[str, dict[str, Any]]:
        path = self._outputs_file()
        if path is None or not path.exists():
            return {}
        try:
            return dict(json.loads(path.read_text()))
        except ValueError:
            return {}

    def _record(self, step_name: str, outputs: dict[str, Any]) -> None:
        if outputs:
            self._outputs[step_name] = outputs
        else:
            self._outputs.pop(step_name, None)
        self._save_outputs()

    def _save_outputs(self) -> None:
        path = self._outputs_file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._outputs, indent=2, sort_keys=True, default=str))
        temporary.replace(path)

    def __repr__(self) -> str:
        return f"Lab(backend={self.backend.name!r}, student={self.student!r}, region={self.region!r})"
