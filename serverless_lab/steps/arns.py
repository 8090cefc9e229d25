"""ARN parts shared by the steps, as plain functions (no boto3), so the pure policy modules can use them."""

from __future__ import annotations


def partition(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn (China) or aws-us-gov (GovCloud)."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"
