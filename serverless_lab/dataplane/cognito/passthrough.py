"""The forwarder behind `CognitoEndpoint`: a request, as the browser sent it, to the backend's Cognito.

The backend is a moto server (or moto's in-process HTTP endpoint for the memory backend) whose root URL
answers every AWS service; the request reaches moto's Cognito by its X-Amz-Target, which the endpoint
checked. The answer comes back as moto sent it (CORS headers are the endpoint's business), less the
hop-by-hop headers, those the lab's HTTP adapter writes itself and moto's Server (its Date stays:
Cognito sends one and exposes it).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from ..http import HttpRequest, HttpResponse

_NOT_FORWARDED = frozenset({"host", "content-length", "connection"})
# "status" is a header of moto's own (the status code again), which no AWS answer carries.
_NOT_RETURNED = frozenset({"transfer-encoding", "connection", "content-length", "server", "status"})


class CognitoPassThrough:
    """Forwards to `endpoint()` (asked on every request: a local backend's server may have moved)."""

    def __init__(self, endpoint: Callable[[], str], timeout_s: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    def __call__(self, request: HttpRequest) -> HttpResponse:
        headers = {k: v for k, v in request.headers if k.lower() not in _NOT_FORWARDED}
        forwarded = urllib.request.Request(
            self.endpoint().rstrip("/") + "/",
            data=request.body or None,
            method=request.method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=self.timeout_s) as answer:
                status, answer_headers, body = answer.status, list(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, body = error.code, list(error.headers.items()), error.read()
        kept = [(k, v) for k, v in answer_headers if k.lower() not in _NOT_RETURNED]
        return HttpResponse(status, kept, body)
