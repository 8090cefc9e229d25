"""The checks students run at the end of each notebook: `check.<exercise>(lab, ...)` → ✓ solved or ✗ a hint.

A check only reads (the backend, the lab's edge cache, or the student's own answer); it never raises for an
unsolved exercise, it says what is missing. One or two exercises per notebook:

    00-overview      knows_prefix
    01-static-site   site_has_page
    02-cdn           cdn_max_ttl_lowered
    03-users         user_can_sign_in
    04-table         table_has_index, titles_newest_first
    05-functions     function_memory
    06-api           item_created
    07-end-to-end    slowest_hop
    08-latency       api_p95
    09-teardown      nothing_left
    10-instructor    student_reset
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from ..teaching import classroom
from ..teaching.deployed import deployed
from ..teaching.extras import function_logs
from ..teaching.traffic import cache_table
from .result import CheckResult, not_yet, solved


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def knows_prefix(lab: Any, answer: str) -> CheckResult:
    """00: the prefix every resource name of this student starts with."""
    name = "your resource prefix"
    if answer == lab.names.prefix:
        return solved(name, f"{answer!r}: every resource of yours is named {answer}-<component>.")
    return not_yet(name, f"{answer!r} is not it.", "Look at lab.names.prefix, or at any name in lab.outputs.")


def site_has_page(lab: Any, key: str = "hello.html") -> CheckResult:
    """01: a page uploaded to the site bucket with an HTML content type."""
    name = f"upload {key}"
    bucket = lab.names.site_bucket
    try:
        head = lab.backend.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        return not_yet(
            name,
            f"s3://{bucket}/{key} does not exist ({_error_code(error)}).",
            "s3.put_object(Bucket=..., Key='hello.html', Body=b'<h1>Hello</h1>', ContentType='text/html')",
        )
    content_type = head.get("ContentType", "")
    if not content_type.startswith("text/html"):
        return not_yet(
            name,
            f"{key} is stored as {content_type!r}: a browser would download it instead of showing it.",
            "Upload it again with ContentType='text/html; charset=utf-8'.",
        )
    return solved(name, f"s3://{bucket}/{key} is there as {content_type}.")


def cdn_max_ttl_lowered(lab: Any, seconds: int = 10, path: str = "/style.css") -> CheckResult:
    """02: the default behaviour's MaxTTL lowered to `seconds`, and the edge holding `path` that short."""
    name = f"cache {path} for at most {seconds} s"
    distribution_id = deployed(lab, "cdn")["distribution_id"]
    config = lab.backend.client("cloudfront").get_distribution_config(Id=distribution_id)
    max_ttl = config["DistributionConfig"]["DefaultCacheBehavior"].get("MaxTTL")
    if max_ttl is None or max_ttl > seconds:
        return not_yet(
            name,
            f"the default cache behaviour's MaxTTL is {max_ttl} s.",
            "get_distribution_config, set DefaultCacheBehavior MaxTTL (and DefaultTTL) to the new value, "
            "then update_distribution with IfMatch=<the ETag>.",
        )
    entries = cache_table(lab)
    entry = entries[entries["path"] == path]
    if entry.empty:
        return not_yet(
            name,
            f"MaxTTL is {max_ttl} s, but the edge holds no copy of {path}.",
            f"Fetch {path} again through the edge (teaching.edge_get).",
        )
    ttl = float(entry["ttl"].iloc[0])
    if ttl > seconds:
        return not_yet(
            name,
            f"MaxTTL is {max_ttl} s, but the edge still holds the copy it cached for {ttl:.0f} s.",
            "A new setting does not touch what is already cached: invalidate the path "
            "(create_invalidation), then fetch it again.",
        )
    return solved(name, f"MaxTTL is {max_ttl} s and the edge keeps {path} for {ttl:.0f} s.")


