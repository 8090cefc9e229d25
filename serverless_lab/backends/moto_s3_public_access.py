"""S3 Block Public Access and Object Ownership for moto, which stores both and enforces neither.

What S3 does, and so moto does with this mend (S3 User Guide, "Blocking public access to your Amazon S3
storage" and "Controlling ownership of objects and disabling ACLs"; the API reference's
PublicAccessBlockConfiguration):

- A new bucket has all four Block Public Access settings on and Object Ownership "BucketOwnerEnforced"
  (ACLs disabled) unless CreateBucket says otherwise (x-amz-object-ownership), as S3 sets every new
  bucket since April 2023; GetPublicAccessBlock answers them.
- BlockPublicPolicy refuses a PutBucketPolicy whose policy is public (dataplane/iam/public.py): 403
  AccessDenied, "User: <caller> is not authorized to perform: s3:PutBucketPolicy on resource:
  "arn:aws:s3:::<bucket>" because public policies are blocked by the BlockPublicPolicy block public
  access setting." The policy is not stored.
- With ACLs disabled, a request that sets an ACL other than the bucket owner's full control
  (PutBucketAcl, PutObjectAcl, PutObject, CopyObject, CreateMultipartUpload) is refused with 400
  AccessControlListNotSupported, "The bucket does not allow ACLs"; a CreateBucket with such an ACL
  with 400 InvalidBucketAclWithObjectOwnership.
- With ACLs enabled, BlockPublicAcls refuses those requests when the ACL is public (it grants anything to
  AllUsers or AuthenticatedUsers): 403 AccessDenied.
- An unsigned (anonymous) request is decided as S3 decides it (dataplane/iam/s3_access.py): the bucket
  policy for an anonymous caller, a public-read object ACL unless IgnorePublicAcls or ACLs are disabled,
  and RestrictPublicBuckets, which keeps anonymous callers out of a bucket whose policy is public. moto's
  own check reads only the policy's actions (not its principals or conditions), so a bucket that lets
  only CloudFront read (the OAC policy) served any anonymous caller.

The bucket's settings and the account's (s3control put_public_access_block) both count, the most
restrictive of the two. Each check runs before moto changes anything, so a refused request changes nothing.
"""

from __future__ import annotations

from typing import Any

from serverless_lab.dataplane.iam.public import ALL_USERS, acl_is_public
from serverless_lab.dataplane.iam.request import Principal, Request
from serverless_lab.dataplane.iam.s3_access import BlockPublicAccess, BucketAccess

ENFORCED = "BucketOwnerEnforced"
_FULL_CONTROL = "FULL_CONTROL"


def _error(code: str, message: str) -> Exception:
    from moto.s3.exceptions import S3ClientError

    return S3ClientError(code, message)


def _block(bucket: Any) -> BlockPublicAccess:
    """The settings in effect for a bucket: its own combined with its account's."""
    from moto.s3control.models import s3control_backends

    own = bucket.public_access_block
    level = BlockPublicAccess(
        *(bool(getattr(own, name, False)) for name in _NAMES) if own is not None else ()
    )
    try:
        account = s3control_backends[bucket.account_id][bucket.partition].public_access_block
    except KeyError:
        account = None
    if account is not None:
        level = level.combined(BlockPublicAccess(*(bool(getattr(account, name, False)) for name in _NAMES)))
    return level


_NAMES = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


def _acls_enabled(ownership: Any) -> bool:
    return (ownership or "ObjectWriter") != ENFORCED


def _owner_full_control_only(acl: Any, owner: str) -> bool:
    """An ACL that gives only the bucket owner full control (bucket-owner-full-control, private)."""
    return all(
        set(grant.permissions) == {_FULL_CONTROL} and all(g.id == owner and not g.uri for g in grant.grantees)
        for grant in acl.grants
    )


def _grantee_uris(acl: Any) -> list[str]:
    return [grantee.uri for grant in acl.grants for grantee in grant.grantees if grantee.uri]


