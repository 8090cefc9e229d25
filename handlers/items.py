"""The items API: one Lambda function behind API Gateway (REST API, Lambda proxy integration).

Routes (API Gateway resource + method, as `event["resource"]` and `event["httpMethod"]` carry them):
    GET    /items            the caller's items, newest first: ?limit=1..100 (default 20) &cursor=...
    POST   /items            create an item from {"title", "notes"?, "done"?}       -> 201 + Location
    GET    /items/{id}       one item                                               -> 200 / 404
    PUT    /items/{id}       change {"title"?, "notes"?, "done"?, "version"}        -> 200 / 404 / 409
    DELETE /items/{id}       delete                                                 -> 204 / 404

Who is calling: ALWAYS `event["requestContext"]["authorizer"]["claims"]["sub"]`, which API Gateway's
Cognito user pool authorizer fills in after it verified the ID token. Nothing in the path, query or body
can choose the owner, so one user can never see or change another user's items: another user's id
answers 404, exactly as a missing id does.

DynamoDB table (name in env TABLE_NAME): key owner (S, HASH) = the caller's sub, itemId (S, RANGE) =
13-digit epoch milliseconds + "-" + 16 hex digits, so a Query with ScanIndexForward=False is newest first.

This file stands alone (the functions step zips just this file): standard library + boto3, which the
Lambda python3.12 runtime provides.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import time
import traceback
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

# --- Init phase --------------------------------------------------------------------------------------
# Code at module level runs once per execution environment (the "cold start"); warm invocations reuse
# the client and its open connections. That is why the client is created here and not in handler().
TABLE_NAME = os.environ["TABLE_NAME"]
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "*")
# The low-level client, with boto3's own (de)serialiser for DynamoDB's typed JSON ({"S": "..."}), rather
# than boto3.resource("dynamodb").Table(...): the resource layer loads a model of its own at init (~36 ms
# in a fresh interpreter; 74 -> 65 ms of this function's Init Duration in the lab), costs ~60 us more per
# call, and gets no new features ("The AWS Python SDK team does not intend to add new features to the
# resources interface in boto3", boto3 documentation).
DYNAMODB = boto3.client("dynamodb")
SERIALIZER, DESERIALIZER = TypeSerializer(), TypeDeserializer()
COLD_START = True  # flipped to False after the first invocation of this execution environment
# This function's own answer header: "true" on the first invocation of an execution environment (its init
# ran for this request), else "false". The web page labels the slow first call with it.
COLD_START_HEADER = "X-Cold-Start"

TITLE_MAX = 200
NOTES_MAX = 2000
LIMIT_DEFAULT, LIMIT_MAX = 20, 100
# Ids this function makes look like "1717601200000-9f86d081884c7d65"; the lab's sample items (table step)
# use "0000000000000-sample-01". Anything else in the id charset is looked up (and simply not found); ids
# outside it answer 404 without a call, so DynamoDB never sees an empty or over-long key (a 400 there).
ITEM_ID_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$")
CREATE_FIELDS = {"title", "notes", "done"}
UPDATE_FIELDS = {"title", "notes", "done", "version"}


class HttpError(Exception):
    """An answer to the client: status and message, sent as {"message": ...}."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


# --- Responses and logs ------------------------------------------------------------------------------


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda proxy integration response (payload format 1.0).

    With a proxy integration API Gateway passes the function's headers through unchanged, so the
    function itself must add the CORS header the browser checks on every response.
    """
    all_headers = {
        "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
        # A page on another origin reads only the response headers listed here (besides the safelisted
        # ones such as Content-Type): the new item's Location, and whether this call started cold.
        "Access-Control-Expose-Headers": f"Location, {COLD_START_HEADER}",
    }
    if ALLOWED_ORIGIN != "*":
        all_headers["Vary"] = "Origin"
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    return {
        "statusCode": status,
        "headers": all_headers,
        "body": "" if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON object per line on stdout; Lambda sends each line to CloudWatch Logs as one event."""
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "message": message,
        **fields,
    }
    print(json.dumps(record, default=str), flush=True)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_item_id() -> str:
    """13-digit epoch milliseconds, a dash, 16 random hex digits: sorts by creation time as a string."""
    return f"{time.time_ns() // 1_000_000:013d}-{secrets.token_hex(8)}"


