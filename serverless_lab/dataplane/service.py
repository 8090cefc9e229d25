"""The data plane as one object: the edge, the gateway and the Lambda runtime wired to the control plane.

`DataPlane.handle(request)` answers any request the lab serves without opening a socket, so tests and
notebooks can call it in-process; `server.py` puts it on loopback. Paths on the data plane's port:

- ``/restapis/<rest-api-id>/<stage>/_user_request_/<path>``: a REST API stage (LocalStack's convention);
- ``/cognito-idp/``: Cognito's JSON API for the browser (cognito/: preflights, CORS, then the backend);
- ``/2015-03-31/functions/<name>/invocations``: Lambda's Invoke API (moto cannot run functions);
- ``/_edge/<distribution-id>/<path>``: a distribution (each one is also served at the root of a port of its
  own, so that absolute asset paths work in a browser);
- ``/``: an index of what is served, ``/_lab/urls``: the same as JSON.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serverless_lab.dataplane.apigateway.gateway import Gateway, LambdaResult
from serverless_lab.dataplane.cloudfront.edge import Edge
from serverless_lab.dataplane.cognito.endpoint import CognitoEndpoint
from serverless_lab.dataplane.cognito.passthrough import CognitoPassThrough
from serverless_lab.dataplane.config import ControlPlane, NotFound, unqualified_function_name
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.dataplane.lambda_.invoke_api import InvokeCall, LambdaInvokeApi
from serverless_lab.dataplane.lambda_.log_shipping import LogShipper
from serverless_lab.dataplane.lambda_.runtime import (
    FunctionSpec,
    Invocation,
    LambdaRuntime,
    ResourceNotFoundException,
    TooManyRequestsException,
)

from ..backends import Backend, moto_iam

API_PREFIX = "/restapis/"
USER_REQUEST = "_user_request_"
COGNITO_PREFIX = "/cognito-idp"
EDGE_PREFIX = "/_edge/"


@dataclass(frozen=True)
class ServedUrls:
    """Where everything is served on loopback."""

    apis: list[dict[str, str]]
    distributions: list[dict[str, str]]
    cognito: str

    def as_dict(self) -> dict[str, Any]:
        return {"apis": self.apis, "distributions": self.distributions, "cognito": self.cognito}


class DataPlane:
    """The lab's local data plane for one backend."""

    def __init__(
        self,
        backend: Backend,
        *,
        isolation: str = "process",
        idle_timeout_s: float = 300.0,
        config_ttl_s: float = 1.0,
        integration_timeout_s: float | None = None,
    ) -> None:
        self.backend = backend
        self.control_plane = ControlPlane(backend, ttl_s=config_ttl_s)
        base_environment = backend.child_environment() if backend.offline else {}
        self.logs = LogShipper(self.control_plane.write_logs)
        # Offline, functions run as their execution role, whose policies the backend enforces (moto_iam);
        # with SERVERLESS_LAB_IAM=off they get the lab's own (administrator) keys, as before.
        as_role = backend.offline and moto_iam.enforcing()
        self.control_plane.logs_as_role = as_role
        self.runtime = LambdaRuntime(
            code_loader=self.control_plane.function_code,
            layer_loader=self.control_plane.layer_code,
            log_sink=self.logs.ship,
            base_environment=base_environment,
            credentials=self.control_plane.role_credentials if as_role else None,
            isolation=isolation,  # type: ignore[arg-type]
            idle_timeout_s=idle_timeout_s,
        )
        self.integration_timeout_s = integration_timeout_s
        self.account_id = backend.account_id()
        self._invokers = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="invoke")
        self.gateway = Gateway(
            api_source=self.control_plane.rest_api,
            invoke=self._invoke_for_gateway,
            jwks_source=self.control_plane.jwks,
            account_id=self.account_id,
            app_clients_source=self._app_clients,
            api_keys_source=self.control_plane.api_keys,
            function_policy_source=self.control_plane.function_policy,
        )
        self.edge = Edge(
            distribution_source=self.control_plane.distribution,
            origin=self.control_plane.origin_object,
            invalidations=self.control_plane.invalidations,
        )
        self.lambda_api = LambdaInvokeApi(self._invoke_call)
        self.cognito = CognitoEndpoint(CognitoPassThrough(backend.cognito_endpoint))
        self.base_url = f"http://127.0.0.1:{backend.dataplane_port}" if backend.dataplane_port else ""
        self.distribution_urls: dict[str, str] = {}
        self.before_urls: Callable[[], None] | None = None

    # --- Lambda -------------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any) -> Invocation:
        """A synchronous Invoke, as `lambda.invoke(InvocationType="RequestResponse")` does on AWS."""
        # The handler's context.invoked_function_arn is the ARN called, an alias or version suffix included.
        invoked_arn = function if function.startswith("arn:") else self._function_arn(function)
        try:
            spec = self._function_to_run(function)
        except NotFound:
            raise ResourceNotFoundException(f"Function not found: {invoked_arn}") from None
        return self.runtime.invoke(spec, event, invoked_arn=invoked_arn)

    def _function_to_run(self, name_or_arn: str) -> FunctionSpec:
        """The configuration an invoke of name_or_arn runs. Through a weighted alias (RoutingConfig's
        AdditionalVersionWeights), Lambda runs the additional version for that share of invokes, chosen
        at random for each ("a simple probabilistic model"), and the alias's own version for the rest."""
        spec = self.control_plane.function(name_or_arn)
        weights = self.control_plane.alias_routing(name_or_arn)
        if weights:
            roll = random.random()  # which version of a weighted alias runs
            for version, weight in weights.items():
                if roll < weight:
                    return self.control_plane.function(f"{unqualified_function_name(name_or_arn)}:{version}")
                roll -= weight
        return spec

    def _invoke_call(self, call: InvokeCall) -> Invocation:
        """An Invoke API request: the function the control plane has under that name, run as asked."""
        name = call.function if call.qualifier in (None, "$LATEST") else f"{call.function}:{call.qualifier}"
        # The ARN the caller named, qualifier included ("...:function:f:live"): the handler's
        # context.invoked_function_arn, as Lambda passes it.
        arn = call.function if call.function.startswith("arn:") else self._function_arn(call.function)
        invoked_arn = f"{arn}:{call.qualifier}" if call.qualifier else arn
        try:
            spec = self._function_to_run(name)
        except NotFound:
            raise ResourceNotFoundException(f"Function not found: {invoked_arn}") from None
        return self.runtime.invoke(
            spec,
            call.payload,
            invocation_type=call.invocation_type,
            client_context=call.client_context,
            invoked_arn=invoked_arn,
        )

    def _function_arn(self, name: str) -> str:
        name = name.rsplit("function:", 1)[-1]  # a partial ARN ("123456789012:function:name") or a name
        return f"arn:aws:lambda:{self.backend.region}:{self.account_id}:function:{name}"

    def _invoke_for_gateway(self, function_arn: str, event: dict[str, Any], timeout_s: float) -> LambdaResult:
        try:
            spec = self._function_to_run(function_arn)
        except NotFound:
            # Lambda refuses the invoke (404); API Gateway answers that with 500, as when it lacks permission.
            raise ResourceNotFoundException(f"Function not found: {function_arn}") from None
        if self.integration_timeout_s is not None:
            timeout_s = self.integration_timeout_s
        # The integration timeout is the gateway's, not the function's: after it API Gateway answers 504
        # while the invocation goes on in Lambda, so the invoke runs on a worker thread that may outlive it.
        try:
            # The handler sees the integration's function ARN (an alias suffix included) as invoked_function_arn.
            invoked_arn = function_arn if function_arn.startswith("arn:") else None
            if timeout_s > spec.timeout_s + 1.0:
                # The function stops at its own timeout first: no need to watch the gateway's clock.
                invocation = self.runtime.invoke(spec, event, invoked_arn=invoked_arn, json_native=True)
            else:
                future = self._invokers.submit(
                    self.runtime.invoke, spec, event, invoked_arn=invoked_arn, json_native=True
                )
                invocation = future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            return LambdaResult(timed_out=True)
        except TooManyRequestsException:
            return LambdaResult(throttled=True)
        # The runtime already decoded a JSON object answer; passing it on spares the gateway a second
        # json.loads. Anything else (bytes, a JSON string or list, no JSON) goes as the raw payload.
        decoded = invocation.payload if invocation.content_type == "application/json" else None
        return LambdaResult(
            payload=decoded
            if isinstance(decoded, dict) and invocation.error is None
            else invocation.raw_payload,
            function_error=invocation.function_error,
            error=invocation.error,
            # Built only when the gateway records a lambda span: most requests ask for no spans.
            trace=functools.partial(invocation_trace, spec, invocation),
        )

    def flush_logs(self) -> None:
        """Waits until every function log line so far is in CloudWatch Logs (they ship in the background)."""
        self.logs.flush()

    def _app_clients(self, issuer: str) -> list[str]:
        pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]

        def read() -> list[str]:
            clients = self.backend.client("cognito-idp").list_user_pool_clients(
                UserPoolId=pool_id, MaxResults=60
            )
            return [c["ClientId"] for c in clients.get("UserPoolClients", [])]

        return self.control_plane.cached(("clients", pool_id), read)

    # --- requests -------------------------------------------------------------------------------------
    def handle(self, request: HttpRequest, spans: list[dict[str, Any]] | None = None) -> HttpResponse:
        """Answers one request addressed to the data plane's port (see the module docstring)."""
        path = request.path
        if path.startswith(API_PREFIX):
            parts = path[len(API_PREFIX) :].split("/", 3)
            if len(parts) >= 3 and parts[2] == USER_REQUEST:
                rest_api_id, stage = parts[0], parts[1]
                inner = "/" + (parts[3] if len(parts) > 3 else "")
                return self.handle_api(rest_api_id, stage, request.with_path(inner), spans)
        if path == COGNITO_PREFIX or path.startswith(COGNITO_PREFIX + "/"):
            return self.pass_to_cognito(request, spans)
        if path.startswith(EDGE_PREFIX):
            distribution_id, _, rest = path[len(EDGE_PREFIX) :].partition("/")
            return self.handle_edge(distribution_id, request.with_path("/" + rest), spans)
        if self.lambda_api.serves(path):
            return self.lambda_api.handle(request)
        if path == "/_lab/urls":
            return _json(200, self.urls().as_dict())
        if path in ("/", "/index.html") and request.method in ("GET", "HEAD"):
            return self.index_page()
        # Like API Gateway for an unknown route: the lab's port holds nothing else.
        return _json(
            403,
            {"message": "Missing Authentication Token"},
            [("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
        )

    def handle_api(
        self, rest_api_id: str, stage: str, request: HttpRequest, spans: list[dict[str, Any]] | None = None
    ) -> HttpResponse:
        try:
            return self.gateway.handle(request, rest_api_id, stage, spans)
        except NotFound:
            # API Gateway answers a request to an API id or stage that does not exist like an unknown route.
            return _json(403, {"message": "Forbidden"}, [("x-amzn-ErrorType", "ForbiddenException")])

    def handle_edge(
        self, distribution_id: str, request: HttpRequest, spans: list[dict[str, Any]] | None = None
    ) -> HttpResponse:
        return self.edge.handle(distribution_id, request, spans)

    def pass_to_cognito(
        self, request: HttpRequest, spans: list[dict[str, Any]] | None = None
    ) -> HttpResponse:
        """Cognito's JSON API for the browser (cognito/endpoint.py: preflights, CORS, what goes through)."""
        return self.cognito.handle(request, spans)

    # --- what is served ---------------------------------------------------------------------------------
    def urls(self) -> ServedUrls:
        if self.before_urls is not None:  # a server opens the ports of new distributions first
            self.before_urls()
        base = self.base_url
        apis = [
            {
                "rest_api_id": api_id,
                "name": name,
                "stage": stage,
                "url": f"{base}{API_PREFIX}{api_id}/{stage}/{USER_REQUEST}",
            }
            for api_id, name, stage in self.control_plane.rest_apis()
        ]
        distributions = [
            {"id": d, "url": self.distribution_urls.get(d, f"{base}{EDGE_PREFIX}{d}/")}
            for d in self.control_plane.distributions()
        ]
        return ServedUrls(apis, distributions, f"{base}{COGNITO_PREFIX}/")

    def index_page(self) -> HttpResponse:
        urls = self.urls()
        rows = "".join(
            f"<li>API {a['name'] or a['rest_api_id']} ({a['stage']}): <code>{a['url']}</code></li>"
            for a in urls.apis
        )
        rows += "".join(
            f'<li>Distribution {d["id"]}: <a href="{d["url"]}">{d["url"]}</a></li>'
            for d in urls.distributions
        )
        body = (
            f"<!doctype html><title>serverless-lab</title><h1>serverless-lab data plane</h1><ul>{rows}</ul>"
        )
        return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], body.encode())

    def close(self) -> None:
        self._invokers.shutdown(wait=False, cancel_futures=True)
        self.runtime.shutdown()
        self.logs.close()


def invocation_trace(spec: FunctionSpec, invocation: Invocation) -> dict[str, Any]:
    """What the gateway's lambda span carries: cold or warm, init and run times, the SDK calls made inside."""
    return {
        "function": spec.name,
        "request_id": invocation.request_id,
        "cold": invocation.cold,
        "init_ms": invocation.init_ms,
        "duration_ms": invocation.duration_ms,
        "billed_ms": invocation.billed_ms,
        "max_memory_used_mb": invocation.max_memory_used_mb,
        "memory_mb": invocation.memory_mb,
        "environment_id": invocation.environment_id,
        "calls": invocation.calls,
    }


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode()
    )
