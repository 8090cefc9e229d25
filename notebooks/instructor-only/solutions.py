"""The instructor's solutions: one way to solve each exercise, with the boto3 calls a student would write.

Not part of the installed package (a student's `import serverless_lab.exercises.solutions` fails):
10-instructor loads this file explicitly (`runpy.run_path`) and shows it, and the tests load it the same way.
Each function is named after the check it solves and returns what the check takes besides the lab.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from serverless_lab import flow, teaching
from serverless_lab.teaching.deployed import deployed

STATS_SOLUTION = '''"""GET /items/stats: how many items the caller has, how many are done and how many open."""
import json
import os

import boto3

DYNAMODB = boto3.client("dynamodb")  # Init: made once per execution environment, reused while warm


def handler(event, context):
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):  # no authorizer in front of the function: a deployment mistake
        return {"statusCode": 401, "body": json.dumps({"message": "Unauthorized"})}
    answer = DYNAMODB.query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": claims["sub"]}},  # the verified sub, never the request
        ProjectionExpression="done",
    )
    items = answer["Items"]
    done = sum(item.get("done", {}).get("BOOL", False) for item in items)
    body = {"items": len(items), "done": done, "open": len(items) - done}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
'''


def private_bucket_call(lab: Any) -> str:
    return "put_public_access_block"


def site_has_page(lab: Any, key: str = "hello.html") -> None:
    lab.backend.client("s3").put_object(
        Bucket=lab.names.site_bucket,
        Key=key,
        Body=b"<h1>Hello</h1>",
        ContentType="text/html; charset=utf-8",
        CacheControl="no-cache",
    )


def cdn_max_ttl_lowered(lab: Any, seconds: int = 10, path: str = "/style.css") -> None:
    cloudfront = lab.backend.client("cloudfront")
    distribution_id = deployed(lab, "cdn")["distribution_id"]
    answer = cloudfront.get_distribution_config(Id=distribution_id)
    config = answer["DistributionConfig"]
    config["DefaultCacheBehavior"].update(DefaultTTL=seconds, MaxTTL=seconds)
    cloudfront.update_distribution(Id=distribution_id, IfMatch=answer["ETag"], DistributionConfig=config)
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": [path]}, "CallerReference": str(time.time())},
    )
    teaching.refresh(lab)  # the edge reads the new settings now, not within a second
    teaching.edge_get(lab, path)


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


def table_has_index(lab: Any, index_name: str = "by-title", sort_key: str = "title") -> None:
    lab.backend.client("dynamodb").update_table(
        TableName=lab.names.table,
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


def titles_in_order(lab: Any, username: str = "ada", index_name: str = "by-title") -> dict[str, Any]:
    return dict(
        lab.backend.client("dynamodb").query(
            TableName=lab.names.table,
            IndexName=index_name,
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": lab.outputs["users"]["sample_subs"][username]}},
        )
    )


def function_memory(lab: Any, function: str = "items", memory_mb: int = 512) -> str:
    lambda_ = lab.backend.client("lambda")
    name = lab.function_name(function)
    lambda_.update_function_configuration(FunctionName=name, MemorySize=memory_mb)
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    teaching.refresh(lab)  # the runtime reads the new memory now, not within a second
    lab.invoke(function, {"httpMethod": "GET", "resource": "/items"})
    return [line for line in teaching.function_logs(lab, function, limit=500) if line.startswith("REPORT")][
        -1
    ]


def stats_handler(lab: Any, source: str = STATS_SOLUTION) -> None:
    """Writes the handler into the student's workspace and deploys it (create, or update the code)."""
    path = Path(teaching.workspace(lab)) / "stats.py"
    path.write_text(source)
    lambda_ = lab.backend.client("lambda")
    name = teaching.ensure_stats_function(lab)  # theirs, or the starter when there is none: new code
    lambda_.update_function_code(FunctionName=name, ZipFile=teaching.zip_file(path))
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    teaching.refresh(lab)


def item_created(lab: Any, username: str = "grace", title: str = "Through the API") -> str:
    token = teaching.sign_in(lab, username).id_token
    answer = teaching.http_call("POST", teaching.api_url(lab) + "/items", token=token, body={"title": title})
    return str(answer.body["itemId"])


def one_route_broken(lab: Any, action: str = "dynamodb:DeleteItem") -> str:
    """Removes one action from the role's policy (a new default version); returns the route that breaks."""
    iam = lab.backend.client("iam")
    arn = lab.step("functions").policy_arn
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    for statement in document["Statement"]:
        if isinstance(statement.get("Action"), list) and action in statement["Action"]:
            statement["Action"].remove(action)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    routes = {"dynamodb:DeleteItem": "DELETE /items/{id}", "dynamodb:PutItem": "POST /items"}
    return routes.get(action, "")


def slowest_hop(lab: Any, spans: pd.DataFrame) -> str:
    served = spans[spans["component"].astype("string") != "client"]
    return str(served.groupby(served["component"].astype("string"))["duration_ms"].sum().idxmax())


def throttled(lab: Any, function: str = "items") -> pd.DataFrame:
    """Reserved concurrency 1, then four users at once: returns the run's spans (put the limit back after)."""
    lab.backend.client("lambda").put_function_concurrency(
        FunctionName=lab.function_name(function), ReservedConcurrentExecutions=1
    )
    teaching.refresh(lab)
    runner = flow.flow_sessions(flow.targets_for(lab))
    return flow.sweep(runner, [4], users_per_level=4, progress=False).spans


def nothing_left(lab: Any) -> None:
    lab.destroy()
    teaching.remove_extras(lab)
    lambda_ = lab.backend.client("lambda")
    for name in teaching.leftovers(lab).query("kind == 'function'")["name"]:
        lambda_.delete_function(FunctionName=name)
    logs = lab.backend.client("logs")
    for name in teaching.leftovers(lab).query("kind == 'log group'")["name"]:
        logs.delete_log_group(logGroupName=name)


def student_reset(lab: Any, student: str) -> None:
    teaching.reset_student(lab.backend, student)