def to_dynamodb(values: dict[str, Any]) -> dict[str, Any]:
    """Python values as DynamoDB's typed JSON: "ada" -> {"S": "ada"}, 1 -> {"N": "1"}, True -> {"BOOL": true}."""
    return {name: SERIALIZER.serialize(value) for name, value in values.items()}


def from_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed JSON as Python values (numbers come back as Decimal)."""
    return {name: DESERIALIZER.deserialize(value) for name, value in item.items()}


def to_api(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as the API shows it (the owner is implied: it is always the caller)."""
    version = item.get("version", 0)
    return {
        "itemId": item["itemId"],
        "title": item.get("title", ""),
        "notes": item.get("notes", ""),
        "done": bool(item.get("done", False)),
        "createdAt": item.get("createdAt"),
        "updatedAt": item.get("updatedAt"),
        "version": int(version) if isinstance(version, (int, Decimal)) else version,
    }


# --- Request parsing and validation ------------------------------------------------------------------


def caller_sub(event: dict[str, Any]) -> str:
    """The caller's Cognito sub, as the user pool authorizer passed it. Never taken from the request."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        # Only happens when the method has no Cognito authorizer: a deployment mistake, not a user's.
        raise HttpError(401, "Unauthorized")
    return sub


def read_json_object(event: dict[str, Any]) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    raw = event.get("body")
    if raw is None or raw == "":
        raise HttpError(400, "Request body is required: send a JSON object")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise HttpError(400, "Request body is not valid base64-encoded UTF-8") from error

    def reject_constant(name: str) -> None:  # json.loads would otherwise accept NaN and Infinity
        raise ValueError(f"{name} is not valid JSON")

    try:
        body = json.loads(raw, parse_constant=reject_constant)
    except ValueError as error:
        raise HttpError(400, f"Request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise HttpError(400, f"Request body must be a JSON object, not {json_type(body)}")
    return body


def json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}
    return "null" if value is None else names.get(type(value), "an object")


def reject_unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise HttpError(
            400, f"Unknown field(s): {', '.join(unknown)}; allowed fields are {', '.join(sorted(allowed))}"
        )


def valid_title(value: Any) -> str:
    if not isinstance(value, str):
        raise HttpError(400, f"title must be a string, not {json_type(value)}")
    title = value.strip()
    if not 1 <= len(title) <= TITLE_MAX:
        raise HttpError(400, f"title must be 1 to {TITLE_MAX} characters long after trimming spaces")
    return title


def valid_notes(value: Any) -> str:
    if not isinstance(value, str):
        raise HttpError(400, f"notes must be a string, not {json_type(value)}")
    if len(value) > NOTES_MAX:
        raise HttpError(400, f"notes must be at most {NOTES_MAX} characters long")
    return value


def valid_done(value: Any) -> bool:
    if not isinstance(value, bool):
        raise HttpError(400, f"done must be a boolean (true or false), not {json_type(value)}")
    return value


def valid_version(value: Any) -> int:
    # bool is a subclass of int in Python; JSON true is not a version number.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HttpError(400, "version must be a positive integer (the version you read)")
    return value


def path_item_id(event: dict[str, Any]) -> str:
    """The {id} path parameter. An id we could never have made answers 404, like a missing one."""
    item_id = (event.get("pathParameters") or {}).get("id") or ""
    if not ITEM_ID_PATTERN.match(item_id):
        raise HttpError(404, f"Item {item_id[:64]} not found")
    return item_id


def read_limit(query: dict[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    if not re.fullmatch(r"\d{1,3}", raw) or not 1 <= int(raw) <= LIMIT_MAX:
        raise HttpError(400, f"limit must be an integer from 1 to {LIMIT_MAX}")
    return int(raw)


def encode_cursor(key: dict[str, Any]) -> str:
    """The LastEvaluatedKey as urlsafe base64 JSON: opaque to the client, checked when it comes back."""
    text = json.dumps({"owner": key["owner"], "itemId": key["itemId"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str) -> dict[str, str]:
    """The ExclusiveStartKey a cursor stands for, or a 400 if it was not made for this caller.

    The owner inside the cursor must be the caller: a cursor can only continue a Query of the caller's
    own partition (the Query's key condition uses the caller's sub in any case).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    if (
        not isinstance(key, dict)
        or set(key) != {"owner", "itemId"}
        or key["owner"] != owner
        or not isinstance(key["itemId"], str)
        or not ITEM_ID_PATTERN.match(key["itemId"])
    ):
        raise HttpError(400, "cursor is not valid: pass back the cursor value of the previous page unchanged")
    return key


