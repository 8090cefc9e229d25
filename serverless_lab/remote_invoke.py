"""`lab.invoke()` on the aws backend: Lambda's Invoke API, never the laptop.

Offline the lab runs a function in its own runtime; on AWS that would run the code with the user's own
credentials and write made-up START/END/REPORT lines into the account's log group. Here the function runs
in Lambda: `Invoke` with `LogType="Tail"` answers the payload, `X-Amz-Function-Error` and the last 4 KB of
the invocation's logs (base64), whose REPORT line carries what Lambda measured ("Invoke", Lambda API
Reference; the REPORT line's fields: "Lambda execution environment lifecycle", lambda-runtime-environment.html).
The answer is the same `Invocation` the local runtime gives, built only from what AWS returned.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from serverless_lab.dataplane.lambda_.runtime.results import Invocation

from .flow.cloudwatch import REPORT_PATTERN


def invoke_on_lambda(client: Any, function_name: str, event: Any) -> Invocation:
    """A synchronous Invoke through boto3, as `aws lambda invoke --log-type Tail` does."""
    answer = client.invoke(
        FunctionName=function_name,
        InvocationType="RequestResponse",
        LogType="Tail",
        Payload=json.dumps(event).encode(),
    )
    raw = answer["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    function_error = answer.get("FunctionError")
    tail = base64.b64decode(answer.get("LogResult") or "").decode("utf-8", errors="replace")
    logs = tail.splitlines()
    report = next((m for m in map(REPORT_PATTERN.search, reversed(logs)) if m), None)
    request_id = answer.get("ResponseMetadata", {}).get("RequestId", "")
    error = payload if function_error and isinstance(payload, dict) else None
    return Invocation(
        request_id=report["request_id"] if report else request_id,
        payload=payload,
        raw_payload=raw,
        function_error=function_error,
        error=error,
        cold=bool(report and report["init"]),
        init_ms=float(report["init"]) if report and report["init"] else None,
        duration_ms=float(report["duration"]) if report else 0.0,
        billed_ms=int(report["billed"]) if report else 0,
        memory_mb=int(report["memory"]) if report else 0,
        max_memory_used_mb=int(report["used"]) if report else 0,
        timed_out="Task timed out" in tail,
        logs=logs,
        environment_id="",  # AWS does not say which execution environment ran it
        status_code=int(answer.get("StatusCode", 200)),
        log_group_name=f"/aws/lambda/{function_name.rsplit(':function:', 1)[-1].split(':')[0]}",
        executed_version=str(answer.get("ExecutedVersion", "$LATEST")),
    )
