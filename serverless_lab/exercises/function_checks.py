"""The exercises of 05-functions and 06-api: they invoke or call what the student deployed."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..dataplane.lambda_.runtime import ResourceNotFoundException
from ..steps.lambda_policies import TABLE_ACTIONS, missing_table_actions
from ..teaching.deployed import deployed
from ..teaching.extras import function_logs
from .base import exercise
from .result import Outcome, not_yet, solved

# Which route of the items API makes which DynamoDB call (handlers/items.py).
ROUTE_OF_ACTION = {
    "dynamodb:Query": "GET /items",
    "dynamodb:PutItem": "POST /items",
    "dynamodb:GetItem": "GET /items/{id}",
    "dynamodb:UpdateItem": "PUT /items/{id}",
    "dynamodb:DeleteItem": "DELETE /items/{id}",
}
PROBE_ID = "0000000000000-probe"  # an id no item has: a route that may call DynamoDB answers 404 for it


@exercise("05-functions")
def function_memory(lab: Any, report_line: str, function: str = "items", memory_mb: int = 512) -> Outcome:
    """05: the function's memory raised, invoked since, and the REPORT line that says so read back."""
    title = f"{function} with {memory_mb} MB"
    name = lab.function_name(function)
    hints = (
        "The memory is a setting of the function; each invocation's REPORT line in its log states it.",
        f"lambda_.update_function_configuration(FunctionName=..., MemorySize={memory_mb}), then lab.invoke, "
        "then read the log back (teaching.function_logs).",
        f"lambda_.update_function_configuration(FunctionName={name!r}, MemorySize={memory_mb}); "
        f"lab.invoke({function!r}, event); report_line = [line for line in teaching.function_logs(lab, "
        f"{function!r}) if line.startswith('REPORT')][-1]",
    )
    try:
        configuration = lab.backend.client("lambda").get_function_configuration(FunctionName=name)
    except ClientError:
        return not_yet(
            title, f"there is no function {name} yet.", "Deploy it first: lab.require('functions')."
        )
    if configuration["MemorySize"] != memory_mb:
        return not_yet(title, f"{name} has {configuration['MemorySize']} MB.", *hints)
    if not isinstance(report_line, str) or not report_line.startswith("REPORT"):
        return not_yet(title, f"{name} has {memory_mb} MB; now pass the REPORT line that shows it.", *hints)
    lines = function_logs(lab, function, limit=500)
    if report_line.strip() not in {line.strip() for line in lines}:
        return not_yet(title, "that line is not in the function's log.", *hints)
    if f"Memory Size: {memory_mb} MB" not in report_line:
        return not_yet(title, "that REPORT line is from before the change: invoke again.", *hints)
    return solved(title, f"{name} runs with {memory_mb} MB, and its REPORT line says so.")


STATS_HINTS = (
    "lab.invoke('stats', event) with an event like the check's (claims of ada, then of grace) shows what "
    "your handler answers; the table's items carry a `done` attribute (BOOL).",
    "Query without Select='COUNT' (ProjectionExpression='done') and count the items whose done is true; "
    "read the claims with .get() and answer 401 when there are none; then update_function_code.",
    "items = answer['Items']; done = sum(item.get('done', {}).get('BOOL', False) for item in items); "
    "body = {'items': len(items), 'done': done, 'open': len(items) - done}; and first: claims = "
    "(event.get('requestContext') or {}).get('authorizer', {}).get('claims') or {}; if not claims.get('sub'): "
    "return {'statusCode': 401, 'body': json.dumps({'message': 'Unauthorized'})}",
)


def _stats_of(lab: Any, owner: str) -> dict[str, int]:
    items = lab.backend.client("dynamodb").query(
        TableName=deployed(lab, "table")["table_name"],
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
    )["Items"]
    done = sum(bool(item.get("done", {}).get("BOOL", False)) for item in items)
    return {"items": len(items), "done": done, "open": len(items) - done}


