"""What IAM checks for a call, from the Service Authorization Reference: the action, the resource ARN and
the service's condition keys, per operation."""

from __future__ import annotations

import pytest

from serverless_lab.dataplane.iam.actions import Check, checks, global_context, iam_action

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/items"


def check(service: str, operation: str, params: dict, **options) -> list[Check]:
    keys = {"items": "owner"}
    return checks(
        service, operation, params, region=REGION, account=ACCOUNT, partition_key_of=keys.get, **options
    )


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("dynamodb", "PutItem", "dynamodb:PutItem"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("s3", "DeleteObjects", "s3:DeleteObject"),
        ("lambda", "Invoke", "lambda:InvokeFunction"),
        ("logs", "PutLogEvents", "logs:PutLogEvents"),
        ("monitoring", "PutMetricData", "cloudwatch:PutMetricData"),
    ],
)
def test_operations_are_checked_as_the_iam_action_the_reference_names(service, operation, action) -> None:
    assert iam_action(service, operation) == action


def test_item_calls_are_checked_on_the_table_with_the_partition_key_as_leading_key() -> None:
    key = {"owner": {"S": "ada"}, "itemId": {"S": "1"}}
    [put] = check("dynamodb", "PutItem", {"TableName": "items", "Item": {**key, "title": {"S": "milk"}}})
    assert put == Check(
        "dynamodb:PutItem",
        TABLE,
        {"dynamodb:LeadingKeys": ["ada"], "dynamodb:Attributes": ["itemId", "owner", "title"]},
    )
    [get] = check(
        "dynamodb", "GetItem", {"TableName": "items", "Key": key, "ProjectionExpression": "#t, done"}
    )
    assert get.context == {"dynamodb:LeadingKeys": ["ada"], "dynamodb:Attributes": ["#t", "done"]}
    [get] = check(
        "dynamodb",
        "GetItem",
        {
            "TableName": "items",
            "Key": key,
            "ProjectionExpression": "#t",
            "ExpressionAttributeNames": {"#t": "title"},
        },
    )
    assert get.context["dynamodb:Attributes"] == ["title"]


def test_update_item_names_the_attributes_it_writes() -> None:
    [update] = check(
        "dynamodb",
        "UpdateItem",
        {
            "TableName": "items",
            "Key": {"owner": {"S": "ada"}, "itemId": {"S": "1"}},
            "UpdateExpression": "SET #t = :t, done = :d, #v = #v + :one REMOVE notes",
            "ExpressionAttributeNames": {"#t": "title", "#v": "version"},
            "ReturnValues": "ALL_NEW",
        },
    )
    assert update.context == {
        "dynamodb:LeadingKeys": ["ada"],
        "dynamodb:Attributes": ["done", "itemId", "notes", "owner", "title", "version"],
        "dynamodb:ReturnValues": "ALL_NEW",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"KeyConditionExpression": "#o = :o", "ExpressionAttributeNames": {"#o": "owner"}},
        {"KeyConditionExpression": ":o = owner AND begins_with(itemId, :p)"},
        {"KeyConditions": {"owner": {"AttributeValueList": [{"S": "ada"}], "ComparisonOperator": "EQ"}}},
    ],
)
def test_a_query_s_leading_key_is_the_partition_key_value_of_its_key_condition(params) -> None:
    values = {":o": {"S": "ada"}, ":p": {"S": "17"}}
    [query] = check(
        "dynamodb", "Query", {"TableName": "items", "ExpressionAttributeValues": values, **params}
    )
    assert query.context["dynamodb:LeadingKeys"] == ["ada"]


def test_an_index_and_a_scan_and_a_call_without_a_table() -> None:
    [query] = check("dynamodb", "Query", {"TableName": "items", "IndexName": "byDate"})
    assert query.resource == f"{TABLE}/index/byDate"
    [scan] = check("dynamodb", "Scan", {"TableName": "items"})
    assert (scan.resource, scan.context) == (TABLE, {})  # no leading key: ForAllValues holds, as on AWS
    assert check("dynamodb", "ListTables", {}) == [
        Check("dynamodb:ListTables", f"{TABLE.rsplit('/', 1)[0]}/*")
    ]
    [by_arn] = check("dynamodb", "GetItem", {"TableName": TABLE, "Key": {}})
    assert by_arn.resource == TABLE