def check_acl(acl: Any, *, ownership: Any, block: BlockPublicAccess, creating_bucket: bool = False) -> None:
    """Refuses an ACL a request sets, as S3 does, before anything is stored."""
    from moto.s3.models import OWNER

    if acl is None:
        return
    if not _acls_enabled(ownership):
        if _owner_full_control_only(acl, OWNER):
            return  # "PUT requests that specify bucket owner full control ACLs" are accepted
        if creating_bucket:
            raise _error(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            )
        raise _error("AccessControlListNotSupported", "The bucket does not allow ACLs")
    if block.block_public_acls and acl_is_public(_grantee_uris(acl)):
        raise _error("AccessDenied", "Access Denied")


def _caller_arn(response: Any) -> str:
    from moto.sts.models import sts_backends

    try:
        sts = sts_backends[response.current_account][response.partition]
        return sts.get_caller_identity(response.get_access_key(), response.region)[1]
    except Exception:  # the message names the caller; the refusal does not depend on it
        return f"arn:aws:iam::{response.current_account}:root"


def check_policy(response: Any, bucket: Any, policy_text: str) -> None:
    from serverless_lab.dataplane.iam.public import policy_is_public
    from serverless_lab.dataplane.iam.request import MalformedPolicyError

    if not _block(bucket).block_public_policy:
        return
    try:
        public = policy_is_public(policy_text)
    except MalformedPolicyError:
        return
    if public:
        raise _error(
            "AccessDenied",
            f"User: {_caller_arn(response)} is not authorized to perform: s3:PutBucketPolicy on resource: "
            f'"arn:{bucket.partition}:s3:::{bucket.name}" because public policies are blocked by the '
            "BlockPublicPolicy block public access setting.",
        )


def _requested_acl(response: Any, headers: Any, *, body_too: bool) -> Any:
    acl = response._acl_from_headers(headers)
    if acl is None and body_too and response.body:
        acl = response._acl_from_body()
    return acl


def _anonymous(request: Any) -> bool:
    """An unsigned request: no Authorization header and no presigned-URL signature."""
    if "Authorization" in request.headers:
        return False
    url = getattr(request, "url", None) or getattr(request, "path", "")
    return "Signature=" not in url


# What an unsigned request asks for, as IAM names the action (a key's, then a bucket's listing).
_KEY_ACTIONS = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "POST": "s3:PutObject",
                "DELETE": "s3:DeleteObject"}  # fmt: skip
