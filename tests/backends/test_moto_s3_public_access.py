"""S3 Block Public Access and Object Ownership enforced as S3 documents them: plain boto3 (and plain,
unsigned HTTP) against the local moto server; each mistake fails as on AWS and changes nothing, each fix works."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shared_labs import oac_bucket_policy, plain_client

pytestmark = pytest.mark.server
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ALL_OFF = dict.fromkeys(ALL_ON, False)
DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"


def public_read(bucket: str) -> str:
    """The policy of an S3 website: anyone may GetObject (public, as S3 counts it)."""
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


@pytest.fixture
def s3(local_backend: Any) -> Any:
    return plain_client(local_backend, "s3")


@pytest.fixture
def new_bucket(s3: Any) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(**settings: Any) -> str:
        name = f"bpa-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=name, **settings)
        made.append(name)
        return name

    yield make
    for name in made:
        for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
        s3.delete_bucket(Bucket=name)


def anonymous_get(local_backend: Any, bucket: str, key: str) -> tuple[int, bytes]:
    """A browser's (or curl's) unsigned GET of the object, path-style on the moto server."""
    try:
        with urllib.request.urlopen(f"{local_backend.endpoint_url}/{bucket}/{key}", timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_new_bucket_blocks_public_access_and_disables_acls_as_s3_does_since_april_2023(
    s3: Any, new_bucket: Callable[..., str]
) -> None:
    bucket = new_bucket()
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == ALL_ON
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    chosen = new_bucket(ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=chosen)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]


def test_block_public_policy_refuses_a_public_bucket_policy_and_stores_nothing(
    local_backend: Any, s3: Any, new_bucket: Callable[..., str]
) -> None:
    bucket = new_bucket()
    caller = plain_client(local_backend, "sts").get_caller_identity()["Arn"]
    assert refusal(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))) == (
        403,
        "AccessDenied",
        f'User: {caller} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::{bucket}" '
        "because public policies are blocked by the BlockPublicPolicy block public access setting.",
    )
    assert refusal(lambda: s3.get_bucket_policy(Bucket=bucket))[1] == "NoSuchBucketPolicy"
    # A policy for one distribution (the OAC policy) is not public: accepted with every setting on.
    s3.put_bucket_policy(Bucket=bucket, Policy=oac_bucket_policy(bucket, DISTRIBUTION))
    # The fix for a public website: turn BlockPublicPolicy off first.
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False}
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(public_read(bucket))


def test_the_accounts_setting_counts_too(local_backend: Any, s3: Any, new_bucket: Callable[..., str]) -> None:
    bucket = new_bucket()
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_OFF)
    # The lab's client: a plain one puts the account id before the endpoint's host, which loopback lacks.
    s3control = local_backend.client("s3control")
    account = plain_client(local_backend, "sts").get_caller_identity()["Account"]
    s3control.put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    try:
        # "Amazon S3 uses the most restrictive combination of the bucket-level and account-level settings."
        assert refusal(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket)))[:2] == (
            403,
            "AccessDenied",
        )
    finally:
        s3control.delete_public_access_block(AccountId=account)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))


def test_acls_are_refused_where_acls_are_disabled(s3: Any, new_bucket: Callable[..., str]) -> None:
    bucket = new_bucket()
    not_supported = (400, "AccessControlListNotSupported", "The bucket does not allow ACLs")
    assert (
        refusal(lambda: s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", ACL="public-read"))
        == not_supported
    )
    assert refusal(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == not_supported
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # "bucket-owner-full-control", or no ACL at all, is accepted.
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b")
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket=f"bpa-{uuid.uuid4().hex[:10]}", ACL="public-read")
    assert raised.value.response["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"


def test_block_public_acls_refuses_public_acls_where_acls_are_enabled(
    s3: Any, new_bucket: Callable[..., str]
) -> None:
    bucket = new_bucket(ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    denied = (403, "AccessDenied", "Access Denied")
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b", ACL="public-read"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="a.txt", ACL="public-read"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="a.txt", ACL="authenticated-read"),
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write"),
        lambda: s3.copy_object(Bucket=bucket, Key="c.txt", CopySource=f"{bucket}/a.txt", ACL="public-read"),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="d.txt", ACL="public-read"),
    ):
        assert refusal(call) == denied
    assert sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["a.txt"]
    assert all(
        "URI" not in grant["Grantee"] for grant in s3.get_object_acl(Bucket=bucket, Key="a.txt")["Grants"]
    )
    s3.put_object(Bucket=bucket, Key="e.txt", Body=b"e", ACL="private")  # not public: accepted
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicAcls": False}
    )
    s3.put_object_acl(Bucket=bucket, Key="a.txt", ACL="public-read")


def test_anonymous_callers_get_what_the_policy_acls_and_settings_give_them(
    local_backend: Any, s3: Any, new_bucket: Callable[..., str]
) -> None:
    bucket = new_bucket(ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>hi</h1>", ContentType="text/html")
    # A policy that lets only one distribution read (OAC): an unsigned request is refused.
    s3.put_bucket_policy(Bucket=bucket, Policy=oac_bucket_policy(bucket, DISTRIBUTION))
    status, body = anonymous_get(local_backend, bucket, "index.html")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert anonymous_get(local_backend, bucket, "")[0] == 403  # nor may it list the bucket
    # A public policy, with RestrictPublicBuckets on: anonymous callers still get nothing.
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False}
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert anonymous_get(local_backend, bucket, "index.html")[0] == 403
    # With RestrictPublicBuckets off the policy lets anyone read: what an S3 website needs.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_OFF)
    assert anonymous_get(local_backend, bucket, "index.html") == (200, b"<h1>hi</h1>")
    # Without the policy, a public-read ACL lets anyone read, unless IgnorePublicAcls says otherwise.
    s3.delete_bucket_policy(Bucket=bucket)
    assert anonymous_get(local_backend, bucket, "index.html")[0] == 403
    s3.put_object_acl(Bucket=bucket, Key="index.html", ACL="public-read")
    assert anonymous_get(local_backend, bucket, "index.html")[0] == 200
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**ALL_OFF, "IgnorePublicAcls": True}
    )
    assert anonymous_get(local_backend, bucket, "index.html")[0] == 403
    # Signed requests (the bucket owner's) are not anonymous: unaffected.
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<h1>hi</h1>"
