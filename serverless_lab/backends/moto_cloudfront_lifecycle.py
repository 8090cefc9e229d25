"""A CloudFront distribution's lifecycle for moto: InProgress, then Deployed; deleted only when disabled,
Deployed and named by its current ETag; invalidations InProgress, then Completed.

What CloudFront does (API reference: CreateDistribution, UpdateDistribution, DeleteDistribution,
CreateInvalidation; Developer Guide, "Delete a distribution"):

- A new or updated distribution is `InProgress` until the change has propagated to every edge location,
  then `Deployed` (minutes on AWS; `waiter("distribution_deployed")` polls for it). An invalidation is
  `InProgress`, then `Completed`.
- Every update gives the distribution a new ETag, and UpdateDistribution and DeleteDistribution must name
  the current one in IfMatch: none is 400 InvalidIfMatchVersion, another is 412 PreconditionFailed.
- DeleteDistribution refuses a distribution that is enabled, or that was disabled but is not yet
  Deployed: 409 DistributionNotDisabled, "The distribution you are trying to delete has not been
  disabled." ("you must first disable it ... and wait until its status is Deployed").

moto keeps one ETag forever, accepts any IfMatch, deletes an enabled distribution, and answers Deployed
and Completed at once. Here the time a change takes is SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS (default
2 s, so notebooks stay quick; 0 deploys at once), read when moto starts. It is kept in moto's own state
manager as the default transition of the models `cloudfront::distribution` and `cloudfront::invalidation`,
so moto's API (`/moto-api/state-manager/set-transition`, or `moto.moto_api.state_manager` in-process) can
change it at run time, as for any of moto's managed states.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

DEPLOY_SECONDS_VARIABLE = "SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS"
DEFAULT_DEPLOY_SECONDS = 2.0
DISTRIBUTION_MODEL = "cloudfront::distribution"
INVALIDATION_MODEL = "cloudfront::invalidation"
NOT_DISABLED = "The distribution you are trying to delete has not been disabled."
PRECONDITION_FAILED = "The precondition given in one or more of the request-header fields evaluated to false."


def deploy_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """How long a distribution change stays InProgress: $SERVERLESS_LAB_CLOUDFRONT_DEPLOY_SECONDS, or 2."""
    text = environ.get(DEPLOY_SECONDS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_DEPLOY_SECONDS
    try:
        seconds = float(text)
    except ValueError as error:
        raise ValueError(
            f"{DEPLOY_SECONDS_VARIABLE}={text!r} is not a number of seconds; set it to e.g. 2 (or 0 to deploy "
            "at once)."
        ) from error
    if not seconds >= 0:
        raise ValueError(f"{DEPLOY_SECONDS_VARIABLE}={text!r} must be 0 or more seconds.")
    return seconds


def transition(seconds: float) -> dict[str, Any]:
    """moto's state-manager transition for a change that takes `seconds`."""
    return {"progression": "immediate"} if seconds == 0 else {"progression": "time", "seconds": seconds}


def _error(code: str, message: str) -> Exception:
    from moto.cloudfront.exceptions import CloudFrontException

    return CloudFrontException(code, message)


def restart(model: Any) -> None:
    """A managed state back at its first status (InProgress), from now."""
    model._status = model._transitions[0][0]
    model._time_progressed = datetime.now()
    model._tick = 0


def apply() -> None:
    from moto.cloudfront import models
    from moto.cloudfront.exceptions import InvalidIfMatchVersion, NoSuchDistribution
    from moto.moto_api import state_manager
    from moto.moto_api._internal.managed_state_model import ManagedState

    backend = models.CloudFrontBackend
    if getattr(backend.delete_distribution, "_serverless_lab_fix", False):
        return
    seconds = deploy_seconds()
    for model in (DISTRIBUTION_MODEL, INVALIDATION_MODEL):
        state_manager.register_default_transition(model, transition=transition(seconds))
    original_update = backend.update_distribution
    original_invalidation = models.Invalidation

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        current = self.distributions.get(_id)
        if current is not None and if_match and if_match != current.etag:
            raise _error("PreconditionFailed", PRECONDITION_FAILED)
        dist, _, _ = original_update(self, dist_config, _id, if_match)
        dist.etag = models.random_id()  # every change has a new ETag
        restart(dist)
        return dist, dist.location, dist.etag

    def delete_distribution(self: Any, distribution_id: str, if_match: Any) -> None:
        if not if_match:
            raise InvalidIfMatchVersion
        dist = self.distributions.get(distribution_id)
        if dist is None:
            raise NoSuchDistribution
        if if_match != dist.etag:
            raise _error("PreconditionFailed", PRECONDITION_FAILED)
        if _enabled(dist.distribution_config) or dist.status != "Deployed":
            raise _error("DistributionNotDisabled", NOT_DISABLED)
        del self.distributions[distribution_id]
        self.invalidations.pop(distribution_id, None)

    class Invalidation(ManagedState, original_invalidation):  # type: ignore[misc, valid-type]
        """moto's invalidation, InProgress until its time has passed, then Completed."""

        def __init__(self, distribution: Any, paths: list[str], caller_ref: str) -> None:
            original_invalidation.__init__(self, distribution, paths, caller_ref)
            ManagedState.__init__(self, INVALIDATION_MODEL, [("InProgress", "Completed")])

    for replacement in (update_distribution, delete_distribution):
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
    backend.update_distribution = update_distribution  # type: ignore[method-assign]
    backend.delete_distribution = delete_distribution  # type: ignore[method-assign]
    models.Invalidation = Invalidation  # type: ignore[misc]


def _enabled(config: Any) -> bool:
    value = getattr(config, "Enabled", True)
    return value if isinstance(value, bool) else str(value).lower() == "true"
