"""How S3 decides a request that comes from outside the bucket owner's identities: an anonymous caller,
or an AWS service principal such as CloudFront reading through an origin access control.

Such a caller has no identity policies in the account, so only the bucket policy (or, for an anonymous
read, a public ACL) can let it in, and S3 Block Public Access can take that away again (S3 User Guide,
"Blocking public access to your Amazon S3 storage"):

- an explicit Deny in the bucket policy refuses;
- an Allow in the bucket policy for this caller lets it in, unless the bucket's policy is public and
  RestrictPublicBuckets is on: then "only AWS service principals and authorized users within the bucket
  owner's account" get in, so an anonymous caller does not (a service principal still does);
- otherwise an anonymous GET is let in by an ACL that grants AllUsers READ, unless ACLs are disabled
  (Object Ownership "BucketOwnerEnforced", the default for new buckets since April 2023) or
  IgnorePublicAcls is on (or RestrictPublicBuckets with a public policy);
- anything else is refused: 403 AccessDenied.

The settings that count are the bucket's and the account's together, the most restrictive of the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_lab.dataplane.iam.evaluation import evaluate
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.public import policy_is_public
from serverless_lab.dataplane.iam.request import MalformedPolicyError, Request

_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


@dataclass(frozen=True)
class BlockPublicAccess:
    """The four S3 Block Public Access settings (PublicAccessBlockConfiguration)."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @classmethod
    def all_on(cls) -> BlockPublicAccess:
        """What S3 sets on every new bucket since April 2023."""
        return cls(True, True, True, True)

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> BlockPublicAccess:
        """From a PublicAccessBlockConfiguration as boto3 returns it (None: no configuration, all off)."""
        configuration = configuration or {}
        return cls(**{name: bool(configuration.get(key, False)) for key, name in _FIELDS.items()})

    def to_configuration(self) -> dict[str, bool]:
        return {key: getattr(self, name) for key, name in _FIELDS.items()}

    def combined(self, other: BlockPublicAccess) -> BlockPublicAccess:
        """The most restrictive combination of two levels (bucket and account): a setting on in either."""
        return BlockPublicAccess(*(getattr(self, n) or getattr(other, n) for n in _FIELDS.values()))


@dataclass(frozen=True)
class BucketAccess:
    """What S3 reads, besides the request, to decide it: the bucket policy, the Block Public Access
    settings in effect, and whether ACLs count at all."""

    policy_text: str | None = None  # the bucket policy as stored; None when the bucket has none
    block: BlockPublicAccess = field(default_factory=BlockPublicAccess)
    acls_enabled: bool = False  # Object Ownership is not BucketOwnerEnforced

    @property
    def policy(self) -> Policy | None:
        if not self.policy_text:
            return None
        try:
            return Policy.parse(self.policy_text)  # cached per text
        except MalformedPolicyError:
            return None  # S3 stores only valid policies; one it could not read grants nothing

    def allows(self, request: Request, *, acl_grants_public_read: bool | Callable[[], bool] = False) -> bool:
        """Whether S3 lets this caller (a service principal or an anonymous caller) make the request.

        `acl_grants_public_read`: whether the object's ACL grants AllUsers READ, or how to find out (asked
        only when the ACL is what decides: an anonymous GetObject the policy does not allow)."""
        policy = self.policy
        restricted = self.block.restrict_public_buckets and policy is not None and policy_is_public(policy)
        anonymous = request.principal is None or request.principal.kind == "Anonymous"
        if policy is not None:
            decision = evaluate(request, resource=policy)
            if decision.explicit_deny:
                return False
            if decision.allowed:
                return not (restricted and anonymous)
        if not anonymous or request.action.lower() != "s3:getobject":
            return False
        if not self.acls_enabled or self.block.ignore_public_acls or restricted:
            return False
        return bool(acl_grants_public_read() if callable(acl_grants_public_read) else acl_grants_public_read)
