"""What a student builds by hand with plain boto3, as the notebooks have them do it: lab.verify grades it by
name and says in words what is missing or wrong, and lab.apply adopts it (completes it, never a second copy).

Labs on the in-process `memory` backend, one student per test.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest

from serverless_lab import Lab, teaching
from serverless_lab.errors import StepError
from serverless_lab.steps.base import Report

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def student_lab(prefix: str, require: str | None = None) -> Lab:
    lab = Lab(backend="memory", student=f"{prefix}-{uuid.uuid4().hex[:4]}")
    if require:
        lab.require(require)
    return lab


def check(report: Report, starts: str) -> tuple[bool, str]:
    found = [c for c in report if c.description.startswith(starts)]
    assert found, f"no check {starts!r} in {report}"
    return found[0].ok, str(found[0])


def operations(lab: Lab, step: str) -> list[str]:
    return [call.operation for call in lab.plan(step)]


def test_a_bucket_built_by_hand_is_graded_and_adopted() -> None:
    lab = student_lab("sb-site")
    s3, bucket = lab.backend.client("s3"), lab.names.site_bucket
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": False, "RestrictPublicBuckets": True},
    )  # fmt: skip
    site = lab.root / "data" / "site"
    s3.put_object(Bucket=bucket, Key="index.html", Body=(site / "index.html").read_bytes(),
                  ContentType="text/html; charset=utf-8", CacheControl="no-cache")  # fmt: skip
    s3.put_object(Bucket=bucket, Key="style.css", Body=(site / "style.css").read_bytes())  # no type, no cache
    report = lab.verify("site")
    assert check(report, "bucket sl-") == (True, check(report, "bucket sl-")[1])
    ok, text = check(report, "public access is blocked")
    assert not ok and "BlockPublicPolicy not True" in text
    assert check(report, "bucket serves index.html")[0]  # the student's upload: same bytes (ETag), headers
    ok, text = check(report, "bucket serves style.css")
    assert not ok and "binary/octet-stream" in text and "ContentType='text/css; charset=utf-8'" in text
    assert "DefaultTTL" in text  # no Cache-Control: the behaviour's DefaultTTL applies
    plan = lab.plan("site")
    uploads = [call.params["Key"] for call in plan if call.operation == "put_object"]
    assert (
        "index.html" not in uploads
        and "style.css" in uploads
        and "create_bucket" not in operations(lab, "site")
    )
    lab.apply("site")
    assert lab.verify("site").passed and lab.plan("site") == []


def test_a_distribution_built_by_hand_is_graded_and_adopted() -> None:
    lab = student_lab("sb-cdn", "site")
    cloudfront, s3 = lab.backend.client("cloudfront"), lab.backend.client("s3")
    oac = {"Name": lab.names.oac, "SigningProtocol": "sigv4", "SigningBehavior": "always",
           "OriginAccessControlOriginType": "s3"}  # fmt: skip
    oac_id = cloudfront.create_origin_access_control(OriginAccessControlConfig=oac)["OriginAccessControl"][
        "Id"
    ]
    origin = {"Id": "site-bucket", "DomainName": lab.outputs["site"]["bucket_regional_domain"],
              "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac_id}  # fmt: skip
    behavior = {"TargetOriginId": "site-bucket", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}  # fmt: skip
    config = {"CallerReference": "by-hand", "Comment": lab.names.distribution_comment, "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behavior}  # fmt: skip
    distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    report = lab.verify("cdn")
    assert check(report, "distribution 'serverless-lab")[0] and check(report, "origin access control")[0]
    ok, text = check(report, "bucket policy lets only this distribution")
    assert not ok and "no bucket policy" in text
    ok, text = check(report, "403 and 404 answer")
    assert not ok and "lab.apply('cdn') adds them" in text
    # the documented OAC policy, without the lab's Sid: adopted as it is
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
              "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{lab.names.site_bucket}/*",
              "Condition": {"StringEquals": {"AWS:SourceArn": distribution["ARN"]}}}]}  # fmt: skip
    s3.put_bucket_policy(Bucket=lab.names.site_bucket, Policy=json.dumps(policy))
    assert check(lab.verify("cdn"), "bucket policy lets only this distribution")[0]
    planned = operations(lab, "cdn")
    assert "update_distribution" in planned and "put_bucket_policy" not in planned
    assert not [op for op in planned if op.startswith("create_")]
    lab.apply("cdn")
    assert lab.verify("cdn").passed
    listing = cloudfront.list_distributions()["DistributionList"]["Items"]
    assert [d["Id"] for d in listing if d["Comment"] == lab.names.distribution_comment] == [
        distribution["Id"]
    ]
    oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert [o["Id"] for o in oacs if o["Name"] == lab.names.oac] == [oac_id]


def test_a_pool_and_client_built_by_hand_are_adopted() -> None:
    lab = student_lab("sb-users")
    cognito = lab.backend.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=lab.names.user_pool, AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                                     "RequireNumbers": True, "RequireSymbols": False}},
    )["UserPool"]["Id"]  # fmt: skip
    cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=lab.names.app_client, GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )  # fmt: skip
    report = lab.verify("users")
    assert check(report, "passwords need 8+")[0] and check(report, "app client has no secret")[0]
    ok, text = check(report, "sample user ada is CONFIRMED")
    assert not ok and "lab.apply('users') creates it" in text
    planned = operations(lab, "users")
    assert "create_user_pool" not in planned and "create_user_pool_client" not in planned
    lab.apply("users")
    assert lab.verify("users").passed
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Id"] for p in pools if p["Name"] == lab.names.user_pool] == [pool_id]


def test_a_table_built_by_hand_is_adopted_and_a_wrong_key_is_named() -> None:
    lab = student_lab("sb-table", "users")
    dynamodb = lab.backend.client("dynamodb")
    keys = [{"AttributeName": "owner", "KeyType": "HASH"}, {"AttributeName": "itemId", "KeyType": "RANGE"}]
    attributes = [{"AttributeName": n, "AttributeType": "S"} for n in ("owner", "itemId")]
    dynamodb.create_table(TableName=lab.names.table, KeySchema=keys, AttributeDefinitions=attributes,
                          BillingMode="PAY_PER_REQUEST")  # fmt: skip
    report = lab.verify("table")
    assert check(report, "key is owner")[0]
    ok, text = check(report, "7 sample item")
    assert not ok and "lab.apply('table') puts the others" in text
    assert set(operations(lab, "table")) == {"put_item"}
    lab.apply("table")
    assert lab.verify("table").passed
    # wrong: a table keyed by owner alone
    wrong = student_lab("sb-key", "users")
    dynamodb.create_table(TableName=wrong.names.table, KeySchema=keys[:1], AttributeDefinitions=attributes[:1],
                          BillingMode="PAY_PER_REQUEST")  # fmt: skip
    ok, text = check(wrong.verify("table"), "key is owner")
    assert not ok and "cannot change" in text and "('owner', 'HASH')" in text
    with pytest.raises(StepError, match="key cannot change"):
        wrong.plan("table")


def items_zip(lab: Lab) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(lab.root / "handlers" / "items.py", "items.py")
    return package.getvalue()


def test_a_role_policy_and_function_built_by_hand_are_graded_and_adopted() -> None:
    lab = student_lab("sb-fn", "table")
    iam, lambda_ = lab.backend.client("iam"), lab.backend.client("lambda")
    role_arn = iam.create_role(RoleName=lab.names.role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"][
        "Arn"
    ]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:GetItem"], "Resource": lab.outputs["table"]["table_arn"]},
    ]}  # fmt: skip
    policy_arn = iam.create_policy(PolicyName=lab.names.role_policy, PolicyDocument=json.dumps(policy))[
        "Policy"
    ]["Arn"]
    iam.attach_role_policy(RoleName=lab.names.role, PolicyArn=policy_arn)
    lambda_.create_function(FunctionName=lab.names.function("items"), Role=role_arn, Runtime="python3.12",
                            Handler="items.handler", Code={"ZipFile": items_zip(lab)},
                            Environment={"Variables": {"TABLE_NAME": lab.names.table}})  # fmt: skip
    report = lab.verify("functions")
    assert check(report, "only Lambda may assume")[0] and check(report, "the role has exactly one policy")[0]
    ok, text = check(report, "the policy grants")
    assert not ok and "dynamodb:DeleteItem, dynamodb:PutItem, dynamodb:UpdateItem" in text
    ok, text = check(report, f"function {lab.names.function('me')} exists")
    assert not ok and "handlers/me.py" in text
    planned = operations(lab, "functions")
    assert {"create_role", "create_policy"}.isdisjoint(planned) and "tag_resource" in planned
    assert planned.count("create_function") == 1  # me only: items is adopted
    assert "update_function_code" in planned  # a zip with file times is not the lab's deterministic zip
    lab.apply("functions")
    assert lab.verify("functions").passed and lab.plan("functions") == []
    assert set(lab.outputs["functions"]["functions"]) == {"items", "me"}  # tagged: found and destroyed
    # wrong: a trust policy for another service
    other = student_lab("sb-trust", "table")
    ec2 = json.loads(json.dumps(TRUST).replace("lambda.amazonaws.com", "ec2.amazonaws.com"))
    iam.create_role(RoleName=other.names.role, AssumeRolePolicyDocument=json.dumps(ec2))
    assert not check(other.verify("functions"), "only Lambda may assume")[0]


def test_an_api_route_built_by_hand_is_adopted() -> None:
    lab = student_lab("sb-api", "functions")
    gateway, lambda_ = lab.backend.client("apigateway"), lab.backend.client("lambda")
    api_id = gateway.create_rest_api(name=lab.names.api, endpointConfiguration={"types": ["REGIONAL"]})["id"]
    authorizer_id = gateway.create_authorizer(
        restApiId=api_id, name=lab.names.authorizer, type="COGNITO_USER_POOLS",
        identitySource="method.request.header.Authorization", providerARNs=[lab.outputs["users"]["user_pool_arn"]],
    )["id"]  # fmt: skip
    root = teaching.resource_id(lab, "/")
    me = gateway.create_resource(restApiId=api_id, parentId=root, pathPart="me")["id"]
    gateway.put_method(restApiId=api_id, resourceId=me, httpMethod="GET", authorizationType="COGNITO_USER_POOLS",
                       authorizerId=authorizer_id)  # fmt: skip
    me_arn = lab.outputs["functions"]["functions"]["me"]["arn"]
    uri = f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/{me_arn}/invocations"
    gateway.put_integration(restApiId=api_id, resourceId=me, httpMethod="GET", type="AWS_PROXY",
                            integrationHttpMethod="POST", uri=uri)  # fmt: skip
    lambda_.add_permission(
        FunctionName=me_arn, StatementId="api-get-me", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.names.account_id}:{api_id}/*/GET/me",
    )  # fmt: skip
    gateway.create_deployment(restApiId=api_id, stageName="prod")
    report = lab.verify("api")
    assert check(report, f"REST API {lab.names.api} exists")[0] and check(report, "GET /me requires")[0]
    assert check(report, f"API Gateway may invoke {lab.names.function('me')}")[0]
    ok, text = check(report, "GET /me calls Lambda")
    assert not ok and "timeoutInMillis" in text
    assert not check(report, f"API Gateway may invoke {lab.names.function('items')}")[0]
    plan = lab.plan("api")
    assert {"create_rest_api", "create_authorizer"}.isdisjoint(c.operation for c in plan)
    assert [c.params["pathPart"] for c in plan if c.operation == "create_resource"] == ["items", "{id}"]
    # the student's permission covers GET /me: only the items function gets the lab's
    assert [c.params["FunctionName"] for c in plan if c.operation == "add_permission"] == [
        lab.names.function("items")
    ]
    lab.apply("api")
    assert lab.verify("api").passed
    apis = gateway.get_rest_apis()["items"]
    assert [a["id"] for a in apis if a["name"] == lab.names.api] == [api_id]
