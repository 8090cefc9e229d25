"""IAM policy evaluation: the one home for the policy logic the data plane needs.

The gateway (Lambda authorizers' policies), the edge (the bucket policy S3 applies to CloudFront's reads)
and the runtime all match actions and resources here, with IAM's wildcard rules (``*`` and ``?``, case
rules per element).
"""
