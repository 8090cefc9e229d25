"""Requests a notebook sends to the lab's API Gateway and CloudFront edge, in-process, with their traces.

The data plane answers `HttpRequest`s without sockets (`DataPlane.handle_api` / `handle_edge`), so a
notebook sees exactly what a browser would get back, plus the spans the data plane recorded on the way.
On the aws backend the same helpers send the request over HTTPS to the stage's invoke URL or the
distribution's domain, and show AWS's answer (no spans: AWS sends none back).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from serverless_lab.dataplane.http import HttpRequest, HttpResponse

from ..errors import UsageError
from .deployed import deployed
from .identity import sign_in

Span = dict[str, Any]


def _check_request(method: Any, path: Any) -> None:
    if not isinstance(method, str) or not method.isalpha():
        raise UsageError(f"The HTTP method is a word such as 'GET' or 'POST', not {method!r}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise UsageError(f"The path starts with '/', as '/items' does, not {path!r}.")


def api_request(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    """An HttpRequest as the web app sends it: the ID token in Authorization, a JSON body."""
    _check_request(method, path)
    all_headers = {"Accept": "application/json", "Origin": "http://127.0.0.1"}
    if token:
        all_headers["Authorization"] = token  # a Cognito authorizer reads the raw token, no "Bearer " needed
    data = b""
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers |= headers or {}
    return HttpRequest(method.upper(), path, query.lstrip("?"), tuple(all_headers.items()), data)


@dataclass
class ApiCall:
    """One request through API Gateway: what was sent, what came back, and every hop on the way."""

    request: HttpRequest
    response: HttpResponse
    spans: list[Span] = field(default_factory=list)

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.response.headers)

    @property
    def text(self) -> str:
        return self.response.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    def trace(self) -> pd.DataFrame:
        return spans_table(self.spans)

    def __str__(self) -> str:
        lines = [f"{self.request.method} {self.request.path} -> {self.status}"]
        lines += [f"  {name}: {value}" for name, value in self.response.headers]
        lines += ["", self.text]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        headers = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in self.response.headers
        )
        return (
            f"<p><b>{self.request.method} {html.escape(self.request.path)}</b> → <b>{self.status}</b></p>"
            f"<table>{headers}</table><pre>{html.escape(self.text[:4000])}</pre>"
            + (self.trace().to_html() if self.spans else "")
        )


def call_api(
    lab: Any,
    method: str,
    path: str,
    *,
    user: str | None = None,
    token: str | None = None,
    body: Any = None,
    query: str = "",
    headers: dict[str, str] | None = None,
    rest_api_id: str | None = None,
    stage: str | None = None,
) -> ApiCall:
    """Sends one request to the student's API stage (or another API of the backend, by id); `user` signs a
    sample user in for its ID token. `stage`: the API's stage (by default the student's, or "prod")."""
    if rest_api_id:
        api = {"rest_api_id": rest_api_id, "stage": stage or "prod"}
    else:
        api = dict(deployed(lab, "api"))
        api["stage"] = stage or api["stage"]  # another stage of the student's API answers as AWS would
    if user is not None and token is None:
        token = sign_in(lab, user).id_token
    request = api_request(method, path, token=token, body=body, query=query, headers=headers)
    spans: list[Span] = []
    if not lab.backend.offline:
        base = f"https://{api['rest_api_id']}.execute-api.{lab.region}.amazonaws.com/{api['stage']}"
        return ApiCall(request, over_https(lab, base, request), spans)
    response = lab.dataplane().handle_api(api["rest_api_id"], api["stage"], request, spans)
    return ApiCall(request, response, spans)


def over_https(lab: Any, base_url: str, request: HttpRequest) -> HttpResponse:
    """The request sent to one of AWS's public URLs (the backend says where that is), as a browser would."""
    from ..flow.http_client import HttpClient

    url = lab.backend.public_url(base_url + request.path) + (f"?{request.query}" if request.query else "")
    client = HttpClient()
    try:
        answer = client.request(request.method, url, dict(request.headers), request.body)
    finally:
        client.close()
    if answer.status is None:
        raise UsageError(f"{request.method} {url} got no answer: {answer.error}. Fix: check the network.")
    return HttpResponse(answer.status, list(answer.headers.items()), answer.body)


