"""The notebooks' extra functions and APIs name ARNs in the region's partition, never a hard-coded arn:aws."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from serverless_lab.teaching.extras import _execute_api_arn, _lambda_uri


@pytest.mark.parametrize(
    ("region", "partition"), [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_extra_arns_carry_the_regions_partition(region: str, partition: str) -> None:
    lab = SimpleNamespace(region=region, names=SimpleNamespace(account_id="210987654321"))
    function = f"arn:{partition}:lambda:{region}:210987654321:function:sl-ada-echo"
    assert _lambda_uri(lab, function) == (
        f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations"
    )
    assert _execute_api_arn(lab, "a1b2c3", "authorizers/x9") == (
        f"arn:{partition}:execute-api:{region}:210987654321:a1b2c3/authorizers/x9"
    )
