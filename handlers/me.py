"""GET /me: who API Gateway says is calling, straight from the Cognito user pool authorizer.

API Gateway verifies the ID token (signature, expiry, audience) before the function runs and passes the
token's claims in `event["requestContext"]["authorizer"]["claims"]`. In a REST API every claim value
arrives as a string (numbers and booleans included, e.g. "email_verified": "true").

This file stands alone (the functions step zips just this file): standard library only.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from datetime import UTC, datetime
from typing import Any

# Module level runs once per execution environment (cold start); later invocations are warm.
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "*")
COLD_START = True
# This function's own answer header: "true" when this request ran the init (a cold start), else "false";
# listed in Access-Control-Expose-Headers so that the page on another origin can read it.
COLD_START_HEADER = "X-Cold-Start"


def respond(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda proxy integration response; proxy integrations must add the CORS header themselves."""
    all_headers = {
        "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
        "Access-Control-Expose-Headers": COLD_START_HEADER,
        "Content-Type": "application/json",
    }
    if ALLOWED_ORIGIN != "*":
        all_headers["Vary"] = "Origin"
    all_headers.update(headers or {})
    return {"statusCode": status, "headers": all_headers, "body": json.dumps(body), "isBase64Encoded": False}


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON object per line on stdout; Lambda sends each line to CloudWatch Logs as one event."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(
        json.dumps({"timestamp": stamp, "level": level, "message": message, **fields}, default=str),
        flush=True,
    )


def who_am_i(event: dict[str, Any]) -> dict[str, Any]:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        # Only happens when GET /me has no Cognito authorizer: a deployment mistake.
        return respond(401, {"message": "Unauthorized"})
    return respond(
        200,
        {
            "sub": claims["sub"],
            "username": claims.get("cognito:username"),
            "email": claims.get("email"),
            "claims": claims,
        },
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (`me.handler`)."""
    global COLD_START
    cold_start, COLD_START = COLD_START, False
    started = time.perf_counter()
    method = event.get("httpMethod", "")
    resource = event.get("resource") or ""
    if resource != "/me":  # a greedy /{proxy+} resource only carries the concrete path
        resource = (event.get("path") or "").rstrip("/") or resource
    level, error_fields = "INFO", {}
    try:
        if resource != "/me":
            response = respond(404, {"message": f"No route for {method} {event.get('path')}"})
        elif method != "GET":
            response = respond(
                405, {"message": f"Method {method} not allowed on /me; allowed: GET"}, {"Allow": "GET"}
            )
        else:
            response = who_am_i(event)
    except Exception as error:
        level = "ERROR"
        error_fields = {
            "errorType": type(error).__name__,
            "error": str(error),
            "trace": traceback.format_exc(),
        }
        response = respond(500, {"message": "Internal server error"})
    response["headers"][COLD_START_HEADER] = "true" if cold_start else "false"
    log(
        level,
        "request handled" if level == "INFO" else "unexpected error",
        requestId=getattr(context, "aws_request_id", None),
        route=f"{method} {resource}",
        status=response["statusCode"],
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        coldStart=cold_start,
        **error_fields,
    )
    return response