# --- Routes ------------------------------------------------------------------------------------------


def list_items(event: dict[str, Any], owner: str) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    limit = read_limit(query)
    params: dict[str, Any] = {
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},  # OWNER is a DynamoDB reserved word
        "ExpressionAttributeValues": to_dynamodb({":owner": owner}),
        "ScanIndexForward": False,  # itemId sorts by time: descending = newest first
        # One more than asked: if it comes back, there is a next page, and no empty last page is served.
        "Limit": limit + 1,
    }
    if query.get("cursor"):
        params["ExclusiveStartKey"] = to_dynamodb(decode_cursor(query["cursor"], owner))
    result = DYNAMODB.query(TableName=TABLE_NAME, **params)
    items = [from_dynamodb(item) for item in result.get("Items", [])]
    cursor = None
    if len(items) > limit:
        items = items[:limit]
        cursor = encode_cursor(items[-1])
    elif "LastEvaluatedKey" in result:  # the 1 MB page limit stopped the Query early
        cursor = encode_cursor(from_dynamodb(result["LastEvaluatedKey"]))
    return respond(200, {"items": [to_api(item) for item in items], "cursor": cursor})


def create_item(event: dict[str, Any], owner: str) -> dict[str, Any]:
    body = read_json_object(event)
    reject_unknown_fields(body, CREATE_FIELDS)
    if "title" not in body:
        raise HttpError(400, "title is required")
    stamp = now_iso()
    item: dict[str, Any] = {
        "owner": owner,
        "itemId": new_item_id(),
        "title": valid_title(body["title"]),
        "done": valid_done(body["done"]) if "done" in body else False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "version": 1,
    }
    if "notes" in body:
        item["notes"] = valid_notes(body["notes"])
    # The condition guards against overwriting an item if two ids ever collided.
    DYNAMODB.put_item(
        TableName=TABLE_NAME, Item=to_dynamodb(item), ConditionExpression="attribute_not_exists(itemId)"
    )
    request_path = (event.get("requestContext") or {}).get("path") or event.get("path") or "/items"
    location = f"{request_path.rstrip('/')}/{item['itemId']}"
    return respond(201, to_api(item), {"Location": location})


def get_item(event: dict[str, Any], owner: str) -> dict[str, Any]:
    item_id = path_item_id(event)
    item = DYNAMODB.get_item(TableName=TABLE_NAME, Key=to_dynamodb({"owner": owner, "itemId": item_id})).get(
        "Item"
    )
    if item is None:
        raise HttpError(404, f"Item {item_id} not found")
    return respond(200, to_api(from_dynamodb(item)))


