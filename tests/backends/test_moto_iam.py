"""IAM enforced for role sessions in moto (backends/moto_iam.py), with plain boto3 on the memory backend:
the policy evaluation table, AWS managed policies, each service's refusal, tokens, live policy changes,
session policies and boundaries, and what stays unchecked (the lab's admin keys)."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from serverless_lab.backends import make_backend

REGION, ACCOUNT = "us-east-1", "123456789012"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}
ONE_TRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service: str, keys: dict[str, str] | None = None, **options: Any) -> Any:
    return boto3.client(service, region_name=REGION, config=ONE_TRY, **(keys or ADMIN), **options)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def refusal(call: Any, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


class Setup:
    """A table (partition key `owner`), a second table, a role and a session of it named `fn`."""

    def __init__(self) -> None:
        make_backend("memory").start()
        tag = uuid.uuid4().hex[:8]
        self.table, self.other = f"items-{tag}", f"other-{tag}"
        self.table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table}"
        self.other_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.other}"
        ddb = client("dynamodb")
        for name in (self.table, self.other):
            ddb.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "itemId", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "owner", "AttributeType": "S"},
                    {"AttributeName": "itemId", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        self.role = f"role-{tag}"
        self.role_arn = client("iam").create_role(RoleName=self.role, AssumeRolePolicyDocument=TRUST)["Role"][
            "Arn"
        ]
        self.keys = self.session("fn")

    def session(self, name: str, **options: Any) -> dict[str, str]:
        answer = client("sts").assume_role(RoleArn=self.role_arn, RoleSessionName=name, **options)[
            "Credentials"
        ]
        return {
            "aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"],
        }

    def allow(self, *statements: dict[str, Any], name: str = "p") -> None:
        client("iam").put_role_policy(
            RoleName=self.role, PolicyName=name, PolicyDocument=document(*statements)
        )

    def put(self, owner: str = "ada", table: str | None = None, keys: dict[str, str] | None = None) -> None:
        client("dynamodb", keys or self.keys).put_item(
            TableName=table or self.table, Item={"owner": {"S": owner}, "itemId": {"S": "1"}}
        )

    @property
    def caller(self) -> str:
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role}/fn"


@pytest.fixture
def lab() -> Iterator[Setup]:
    """A Setup, and everything it and the test made taken away after (the memory backend is the process's,
    shared with every other test)."""
    setup = Setup()
    yield setup
    ddb, s3, iam, idp = client("dynamodb"), client("s3"), client("iam"), client("cognito-idp")
    for table in (setup.table, setup.other):
        ddb.delete_table(TableName=table)
    if setup.table in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        for listed in s3.list_objects_v2(Bucket=setup.table).get("Contents", []):
            s3.delete_object(Bucket=setup.table, Key=listed["Key"])
        s3.delete_bucket(Bucket=setup.table)
    for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"] == setup.table:
            idp.delete_user_pool(UserPoolId=pool["Id"])
    logs = client("logs")
    for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{setup.table}")["logGroups"]:
        logs.delete_log_group(logGroupName=group["logGroupName"])
    if any(role["RoleName"] == setup.role for role in iam.list_roles()["Roles"]):
        for name in iam.list_role_policies(RoleName=setup.role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=setup.role, PolicyName=name)
        for attached in iam.list_attached_role_policies(RoleName=setup.role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=setup.role, PolicyArn=attached["PolicyArn"])
        iam.delete_role_permissions_boundary(RoleName=setup.role)
        iam.delete_role(RoleName=setup.role)
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["PolicyName"] == setup.role:
            for version in iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=policy["Arn"])


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


NO_ALLOW = "because no identity-based policy allows the dynamodb:PutItem action"
EXPLICIT = "with an explicit deny in an identity-based policy"


# The policy evaluation table: PutItem of owner "ada" on the table, one policy per case.
@pytest.mark.parametrize(
    ("case", "statements", "expected"),
    [
        ("allow", lambda t: [allow("dynamodb:PutItem", t.table_arn)], None),
        ("no statement matches", lambda t: [allow("dynamodb:GetItem", t.table_arn)], NO_ALLOW),
        ("allowed on another table only", lambda t: [allow("dynamodb:PutItem", t.other_arn)], NO_ALLOW),
        (
            "explicit deny beats allow",
            lambda t: [allow("*"), deny("dynamodb:PutItem", t.table_arn)],
            EXPLICIT,
        ),
        ("wildcard action", lambda t: [allow("dynamodb:Put*", t.table_arn)], None),
        ("wildcard ? and case", lambda t: [allow("DynamoDB:putite?", t.table_arn)], None),
        ("wildcard resource", lambda t: [allow("dynamodb:*", "arn:aws:dynamodb:*:*:table/items-*")], None),
        (
            "NotResource of the other table",
            lambda t: [{"Effect": "Allow", "Action": "dynamodb:PutItem", "NotResource": t.other_arn}],
            None,
        ),
        (
            "LeadingKeys condition holds",
            lambda t: [
                allow(
                    "dynamodb:PutItem",
                    t.table_arn,
                    Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["ada"]}},
                )
            ],
            None,
        ),
        (
            "LeadingKeys condition fails",
            lambda t: [
                allow(
                    "dynamodb:PutItem",
                    t.table_arn,
                    Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["bob"]}},
                )
            ],
            NO_ALLOW,
        ),
        (
            "another region only",
            lambda t: [
                allow("dynamodb:PutItem", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
            ],
            NO_ALLOW,
        ),
        (
            "principal ARN is this role",
            lambda t: [allow("dynamodb:PutItem", Condition={"ArnEquals": {"aws:PrincipalArn": t.role_arn}})],
            None,
        ),
        (
            "deny outside us-east-1 does not apply",
            lambda t: [allow("*"), deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": REGION}})],
            None,
        ),
    ],
)
def test_policy_evaluation_table(lab: Setup, case: str, statements: Any, expected: str | None) -> None:
    lab.allow(*statements(lab))
    if expected is None:
        lab.put()
        return
    status, code, message = refusal(lab.put)
    assert (status, code) == (400, "AccessDeniedException")
    assert message == (
        f"User: {lab.caller} is not authorized to perform: dynamodb:PutItem on resource: {lab.table_arn} {expected}"
    )


def test_a_dynamodb_refusal_is_aws_s_json_answer(lab: Setup) -> None:
    ddb = client("dynamodb", lab.keys)
    seen: dict[str, Any] = {}
    ddb.meta.events.register("before-parse.*.*", lambda response_dict, **_: seen.update(response_dict))
    refusal(ddb.get_item, TableName=lab.table, Key={"owner": {"S": "ada"}, "itemId": {"S": "1"}})
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["status_code"] == 400
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert json.loads(seen["body"])["__type"].endswith("AccessDeniedException")


def test_each_service_refuses_in_its_own_shape(lab: Setup) -> None:
    client("s3").create_bucket(Bucket=lab.table)
    client("s3").put_object(Bucket=lab.table, Key="a.txt", Body=b"a")
    pool = client("cognito-idp").create_user_pool(PoolName=lab.table)["UserPool"]["Id"]
    logs = client("logs", lab.keys)
    cases = [
        (
            client("s3", lab.keys).get_object,
            {"Bucket": lab.table, "Key": "a.txt"},
            403,
            "AccessDenied",
            "s3:GetObject",
        ),
        (client("s3", lab.keys).list_objects_v2, {"Bucket": lab.table}, 403, "AccessDenied", "s3:ListBucket"),
        (
            logs.create_log_group,
            {"logGroupName": "/aws/lambda/x"},
            400,
            "AccessDeniedException",
            "logs:Create",
        ),
        (client("lambda", lab.keys).list_functions, {}, 403, "AccessDeniedException", "lambda:ListFunctions"),
        (client("iam", lab.keys).list_roles, {}, 403, "AccessDenied", "iam:ListRoles"),
        (
            client("cognito-idp", lab.keys).admin_get_user,
            {"UserPoolId": pool, "Username": "ada"},
            400,
            "AccessDeniedException",
            f"cognito-idp:AdminGetUser on resource: arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool}",
        ),
    ]
    for call, params, status, code, words in cases:
        found = refusal(call, **params)
        assert found[:2] == (status, code), (call, found)
        assert words in found[2] and found[2].startswith(f"User: {lab.caller} is not authorized"), found
    # HEAD has no body: S3 answers 403 alone, as on AWS.
    assert refusal(client("s3", lab.keys).head_object, Bucket=lab.table, Key="a.txt")[0] == 403
    # Operations IAM does not authorize.
    assert client("sts", lab.keys).get_caller_identity()["Arn"] == lab.caller


def test_aws_managed_policies_attach_with_their_real_documents(lab: Setup) -> None:
    iam = client("iam")
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    version = iam.get_policy(PolicyArn=basic)["Policy"]["DefaultVersionId"]
    found = iam.get_policy_version(PolicyArn=basic, VersionId=version)["PolicyVersion"]["Document"]
    found = json.loads(found) if isinstance(found, str) else found
    assert found["Statement"][0]["Action"] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    iam.attach_role_policy(RoleName=lab.role, PolicyArn=basic)
    iam.attach_role_policy(
        RoleName=lab.role, PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
    )
    client("logs", lab.keys).create_log_group(logGroupName=f"/aws/lambda/{lab.table}")
    client("dynamodb", lab.keys).scan(TableName=lab.table)
    assert refusal(lab.put)[1] == "AccessDeniedException"
    with pytest.raises(ClientError) as missing:
        iam.attach_role_policy(RoleName=lab.role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    # Made when first named, not all 1,595 of them at once.
    from moto.iam.models import iam_backends

    assert len(iam_backends[ACCOUNT]["aws"].aws_managed_policies) < 50


def test_policy_changes_take_effect_on_the_next_call(lab: Setup) -> None:
    iam = client("iam")
    assert refusal(lab.put)[1] == "AccessDeniedException"
    lab.allow(allow("dynamodb:PutItem", lab.table_arn))
    lab.put()
    iam.delete_role_policy(RoleName=lab.role, PolicyName="p")
    assert refusal(lab.put)[1] == "AccessDeniedException"
    arn = iam.create_policy(PolicyName=lab.role, PolicyDocument=document(allow("dynamodb:GetItem", "*")))[
        "Policy"
    ]["Arn"]
    iam.attach_role_policy(RoleName=lab.role, PolicyArn=arn)
    assert refusal(lab.put)[1] == "AccessDeniedException"
    iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=document(allow("dynamodb:*", "*")), SetAsDefault=True
    )
    lab.put()
    iam.detach_role_policy(RoleName=lab.role, PolicyArn=arn)
    assert refusal(lab.put)[1] == "AccessDeniedException"


def test_a_session_policy_and_a_permissions_boundary_narrow_what_the_role_allows(lab: Setup) -> None:
    lab.allow(allow("dynamodb:*", "*"))
    narrow = lab.session("fn", Policy=document(allow("dynamodb:GetItem", "*")))
    _, code, message = refusal(lab.put, keys=narrow)
    assert code == "AccessDeniedException" and message.endswith(
        "because no session policy allows the dynamodb:PutItem action"
    )
    lab.put()  # the session without a session policy
    client("iam").put_role_permissions_boundary(
        RoleName=lab.role, PermissionsBoundary="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
    )
    assert refusal(lab.put)[2].endswith("because no permissions boundary allows the dynamodb:PutItem action")
    client("dynamodb", lab.keys).get_item(
        TableName=lab.table, Key={"owner": {"S": "ada"}, "itemId": {"S": "1"}}
    )


def test_a_bucket_policy_naming_the_role_is_enough(lab: Setup) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=lab.table)
    s3.put_object(Bucket=lab.table, Key="a.txt", Body=b"a")
    assert refusal(client("s3", lab.keys).get_object, Bucket=lab.table, Key="a.txt")[:2] == (
        403,
        "AccessDenied",
    )
    statement = {**allow("s3:GetObject", f"arn:aws:s3:::{lab.table}/*"), "Principal": {"AWS": lab.role_arn}}
    s3.put_bucket_policy(Bucket=lab.table, Policy=document(statement))
    assert client("s3", lab.keys).get_object(Bucket=lab.table, Key="a.txt")["Body"].read() == b"a"


def test_bad_and_expired_tokens(lab: Setup) -> None:
    lab.allow(allow("*"))
    forged = {**lab.keys, "aws_session_token": "not-the-token"}
    assert refusal(lab.put, keys=forged)[:2] == (400, "UnrecognizedClientException")
    assert refusal(client("iam", forged).list_roles)[:2] == (403, "InvalidClientTokenId")
    assert refusal(client("s3", forged).list_buckets)[1] == "InvalidToken"
    unknown = {**lab.keys, "aws_access_key_id": "ASIA" + "Z" * 16}
    assert refusal(lab.put, keys=unknown)[1] == "UnrecognizedClientException"
    from moto.sts.models import sts_backends

    session = next(
        s
        for s in sts_backends[ACCOUNT]["aws"].assumed_roles
        if s.access_key_id == lab.keys["aws_access_key_id"]
    )
    session.expiration = datetime.datetime(2000, 1, 1)
    status, code, message = refusal(lab.put)
    assert (status, code, message) == (
        400,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )


def test_a_deleted_role_s_sessions_may_do_nothing(lab: Setup) -> None:
    lab.allow(allow("*"))
    lab.put()
    iam = client("iam")
    iam.delete_role_policy(RoleName=lab.role, PolicyName="p")
    iam.delete_role(RoleName=lab.role)
    assert refusal(lab.put)[2].endswith(NO_ALLOW)


def test_the_lab_s_own_keys_and_unsigned_calls_are_not_checked(lab: Setup) -> None:
    lab.put(keys=ADMIN)
    client("dynamodb").scan(TableName=lab.table)
    client("iam").list_roles()
    pool = client("cognito-idp").create_user_pool(PoolName=lab.table)["UserPool"]["Id"]
    app = client("cognito-idp").create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    from botocore import UNSIGNED

    unsigned = boto3.client("cognito-idp", region_name=REGION, config=Config(signature_version=UNSIGNED))
    unsigned.sign_up(ClientId=app, Username="ada", Password="Passw0rd!x")


def test_enforcement_is_off_with_serverless_lab_iam_off(lab: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    assert refusal(lab.put)[1] == "AccessDeniedException"
    monkeypatch.setenv("SERVERLESS_LAB_IAM", "off")
    lab.put()


def test_a_session_s_invoke_needs_lambda_invoke_function(lab: Setup) -> None:
    """Lambda's Invoke goes past moto to the data plane (moto_host); the check is made there too."""
    endpoint = make_backend("memory").http_endpoint()
    invoke = client("lambda", lab.keys, endpoint_url=endpoint).invoke
    status, code, message = refusal(invoke, FunctionName="nothing-here")
    assert (status, code) == (403, "AccessDeniedException")
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nothing-here"
    assert f"lambda:InvokeFunction on resource: {function_arn} because" in message
    lab.allow(allow("lambda:InvokeFunction", function_arn))
    # Allowed: it reaches Lambda, which answers for the missing function (here: no data plane serving, or 404).
    with pytest.raises(ClientError) as passed:
        invoke(FunctionName="nothing-here")
    assert passed.value.response["Error"]["Code"] != "AccessDeniedException"
