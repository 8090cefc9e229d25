"""Reading a bucket policy as S3 does for CloudFront's GetObject: may CloudFront list the bucket?"""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.cloudfront.s3_origin import policy_lets_cloudfront_list

CLOUDFRONT = {"Service": "cloudfront.amazonaws.com"}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize(
    ("text", "lists"),
    [
        (
            policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "s3:GetObject"}),
            False,
        ),  # the lab's OAC
        (
            policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": ["s3:GetObject", "s3:ListBucket"]}),
            True,
        ),
        (policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}), True),
        (policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "s3:List*"}), True),  # IAM wildcard
        (policy({"Effect": "Allow", "Principal": CLOUDFRONT, "Action": "S3:listbucket"}), True),  # any case
        (policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}), True),
        (policy({"Effect": "Deny", "Principal": CLOUDFRONT, "Action": "s3:ListBucket"}), False),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "s3:ListBucket",
                }
            ),
            False,
        ),
        (json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket"}}), True),
        ("not json", False),
        ("[]", False),
    ],
)
def test_a_bucket_policy_lets_cloudfront_list_the_bucket_or_not(text: str, lists: bool) -> None:
    assert policy_lets_cloudfront_list(text) is lists
