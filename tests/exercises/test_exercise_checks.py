"""Every exercise check: ✗ before the student acts, ✓ with the instructor's solution, ✗ with the shortcut it
must not accept; hints come in stages and every result carries what a classroom records.

Labs run on the in-process `memory` backend; the solutions (notebooks/instructor-only/solutions.py, loaded from its path as
10-instructor loads it) make the same boto3 calls a student would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from shared_labs import deployed_memory_lab

from serverless_lab import Lab, teaching
from serverless_lab.backends import lab_home
from serverless_lab.classroom.progress_store import ProgressStore
from serverless_lab.exercises import EXERCISES, CheckResult, check
from serverless_lab.exercises.result import Attempts, not_yet
from serverless_lab.teaching import edge_get, reset_student

ROOT = Path(__file__).resolve().parents[2]
_RUN = uuid.uuid4().hex[:4]
solutions = teaching.load_solutions(ROOT)


@pytest.fixture(scope="module")
def lab() -> Lab:
    return deployed_memory_lab("ex", _RUN)


def assert_not_yet(result: CheckResult, *fragments: str) -> None:
    assert not result and result.ok is False and "✗ not yet" in str(result)
    text = str(result)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def assert_solved(result: CheckResult) -> None:
    assert result, str(result)
    assert "✓ solved" in str(result) and "solved" in result._repr_html_()


# --- results, hints, records ------------------------------------------------------------------------------


def test_hints_come_in_stages_and_the_result_carries_the_record() -> None:
    attempts = Attempts()
    outcome = not_yet("an exercise", "not there", "look here", "call this", "the answer")
    first = attempts.count("ada", outcome, "x", "04-table", None)
    assert "hint 1/3 (where to look): look here" in str(first) and "the answer" not in str(first)
    assert "run the check again for hint 2" in str(first)
    second = attempts.count("ada", outcome, "x", "04-table", None)
    assert "hint 2/3 (which call): call this" in str(second) and "the answer" not in str(second)
    answer = attempts.count("ada", outcome, "x", "04-table", 3)
    assert "hint 3/3 (the answer): the answer" in str(answer) and "run the check again" not in str(answer)
    assert answer.record() == {
        "student": "ada", "notebook": "04-table", "exercise": "x", "passed": False, "attempt": 3,
        "time": answer.time, "hint_stage": 3,
    }  # fmt: skip
    assert answer.time.endswith("Z") and "<li>" in answer._repr_html_()
    # another student starts at the first hint; asking for an earlier hint keeps the stage reached
    assert attempts.count("grace", outcome, "x", "04-table", None).hint_shown == 1
    assert attempts.count("ada", outcome, "x", "04-table", 1).hint_stage == 3


def test_every_check_belongs_to_a_notebook_and_counts_attempts(lab: Lab) -> None:
    assert set(EXERCISES) == set(check.__all__)
    assert all(notebook[:2].isdigit() for notebook in EXERCISES.values())
    first = check.private_bucket_call(lab, "create_bucket")
    again = check.private_bucket_call(lab, "create_bucket")
    assert (first.attempt + 1, first.hint_shown + 1) == (again.attempt, again.hint_shown)
    assert again.record()["student"] == lab.student and again.notebook == "00-overview"


def test_every_check_result_is_recorded_in_the_class_progress_tables_of_the_labs_backend() -> None:
    # Every check of the course is made by `exercise()`, whose wrapper counts the attempt and records it.
    assert all(getattr(check, name).__wrapped__ and getattr(check, name).notebook for name in check.__all__)
    lab = Lab(backend="memory", student=f"rec-{_RUN}")
    results = [
        check.private_bucket_call(lab, "create_bucket"),
        check.private_bucket_call(lab, "create_bucket"),
        check.private_bucket_call(lab, "put_public_access_block"),
        check.site_has_page(lab, "hello.html"),  # nothing deployed: not yet, and still recorded
    ]
    store = ProgressStore(lab.backend)
    recorded = store.attempts([lab.student])
    assert [a.as_dict() for a in recorded] == [r.record() for r in results]
    assert [(a.attempt, a.passed, a.hint_stage) for a in recorded[:3]] == [
        (1, False, 1),
        (2, False, 2),
        (3, True, 2),
    ]
    # the instructor's view: plain DynamoDB items, read with boto3 as well
    summary = {s.exercise: s for s in store.summaries([lab.student])}
    assert (summary["private_bucket_call"].attempts, summary["private_bucket_call"].passed) == (3, True)
    assert (summary["site_has_page"].attempts, summary["site_has_page"].passed) == (1, False)
    items = lab.backend.client("dynamodb").query(
        TableName=store.attempts_table,
        KeyConditionExpression="student = :s",
        ExpressionAttributeValues={":s": {"S": lab.student}},
    )["Items"]
    assert len(items) == 4 and {item["notebook"]["S"] for item in items} == {"00-overview", "01-static-site"}
    table = teaching.progress(lab.backend, [lab.student])
    assert table.loc[lab.student, ("private_bucket_call", "attempts")] == 3
    assert bool(table.loc[lab.student, ("private_bucket_call", "passed")]) is True


def test_the_solutions_are_not_importable_from_the_students_package() -> None:
    with pytest.raises(ModuleNotFoundError):
        __import__("serverless_lab.exercises.solutions")
    # nor from a kernel started in notebooks/ or at the top, as JupyterLab starts them: the folder's name is
    # no identifier, so no import statement reaches it
    solutions_file = ROOT / "notebooks" / "instructor-only" / "solutions.py"
    assert solutions_file.is_file() and not solutions_file.parent.name.isidentifier()
    for cwd in (ROOT / "notebooks", ROOT):
        for statement in (
            "import instructor.solutions",
            "import solutions",
            "import instructor_only.solutions",
        ):
            probe = subprocess.run([sys.executable, "-c", statement], cwd=cwd, capture_output=True)
            assert probe.returncode == 1 and b"ModuleNotFoundError" in probe.stderr, (cwd, statement)


# --- each check: before, solution, shortcut ---------------------------------------------------------------


def test_private_bucket_call(lab: Lab) -> None:
    assert_not_yet(check.private_bucket_call(lab, "?"), "not a call of the site's plan")
    assert_not_yet(check.private_bucket_call(lab, "create_bucket"), "says nothing about who may read")
    assert_solved(check.private_bucket_call(lab, solutions.private_bucket_call(lab)))


def test_site_has_page(lab: Lab) -> None:
    assert_not_yet(check.site_has_page(lab, "hello.html"), "does not exist", "put_object")
    s3 = lab.backend.client("s3")
    # the shortcut: an upload that names no type (S3 stores binary/octet-stream), then one without no-cache
    s3.put_object(Bucket=lab.names.site_bucket, Key="hello.html", Body=b"<h1>Hi</h1>")
    assert_not_yet(check.site_has_page(lab, "hello.html"), "download")
    s3.put_object(
        Bucket=lab.names.site_bucket, Key="hello.html", Body=b"<h1>Hi</h1>", ContentType="text/html"
    )
    assert_not_yet(check.site_has_page(lab, "hello.html"), "stale copy")
    solutions.site_has_page(lab, "hello.html")
    assert_solved(check.site_has_page(lab, "hello.html"))


def test_cdn_max_ttl_lowered_needs_the_setting_and_an_invalidation(lab: Lab) -> None:
    assert_not_yet(check.cdn_max_ttl_lowered(lab, 10), "MaxTTL is 31536000")
    assert edge_get(lab, "/style.css").status == 200  # cached for a day
    # the shortcut: the object asks for 5 s and is invalidated, but the behaviour still allows a year
    s3, cloudfront = lab.backend.client("s3"), lab.backend.client("cloudfront")
    distribution_id = lab.outputs["cdn"]["distribution_id"]
    s3.put_object(Bucket=lab.names.site_bucket, Key="style.css", Body=b"p{}", ContentType="text/css",
                  CacheControl="max-age=5")  # fmt: skip
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/style.css"]}, "CallerReference": "shortcut"},
    )
    lab.dataplane().control_plane.refresh()
    edge_get(lab, "/style.css")
    assert_not_yet(check.cdn_max_ttl_lowered(lab, 10), "MaxTTL is 31536000")
    lab.apply("site")  # the lab's style.css back (and invalidated), cached for a day again
    lab.dataplane().control_plane.refresh()
    assert edge_get(lab, "/style.css").x_cache.startswith("Miss")
    answer = cloudfront.get_distribution_config(Id=distribution_id)
    answer["DistributionConfig"]["DefaultCacheBehavior"]["MaxTTL"] = 10
    cloudfront.update_distribution(
        Id=distribution_id, IfMatch=answer["ETag"], DistributionConfig=answer["DistributionConfig"]
    )
    assert_not_yet(check.cdn_max_ttl_lowered(lab, 10), "still holds the copy")
    solutions.cdn_max_ttl_lowered(lab, 10)
    assert_solved(check.cdn_max_ttl_lowered(lab, 10))
    assert len(lab.plan("cdn")) > 0  # the lab would put its own TTLs back
    lab.apply("cdn")


def test_user_can_sign_in(lab: Lab) -> None:
    password = "Choose-a-Passw0rd"
    assert_not_yet(check.user_can_sign_in(lab, "lin", password), "no user lin", "client_id")
    # the shortcut: a sample user someone else made
    assert_not_yet(check.user_can_sign_in(lab, "ada", "Analytical1843"), "sample user")
    users = lab.outputs["users"]
    lab.backend.client("cognito-idp").sign_up(
        ClientId=users["client_id"], Username="lin", Password=password,
        UserAttributes=[{"Name": "email", "Value": "lin@example.com"}],
    )  # fmt: skip
    assert_not_yet(check.user_can_sign_in(lab, "lin", password, hint=1), "UNCONFIRMED", "e-mail")
    lab.backend.client("cognito-idp").admin_confirm_sign_up(UserPoolId=users["user_pool_id"], Username="lin")
    assert_not_yet(check.user_can_sign_in(lab, "lin", "Wrong-Passw0rd"), "cannot sign in")
    assert_solved(check.user_can_sign_in(lab, "lin", password))
    solutions.user_can_sign_in(lab, "mae", password)
    assert_solved(check.user_can_sign_in(lab, "mae", password))


def test_table_has_index(lab: Lab) -> None:
    assert_not_yet(check.table_has_index(lab, "by-title"), "no index by-title", "GlobalSecondaryIndexes")
    solutions.table_has_index(lab, "by-done", "itemId")  # an index keyed by something else
    assert_not_yet(check.table_has_index(lab, "by-done", "title"), "keyed by")
    solutions.table_has_index(lab, "by-title", "title")
    assert_solved(check.table_has_index(lab, "by-title", "title"))


def test_titles_in_order_takes_a_query_on_the_index_only(lab: Lab) -> None:
    dynamodb, ada = lab.backend.client("dynamodb"), lab.outputs["users"]["sample_subs"]["ada"]
    assert_not_yet(check.titles_in_order(lab, None), "the whole answer")
    if not any(
        i["IndexName"] == "by-title"
        for i in dynamodb.describe_table(TableName=lab.names.table)["Table"].get("GlobalSecondaryIndexes", [])
    ):
        solutions.table_has_index(lab)  # fmt: skip
    query = {"KeyConditionExpression": "#o = :o", "ExpressionAttributeNames": {"#o": "owner"},
             "ExpressionAttributeValues": {":o": {"S": ada}}}  # fmt: skip
    # the shortcuts: titles sorted in Python, a Scan, a Scan filtered to Ada, a Query of the table
    titles = sorted(i["title"]["S"] for i in dynamodb.query(TableName=lab.names.table, **query)["Items"])
    assert_not_yet(check.titles_in_order(lab, titles), "not a list you made")
    assert_not_yet(check.titles_in_order(lab, dynamodb.scan(TableName=lab.names.table)), "Scan")
    filtered = dynamodb.scan(TableName=lab.names.table, FilterExpression="#o = :o",
                             **{k: v for k, v in query.items() if k != "KeyConditionExpression"})  # fmt: skip
    assert_not_yet(check.titles_in_order(lab, filtered), "a filter")
    table_order = dynamodb.query(TableName=lab.names.table, ScanIndexForward=False, **query)
    assert [i["title"]["S"] for i in table_order["Items"]] != titles  # the sample data makes the point
    assert_not_yet(check.titles_in_order(lab, table_order), "not in title order")
    assert_solved(check.titles_in_order(lab, solutions.titles_in_order(lab)))


def test_function_memory_needs_the_report_line_of_an_invocation_after_the_change(lab: Lab) -> None:
    assert_not_yet(check.function_memory(lab, "", "me", 512), "has 256 MB")
    lambda_client = lab.backend.client("lambda")
    lab.invoke("me", {})
    old_report = [line for line in teaching.function_logs(lab, "me", 500) if line.startswith("REPORT")][-1]
    lambda_client.update_function_configuration(FunctionName=lab.function_name("me"), MemorySize=512)
    assert_not_yet(check.function_memory(lab, old_report, "me", 512), "REPORT")
    # the shortcut: a line written by hand
    assert_not_yet(
        check.function_memory(lab, "REPORT Memory Size: 512 MB", "me", 512), "not in the function's log"
    )
    assert_solved(check.function_memory(lab, solutions.function_memory(lab, "me", 512), "me", 512))
    lab.apply("functions")


def test_stats_handler_is_invoked_with_the_checks_own_events(lab: Lab) -> None:
    assert_not_yet(check.stats_handler(lab), "no function stats")
    teaching.ensure_stats_function(lab)  # 05's starter: counts, but neither done nor open, nor 401
    assert_not_yet(check.stats_handler(lab), "expected 200")
    # the shortcuts: the whole table (a Scan), the owner from the query string
    query = solutions.STATS_SOLUTION.index("    answer = DYNAMODB.query(")
    end = solutions.STATS_SOLUTION.index("    items = answer")
    scan = (
        solutions.STATS_SOLUTION[:query]
        + '    answer = DYNAMODB.scan(TableName=os.environ["TABLE_NAME"])\n'
        + solutions.STATS_SOLUTION[end:]
    )
    solutions.stats_handler(lab, scan)
    assert_not_yet(check.stats_handler(lab), "for ada")
    from_query = solutions.STATS_SOLUTION.replace(
        '{"S": claims["sub"]}',
        '{"S": (event.get("queryStringParameters") or {}).get("owner") or claims["sub"]}',
    )
    solutions.stats_handler(lab, from_query)
    assert_not_yet(check.stats_handler(lab), "for grace")
    solutions.stats_handler(lab)
    assert_solved(check.stats_handler(lab))


def test_item_created_goes_through_the_api(lab: Lab) -> None:
    assert_not_yet(check.item_created(lab, "", "grace"), "pass the itemId")
    assert_not_yet(check.item_created(lab, "1700000000000-0123456789abcdef", "grace"), "no item")
    # the shortcut: put_item straight into the table
    grace = lab.outputs["users"]["sample_subs"]["grace"]
    lab.backend.client("dynamodb").put_item(
        TableName=lab.names.table, Item={"owner": {"S": grace}, "itemId": {"S": "1700000000000-direct"}}
    )
    assert_not_yet(check.item_created(lab, "1700000000000-direct", "grace"), "skips the API")
    item_id = solutions.item_created(lab, "grace")
    assert_solved(check.item_created(lab, item_id, "grace"))
    assert_not_yet(check.item_created(lab, item_id, "alan"))  # another user's partition


def test_one_route_broken(lab: Lab) -> None:
    assert_not_yet(check.one_route_broken(lab, "DELETE /items/{id}"), "still allows all five")
    try:
        solutions.one_route_broken(lab, "dynamodb:DeleteItem")
        solutions.one_route_broken(lab, "dynamodb:PutItem")  # the shortcut: break more than one
        assert_not_yet(check.one_route_broken(lab, "DELETE /items/{id}"), "remove one only")
        lab.apply("functions")
        route = solutions.one_route_broken(lab, "dynamodb:DeleteItem")
        assert_not_yet(check.one_route_broken(lab, "GET /items"), "not the route")
        deadline = time.monotonic() + 10  # a policy change reaches the running functions within seconds
        while not (result := check.one_route_broken(lab, route)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert_solved(result)
    finally:
        lab.apply("functions")


def test_slowest_hop(lab: Lab) -> None:
    spans = pd.DataFrame(
        {
            "component": ["client", "gateway", "lambda-handler", "gateway", "dynamodb"],
            "duration_ms": [500.0, 10.0, 12.0, 5.0, 3.0],
        }
    )
    assert solutions.slowest_hop(lab, spans) == "gateway"
    assert_not_yet(check.slowest_hop(lab, spans, "?"), "is not it")
    assert_not_yet(check.slowest_hop(lab, spans, "client"), "is not it")  # the shortcut: the biggest row
    assert_not_yet(check.slowest_hop(lab, spans, "lambda-handler"))
    assert_solved(check.slowest_hop(lab, spans, "gateway"))
    assert_not_yet(
        check.slowest_hop(lab, pd.DataFrame(columns=["component", "duration_ms"]), "gateway"), "empty"
    )


def test_throttled_needs_a_limit_of_one_and_a_run_that_hit_it(lab: Lab) -> None:
    lambda_ = lab.backend.client("lambda")
    assert_not_yet(check.throttled(lab, None), "not 1")
    try:
        # the shortcut: 0 refuses everything
        lambda_.put_function_concurrency(
            FunctionName=lab.function_name("items"), ReservedConcurrentExecutions=0
        )
        assert_not_yet(check.throttled(lab, None), "off switch")
        spans = solutions.throttled(lab)
        assert_not_yet(check.throttled(lab, spans[spans["status"] != 429]), "no call in that run")
        assert_solved(check.throttled(lab, spans))
    finally:
        lambda_.delete_function_concurrency(FunctionName=lab.function_name("items"))


def test_function_memory_before_the_function_is_deployed() -> None:
    assert_not_yet(
        check.function_memory(Lab(backend="memory", student="nofunctions"), "", "items", 512),
        "no function",
        "lab.require('functions')",
    )


def test_nothing_left_and_student_reset() -> None:
    student = f"gone-{_RUN}"
    lab = Lab(backend="memory", student=student)
    lab.require("functions")
    teaching.ensure_stats_function(lab)
    lab.destroy()
    # what the student made by hand outlives the steps; forgetting the lab's records does not remove it
    assert_not_yet(check.nothing_left(lab), "function sl-gone", "by hand")
    lab.outputs.clear()
    assert_not_yet(check.nothing_left(lab), "resource(s) left")
    admin = Lab(backend=lab.backend, student=f"admin-{_RUN}")
    assert_not_yet(check.student_reset(admin, student), f"of {student} remain")
    # the shortcut: forgetting the student's saved outputs removes nothing of theirs
    (lab_home() / "outputs" / lab.backend.key / f"{student}.json").unlink(missing_ok=True)
    assert_not_yet(check.student_reset(admin, student), f"of {student} remain")
    solutions.nothing_left(lab)
    assert_solved(check.nothing_left(lab))
    lab.require("table")
    solutions.student_reset(admin, student)
    assert reset_student(lab.backend, student).empty
    assert_solved(check.student_reset(admin, student))


def test_the_starter_handler_of_05_is_the_one_the_catch_up_deploys() -> None:
    import jupytext

    notebook = jupytext.read(ROOT / "notebooks" / "05-functions.md")
    written = [
        c.source for c in notebook.cells if c.cell_type == "code" and c.source.startswith("%%writefile")
    ]
    assert written, "05-functions writes the stats handler with %%writefile"
    assert written[0].split("\n", 1)[1].rstrip() == teaching.STATS_STARTER.rstrip()
    assert json.loads(json.dumps(teaching.STATS_STARTER))  # a plain string, shown whole
