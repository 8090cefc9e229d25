"""Every wait of the steps, with progress: what it waits for and how long AWS typically takes.

A wait polls with boto3's own waiter (its acceptors decide success and failure, as `aws ... wait` does),
one attempt at a time, so that each poll can show the resource's status and the time so far
(progress.py). On AWS the polls follow the waiter's pace; offline they come every second or faster (every
0.2 s for a distribution, which the offline lab deploys in $SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS, 2 s
by default), and an instant wait prints nothing. This is the one path for every wait of the lab: the steps'
`wait:` calls (Step.execute) and the teaching extras call it. A wait that outlasts its timeout is a
StepError naming what it waited for and its last status; running the same call again keeps waiting.

Typical durations, as AWS documents them:
- CloudFront: a created, changed or disabled distribution is InProgress until it is Deployed to every edge
  location, "a few minutes" ("Delete a distribution", CloudFront Developer Guide); boto3's waiter allows 35
  minutes;
- Lambda: a new function is Pending, an updated one InProgress, usually seconds ("Lambda function states");
- DynamoDB: a table is CREATING or DELETING for seconds to a minute (CreateTable, DeleteTable);
- S3: a new bucket exists at once (the waiter covers eventual consistency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import WaiterError

from ..errors import StepError
from ..progress import waiting

OFFLINE_DELAY_S = 1.0
OFFLINE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class WaitSpec:
    """How to wait for one kind of resource, and what to say while waiting."""

    what: str  # "CloudFront distribution {Id} to be Deployed"
    typical: str
    delay_s: float  # AWS's seconds between polls
    timeout_s: float  # AWS's seconds before giving up
    status: str = ""  # where the status is in the waiter's answer ("Distribution.Status")
    offline_delay_s: float = OFFLINE_DELAY_S  # seconds between polls offline
    offline_timeout_s: float = OFFLINE_TIMEOUT_S  # seconds before giving up offline


WAITS = {
    "distribution_deployed": WaitSpec(
        "CloudFront distribution {Id} to be Deployed to the edge",
        "a few minutes",
        20,
        40 * 60,
        "Distribution.Status",
        offline_delay_s=0.2,
        # The offline deploy time is the user's to set ($SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS).
        offline_timeout_s=600,
    ),
    "function_active_v2": WaitSpec(
        "Lambda function {FunctionName} to be Active", "a few seconds", 1, 300, "Configuration.State"
    ),
    "function_updated_v2": WaitSpec(
        "Lambda function {FunctionName} to finish its update",
        "a few seconds",
        1,
        300,
        "Configuration.LastUpdateStatus",
    ),
    "table_exists": WaitSpec(
        "DynamoDB table {TableName} to be ACTIVE", "seconds", 2, 600, "Table.TableStatus"
    ),
    "table_not_exists": WaitSpec(
        "DynamoDB table {TableName} to be deleted", "seconds to a minute", 2, 600, "Table.TableStatus"
    ),
    "bucket_exists": WaitSpec("S3 bucket {Bucket} to exist", "at once", 1, 60),
}


def wait_for(client: Any, waiter_name: str, params: dict[str, Any], *, backend: Any) -> None:
    """Waits for `waiter_name` with progress: botocore's WaiterError when the waiter fails (an error
    answer, a failure state), a StepError when the wait outlasts its timeout."""
    spec = WAITS.get(waiter_name) or WaitSpec(waiter_name.replace("_", " "), "", 2, 600)
    offline = backend.offline
    scale = 1.0 if offline else float(getattr(backend, "time_scale", 1.0))
    delay = min(spec.delay_s, spec.offline_delay_s) if offline else spec.delay_s * scale
    timeout = spec.offline_timeout_s if offline else spec.timeout_s * scale
    started = time.monotonic()
    waiter = client.get_waiter(waiter_name)
    what = spec.what.format(**{k: v for k, v in params.items() if isinstance(v, str)})
    with waiting(what, "" if offline else spec.typical, scale=scale) as shown:
        while True:
            try:
                # One poll: botocore's acceptors say done, failed or not yet ("Max attempts exceeded").
                waiter.wait(**params, WaiterConfig={"Delay": 0, "MaxAttempts": 1})
                shown.tick("done")
                return
            except WaiterError as error:
                if "Max attempts exceeded" not in str(error):
                    raise
                status = _status(error.last_response, spec.status)
                shown.tick(status)
                if time.monotonic() + delay > started + timeout:
                    aws_seconds = (time.monotonic() - started) / (scale if scale > 0 else 1.0)
                    raise StepError(
                        f"{what[0].upper()}{what[1:]}: still {status or 'not ready'} after {aws_seconds:.0f} s"
                        + (f" (AWS: typically {spec.typical})" if spec.typical and not offline else "")
                        + ". Run the same call again to keep waiting."
                    ) from None
            time.sleep(delay)


def _status(answer: Any, path: str) -> str:
    value: Any = answer
    for part in path.split(".") if path else []:
        value = value.get(part) if isinstance(value, dict) else None
    if value is None and isinstance(answer, dict) and "Error" in answer:
        return str(answer["Error"].get("Code", ""))
    return str(value or "")
