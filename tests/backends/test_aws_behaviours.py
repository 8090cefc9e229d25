"""The stand-in of AWS does what AWS documents (serverless_lab/backends/aws_behaviours.py): each injected
behaviour met with plain boto3, AWS's error code and message asserted, and the same call accepted once
AWS's time has passed. What the aws path's tests prove against the stand-in (tests/e2e/test_aws_course.py)
is only as good as these.

The stand-in runs 20 times faster than AWS here, with durations chosen so that each window lasts one to
two real seconds: long enough for the refused call, short enough for the suite.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from aws_stand_in import StandIn, start_stand_in

pytestmark = pytest.mark.server

SCALE = 0.05
TIMING = {
    "iam_propagation_s": 40.0,  # 2 s
    "lambda_pending_s": 20.0,  # 1 s
    "lambda_update_s": 20.0,
    "cloudfront_deploy_s": 30.0,  # 1.5 s
    "table_deleting_s": 20.0,
    "cognito_daily_emails": 2,
}
REGION = "eu-west-1"
ROLE_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
               "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    running = start_stand_in(tmp_path_factory.mktemp("aws-behaviours"), region=REGION, scale=SCALE,
                             timing=TIMING)  # fmt: skip
    yield running
    running.stop()


@pytest.fixture(scope="module")
def aws(stand_in: StandIn) -> Callable[[str], Any]:
    """Plain boto3 clients of the stand-in, without retries: every refusal is seen as AWS sends it."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=stand_in.moto, region_name=REGION, config=config,
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

    return client


def code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"].get("Message", "")


def after(seconds_of_aws: float, scale: float = SCALE) -> None:
    time.sleep(seconds_of_aws * scale + 0.2)


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def test_a_new_role_reaches_lambda_only_after_a_while(aws: Callable[[str], Any]) -> None:
    role = aws("iam").create_role(RoleName="propagating", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
    settings = {"Runtime": "python3.12", "Role": role["Role"]["Arn"], "Handler": "index.handler",
                "Code": {"ZipFile": zipped(HANDLER)}}  # fmt: skip
    with pytest.raises(ClientError) as refused:
        aws("lambda").create_function(FunctionName="too-early", **settings)
    assert code(refused) == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )
    after(TIMING["iam_propagation_s"])
    assert aws("lambda").create_function(FunctionName="in-time", **settings)["FunctionName"] == "in-time"


