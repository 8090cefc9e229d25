"""The exercises of 03-users and 04-table."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..teaching.deployed import deployed
from .base import error_code, exercise
from .result import Outcome, not_yet, solved


@exercise("03-users")
def user_can_sign_in(lab: Any, username: str, password: str) -> Outcome:
    """03: a user of the student's own (not a sample one) signed up, confirmed, and able to sign in."""
    from ..teaching.identity import sample_users, sign_in

    title = f"sign up {username}"
    if username in {user["username"] for user in sample_users(lab.root)}:
        return not_yet(title, f"{username} is a sample user.", "Sign up a user of your own with sign_up.")
    users = deployed(lab, "users")
    try:
        found = lab.backend.client("cognito-idp").admin_get_user(
            UserPoolId=users["user_pool_id"], Username=username
        )
    except ClientError as error:
        return not_yet(
            title,
            f"no user {username} in your pool ({error_code(error)}).",
            "Self-service sign-up goes through the app client (its id: lab.outputs['users']['client_id']).",
            "cognito.sign_up(ClientId=..., Username=..., Password=..., UserAttributes=[{'Name': 'email', "
            "'Value': ...}])",
            f"cognito.sign_up(ClientId=lab.outputs['users']['client_id'], Username={username!r}, "
            f"Password={password!r}, UserAttributes=[{{'Name': 'email', 'Value': '{username}@example.com'}}])",
        )
    if found.get("UserStatus") != "CONFIRMED":
        return not_yet(
            title,
            f"{username} is {found.get('UserStatus')}: Cognito refuses their sign-in (UserNotConfirmedException).",
            "On AWS the user types the code Cognito e-mailed them; offline there is no e-mail.",
            "An administrator can confirm instead: admin_confirm_sign_up(UserPoolId=..., Username=...).",
            f"cognito.admin_confirm_sign_up(UserPoolId=lab.outputs['users']['user_pool_id'], Username={username!r})",
        )
    try:
        sign_in(lab, username, password)
    except ClientError as error:
        return not_yet(
            title,
            f"{username} cannot sign in: {error.response['Error'].get('Message')}",
            "Check the password you signed up with (the check signs in with the one you pass).",
        )
    return solved(title, f"{username} is CONFIRMED and signs in with USER_PASSWORD_AUTH.")


def _describe_table(lab: Any) -> dict[str, Any]:
    table = deployed(lab, "table")["table_name"]
    return dict(lab.backend.client("dynamodb").describe_table(TableName=table)["Table"])


INDEX_ANSWER = (
    "dynamodb.update_table(TableName=lab.names.table, AttributeDefinitions=[{'AttributeName': 'owner', "
    "'AttributeType': 'S'}, {'AttributeName': 'title', 'AttributeType': 'S'}], GlobalSecondaryIndexUpdates="
    "[{'Create': {'IndexName': 'by-title', 'KeySchema': [{'AttributeName': 'owner', 'KeyType': 'HASH'}, "
    "{'AttributeName': 'title', 'KeyType': 'RANGE'}], 'Projection': {'ProjectionType': 'ALL'}}}])"
)


@exercise("04-table")
def table_has_index(lab: Any, index_name: str = "by-title", sort_key: str = "title") -> Outcome:
    """04: a global secondary index keyed by owner (HASH) and `sort_key` (RANGE), ACTIVE."""
    title = f"index {index_name}"
    indexes = {i["IndexName"]: i for i in _describe_table(lab).get("GlobalSecondaryIndexes", [])}
    index = indexes.get(index_name)
    if index is None:
        return not_yet(
            title,
            f"the table has no index {index_name} (it has {sorted(indexes) or 'none'}).",
            "describe_table(TableName=lab.names.table)['Table'] lists GlobalSecondaryIndexes.",
            "update_table with AttributeDefinitions for the new key and GlobalSecondaryIndexUpdates=[{'Create': ...}]",
            INDEX_ANSWER,
        )
    keys = [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    if keys != [("owner", "HASH"), (sort_key, "RANGE")]:
        return not_yet(
            title,
            f"{index_name} is keyed by {keys}.",
            f"Key it by owner (HASH), so it stays inside one user's items, and {sort_key} (RANGE).",
            "An index's key cannot change: delete it (GlobalSecondaryIndexUpdates=[{'Delete': ...}]), "
            "then create it again.",
            INDEX_ANSWER,
        )
    if index.get("IndexStatus") != "ACTIVE":
        return not_yet(title, f"{index_name} is {index.get('IndexStatus')}.", "Wait until it is ACTIVE.")
    return solved(title, f"{index_name} is ACTIVE, keyed by owner and {sort_key}.")


@exercise("04-table")
def titles_in_order(lab: Any, answer: Any, username: str = "ada", index_name: str = "by-title") -> Outcome:
    """04: the answer of a Query on the index: one user's items, in title order, read by DynamoDB sorted."""
    title = f"{username}'s items in title order"
    hints = (
        f"A Query reads one partition, sorted by the sort key; the index {index_name} sorts by title.",
        "dynamodb.query(TableName=..., IndexName=..., KeyConditionExpression='#o = :o', "
        "ExpressionAttributeNames={'#o': 'owner'}, ExpressionAttributeValues={':o': {'S': <the sub>}})",
        f"answer = dynamodb.query(TableName=lab.names.table, IndexName={index_name!r}, "
        "KeyConditionExpression='#o = :o', ExpressionAttributeNames={'#o': 'owner'}, "
        f"ExpressionAttributeValues={{':o': {{'S': lab.outputs['users']['sample_subs'][{username!r}]}}}})",
    )
    if not isinstance(answer, dict) or "Items" not in answer or "ResponseMetadata" not in answer:
        return not_yet(title, "pass the whole answer of dynamodb.query(...), not a list you made.", *hints)
    owner = deployed(lab, "users")["sample_subs"].get(username, "")
    items = answer["Items"]
    owners = {item.get("owner", {}).get("S") for item in items}
    if owners - {owner}:
        return not_yet(title, "the answer holds other users' items: that is a Scan, not a Query.", *hints)
    if answer.get("ScannedCount", len(items)) != len(items):
        return not_yet(
            title, "DynamoDB read more items than it returned: a filter, not a key condition.", *hints
        )
    mine = lab.backend.client("dynamodb").query(
        TableName=deployed(lab, "table")["table_name"],
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
        Select="COUNT",
    )["Count"]
    if len(items) != mine:
        return not_yet(title, f"{len(items)} items, but {username} has {mine}.", *hints)
    titles = [item.get("title", {}).get("S", "") for item in items]
    if titles != sorted(titles):
        return not_yet(
            title, "the items are not in title order: that Query read the table, not the index.", *hints
        )
    return solved(title, f"{len(titles)} items of {username}, sorted by DynamoDB on the index's sort key.")
