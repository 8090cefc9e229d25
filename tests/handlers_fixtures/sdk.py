import boto3

dynamodb = boto3.client("dynamodb")


def handler(event, context):
    tables = dynamodb.list_tables()["TableNames"]
    failed = None
    try:
        dynamodb.describe_table(TableName="does-not-exist")
    except dynamodb.exceptions.ResourceNotFoundException as exc:
        failed = exc.response["Error"]["Code"]
    return {"tables": tables, "failed": failed, "region": dynamodb.meta.region_name}
