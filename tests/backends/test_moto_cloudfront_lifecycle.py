"""A distribution's lifecycle as CloudFront's: InProgress then Deployed, deleted only disabled, Deployed and
by its current ETag; invalidations InProgress then Completed. Plain boto3 against the local moto server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shared_labs import FAST_WAITER, delete_distribution, deploy_time, plain_client

from serverless_lab.backends.moto_cloudfront_lifecycle import (
    DEFAULT_DEPLOY_SECONDS,
    DEPLOY_SECONDS_VARIABLE,
    NOT_DISABLED,
    PRECONDITION_FAILED,
    deploy_seconds,
)

pytestmark = pytest.mark.server


def config(reference: str, enabled: bool = True) -> dict[str, Any]:
    return {
        "CallerReference": reference,
        "Comment": "lifecycle",
        "Enabled": enabled,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "o",
                    "DomainName": "lifecycle.s3.us-east-1.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "allow-all",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
    }


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


@pytest.fixture
def cloudfront(local_backend: Any) -> Any:
    return plain_client(local_backend, "cloudfront")


@pytest.fixture
def distribution(cloudfront: Any) -> Iterator[dict[str, Any]]:
    created = cloudfront.create_distribution(DistributionConfig=config(uuid.uuid4().hex))
    yield created
    with contextlib.suppress(ClientError):  # most tests delete it themselves
        delete_distribution(cloudfront, created["Distribution"]["Id"])


def test_a_new_distribution_is_in_progress_then_deployed(local_backend: Any, cloudfront: Any) -> None:
    # A deployment held for a minute while the status is read (the tests' 0.1 s may pass before the
    # reads); afterwards the distribution deploys 0.1 s after it was made, as the tests configure it.
    with deploy_time(local_backend, {"progression": "time", "seconds": 60}):
        distribution = cloudfront.create_distribution(DistributionConfig=config(uuid.uuid4().hex))
        distribution_id = distribution["Distribution"]["Id"]
        assert distribution["Distribution"]["Status"] == "InProgress"
        assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "InProgress"
        listed = cloudfront.list_distributions()["DistributionList"]["Items"]
        assert next(item for item in listed if item["Id"] == distribution_id)["Status"] == "InProgress"
    try:
        # boto3's own waiter works; offline the lab polls it every 0.1 s instead of every 60 s.
        cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig=FAST_WAITER)
        assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "Deployed"
    finally:
        delete_distribution(cloudfront, distribution_id)


def test_updates_need_the_current_etag_and_give_a_new_one(
    cloudfront: Any, distribution: dict[str, Any]
) -> None:
    distribution_id, etag = distribution["Distribution"]["Id"], distribution["ETag"]
    cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig=FAST_WAITER)
    current = cloudfront.get_distribution_config(Id=distribution_id)
    assert current["ETag"] == etag == cloudfront.get_distribution(Id=distribution_id)["ETag"]
    changed = {**current["DistributionConfig"], "Comment": "changed"}
    assert refusal(
        lambda: cloudfront.update_distribution(
            Id=distribution_id, IfMatch="E2NOTTHEETAG", DistributionConfig=changed
        )
    ) == (412, "PreconditionFailed", PRECONDITION_FAILED)
    assert (
        cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]["Comment"] == "lifecycle"
    )
    assert refusal(lambda: cloudfront.update_distribution(Id=distribution_id, DistributionConfig=changed))[
        1
    ] == ("InvalidIfMatchVersion")
    updated = cloudfront.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=changed)
    assert updated["Distribution"]["Status"] == "InProgress"  # the change propagates again
    assert updated["ETag"] != etag
    assert cloudfront.get_distribution_config(Id=distribution_id)["ETag"] == updated["ETag"]
    # The old ETag is stale now.
    assert (
        refusal(
            lambda: cloudfront.update_distribution(
                Id=distribution_id, IfMatch=etag, DistributionConfig=changed
            )
        )[1]
        == "PreconditionFailed"
    )


def test_only_a_disabled_deployed_distribution_is_deleted(
    local_backend: Any, cloudfront: Any, distribution: dict[str, Any]
) -> None:
    distribution_id, etag = distribution["Distribution"]["Id"], distribution["ETag"]
    not_disabled = (409, "DistributionNotDisabled", NOT_DISABLED)
    assert refusal(lambda: cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)) == not_disabled
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Id"] == distribution_id
    current = cloudfront.get_distribution_config(Id=distribution_id)
    disabled = {**current["DistributionConfig"], "Enabled": False}
    # A deployment that takes a minute, so the disabled distribution is surely still InProgress.
    with deploy_time(local_backend, {"progression": "time", "seconds": 60}):
        etag = cloudfront.update_distribution(
            Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=disabled
        )["ETag"]
        assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "InProgress"
        assert (
            refusal(lambda: cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)) == not_disabled
        )
    cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig=FAST_WAITER)
    assert refusal(lambda: cloudfront.delete_distribution(Id=distribution_id, IfMatch=distribution["ETag"]))[
        1
    ] == ("PreconditionFailed")
    cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)
    assert refusal(lambda: cloudfront.get_distribution(Id=distribution_id))[1] == "NoSuchDistribution"


def test_an_invalidation_is_in_progress_then_completed(cloudfront: Any, distribution: dict[str, Any]) -> None:
    distribution_id = distribution["Distribution"]["Id"]
    batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": uuid.uuid4().hex}
    invalidation = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    assert invalidation["Invalidation"]["Status"] == "InProgress"
    cloudfront.get_waiter("invalidation_completed").wait(
        DistributionId=distribution_id, Id=invalidation["Invalidation"]["Id"], WaiterConfig=FAST_WAITER
    )
    answer = cloudfront.get_invalidation(
        DistributionId=distribution_id, Id=invalidation["Invalidation"]["Id"]
    )
    assert answer["Invalidation"]["Status"] == "Completed"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, DEFAULT_DEPLOY_SECONDS), ("", DEFAULT_DEPLOY_SECONDS), ("0", 0.0), (" 0.5 ", 0.5)],
)
def test_the_deploy_time_is_a_setting(value: str | None, seconds: float) -> None:
    assert deploy_seconds({} if value is None else {DEPLOY_SECONDS_VARIABLE: value}) == seconds


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_deploy_time_that_is_not_a_number_of_seconds_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=DEPLOY_SECONDS_VARIABLE):
        deploy_seconds({DEPLOY_SECONDS_VARIABLE: value})
