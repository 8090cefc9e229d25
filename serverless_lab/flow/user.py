"""A simulated user doing what the web app's page does, over real HTTP, one hop recorded per span.

One session: load the site through the edge (index.html, then every asset it references), sign up with
Cognito, confirm the account, sign in (USER_PASSWORD_AUTH), then create, list, get, update and delete an
item with the ID token in the Authorization header, as data/site/app.js does.

Offline (memory, local, endpoint backends) every request carries the lab-only `X-Serverless-Lab-Trace`
header, so each answer brings back the spans the data plane recorded for it: edge and S3 origin, Cognito,
gateway, authorizer, Lambda (cold or warm) and the SDK calls the handler made. Cognito's emailed code does
not exist offline; the account is confirmed with AdminConfirmSignUp through boto3, as the page tells a
learner to do (`serverless-lab users confirm`).

On the `aws` backend the same session runs against CloudFront, Cognito and API Gateway over HTTPS. AWS
sends no spans back, so the records carry client-side spans only (the edge's X-Cache header still says hit
or miss); `cloudwatch.py` adds the Lambda spans from the functions' REPORT lines. The flow on aws sends no
e-mail: a SignUp would make Cognito e-mail a verification code to <user>@example.com, and Cognito's default
sender allows only a few a day per account (user-pool-email.html), so the demo would fail with
LimitExceededException after a run or two, and a class at once. Instead an administrator makes each user:
AdminCreateUser with MessageAction=SUPPRESS (no invitation) and email_verified=true (no verification code),
then AdminSetUserPassword with Permanent=True (CONFIRMED at once); the user then signs in as the page does.
The flow reads the stack and never deploys it there. The tests run this path against a stand-in of AWS
(tests/e2e/test_aws_course.py).

Each user keeps one keep-alive connection per host, as a browser does; assets are fetched one after the
other (a browser fetches up to six at once), so the site's load time here is a sum, not a maximum.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from serverless_lab.dataplane.server import TRACE_HEADER, decode_spans

from .http_client import Answer, HttpClient, page_assets
from .records import RequestRecord, SessionResult, request_counter

COGNITO_TARGET = "AWSCognitoIdentityProviderService."


@dataclass(frozen=True)
class FlowTargets:
    """Where a simulated user sends its requests, and how to confirm a sign-up."""

    site_url: str
    api_url: str
    cognito_url: str
    client_id: str
    user_pool_id: str
    traced: bool = True
    source: str = "dataplane"
    backend: str = ""
    confirm: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    remove_user: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    # Set on aws: (username, password, email) -> the user made by an administrator, no e-mail sent.
    create_user: Callable[[str, str, str], None] | None = field(default=None, compare=False, repr=False)

    @property
    def how_users_are_made(self) -> str:
        if self.create_user is not None:
            return (
                "each simulated user is made by an administrator (AdminCreateUser with MessageAction=SUPPRESS "
                "and a verified address, then AdminSetUserPassword Permanent=True): Cognito sends no e-mail"
            )
        return "each simulated user signs up (SignUp) and is confirmed with AdminConfirmSignUp; no e-mail offline"


def targets_for(lab: Any) -> FlowTargets:
    """The URLs of a deployed lab (serving it on loopback first when offline) and its admin callbacks.
    Offline it deploys what is missing; on aws it only reads (StepError naming the fix if not deployed)."""
    api = lab.require("api") if lab.backend.offline else lab.deployed("api")
    users = lab.outputs["users"]
    if lab.backend.offline:
        serve_somewhere(lab)
    site_url = lab.site_url()
    cognito_client = lab.backend.client("cognito-idp")
    pool_id = users["user_pool_id"]

    def confirm(username: str) -> None:
        cognito_client.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)

    def remove_user(username: str) -> None:
        cognito_client.admin_delete_user(UserPoolId=pool_id, Username=username)

    def create_user(username: str, password: str, email: str) -> None:
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
        cognito_client.admin_create_user(
            UserPoolId=pool_id, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        cognito_client.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )

    if lab.backend.offline:
        server = lab.serve()
        api_url = f"{server.url}/restapis/{api['rest_api_id']}/{api['stage']}/_user_request_"
        cognito_url = f"{server.url}/cognito-idp/"
        traced, source = True, "dataplane"
    else:
        # public_url: AWS's own URLs on AWS (a stand-in of AWS in the tests maps them to loopback).
        api_url = lab.backend.public_url(api.get("invoke_url") or api["url"])
        site_url = lab.backend.public_url(site_url)
        cognito_url = lab.backend.public_url(f"https://cognito-idp.{lab.region}.amazonaws.com/")
        traced, source = False, "client"
    return FlowTargets(
        site_url=site_url,
        api_url=api_url.rstrip("/"),
        cognito_url=cognito_url,
        client_id=users["client_id"],
        user_pool_id=pool_id,
        traced=traced,
        source=source,
        backend=lab.backend.name,
        confirm=confirm if lab.backend.offline else None,
        remove_user=remove_user,
        create_user=None if lab.backend.offline else create_user,
    )


def serve_somewhere(lab: Any) -> Any:
    """lab.serve(), or, when the lab's data-plane port is taken (a `serverless-lab serve` of the same backend,
    or another Lab of this process on the memory backend), the same data plane on a free port."""
    from serverless_lab.dataplane.server import DataPlaneServer

    from ..errors import PortInUseError

    try:
        return lab.serve()
    except PortInUseError:
        server = DataPlaneServer(lab.dataplane(), port=0).start()
        lab.backend.services["server"] = server  # what lab.serve() returns from now on
        return server


# --- the session -----------------------------------------------------------------------------------------


class StopSession(Exception):
    """The session stops early: its time limit passed or an answer was not the one expected."""


class SimulatedUser:
    """One virtual user: runs the flow once with `run()` and returns what every request recorded."""

    def __init__(
        self,
        targets: FlowTargets,
        session: int,
        *,
        think_time_s: float = 0.0,
        deadline: float | None = None,
        request_numbers: Callable[[], int] | None = None,
        run: str = "",
        concurrency: int | None = None,
        seed: int | None = None,
        cleanup: bool = True,
    ) -> None:
        self.targets = targets
        self.session = session
        self.think_time_s = think_time_s
        self.deadline = deadline
        self.run_label = run
        self.concurrency = concurrency
        self.cleanup = cleanup
        self._random = random.Random(seed if seed is not None else session)
        self._next_number = request_numbers or request_counter()
        self._http = HttpClient()
        suffix = secrets.token_hex(4)
        self.username = f"flow-{session}-{suffix}"
        # Meets the pool's policy (8+ characters, upper, lower, digit) as the page asks.
        self.password = f"Flow{secrets.token_hex(6)}9a"
        self.result = SessionResult(session=session, username=self.username)
        self._id_token = ""

    # --- the flow, step by step --------------------------------------------------------------------------
    def run(self) -> SessionResult:
        self.result.started_s = time.time()
        signed_up = False
        try:
            self.load_site()
            self.think()
            if self.targets.create_user is not None:
                signed_up = True  # removed afterwards, even if the creation failed half-way
                self.admin_create()
            else:
                self.sign_up()
                signed_up = True
                self.confirm()
            self.sign_in()
            self.think()
            item = self.api("create", "POST", "/items", {"title": f"Note of user {self.session}"}, expect=201)
            item_id = item["itemId"]
            self.think()
            self.api("list", "GET", "/items?limit=20")
            self.think()
            self.api("get", "GET", f"/items/{item_id}")
            self.think()
            self.api("update", "PUT", f"/items/{item_id}", {"done": True, "version": item["version"]})
            self.think()
            self.api("delete", "DELETE", f"/items/{item_id}", expect=204)
            self.result.completed = True
        except StopSession as stop:
            self.result.error = str(stop)
        finally:
            self._http.close()
            if signed_up and self.cleanup and self.targets.remove_user is not None:
                try:  # not part of the flow: keeps re-runs from filling the pool with test users
                    self.targets.remove_user(self.username)
                except Exception as error:  # the session's records stay valid either way
                    self.result.error = self.result.error or f"cleanup: {error}"
            self.result.ended_s = time.time()
        return self.result

    def load_site(self) -> None:
        index = self.send("site", "GET", self.targets.site_url, expect=200)
        for url in page_assets(index.text(), self.targets.site_url):
            self.send("site", "GET", url, expect=200)

    def sign_up(self) -> None:
        self.cognito(
            "sign-up",
            "SignUp",
            {
                "Username": self.username,
                "Password": self.password,
                "UserAttributes": [{"Name": "email", "Value": f"{self.username}@example.com"}],
            },
        )

    def confirm(self) -> None:
        """AdminConfirmSignUp through boto3 (no e-mail offline), recorded as a client-timed Cognito span."""
        if self.targets.confirm is None:
            return
        confirm = self.targets.confirm
        self._admin_call("confirm", "AdminConfirmSignUp", lambda: confirm(self.username))

    def admin_create(self) -> None:
        """On aws: the user made by an administrator, without any e-mail (see the module docstring)."""
        create = self.targets.create_user
        assert create is not None
        email = f"{self.username}@example.com"
        self._admin_call("sign-up", "AdminCreateUser", lambda: create(self.username, self.password, email))

    def _admin_call(self, step: str, operation: str, call: Callable[[], None]) -> None:
        """A Cognito admin call through boto3, recorded as a client-timed Cognito span."""
        self._check_deadline()
        start_s, started = time.time(), time.perf_counter()
        error, status = None, 200
        try:
            call()
        except Exception as failure:  # a boto3 ClientError or a connection error: the session stops
            error, status = f"{type(failure).__name__}: {failure}", 400
        elapsed = (time.perf_counter() - started) * 1000
        span = {"component": "cognito", "operation": operation, "start": start_s,
                "duration_ms": elapsed, "status": status, "source": "client"}  # fmt: skip
        self._record(step, "POST", f"{self.targets.cognito_url}#{operation}", start_s, elapsed,
                     status, 0, 0, error, None, [span])  # fmt: skip
        if error:
            raise StopSession(f"{step}: {error}")

    def sign_in(self) -> None:
        answer = self.cognito(
            "sign-in",
            "InitiateAuth",
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": self.username, "PASSWORD": self.password},
            },
        )
        tokens = (answer.json() or {}).get("AuthenticationResult") or {}
        if not tokens.get("IdToken"):
            raise StopSession("sign-in: Cognito answered without an ID token")
        self._id_token = tokens["IdToken"]

    def cognito(self, step: str, operation: str, body: dict[str, Any]) -> Answer:
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": COGNITO_TARGET + operation,
        }
        payload = json.dumps({"ClientId": self.targets.client_id, **body}).encode()
        return self.send(
            step, "POST", self.targets.cognito_url, headers, payload, expect=200, operation=operation
        )

    def api(
        self, step: str, method: str, path: str, body: dict[str, Any] | None = None, *, expect: int = 200
    ) -> Any:
        headers = {"Authorization": self._id_token}
        payload = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        answer = self.send(step, method, self.targets.api_url + path, headers, payload, expect=expect)
        return answer.json()

    def think(self) -> None:
        """A pause between actions, as a person reads the page: think_time_s ± 50 %."""
        if self.think_time_s > 0:
            pause = self.think_time_s * self._random.uniform(0.5, 1.5)
            if self.deadline is not None:
                pause = max(0.0, min(pause, self.deadline - time.perf_counter()))
            time.sleep(pause)

    # --- one request -------------------------------------------------------------------------------------
    def send(
        self,
        step: str,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        expect: int,
        operation: str | None = None,
    ) -> Answer:
        self._check_deadline()
        headers = {"Accept-Encoding": "gzip", **(headers or {})}
        if self.targets.traced:
            headers[TRACE_HEADER] = "1"
        answer = self._http.request(method, url, headers, body)
        spans = decode_spans(answer.headers.get(TRACE_HEADER.lower())) if self.targets.traced else []
        if not spans and answer.status is not None:
            spans = [self._client_span(url, method, answer, operation)]
        error = answer.error
        if error is None and answer.status != expect:
            error = _error_message(answer)
        self._record(step, method, url, answer.start_s, answer.elapsed_ms, answer.status, answer.bytes_sent,
                     len(answer.body), error, answer.headers.get("x-cache"), spans)  # fmt: skip
        if error is not None:
            raise StopSession(f"{step}: {method} {url} -> {answer.status}: {error}")
        return answer

    def _client_span(self, url: str, method: str, answer: Answer, operation: str | None) -> dict[str, Any]:
        """What the client can tell about the hop it talked to when the server sends no spans (AWS)."""
        if url.startswith(self.targets.api_url):
            component, name = "gateway", f"{method} {url[len(self.targets.api_url) :].split('?')[0] or '/'}"
        elif url.startswith(self.targets.cognito_url):
            component, name = "cognito", operation or method
        else:
            component, name = "edge", f"{method} {urlsplit(url).path or '/'}"
        span: dict[str, Any] = {"component": component, "operation": name, "start": answer.start_s,
                                "duration_ms": answer.elapsed_ms, "status": answer.status, "source": "client"}  # fmt: skip
        if component == "edge":
            x_cache = (answer.headers.get("x-cache") or "").split(" ", 1)[0].lower()
            span["cache"] = {"refreshhit": "refresh-hit"}.get(x_cache, x_cache or None)
        return span

    def _record(
        self,
        step: str,
        method: str,
        url: str,
        start_s: float,
        elapsed_ms: float,
        status: int | None,
        bytes_sent: int,
        bytes_received: int,
        error: str | None,
        x_cache: str | None,
        spans: list[dict[str, Any]],
    ) -> None:
        self.result.requests.append(
            RequestRecord(
                session=self.session,
                request=self._next_number(),
                step=step,
                method=method,
                url=url,
                start_s=start_s,
                client_ms=elapsed_ms,
                status=status,
                bytes_sent=bytes_sent,
                bytes_received=bytes_received,
                error=error,
                x_cache=x_cache,
                spans=spans,
                source=self.targets.source,
                run=self.run_label,
                concurrency=self.concurrency,
            )
        )

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise StopSession("stopped: the run's time limit passed")


def _error_message(answer: Answer) -> str:
    data = answer.json()
    if isinstance(data, dict):
        kind = str(data.get("__type", "")).rsplit("#", 1)[-1]
        message = data.get("message") or data.get("Message") or ""
        return f"{kind}: {message}" if kind else str(message) or f"HTTP {answer.status}"
    return f"HTTP {answer.status}"


def run_session(targets: FlowTargets, session: int = 0, **options: Any) -> SessionResult:
    """One simulated user doing the whole flow once (see SimulatedUser for the options)."""
    return SimulatedUser(targets, session, **options).run()