def test_a_function_is_pending_then_refuses_a_second_update_while_one_is_in_progress(
    aws: Callable[[str], Any], stand_in: StandIn
) -> None:
    iam, lambda_ = aws("iam"), aws("lambda")
    role = iam.create_role(RoleName="states", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))["Role"]["Arn"]
    after(TIMING["iam_propagation_s"])
    lambda_.create_function(FunctionName="states", Runtime="python3.12", Role=role, Handler="index.handler",
                            Code={"ZipFile": zipped(HANDLER)})  # fmt: skip
    assert lambda_.get_function(FunctionName="states")["Configuration"]["State"] == "Pending"
    with pytest.raises(ClientError) as pending:
        lambda_.update_function_configuration(FunctionName="states", Timeout=5)
    assert code(pending)[0] == "ResourceConflictException"
    assert "currently in the following state: Pending" in code(pending)[1]
    with pytest.raises(ClientError) as not_invoked:
        lambda_.invoke(FunctionName="states", Payload=b"{}")
    assert code(not_invoked)[0] == "ResourceConflictException"
    after(TIMING["lambda_pending_s"])
    assert lambda_.get_function(FunctionName="states")["Configuration"]["State"] == "Active"
    lambda_.update_function_code(FunctionName="states", ZipFile=zipped(HANDLER + "# v2\n"))
    assert lambda_.get_function(FunctionName="states")["Configuration"]["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError) as in_progress:
        lambda_.update_function_configuration(FunctionName="states", Timeout=5)
    assert code(in_progress)[0] == "ResourceConflictException"
    assert "An update is in progress for resource" in code(in_progress)[1]
    after(TIMING["lambda_update_s"])
    assert lambda_.update_function_configuration(FunctionName="states", Timeout=5)["Timeout"] == 5
    refused = [(e["operation"], e["code"]) for e in stand_in.ledger()["refused"]]
    assert refused.count(("UpdateFunctionConfiguration", "ResourceConflictException")) >= 2
    assert ("Invoke", "ResourceConflictException") in refused


def test_a_deleted_table_stays_deleting_for_a_while(aws: Callable[[str], Any]) -> None:
    dynamodb = aws("dynamodb")
    table = {"TableName": "going", "BillingMode": "PAY_PER_REQUEST",
             "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]}  # fmt: skip
    dynamodb.create_table(**table)
    dynamodb.delete_table(TableName="going")
    assert dynamodb.describe_table(TableName="going")["Table"]["TableStatus"] == "DELETING"
    assert "going" in dynamodb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as in_use:
        dynamodb.create_table(**table)
    assert code(in_use)[0] == "ResourceInUseException"
    after(TIMING["table_deleting_s"])
    with pytest.raises(ClientError) as gone:
        dynamodb.describe_table(TableName="going")
    assert code(gone)[0] == "ResourceNotFoundException"
    assert dynamodb.create_table(**table)["TableDescription"]["TableStatus"] == "ACTIVE"


def distribution_config(reference: str) -> dict[str, Any]:
    origin = {
        "Id": "site",
        "DomainName": "site.s3.eu-west-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    return {"CallerReference": reference, "Comment": "behaviours", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}  # fmt: skip


def test_a_distribution_deploys_for_minutes_and_is_deleted_only_disabled_and_deployed(
    aws: Callable[[str], Any],
) -> None:
    cloudfront = aws("cloudfront")
    made = cloudfront.create_distribution(DistributionConfig=distribution_config("ref-1"))
    distribution_id, etag = made["Distribution"]["Id"], made["ETag"]
    assert made["Distribution"]["Status"] == "InProgress"
    with pytest.raises(ClientError) as enabled:
        cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)
    assert code(enabled)[0] == "DistributionNotDisabled"
    config = cloudfront.get_distribution_config(Id=distribution_id)
    with pytest.raises(ClientError) as stale:
        cloudfront.update_distribution(
            Id=distribution_id, IfMatch="E0LD", DistributionConfig=config["DistributionConfig"]
        )
    assert code(stale)[0] == "PreconditionFailed"
    disabled = cloudfront.update_distribution(Id=distribution_id, IfMatch=config["ETag"],
                                              DistributionConfig={**config["DistributionConfig"], "Enabled": False})  # fmt: skip
    assert disabled["ETag"] != config["ETag"]
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "InProgress"
    with pytest.raises(ClientError) as still_deploying:
        cloudfront.delete_distribution(Id=distribution_id, IfMatch=disabled["ETag"])
    assert code(still_deploying)[0] == "DistributionNotDisabled"
    after(TIMING["cloudfront_deploy_s"])
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "Deployed"
    cloudfront.delete_distribution(Id=distribution_id, IfMatch=disabled["ETag"])
    # CloudFront remembers the reference after the distribution is gone.
    with pytest.raises(ClientError) as seen:
        cloudfront.create_distribution(DistributionConfig=distribution_config("ref-1"))
    assert code(seen)[0] == "DistributionAlreadyExists"


def test_the_same_request_again_answers_what_it_made(aws: Callable[[str], Any]) -> None:
    cloudfront = aws("cloudfront")
    first = cloudfront.create_distribution(DistributionConfig=distribution_config("ref-2"))["Distribution"]
    again = cloudfront.create_distribution(DistributionConfig=distribution_config("ref-2"))["Distribution"]
    assert again["Id"] == first["Id"]
    batch = {"Paths": {"Quantity": 1, "Items": ["/app.js"]}, "CallerReference": "inv-1"}
    made = cloudfront.create_invalidation(DistributionId=first["Id"], InvalidationBatch=batch)["Invalidation"]
    repeated = cloudfront.create_invalidation(DistributionId=first["Id"], InvalidationBatch=batch)[
        "Invalidation"
    ]
    assert repeated["Id"] == made["Id"]  # "CloudFront doesn't create a new invalidation request"
    other = {"Paths": {"Quantity": 1, "Items": ["/style.css"]}, "CallerReference": "inv-1"}
    with pytest.raises(ClientError) as reused:
        cloudfront.create_invalidation(DistributionId=first["Id"], InvalidationBatch=other)
    assert code(reused)[0] == "InvalidationBatchAlreadyExists"
    listed = cloudfront.list_invalidations(DistributionId=first["Id"])["InvalidationList"]
    assert listed["Quantity"] == 1


def test_cognito_counts_its_emails_and_refuses_past_the_daily_limit(
    aws: Callable[[str], Any], stand_in: StandIn
) -> None:
    cognito = aws("cognito-idp")
    open_pool = cognito.create_user_pool(PoolName="open", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    open_client = cognito.create_user_pool_client(UserPoolId=open_pool, ClientName="web")["UserPoolClient"][
        "ClientId"
    ]
    closed_pool = cognito.create_user_pool(PoolName="closed", AutoVerifiedAttributes=["email"],
                                           AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})["UserPool"]["Id"]  # fmt: skip
    closed_client = cognito.create_user_pool_client(UserPoolId=closed_pool, ClientName="web")[
        "UserPoolClient"
    ]["ClientId"]

    def sign_up(client_id: str, name: str) -> Any:
        return cognito.sign_up(ClientId=client_id, Username=name, Password="Choose-a-Passw0rd!",
                               UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])  # fmt: skip

    with pytest.raises(ClientError) as closed:
        sign_up(closed_client, "eve")
    assert code(closed) == ("NotAuthorizedException", "SignUp is not permitted for this user pool.")
    # An administrator's user with SUPPRESS sends nothing; one with an EMAIL invitation sends one.
    cognito.admin_create_user(UserPoolId=closed_pool, Username="quiet", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "quiet@example.com"}])  # fmt: skip
    assert stand_in.ledger()["messages"] == []
    cognito.admin_create_user(UserPoolId=closed_pool, Username="invited", DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=[{"Name": "email", "Value": "invited@example.com"}])  # fmt: skip
    sign_up(open_client, "ada")
    sent = [(m["operation"], m["username"], m["channel"]) for m in stand_in.ledger()["messages"]]
    assert sent == [("AdminCreateUser", "invited", "email"), ("SignUp", "ada", "email")]
    with pytest.raises(ClientError) as limit:
        sign_up(open_client, "grace")  # the third e-mail of the day, over this stand-in's limit of two
    assert code(limit)[0] == "LimitExceededException"
    assert "Exceeded daily email limit" in code(limit)[1]


def test_api_gateway_allows_one_delete_rest_api_per_30_seconds(
    aws: Callable[[str], Any], stand_in: StandIn
) -> None:
    gateway = aws("apigateway")
    apis = []
    for name in ("one", "two"):
        apis.append(gateway.create_rest_api(name=name)["id"])
        after(3.0)  # one CreateRestApi per 3 s
    gateway.delete_rest_api(restApiId=apis[0])
    with pytest.raises(ClientError) as throttled:
        gateway.delete_rest_api(restApiId=apis[1])
    assert code(throttled)[0] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    after(30.0)
    gateway.delete_rest_api(restApiId=apis[1])
    assert [e["operation"] for e in stand_in.ledger()["throttled"]] == ["DeleteRestApi"]