def test_batch_and_transaction_calls_are_checked_per_table_and_per_item_action() -> None:
    batch = check(
        "dynamodb",
        "BatchWriteItem",
        {
            "RequestItems": {
                "items": [
                    {"PutRequest": {"Item": {"owner": {"S": "ada"}, "itemId": {"S": "1"}}}},
                    {"DeleteRequest": {"Key": {"owner": {"S": "bob"}, "itemId": {"S": "2"}}}},
                ],
                "other": [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}],
            }
        },
    )
    assert [(c.action, c.resource.rsplit("/", 1)[-1], c.context["dynamodb:LeadingKeys"]) for c in batch] == [
        ("dynamodb:BatchWriteItem", "items", ["ada", "bob"]),
        ("dynamodb:BatchWriteItem", "other", []),  # no such table here: no partition key known
    ]
    transaction = check(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "items", "Item": {"owner": {"S": "ada"}}}},
                {"ConditionCheck": {"TableName": "items", "Key": {"owner": {"S": "ada"}}}},
                {"Delete": {"TableName": "other", "Key": {"pk": {"S": "x"}}}},
            ]
        },
    )
    assert [c.action for c in transaction] == [
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
    ]


def test_log_calls_name_the_log_group_or_stream() -> None:
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
    [stream] = check("logs", "PutLogEvents", {"logGroupName": "/aws/lambda/f", "logStreamName": "2025/x"})
    assert stream.resource == f"{logs}:/aws/lambda/f:log-stream:2025/x"
    [group] = check("logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/f"})
    assert group.resource == f"{logs}:/aws/lambda/f:*"
    [everything] = check("logs", "DescribeLogGroups", {})
    assert everything.resource == f"{logs}::log-stream:"  # as AWS's refusal of DescribeLogGroups names it


@pytest.mark.parametrize(
    ("params", "arn"),
    [
        ({"FunctionName": "items"}, "function:items"),
        ({"FunctionName": "items", "Qualifier": "live"}, "function:items:live"),
        ({"FunctionName": f"{ACCOUNT}:function:items"}, "function:items"),
        ({"FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:items:3"}, "function:items:3"),
    ],
)
def test_lambda_calls_name_the_function_with_its_qualifier(params, arn) -> None:
    [invoke] = check("lambda", "Invoke", params)
    assert invoke == Check("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:{arn}")


def test_cognito_admin_calls_name_the_pool_and_token_calls_use_no_iam() -> None:
    [admin] = check("cognito-idp", "AdminGetUser", {"UserPoolId": "us-east-1_abc", "Username": "ada"})
    assert admin.resource == f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/us-east-1_abc"
    assert check("cognito-idp", "InitiateAuth", {"ClientId": "c"}) == []
    assert check("cognito-idp", "GetUser", {"AccessToken": "t"}) == []
    assert check("sts", "GetCallerIdentity", {}) == []  # "No permissions are required"


def test_s3_keeps_the_resource_moto_names_and_adds_the_listing_keys() -> None:
    [listing] = check(
        "s3", "ListObjectsV2", {"prefix": "img/", "delimiter": "/"}, resource="arn:aws:s3:::site"
    )
    assert listing == Check("s3:ListBucket", "arn:aws:s3:::site", {"s3:prefix": "img/", "s3:delimiter": "/"})


def test_the_global_keys_of_a_role_session() -> None:
    context = global_context(
        region=REGION,
        account=ACCOUNT,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        role_id="AROAEXAMPLE",
        session_name="fn",
        tags={"team": "blue"},
    )
    assert context["aws:PrincipalArn"] == f"arn:aws:iam::{ACCOUNT}:role/r"
    assert context["aws:userid"] == "AROAEXAMPLE:fn"
    assert context["aws:RequestedRegion"] == REGION
    assert context["aws:SecureTransport"] is False  # the lab is plain HTTP on loopback
    assert context["aws:PrincipalTag/team"] == "blue"
    assert context["aws:CurrentTime"].endswith("Z")
