"""CloudFront as AWS runs it, for the stand-in of AWS (aws_behaviours.py says what the stand-in is).

- InProgress for minutes: a created, updated (a disable included) distribution is InProgress until the change
  reached every edge location, then Deployed ("Delete a distribution", CloudFront Developer Guide: "it might
  take a few minutes for CloudFront to propagate your change to all edge locations"). Here the Status is
  derived from the time of the last change (AwsTiming.cloudfront_deploy_s); this replaces the timing of
  moto's ManagedState for the stand-in only, so an offline lifecycle mend of moto's can keep its own seconds.
- ETags: every change makes a new ETag, and UpdateDistribution and DeleteDistribution with another IfMatch
  answer 412 PreconditionFailed ("UpdateDistribution", "DeleteDistribution", CloudFront API Reference).
- DeleteDistribution refuses an enabled distribution, or one whose disable is still InProgress, with
  DistributionNotDisabled (409).
- CallerReferences ("DistributionConfig", CloudFront API Reference): "If CallerReference is a value that
  you already sent in a previous request to create a distribution, CloudFront returns a
  DistributionAlreadyExists error"; the same reference with the same configuration answers the
  distribution that request made (a retried request). The stand-in remembers every reference an account
  sent, also after the distribution is deleted.
- Invalidations ("InvalidationBatch"): the same CallerReference with the same paths creates nothing and
  answers the invalidation made before; with other paths, InvalidationBatchAlreadyExists.
"""

from __future__ import annotations

import json
import time
import uuid
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


def _changed(distribution: Any) -> None:
    distribution._aws_changed = time.monotonic()
    distribution.etag = uuid.uuid4().hex[:14].upper()


def _in_progress(distribution: Any) -> bool:
    state = _active()
    return bool(state) and state.within(
        getattr(distribution, "_aws_changed", None), state.timing.cloudfront_deploy_s
    )


def _check_if_match(distribution: Any, if_match: Any, operation: str) -> None:
    if if_match and if_match != distribution.etag:
        state = _active()
        if state is not None:
            state.ledger.note("refused", operation=operation, code="PreconditionFailed")
        raise _error(
            "PreconditionFailed",
            "The precondition given in one or more of the request fields evaluated to false.",
        )


def install(active: Callable[[], Any], wrap: Callable[..., None]) -> None:
    """Wraps moto's CloudFront; `active` answers the behaviours' state (None: off), `wrap` replaces a method once."""
    _ACTIVE[:] = [active]
    from moto.cloudfront.models import CloudFrontBackend, Distribution, Invalidation

    def status(self: Any) -> str:
        return "InProgress" if _in_progress(self) else "Deployed"

    if not isinstance(Distribution.__dict__.get("status"), property) or not getattr(
        Distribution.__dict__["status"].fget, "_aws_behaviour", False
    ):
        status._aws_behaviour = True  # type: ignore[attr-defined]
        Distribution.status = property(status, lambda self, value: None)  # type: ignore[assignment]

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
            distribution, location, _ = original(self, distribution_config, tags)
            _REFERENCES[self.account_id][reference] = (sent, distribution.distribution_id)
            _changed(distribution)
            return distribution, location, distribution.etag

        return wrapper

    def update(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
            distribution = self.distributions.get(_id)
            if _active() is not None and distribution is not None:
                _check_if_match(distribution, if_match, "UpdateDistribution")
            answer = original(self, dist_config, _id, if_match)
            if _active() is not None and distribution is not None:
                _changed(distribution)
                return distribution, distribution.location, distribution.etag
            return answer

        return wrapper

    def delete(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, distribution_id: str, if_match: Any) -> Any:
            distribution = self.distributions.get(distribution_id)
            state = _active()
            if state is not None and distribution is not None:
                _check_if_match(distribution, if_match, "DeleteDistribution")
                if getattr(distribution.distribution_config, "Enabled", False) or _in_progress(distribution):
                    state.ledger.note(
                        "refused", operation="DeleteDistribution", code="DistributionNotDisabled"
                    )
                    raise _error(
                        "DistributionNotDisabled",
                        "The distribution you are trying to delete has not been disabled.",
                    )
            return original(self, distribution_id, if_match)

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
    wrap(CloudFrontBackend, "update_distribution", update)
    wrap(CloudFrontBackend, "delete_distribution", delete)
    wrap(CloudFrontBackend, "create_invalidation", create_invalidation)
