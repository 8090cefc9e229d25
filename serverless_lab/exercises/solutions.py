"""One way to solve each exercise, with the same boto3 calls a student would write (instructors and the
tests use them; the notebooks leave the exercises to the student)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..teaching.deployed import deployed
from ..teaching.identity import sign_in
from ..teaching.traffic import call_api, edge_get


def site_has_page(lab: Any, key: str = "hello.html") -> None:
    lab.backend.client("s3").put_object(
        Bucket=lab.names.site_bucket, Key=key, Body=b"<h1>Hello</h1>", ContentType="text/html; charset=utf-8"
    )


def cdn_max_ttl_lowered(lab: Any, seconds: int = 10, path: str = "/style.css") -> None:
    cloudfront = lab.backend.client("cloudfront")
    distribution_id = deployed(lab, "cdn")["distribution_id"]
    answer = cloudfront.get_distribution_config(Id=distribution_id)
    config = answer["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    behavior["DefaultTTL"] = behavior["MaxTTL"] = seconds
    cloudfront.update_distribution(Id=distribution_id, IfMatch=answer["ETag"], DistributionConfig=config)
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": [path]}, "CallerReference": f"ttl-{seconds}"},
    )
    lab.dataplane().control_plane.refresh()  # the edge reads the new settings now, not after a second
    edge_get(lab, path)


def user_can_sign_in(lab: Any, username: str, password: str) -> None:
    users = deployed(lab, "users")
    cognito = lab.backend.client("cognito-idp")
    cognito.sign_up(
        ClientId=users["client_id"],
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=users["user_pool_id"], Username=username)
    sign_in(lab, username, password)


def table_has_index(lab: Any, index_name: str = "by-title", sort_key: str = "title") -> None:
    lab.backend.client("dynamodb").update_table(
        TableName=deployed(lab, "table")["table_name"],
        AttributeDefinitions=[
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": sort_key, "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": index_name,
                    "KeySchema": [
                        {"AttributeName": "owner", "KeyType": "HASH"},
                        {"AttributeName": sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )


def titles_newest_first(lab: Any, username: str = "ada") -> list[str]:
    answer = lab.backend.client("dynamodb").query(
        TableName=deployed(lab, "table")["table_name"],
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": lab.outputs["users"]["sample_subs"][username]}},
        ScanIndexForward=False,
    )
    return [item["title"]["S"] for item in answer["Items"]]


def function_memory(lab: Any, function: str = "items", memory_mb: int = 512) -> None:
    lambda_client = lab.backend.client("lambda")
    name = lab.function_name(function)
    lambda_client.update_function_configuration(FunctionName=name, MemorySize=memory_mb)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lab.dataplane().control_plane.refresh()
    lab.invoke(function, {})


def item_created(lab: Any, username: str = "grace", title: str = "Write the exercise") -> None:
    call_api(lab, "POST", "/items", user=username, body={"title": title})


def slowest_hop(spans: pd.DataFrame) -> str:
    served = spans[spans["component"].astype("string") != "client"]
    return str(served.groupby(served["component"].astype("string"))["duration_ms"].sum().idxmax())


def api_p95(summary: pd.DataFrame, concurrency: int) -> float:
    return float(summary.loc[summary["concurrency"] == concurrency, "api_p95_ms"].iloc[0])