def user_can_sign_in(lab: Any, username: str, password: str) -> CheckResult:
    """03: a new user (not a sample one) signed up, confirmed, and able to sign in."""
    from ..teaching.identity import sample_users, sign_in

    name = f"sign up {username}"
    if username in {user["username"] for user in sample_users(lab.root)}:
        return not_yet(name, f"{username} is a sample user.", "Sign up a user of your own with sign_up.")
    users = deployed(lab, "users")
    try:
        found = lab.backend.client("cognito-idp").admin_get_user(
            UserPoolId=users["user_pool_id"], Username=username
        )
    except ClientError as error:
        return not_yet(
            name,
            f"no user {username} in your pool ({_error_code(error)}).",
            "cognito.sign_up(ClientId=..., Username=..., Password=..., UserAttributes=[email])",
        )
    if found.get("UserStatus") != "CONFIRMED":
        return not_yet(
            name,
            f"{username} is {found.get('UserStatus')}.",
            "Confirm the account: admin_confirm_sign_up (the email code, offline).",
        )
    try:
        sign_in(lab, username, password)
    except ClientError as error:
        return not_yet(
            name,
            f"{username} cannot sign in: {error.response['Error'].get('Message')}",
            "Check the password you signed up with.",
        )
    return solved(name, f"{username} is CONFIRMED and signs in with USER_PASSWORD_AUTH.")


def _describe_table(lab: Any) -> dict[str, Any]:
    table = deployed(lab, "table")["table_name"]
    return dict(lab.backend.client("dynamodb").describe_table(TableName=table)["Table"])


def table_has_index(lab: Any, index_name: str = "by-title", sort_key: str = "title") -> CheckResult:
    """04: a global secondary index keyed by owner (HASH) and `sort_key` (RANGE), ACTIVE."""
    name = f"index {index_name}"
    indexes = {i["IndexName"]: i for i in _describe_table(lab).get("GlobalSecondaryIndexes", [])}
    index = indexes.get(index_name)
    if index is None:
        return not_yet(
            name,
            f"the table has no index {index_name} (it has {sorted(indexes) or 'none'}).",
            "update_table with AttributeDefinitions for the new key and GlobalSecondaryIndexUpdates=[{'Create': ...}]",
        )
    keys = [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    if keys != [("owner", "HASH"), (sort_key, "RANGE")]:
        return not_yet(
            name,
            f"{index_name} is keyed by {keys}.",
            f"Key it by owner (HASH), so it stays inside one user's items, and {sort_key} (RANGE).",
        )
    if index.get("IndexStatus") != "ACTIVE":
        return not_yet(name, f"{index_name} is {index.get('IndexStatus')}.", "Wait until it is ACTIVE.")
    return solved(name, f"{index_name} is ACTIVE, keyed by owner and {sort_key}.")


def titles_newest_first(lab: Any, titles: list[str], username: str = "ada") -> CheckResult:
    """04: the titles of a user's items, newest first (a Query with ScanIndexForward=False)."""
    name = f"{username}'s titles, newest first"
    table = deployed(lab, "table")["table_name"]
    owner = deployed(lab, "users")["sample_subs"].get(username, "")
    answer = lab.backend.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
        ScanIndexForward=False,
    )
    expected = [item["title"]["S"] for item in answer["Items"]]
    if list(titles) == expected:
        return solved(name, f"{len(expected)} titles in the order the sort key gives.")
    if sorted(titles) == sorted(expected):
        return not_yet(
            name,
            "the right titles, in another order.",
            "The sort key itemId starts with the creation time: ScanIndexForward=False.",
        )
    return not_yet(
        name,
        f"expected {len(expected)} titles of {username}, got {len(titles)}.",
        "Query the partition owner = the user's sub (lab.outputs['users']['sample_subs']).",
    )


def function_memory(lab: Any, function: str = "items", memory_mb: int = 512) -> CheckResult:
    """05: the function's memory changed, and an invocation since then reporting it."""
    name = f"{function} with {memory_mb} MB"
    try:
        configuration = lab.backend.client("lambda").get_function_configuration(
            FunctionName=lab.function_name(function)
        )
    except ClientError:
        return not_yet(
            name, f"there is no function {function} yet.", "Deploy it first: lab.require('functions')."
        )
    if configuration["MemorySize"] != memory_mb:
        return not_yet(
            name,
            f"{function} has {configuration['MemorySize']} MB.",
            f"update_function_configuration(FunctionName=..., MemorySize={memory_mb})",
        )
    reports = [line for line in function_logs(lab, function, limit=200) if line.startswith("REPORT")]
    if not any(f"Memory Size: {memory_mb} MB" in line for line in reports):
        return not_yet(
            name,
            f"{function} has {memory_mb} MB, but no REPORT line shows it yet.",
            "Invoke it again (lab.invoke) and read the logs back.",
        )
    return solved(name, f"{function} runs with {memory_mb} MB: its REPORT line says so.")


