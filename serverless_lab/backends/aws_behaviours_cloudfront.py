"""CloudFront as AWS runs it, for the stand-in of AWS (aws_behaviours.py says what the stand-in is).

The distribution's lifecycle is the lab's own mend of moto (moto_cloudfront_lifecycle.py), reused here, not
doubled: a created, updated (a disable included) distribution is InProgress, then Deployed; every change
makes a new ETag, and UpdateDistribution and DeleteDistribution with another IfMatch answer 412
PreconditionFailed; DeleteDistribution refuses an enabled distribution, or one whose disable is still
InProgress, with 409 DistributionNotDisabled; an invalidation is InProgress, then Completed. The stand-in
only sets how long that takes, AWS's "few minutes" ("Delete a distribution", CloudFront Developer Guide:
"it might take a few minutes for CloudFront to propagate your change to all edge locations"): moto's state
manager holds the time of both models (AwsTiming.cloudfront_deploy_s, on the stand-in's faster clock), and
it notes the lifecycle's refusals in its ledger.

What the stand-in adds, which the offline lab does not need:
- CallerReferences ("DistributionConfig", CloudFront API Reference): "If CallerReference is a value that
  you already sent in a previous request to create a distribution, CloudFront returns a
  DistributionAlreadyExists error"; the same reference with the same configuration answers the
  distribution that request made (a retried request). The stand-in remembers every reference an account
  sent, also after the distribution is deleted (moto forgets it with the distribution).
- Invalidations ("InvalidationBatch"): the same CallerReference with the same paths creates nothing and
  answers the invalidation made before; with other paths, InvalidationBatchAlreadyExists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# account -> CallerReference -> (the configuration sent, the distribution id)
_REFERENCES: dict[str, dict[str, tuple[str, str]]] = {}
# aws_behaviours.active, given by install() (this module does not import aws_behaviours: no import circle)
_ACTIVE: list[Callable[[], Any]] = []


def _active() -> Any:
    return _ACTIVE[0]() if _ACTIVE else None


def _error(code: str, message: str) -> Exception:
    """A CloudFront error: moto takes its HTTP status (409, 412) from the error's shape in the API model."""
    from moto.cloudfront.exceptions import CloudFrontException

    return CloudFrontException(code, message)


# The lifecycle's refusals the ledger notes (the stand-in's ledger lists every call AWS would refuse).
LIFECYCLE_REFUSALS = ("PreconditionFailed", "InvalidIfMatchVersion", "DistributionNotDisabled")


def install(active: Callable[[], Any], wrap: Callable[..., None]) -> None:
    """Wraps moto's CloudFront; `active` answers the behaviours' state (None: off), `wrap` replaces a method once."""
    _ACTIVE[:] = [active]
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.models import CloudFrontBackend, Invalidation
    from moto.moto_api import state_manager

    from . import moto_cloudfront_lifecycle

    moto_cloudfront_lifecycle.apply()  # idempotent: moto_fixes.apply() has usually installed it already
    state = _active()
    if state is not None:  # AWS's minutes on the stand-in's clock, for both of the lifecycle's models
        seconds = state.timing.real(state.timing.cloudfront_deploy_s)
        for model in (
            moto_cloudfront_lifecycle.DISTRIBUTION_MODEL,
            moto_cloudfront_lifecycle.INVALIDATION_MODEL,
        ):
            state_manager.set_transition(model, moto_cloudfront_lifecycle.transition(seconds))

    def noted(operation: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """The lifecycle's own answer, its refusals noted in the ledger."""

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return original(self, *args, **kwargs)
                except CloudFrontException as error:
                    state = _active()
                    code = str(error.code)
                    if state is not None and code in LIFECYCLE_REFUSALS:
                        state.ledger.note("refused", operation=operation, code=code)
                    raise

            return wrapper

        return make

    def create(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, distribution_config: dict[str, Any], tags: list[dict[str, str]]) -> Any:
            state = _active()
            if state is None:
                return original(self, distribution_config, tags)
            reference = distribution_config.get("CallerReference", "")
            sent = json.dumps(distribution_config, sort_keys=True, default=str)
            seen = _REFERENCES.setdefault(self.account_id, {}).get(reference)
            if seen is not None:
                existing = self.distributions.get(seen[1])
                if seen[0] == sent and existing is not None:  # the same request again: the same answer
                    return existing, existing.location, existing.etag
                state.ledger.note("refused", operation="CreateDistribution", code="DistributionAlreadyExists")
                raise _error(
                    "DistributionAlreadyExists",
                    "The caller reference that you are using to create a distribution is associated with another "
                    f"distribution. Already exists: {seen[1]}",
                )
            answer = original(self, distribution_config, tags)
            _REFERENCES[self.account_id][reference] = (sent, answer[0].distribution_id)
            return answer

        return wrapper

    def create_invalidation(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, dist_id: str, paths: list[str], caller_ref: str) -> Invalidation:
            state = _active()
            if state is not None:
                for made in self.invalidations.get(dist_id) or []:
                    if made.caller_ref != caller_ref:
                        continue
                    if list(made.paths) == list(
                        paths
                    ):  # "CloudFront doesn't create a new invalidation request"
                        return made
                    state.ledger.note(
                        "refused", operation="CreateInvalidation", code="InvalidationBatchAlreadyExists"
                    )
                    raise _error(
                        "InvalidationBatchAlreadyExists",
                        "The CallerReference is a value you already sent in a previous invalidation batch request "
                        "but the content of a Path is different from the original request.",
                    )
            return original(self, dist_id, paths, caller_ref)

        return wrapper

    wrap(CloudFrontBackend, "create_distribution_with_tags", create)
    wrap(CloudFrontBackend, "update_distribution", noted("UpdateDistribution"))
    wrap(CloudFrontBackend, "delete_distribution", noted("DeleteDistribution"))
    wrap(CloudFrontBackend, "create_invalidation", create_invalidation)