_BUCKET_ACTIONS = {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket"}


def anonymous_allowed(bucket: Any, action: str, resource: str, key: Any = None) -> bool:
    public_read = (
        key is not None
        and key.acl is not None
        and any(
            grantee.uri == ALL_USERS and set(grant.permissions) & {"READ", _FULL_CONTROL}
            for grant in key.acl.grants
            for grantee in grant.grantees
        )
    )
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    access = BucketAccess(policy, _block(bucket), _acls_enabled(bucket.ownership_rule))
    return access.allows(Request(action, resource, Principal.anonymous()), acl_grants_public_read=public_read)


def apply() -> None:
    from moto.s3 import models, responses

    backend_class, response_class = models.S3Backend, responses.S3Response
    if getattr(backend_class.create_bucket, "_serverless_lab_fix", False):
        return
    original_create = backend_class.create_bucket
    original_bucket_put = response_class._bucket_response_put
    original_key_put = response_class._key_response_put
    original_key_post = response_class._key_response_post
    original_key_response = response_class._key_response
    original_bucket_response = response_class._bucket_response

    def create_bucket(self: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = original_create(self, *args, **kwargs)
        on = BlockPublicAccess.all_on()
        bucket.public_access_block = models.PublicAccessBlock(*on.to_configuration().values())
        bucket.ownership_rule = ENFORCED  # CreateBucket's x-amz-object-ownership replaces it
        return bucket

    def _bucket_response_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "policy" in querystring:
            body = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
            check_policy(self, self.backend.get_bucket(bucket_name), body)
        elif "acl" in querystring:
            bucket = self.backend.get_bucket(bucket_name)
            check_acl(
                _requested_acl(self, request.headers, body_too=True),
                ownership=bucket.ownership_rule,
                block=_block(bucket),
            )
        elif not querystring:  # CreateBucket: the new bucket's own defaults, and the account's settings
            ownership = request.headers.get("x-amz-object-ownership") or ENFORCED
            check_acl(
                _requested_acl(self, request.headers, body_too=False),
                ownership=ownership,
                block=BlockPublicAccess.all_on(),
                creating_bucket=True,
            )
        return original_bucket_put(self, request, bucket_name, querystring)

    def _check_key_acl(self: Any, *, body_too: bool) -> None:
        bucket = self.backend.get_bucket(self.bucket_name)
        check_acl(
            _requested_acl(self, self.headers, body_too=body_too),
            ownership=bucket.ownership_rule,
            block=_block(bucket),
        )

    def _key_response_put(self: Any, query: dict[str, Any], key_name: str) -> Any:
        if "acl" in query:
            _check_key_acl(self, body_too=True)
        elif not (query.get("uploadId") and query.get("partNumber")) and not set(query) & {
            "retention", "legal-hold", "tagging"
        }:  # fmt: skip
            _check_key_acl(self, body_too=False)  # PutObject, CopyObject
        return original_key_put(self, query, key_name)

    def _key_response_post(
        self: Any, request: Any, body: Any, bucket_name: str, query: Any, key_name: str
    ) -> Any:
        if "uploads" in query:  # CreateMultipartUpload
            _check_key_acl(self, body_too=False)
        return original_key_post(self, request, body, bucket_name, query, key_name)

    def _key_response(self: Any, request: Any, full_url: str) -> Any:
        action = _KEY_ACTIONS.get(request.method)
        if action and _anonymous(request):
            bucket_name = self.parse_bucket_name_from_url(request, full_url)
            key_name = self.parse_key_name()
            bucket = self.backend.get_bucket(bucket_name)  # NoSuchBucket as S3 answers it
            key = (
                self.backend.get_object(bucket_name, key_name) if request.method in ("GET", "HEAD") else None
            )
            resource = f"arn:{bucket.partition}:s3:::{bucket_name}/{key_name}"
            if not anonymous_allowed(bucket, action, resource, key):
                raise _error("AccessDenied", "Access Denied")
        return original_key_response(self, request, full_url)

    def _bucket_response(self: Any, request: Any, full_url: str) -> Any:
        bucket_name = self.parse_bucket_name_from_url(request, full_url)
        # OPTIONS is CORS's preflight, which is never signed; a POST is a browser's form upload, which
        # carries its signature in the form (or DeleteObjects, which is signed).
        if bucket_name and request.method not in ("OPTIONS", "POST") and _anonymous(request):
            bucket = self.backend.get_bucket(bucket_name)
            action = _BUCKET_ACTIONS.get(request.method)
            resource = f"arn:{bucket.partition}:s3:::{bucket_name}"
            # The lab's simplification: an unsigned request that configures a bucket (PUT, DELETE) is
            # refused whatever the policy says; listing is decided as S3 decides s3:ListBucket.
            if action is None or not anonymous_allowed(bucket, action, resource):
                raise _error("AccessDenied", "Access Denied")
        return original_bucket_response(self, request, full_url)

    replacements = {
        "_bucket_response_put": _bucket_response_put,
        "_key_response_put": _key_response_put,
        "_key_response_post": _key_response_post,
        "_key_response": _key_response,
        "_bucket_response": _bucket_response,
    }
    create_bucket._serverless_lab_fix = True  # type: ignore[attr-defined]
    backend_class.create_bucket = create_bucket  # type: ignore[method-assign]
    for name, replacement in replacements.items():
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
        setattr(response_class, name, replacement)