def update_item(event: dict[str, Any], owner: str) -> dict[str, Any]:
    item_id = path_item_id(event)
    body = read_json_object(event)
    reject_unknown_fields(body, UPDATE_FIELDS)
    if "version" not in body:
        raise HttpError(400, "version is required: send the version of the item you edited")
    expected = valid_version(body["version"])
    changes: dict[str, Any] = {}
    if "title" in body:
        changes["title"] = valid_title(body["title"])
    if "notes" in body:
        changes["notes"] = valid_notes(body["notes"])
    if "done" in body:
        changes["done"] = valid_done(body["done"])
    if not changes:
        raise HttpError(400, "Nothing to change: send at least one of title, notes, done")
    changes["updatedAt"] = now_iso()

    names = {"#owner": "owner", "#version": "version", **{f"#{name}": name for name in changes}}
    values = {":expected": expected, ":one": 1, **{f":{name}": value for name, value in changes.items()}}
    assignments = [f"#{name} = :{name}" for name in changes] + ["#version = #version + :one"]
    try:
        result = DYNAMODB.update_item(
            TableName=TABLE_NAME,
            Key=to_dynamodb({"owner": owner, "itemId": item_id}),
            UpdateExpression="SET " + ", ".join(assignments),
            # Optimistic locking: write only if the item exists and nobody changed it since the
            # client read it. Without attribute_exists, UpdateItem would create a new item.
            ConditionExpression="attribute_exists(#owner) AND #version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_dynamodb(values),
            ReturnValues="ALL_NEW",
            # On failure DynamoDB returns the item as it is (if any): that tells missing from stale
            # without a second read.
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old = error.response.get("Item")
        if not old:
            raise HttpError(404, f"Item {item_id} not found") from error
        current = to_api(from_dynamodb(old))  # the item as it is, in DynamoDB's typed JSON
        raise HttpError(
            409,
            f"Version conflict: item {item_id} is at version {current['version']}, "
            f"you sent version {expected}. Reload it and apply your change again.",
            item=current,
        ) from error
    return respond(200, to_api(from_dynamodb(result["Attributes"])))


def delete_item(event: dict[str, Any], owner: str) -> dict[str, Any]:
    item_id = path_item_id(event)
    try:
        # Without the condition DeleteItem succeeds on a missing key; with it we can answer 404.
        DYNAMODB.delete_item(
            TableName=TABLE_NAME,
            Key=to_dynamodb({"owner": owner, "itemId": item_id}),
            ConditionExpression="attribute_exists(itemId)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise HttpError(404, f"Item {item_id} not found") from error
        raise
    return respond(204)


ROUTES = {
    "/items": {"GET": list_items, "POST": create_item},
    "/items/{id}": {"GET": get_item, "PUT": update_item, "DELETE": delete_item},
}


def resource_of(event: dict[str, Any]) -> str | None:
    """The API Gateway resource template of the request, e.g. "/items/{id}"."""
    resource = event.get("resource")
    if resource in ROUTES:
        return resource
    # A greedy /{proxy+} resource (or a hand-made test event) only carries the concrete path.
    path = (event.get("path") or "").rstrip("/") or "/"
    if path == "/items":
        return "/items"
    match = re.fullmatch(r"/items/([^/]+)", path)
    if match:
        event["pathParameters"] = {**(event.get("pathParameters") or {}), "id": match.group(1)}
        return "/items/{id}"
    return None


def route(event: dict[str, Any]) -> tuple[str, Any]:
    method = event.get("httpMethod", "")
    resource = resource_of(event)
    if resource is None:
        raise HttpError(404, f"No route for {method} {event.get('path')}")
    methods = ROUTES[resource]
    if method not in methods:
        allowed = ", ".join(sorted(methods))
        raise HttpError(405, f"Method {method} not allowed on {resource}; allowed: {allowed}")
    return f"{method} {resource}", methods[method]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (`items.handler`)."""
    global COLD_START
    cold_start, COLD_START = COLD_START, False
    started = time.perf_counter()
    request_id = getattr(context, "aws_request_id", None)
    route_name = f"{event.get('httpMethod')} {event.get('resource') or event.get('path')}"
    level, error_fields = "INFO", {}
    try:
        route_name, action = route(event)
        response = action(event, caller_sub(event))
    except HttpError as error:
        response = respond(error.status, {"message": error.message, **error.extra})
        if error.status == 405:
            response["headers"]["Allow"] = ", ".join(sorted(ROUTES[resource_of(event) or "/items"]))
    except Exception as error:
        level = "ERROR"
        error_fields = {
            "errorType": type(error).__name__,
            "error": str(error),
            "trace": traceback.format_exc(),
        }
        response = respond(500, {"message": "Internal server error"})
    response["headers"][COLD_START_HEADER] = "true" if cold_start else "false"
    log(
        level,
        "request handled" if level == "INFO" else "unexpected error",
        requestId=request_id,
        route=route_name,
        status=response["statusCode"],
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        coldStart=cold_start,
        # A new item's Location, so its creation can be found in the logs (06-api's exercise looks).
        **({"location": response["headers"]["Location"]} if "Location" in response["headers"] else {}),
        **error_fields,
    )
    return response
