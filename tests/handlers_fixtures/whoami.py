import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return {
        "access_key": boto3.DEFAULT_SESSION.get_credentials().access_key,
        "region": client.meta.region_name,
    }