def spans_table(spans: list[Span]) -> pd.DataFrame:
    """The data plane's spans, one row per hop, in the order they finished, with the telling details."""
    rows = []
    for span in spans:
        detail = span.get("detail") or {}
        rows.append(
            {
                "component": span.get("component"),
                "operation": span.get("operation"),
                "status": span.get("status"),
                "duration_ms": round(float(span.get("duration_ms") or 0.0), 2),
                "cache": span.get("cache", ""),
                "cold": detail.get("cold", ""),
                "init_ms": round(float(detail.get("init_ms") or 0.0), 1) if "init_ms" in detail else "",
            }
        )
    return pd.DataFrame(
        rows, columns=["component", "operation", "status", "duration_ms", "cache", "cold", "init_ms"]
    )


@dataclass(frozen=True)
class EdgeAnswer:
    """What a viewer sees of one CloudFront answer: status, X-Cache, Age and the caching headers."""

    path: str
    status: int
    x_cache: str
    age: str
    cache_control: str
    content_type: str
    size: int
    response: HttpResponse = field(repr=False, compare=False)

    @property
    def hit(self) -> bool:
        return self.x_cache.startswith(("Hit", "RefreshHit"))

    def __str__(self) -> str:
        return (
            f"GET {self.path} -> {self.status} {self.x_cache!r} Age={self.age or '-'} "
            f"Cache-Control={self.cache_control or '-'} ({self.size} bytes)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(str(self))}</code>"


def distribution_id(lab: Any) -> str:
    return str(deployed(lab, "cdn")["distribution_id"])


def edge_get(
    lab: Any, path: str, *, headers: dict[str, str] | None = None, method: str = "GET"
) -> EdgeAnswer:
    """One viewer request to the student's distribution, answered by the lab's edge location."""
    _check_request(method, path)
    request = HttpRequest(method.upper(), path, "", tuple((headers or {}).items()))
    if lab.backend.offline:
        response = lab.dataplane().handle_edge(distribution_id(lab), request)
    else:
        response = over_https(lab, f"https://{deployed(lab, 'cdn')['domain_name']}", request)
    return EdgeAnswer(
        path=path,
        status=response.status,
        x_cache=response.header("X-Cache") or "",
        age=response.header("Age") or "",
        cache_control=response.header("Cache-Control") or "",
        content_type=response.header("Content-Type") or "",
        size=len(response.body),
        response=response,
    )


def cache_table(lab: Any) -> pd.DataFrame:
    """What the edge holds for the student's distribution: one row per cached answer."""
    entries = lab.dataplane().edge.cache_entries(distribution_id(lab))
    columns = ["key", "path", "status", "age", "ttl", "expires_in", "hits", "size", "compressed"]
    return pd.DataFrame([asdict(entry) for entry in entries], columns=columns)


def cache_behaviors(lab: Any) -> pd.DataFrame:
    """The distribution's cache behaviours and their TTLs (seconds), as CloudFront stores them."""
    config = lab.backend.client("cloudfront").get_distribution_config(Id=distribution_id(lab))[
        "DistributionConfig"
    ]
    behaviors = [*(config.get("CacheBehaviors") or {}).get("Items", []), config["DefaultCacheBehavior"]]
    return pd.DataFrame(
        [
            {
                "path_pattern": b.get("PathPattern", "* (default)"),
                "min_ttl": b.get("MinTTL"),
                "default_ttl": b.get("DefaultTTL"),
                "max_ttl": b.get("MaxTTL"),
            }
            for b in behaviors
        ]
    )


def environments_table(lab: Any) -> pd.DataFrame:
    """The Lambda execution environments the local runtime keeps for this student's functions."""
    prefix = lab.names.prefix + "-"
    rows = [
        {
            "function": env.function,
            "environment": env.id[:8],
            "state": env.state,
            "invocations": env.invocations,
            "rss_mb": env.rss_mb,
        }
        for env in lab.dataplane().runtime.environments()
        if env.function.startswith(prefix)
    ]
    return pd.DataFrame(rows, columns=["function", "environment", "state", "invocations", "rss_mb"])


def calls_table(calls: list[ApiCall]) -> pd.DataFrame:
    """One row per API call: request, status, who answered (x-amzn-ErrorType for the gateway) and body."""
    return pd.DataFrame(
        [
            {
                "request": f"{call.request.method} {call.request.path}",
                "token": "yes" if call.request.header("Authorization") else "no",
                "status": call.status,
                "error type": call.response.header("x-amzn-ErrorType") or "",
                "body": call.text[:100],
            }
            for call in calls
        ],
        columns=["request", "token", "status", "error type", "body"],
    )