def item_created(lab: Any, username: str = "grace", title: str = "") -> CheckResult:
    """06: an item with `title` in the user's partition, created through the API."""
    name = f"an item of {username} titled {title!r}"
    table = deployed(lab, "table")["table_name"]
    owner = deployed(lab, "users")["sample_subs"].get(username, "")
    answer = lab.backend.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
    )
    titles = [item.get("title", {}).get("S") for item in answer["Items"]]
    if title and title in titles:
        return solved(name, f"found in {username}'s partition (owner = their sub).")
    return not_yet(
        name,
        f"{username}'s partition holds {len(titles)} items, none titled {title!r}.",
        f"teaching.call_api(lab, 'POST', '/items', user={username!r}, body={{'title': ...}})",
    )


def slowest_hop(spans: pd.DataFrame, answer: str) -> CheckResult:
    """07: the component (client left out) with the most time in total in a trace."""
    name = "the slowest hop"
    if spans is None or len(spans) == 0:
        return not_yet(name, "the trace is empty.", "spans = flow.trace(lab)")
    served = spans[spans["component"].astype("string") != "client"]
    totals = served.groupby(served["component"].astype("string"))["duration_ms"].sum()
    expected = str(totals.idxmax())
    if answer == expected:
        return solved(name, f"{expected}: {totals.max():.1f} ms of the trace.")
    return not_yet(
        name,
        f"{answer!r} is not it.",
        "spans.groupby('component')['duration_ms'].sum(), without the client rows.",
    )


def api_p95(summary: pd.DataFrame, concurrency: int, answer_ms: float) -> CheckResult:
    """08: the API calls' 95th percentile at one concurrency level, read from the sweep's summary."""
    name = f"p95 of the API calls at concurrency {concurrency}"
    if not isinstance(summary, pd.DataFrame) or not {"concurrency", "api_p95_ms"} <= set(summary.columns):
        return not_yet(
            name,
            "that is not the sweep's summary table.",
            "Pass the summary the load sweep cell made (its columns include concurrency and api_p95_ms).",
        )
    rows = summary[summary["concurrency"] == concurrency]
    if rows.empty:
        return not_yet(
            name,
            f"the summary has no run at concurrency {concurrency}.",
            f"Levels run: {sorted(summary['concurrency'].unique().tolist())}.",
        )
    expected = float(rows["api_p95_ms"].iloc[0])
    if math.isclose(float(answer_ms), expected, rel_tol=0.01, abs_tol=0.05):
        return solved(name, f"{expected:.1f} ms.")
    return not_yet(name, f"{answer_ms} ms is not it.", "Look at the api_p95_ms column of that row.")


def nothing_left(lab: Any) -> CheckResult:
    """09: no resource of the student left on the backend."""
    name = "nothing left"
    left = classroom.leftovers(lab)
    if left.empty:
        return solved(name, f"no resource named {lab.names.prefix}-… is left.")
    kinds = ", ".join(sorted(set(left["kind"])))
    return not_yet(
        name,
        f"{len(left)} resource(s) left: {kinds}.",
        "lab.destroy() tears the steps down in reverse order; teaching.remove_extras(lab) the rest.",
    )


def student_reset(backend: Any, student: str) -> CheckResult:
    """10: a student reset: nothing of theirs on the backend, no saved outputs."""
    from ..lab import Lab

    name = f"reset {student}"
    left = classroom.leftovers(Lab(backend=backend, student=student))
    if not left.empty:
        return not_yet(
            name,
            f"{len(left)} resource(s) of {student} remain.",
            "teaching.reset_student(lab.backend, student)",
        )
    if student in classroom.students(backend):
        return not_yet(name, f"{student}'s saved outputs remain.", "Reset removes the outputs file too.")
    return solved(name, f"nothing of {student} is left.")
