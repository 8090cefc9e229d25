"""CORS at Cognito's user pools endpoint, as ``cognito-idp.<region>.amazonaws.com`` answers a browser.

Recorded from the real endpoint (curl, 2020 to 2021, cognito-identity and other AWS JSON services answer
alike; a browser's SignUp, InitiateAuth and RespondToAuthChallenge in 2023):

    OPTIONS /  Origin: https://foo.example  Access-Control-Request-Method: POST
               Access-Control-Request-Headers: content-type,x-amz-target,x-amz-user-agent
    -> 200, empty body
       access-control-allow-origin: *                     (never the Origin echoed, no Vary, no credentials)
       access-control-allow-headers: content-type,x-amz-target,x-amz-user-agent   (the request's, verbatim)
       access-control-allow-methods: POST
       access-control-expose-headers: x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date
       access-control-max-age: 172800
       x-amzn-requestid: <uuid>

Every other answer, a 400 error included, carries the same Allow-Origin and Expose-Headers, so a page can
read the error (amazon-cognito-identity-js reads ``x-amzn-ErrorType``). Cognito's CORS cannot be configured
or restricted to an origin. moto's server answers with flask-cors instead (the Origin echoed, ``Vary:
Origin``, nothing exposed): `with_cognito_cors` replaces that with Cognito's headers.
"""

from __future__ import annotations

import uuid
from email.utils import formatdate

from ..http import HttpRequest, HttpResponse

ALLOW_ORIGIN = "*"
ALLOW_METHODS = "POST"
EXPOSE_HEADERS = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
MAX_AGE_S = 172800  # two days (Chromium caps what it keeps at two hours)
# Headers a CORS layer in front of the backend may have added, which Cognito's answers never carry.
_NOT_COGNITOS = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-headers",
        "access-control-allow-methods",
        "access-control-expose-headers",
        "access-control-max-age",
    }
)


def is_preflight(request: HttpRequest) -> bool:
    """Cognito answers any OPTIONS at its endpoint as a preflight; nothing else is one."""
    return request.method == "OPTIONS"


def answer_preflight(request: HttpRequest, request_id: str | None = None) -> HttpResponse:
    """Cognito's answer to a CORS preflight: it allows whatever headers the browser asks for."""
    headers = [
        ("Date", formatdate(usegmt=True)),
        ("x-amzn-RequestId", request_id or str(uuid.uuid4())),
        ("Access-Control-Allow-Origin", ALLOW_ORIGIN),
    ]
    requested = request.header("Access-Control-Request-Headers")
    if requested:
        headers.append(("Access-Control-Allow-Headers", requested))
    headers += [
        ("Access-Control-Allow-Methods", ALLOW_METHODS),
        ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
        ("Access-Control-Max-Age", str(MAX_AGE_S)),
    ]
    return HttpResponse(200, headers, b"")


def with_cognito_cors(response: HttpResponse) -> HttpResponse:
    """The answer with Cognito's CORS headers in place of any the backend set (and no ``Vary: Origin``,
    which only an echoed origin needs)."""
    kept = [
        (name, value)
        for name, value in response.headers
        if name.lower() not in _NOT_COGNITOS
        and not (name.lower() == "vary" and value.strip().lower() == "origin")
    ]
    kept += [("Access-Control-Allow-Origin", ALLOW_ORIGIN), ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
    return HttpResponse(response.status, kept, response.body)