def stats_event(sub: str | None, username: str = "", query: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda proxy event for GET /items/stats, with the Cognito authorizer's claims (or none)."""
    context: dict[str, Any] = {"resourcePath": "/items/stats", "httpMethod": "GET", "stage": "prod"}
    if sub is not None:
        context["authorizer"] = {"claims": {"sub": sub, "cognito:username": username, "token_use": "id"}}
    return {"resource": "/items/stats", "path": "/items/stats", "httpMethod": "GET",
            "queryStringParameters": query, "requestContext": context}  # fmt: skip


@exercise("05-functions")
def stats_handler(lab: Any) -> Outcome:
    """05: GET /items/stats answers each caller's own counts (items, done, open), and 401 without claims."""
    title = "GET /items/stats counts the caller's items"
    subs = deployed(lab, "users")["sample_subs"]
    ada, grace = subs.get("ada", ""), subs.get("grace", "")
    cases = [
        # grace asks with ada's sub in the query string: the answer must still be grace's
        (stats_event(ada, "ada"), _stats_of(lab, ada), "ada"),
        (stats_event(grace, "grace", {"owner": ada}), _stats_of(lab, grace), "grace"),
    ]
    for event, expected, who in cases:
        try:
            run = lab.invoke("stats", event)
        except ResourceNotFoundException:
            return not_yet(
                title, "there is no function stats yet.", "Deploy it as 05's cells do (create_function)."
            )
        if run.error:
            return not_yet(
                title, f"for {who}, your handler raised {run.error.get('errorType')}: {run.error.get('errorMessage')}",
                *STATS_HINTS,
            )  # fmt: skip
        payload = run.payload or {}
        try:
            body = json.loads(payload.get("body") or "null")
        except (TypeError, ValueError):
            body = payload.get("body")
        if payload.get("statusCode") != 200 or body != expected:
            return not_yet(
                title, f"for {who} it answered {payload.get('statusCode')} {body}; expected 200 {expected}.",
                *STATS_HINTS,
            )  # fmt: skip
    run = lab.invoke("stats", stats_event(None))
    status = (run.payload or {}).get("statusCode") if not run.error else None
    if status not in (401, 403):
        detail = f"raised {run.error.get('errorType')}" if run.error else f"answered {status}"
        return not_yet(
            title,
            f"without claims (no authorizer in front of it) your handler {detail}; answer 401.",
            *STATS_HINTS,
        )
    return solved(
        title, "each caller sees their own counts (the verified sub decides), and 401 without claims."
    )


ITEM_HINTS = (
    "The check looks for the item in the user's partition AND for the POST /items request in the items "
    "function's log (teaching.function_logs(lab, 'items')).",
    "teaching.http_call('POST', url + '/items', token=<the user's ID token>, body={'title': ...}) answers "
    "201 with the new item; pass its itemId.",
    "answer = teaching.http_call('POST', teaching.api_url(lab) + '/items', token=teaching.sign_in(lab, "
    "'grace').id_token, body={'title': 'Mine'}); check.item_created(lab, answer.body['itemId'])",
)


@exercise("06-api")
def item_created(lab: Any, item_id: str, username: str = "grace") -> Outcome:
    """06: an item of the user, created through the API (the items function logged its POST)."""
    title = f"an item of {username} created through the API"
    owner = deployed(lab, "users")["sample_subs"].get(username, "")
    if not isinstance(item_id, str) or not item_id:
        return not_yet(title, "pass the itemId of the item the API created.", *ITEM_HINTS)
    found = lab.backend.client("dynamodb").get_item(
        TableName=deployed(lab, "table")["table_name"], Key={"owner": {"S": owner}, "itemId": {"S": item_id}}
    )
    if "Item" not in found:
        return not_yet(title, f"{username}'s partition holds no item {item_id}.", *ITEM_HINTS)
    for line in function_logs(lab, "items", limit=1000):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(record, dict)
            and record.get("route") == "POST /items"
            and record.get("status") == 201
            and str(record.get("location", "")).endswith("/" + item_id)
        ):
            return solved(title, f"POST /items created {item_id} (request {record.get('requestId')}).")
    return not_yet(
        title,
        f"{item_id} is in {username}'s partition, but no POST /items of the API created it "
        "(an item written with put_item skips the API, its authorizer and its function).",
        *ITEM_HINTS,
    )


def _policy_document(lab: Any) -> Any:
    iam = lab.backend.client("iam")
    arn = lab.step("functions").policy_arn
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError:
        return None
    return iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"][
        "Document"
    ]


def _probe(lab: Any, route: str) -> Any:
    from ..teaching.traffic import call_api

    method, path = route.split(" ", 1)
    body = {"title": "probe", "version": 1} if method in ("POST", "PUT") else None
    return call_api(lab, method, path.replace("{id}", PROBE_ID), user="grace", body=body)


@exercise("06-api")
def one_route_broken(lab: Any, route: str) -> Outcome:
    """06: the role's policy narrowed by one action, the route that breaks predicted, and seen breaking."""
    title = "exactly one route broken by the role's policy"
    hints = (
        "Each route of handlers/items.py makes one DynamoDB call; the role's policy lists the five it may make "
        f"(iam.get_policy_version for {lab.names.role_policy}).",
        "iam.create_policy_version(PolicyArn=..., PolicyDocument=<the policy without one action>, "
        "SetAsDefault=True); then call the routes.",
        "Remove dynamodb:DeleteItem: DELETE /items/{id} breaks (500, AccessDeniedException in the items "
        "function's log), the other routes work. lab.apply('functions') puts the policy back.",
    )
    document = _policy_document(lab)
    if document is None:
        return not_yet(
            title, f"there is no policy {lab.names.role_policy}.", "lab.require('functions') first."
        )
    missing = missing_table_actions(document, deployed(lab, "table")["table_arn"])
    if not missing:
        return not_yet(
            title, f"the policy still allows all five item actions ({', '.join(TABLE_ACTIONS)}).", *hints
        )
    if len(missing) > 1:
        routes = ", ".join(ROUTE_OF_ACTION[action] for action in missing)
        return not_yet(title, f"{len(missing)} actions are gone, so {routes} break: remove one only.", *hints)
    predicted = ROUTE_OF_ACTION[missing[0]]
    if route != predicted:
        return not_yet(title, f"{route!r} is not the route that calls {missing[0]}.", *hints)
    answer = _probe(lab, route)
    if answer.status < 500:
        return not_yet(
            title,
            f"{route} still answered {answer.status}: IAM takes a few seconds; call it again "
            "(or is enforcement off: SERVERLESS_LAB_IAM=off?).",
            *hints,
        )
    return solved(title, f"without {missing[0]}, {route} answers {answer.status}; the other routes work.")
