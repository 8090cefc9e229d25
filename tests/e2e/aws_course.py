"""The whole course on the aws backend, against the stand-in of AWS: run by test_aws_course.py in a fresh
process, it prints one JSON line of facts for the test to check.

    python tests/e2e/aws_course.py STAND_IN_JSON STUDENT

What it runs is what the notebooks run (their aws-relevant cells, or the library call a cell makes), in
order: 00 plan and status; 01 the site; 02 the distribution, edge requests and an invalidation; 03 users,
sign-in and a sign-up attempt; 04 the table; 05 the functions, invoke and logs, a function that times
out; 06 the API, calls through it, the extra APIs; 07 the flow; 10 the instructor's operations; 09
teardown. On the way it provokes what the aws backend must survive: a confirmation refused, a site
reverted (A, B, A), an interrupted invalidation, a table still DELETING, a distribution made again after a
destroy. Every connection the process opens is checked: only the stand-in on loopback may be reached.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from loopback_guard import ATTEMPTS  # noqa: E402  (before anything opens a socket)

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import aws_stand_in  # noqa: E402
import boto3  # noqa: E402

from serverless_lab import Lab, flow, teaching  # noqa: E402
from serverless_lab.backends.aws import configured_region  # noqa: E402
from serverless_lab.errors import ConfirmationRequiredError, LabError, StepError, UsageError  # noqa: E402
from serverless_lab.preview import confirmed  # noqa: E402

EVENT = {"httpMethod": "GET", "resource": "/me",
         "requestContext": {"authorizer": {"claims": {"sub": "42", "cognito:username": "ada"}}}}  # fmt: skip
MUTATING = (
    "Create",
    "Put",
    "Update",
    "Delete",
    "Tag",
    "Add",
    "Attach",
    "AdminCreate",
    "AdminSet",
    "AdminDelete",
)


def error_of(call: Any) -> str:
    try:
        call()
    except Exception as error:
        code = (
            getattr(error, "response", {}).get("Error", {}).get("Code")
            if hasattr(error, "response")
            else None
        )
        return f"{type(error).__name__}:{code or ''}:{error}"
    return ""


def account_wide_leftovers(backend: Any, prefix: str) -> list[str]:
    """Everything in the stand-in's account whose name carries the student's prefix, read with plain boto3."""
    found = []
    s3, cloudfront = backend.client("s3"), backend.client("cloudfront")
    found += [
        f"bucket {b['Name']}" for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith(prefix)
    ]
    for item in cloudfront.list_distributions()["DistributionList"].get("Items") or []:
        if f"({prefix})" in (item.get("Comment") or ""):
            found.append(f"distribution {item['Id']}")
    for item in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []:
        if item["Name"].startswith(prefix):
            found.append(f"oac {item['Name']}")
    found += [
        f"table {t}" for t in backend.client("dynamodb").list_tables()["TableNames"] if t.startswith(prefix)
    ]
    pools = backend.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    found += [f"pool {p['Name']}" for p in pools if p["Name"].startswith(prefix)]
    functions = backend.client("lambda").list_functions()["Functions"]
    found += [f"function {f['FunctionName']}" for f in functions if f["FunctionName"].startswith(prefix)]
    iam = backend.client("iam")
    found += [f"role {r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    found += [
        f"policy {p['PolicyName']}"
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"].startswith(prefix)
    ]
    apis = backend.client("apigateway").get_rest_apis()["items"]
    found += [f"api {a['name']}" for a in apis if a["name"].startswith(prefix)]
    groups = backend.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/" + prefix)[
        "logGroups"
    ]
    found += [f"log group {g['logGroupName']}" for g in groups]
    return found


def untagged(backend: Any, prefix: str, student: str) -> tuple[list[str], list[str]]:
    """What of the student's prefix was checked, and what does not carry the student tag, read with plain
    boto3 (CloudFront's origin access controls take no tags)."""
    tag = "serverless-lab:student"
    found: list[str] = []
    checked: list[str] = []

    def check(what: str, tags: dict[str, str]) -> None:
        checked.append(what.split(" ")[0])
        if tags.get(tag) != student:
            found.append(what)

    def pairs(items: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
        return {item[key]: item[value] for item in items}

    s3 = backend.client("s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        if bucket["Name"].startswith(prefix):
            check(f"bucket {bucket['Name']}", pairs(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]))
    cloudfront = backend.client("cloudfront")
    for item in cloudfront.list_distributions()["DistributionList"].get("Items") or []:
        if f"({prefix})" in (item.get("Comment") or ""):
            tags = cloudfront.list_tags_for_resource(Resource=item["ARN"])["Tags"].get("Items", [])
            check(f"distribution {item['Id']}", pairs(tags))
    dynamodb = backend.client("dynamodb")
    for name in dynamodb.list_tables()["TableNames"]:
        if name.startswith(prefix):
            arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            check(f"table {name}", pairs(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]))
    cognito = backend.client("cognito-idp")
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"].startswith(prefix):
            check(
                f"pool {pool['Name']}",
                cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("UserPoolTags", {}),
            )
    lambda_ = backend.client("lambda")
    for function in lambda_.list_functions()["Functions"]:
        if function["FunctionName"].startswith(prefix):
            check(
                f"function {function['FunctionName']}",
                lambda_.list_tags(Resource=function["FunctionArn"])["Tags"],
            )
    iam = backend.client("iam")
    for role in iam.list_roles()["Roles"]:
        if role["RoleName"].startswith(prefix):
            check(f"role {role['RoleName']}", pairs(iam.list_role_tags(RoleName=role["RoleName"])["Tags"]))
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["PolicyName"].startswith(prefix):
            check(
                f"policy {policy['PolicyName']}", pairs(iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"])
            )
    for api in backend.client("apigateway").get_rest_apis()["items"]:
        if api["name"].startswith(prefix):
            check(f"api {api['name']}", api.get("tags") or {})
    logs = backend.client("logs")
    for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/" + prefix)["logGroups"]:
        check(
            f"log group {group['logGroupName']}",
            logs.list_tags_log_group(logGroupName=group["logGroupName"])["tags"],
        )
    return sorted(set(checked)), found


def main(info_file: str, student: str) -> dict[str, Any]:
    info = json.loads(Path(info_file).read_text())
    facts: dict[str, Any] = {}
    started = time.monotonic()
    timings: dict[str, float] = {}
    current = ["00-overview", started]

    def mark(section: str) -> None:
        """Ends the section running (its seconds go into timings) and starts `section`."""
        now = time.monotonic()
        timings[str(current[0])] = round(now - float(current[1]), 2)
        current[:] = [section, now]

    backend = aws_stand_in.stand_in_backend_class()(
        region=configured_region(None), moto=info["moto"], dataplane=info["dataplane"], scale=info["scale"]
    )
    backend.start()
    facts["region"] = backend.region
    facts["endpoints"] = sorted(
        {backend.client(s).meta.endpoint_url for s in ("s3", "dynamodb", "lambda", "sts")}
    )

    # 00-overview
    lab = Lab(backend=backend, student=student)
    facts["account"] = lab.names.account_id
    facts["self_sign_up"], facts["stage_throttle"] = lab.self_sign_up, lab.stage_throttle
    facts["plan_site_calls"] = len(lab.plan("site"))
    facts["status_before"] = sorted(set(lab.status()["state"]))

    # Confirmation: apply without confirm changes nothing; the CLI's question without a terminal refuses.
    before = len(backend.calls)
    try:
        lab.apply("site")
        facts["refused_without_confirm"] = False
    except ConfirmationRequiredError as error:
        facts["refused_without_confirm"] = True
        facts["refusal"] = error.message
        facts["preview_cost"] = str(error.preview.estimate).splitlines()[0]
    facts["mutating_calls_without_confirm"] = [
        op for _, op in backend.calls[before:] if op.startswith(MUTATING)
    ]
    facts["cli_without_yes"] = confirmed(lab, "site", yes=False, require=True)
    facts["cli_with_yes"] = confirmed(lab, "site", yes=True, require=True)  # asks nothing, changes nothing
    facts["mutating_calls_by_cli_questions"] = [
        op for _, op in backend.calls[before:] if op.startswith(MUTATING)
    ]

    mark("01-static-site")
    lab.apply("site", confirm=True)
    facts["verify_site"] = lab.verify("site").passed
    s3 = lab.backend.client("s3")
    bucket = lab.outputs["site"]["bucket"]
    facts["site_objects"] = len(s3.list_objects_v2(Bucket=bucket)["Contents"])
    facts["plan_site_after"] = len(lab.plan("site"))

    mark("02-cdn")
    # the distribution takes AWS's minutes, compressed)
    lab.require("site", confirm=True)
    lab.apply("cdn", confirm=True)
    facts["verify_cdn"] = lab.verify("cdn").passed
    answers = [teaching.edge_get(lab, path) for path in ["/style.css", "/style.css", "/index.html"]]
    facts["edge"] = [(a.status, a.x_cache.split(" ")[0]) for a in answers]
    facts["cache_behaviors"] = len(teaching.cache_behaviors(lab))
    cloudfront = lab.backend.client("cloudfront")
    distribution_id = lab.outputs["cdn"]["distribution_id"]
    batch = {"Paths": {"Quantity": 1, "Items": ["/style.css"]}, "CallerReference": str(time.time())}
    facts["invalidation"] = cloudfront.create_invalidation(
        DistributionId=distribution_id, InvalidationBatch=batch
    )["Invalidation"]["Status"]
    facts["cache_table_on_aws"] = error_of(lambda: teaching.cache_table(lab))
    facts["refresh_on_aws"] = error_of(lambda: teaching.refresh(lab))  # 02's cells call it after a change

    mark("01-static-site again")
    # The site reverted (A, B, A): every change invalidates, each with a reference of its own.
    style = lab.root / "data" / "site" / "style.css"
    original = style.read_text()
    references = []
    try:
        for version in (original + "\n/* B */\n", original, original + "\n/* B */\n"):
            style.write_text(version)
            plan = lab.plan("site")
            references += [
                c.params["InvalidationBatch"]["CallerReference"]
                for c in plan
                if c.operation == "create_invalidation"
            ]
            lab.apply("site", confirm=True)
            facts.setdefault("plan_after_each_change", []).append(len(lab.plan("site")))
        # An apply interrupted after the upload: the next plan makes the invalidation it missed, once.
        style.write_text(original)
        plan = lab.plan("site")
        site_step = lab.step("site")
        for call in plan:
            if call.operation != "create_invalidation":
                site_step.execute(call)
        replanned = lab.plan("site")
        facts["interrupted_replanned"] = [c.operation for c in replanned]
        facts["interrupted_same_reference"] = [
            c.params["InvalidationBatch"]["CallerReference"]
            for c in replanned
            if c.operation == "create_invalidation"
        ] == [
            c.params["InvalidationBatch"]["CallerReference"]
            for c in plan
            if c.operation == "create_invalidation"
        ]
        lab.apply("site", confirm=True)
        facts["plan_after_interrupted"] = len(lab.plan("site"))
    finally:
        style.write_text(original)
    facts["revert_references"] = references
    listed = (
        cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items") or []
    )
    facts["invalidations_made"] = len(listed)

    mark("03-users")
    lab.require("cdn", confirm=True)
    lab.apply("users", confirm=True)
    facts["verify_users"] = lab.verify("users").passed
    tokens = teaching.sign_in(lab, "ada")
    facts["id_token_claims"] = sorted(teaching.decode_token(tokens.id_token)["claims"])[:3]
    cognito = lab.backend.client("cognito-idp")
    facts["self_sign_up_attempt"] = error_of(
        lambda: cognito.sign_up(ClientId=lab.outputs["users"]["client_id"], Username="lin", Password="Choose-a-Passw0rd",
                                UserAttributes=[{"Name": "email", "Value": "lin@example.com"}])
    )  # fmt: skip

    mark("04-table")
    lab.require("users", confirm=True)
    lab.apply("table", confirm=True)
    facts["verify_table"] = lab.verify("table").passed
    dynamodb, table = lab.backend.client("dynamodb"), lab.outputs["table"]["table_name"]
    ada = lab.outputs["users"]["sample_subs"]["ada"]
    facts["ada_items"] = len(dynamodb.query(TableName=table, KeyConditionExpression="#o = :o",
                                            ExpressionAttributeNames={"#o": "owner"},
                                            ExpressionAttributeValues={":o": {"S": ada}})["Items"])  # fmt: skip
    # A table deleted by hand stays DELETING: require waits for it to go before it makes it again.
    dynamodb.delete_table(TableName=table)
    facts["deleting_status"] = dynamodb.describe_table(TableName=table)["Table"]["TableStatus"]
    facts["deleting_plan"] = [c.operation for c in lab.plan("table")][:2]
    lab.require("table", confirm=True)
    facts["table_after_deleting"] = lab.verify("table").passed

    mark("05-functions")
    lab.require("table", confirm=True)
    lab.apply("functions", confirm=True)
    facts["verify_functions"] = lab.verify("functions").passed
    runs = [lab.invoke("me", EVENT) for _ in range(2)]
    facts["invokes"] = [(r.payload["statusCode"], r.cold, r.billed_ms > 0) for r in runs]
    facts["dataplane_made"] = "dataplane" in lab.backend.services
    facts["dataplane_on_aws"] = error_of(lab.dataplane)
    logs = lab.backend.client("logs")
    group = "/aws/lambda/" + lab.function_name("me")
    deadline = time.monotonic() + 30
    messages: list[str] = []
    while time.monotonic() < deadline and sum("REPORT" in m for m in messages) < 2:
        messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        time.sleep(0.2)
    facts["report_lines"] = sum("REPORT RequestId" in m for m in messages)
    facts["function_logs"] = len(teaching.function_logs(lab, "me"))
    answer = lab.backend.client("lambda").invoke(
        FunctionName=lab.function_name("me"), Payload=json.dumps(EVENT), LogType="Tail"
    )
    facts["invoke_api"] = (answer["StatusCode"], json.loads(answer["Payload"].read())["statusCode"])
    teaching.deploy_function(lab, "sleepy", teaching.extras.SLEEPY_SOURCE, timeout=1)
    teaching.deploy_function(lab, "sleepy", teaching.extras.SLEEPY_SOURCE, timeout=1, memory=256)  # an update
    slow = lab.invoke("sleepy", {"seconds": 3})
    facts["sleepy"] = (slow.function_error, slow.timed_out)

    mark("06-api")
    lab.require("functions", confirm=True)
    lab.apply("api", confirm=True)
    facts["verify_api"] = lab.verify("api").passed
    gateway = lab.backend.client("apigateway")
    stage = gateway.get_stage(restApiId=lab.outputs["api"]["rest_api_id"], stageName="prod")
    facts["stage_throttle_set"] = stage.get("methodSettings", {}).get("*/*", {}).get("throttlingRateLimit")
    calls = [
        teaching.call_api(lab, "GET", "/items", user="ada"),
        teaching.call_api(lab, "POST", "/items", user="ada", body={"title": "Try the API"}),
        teaching.call_api(lab, "GET", "/items"),
        teaching.call_api(lab, "GET", "/nowhere"),
    ]
    facts["api_calls"] = [call.status for call in calls]
    echo_api = teaching.deploy_echo_api(lab)
    echo = teaching.call_api(lab, "POST", "/hello/world", user="grace", body={"hi": 1}, rest_api_id=echo_api)
    facts["echo"] = (echo.status, echo.json()["path"])
    gate_api = teaching.deploy_authorizer_api(lab)
    # A new permission takes a moment to reach API Gateway (the stand-in reads policies once a second):
    # until then API Gateway answers 500, as on AWS. A notebook's learner would call again.
    deadline = time.monotonic() + 15
    first = teaching.call_api(lab, "GET", "/hello", token="student-ada", rest_api_id=gate_api).status
    while first == 500 and time.monotonic() < deadline:
        time.sleep(0.25)
        first = teaching.call_api(lab, "GET", "/hello", token="student-ada", rest_api_id=gate_api).status
    gate = [first, teaching.call_api(lab, "GET", "/hello", token="blocked", rest_api_id=gate_api).status]
    facts["gatekeeper"] = gate
    policy = json.loads(
        lab.backend.client("lambda").get_policy(FunctionName=lab.function_name("gatekeeper"))["Policy"]
    )
    facts["permissions_have_source_arn"] = all("AWS:SourceArn" in json.dumps(s) for s in policy["Statement"])
    facts["extra_apis_tagged"] = all(
        (a.get("tags") or {}).get("serverless-lab:student") == student
        for a in gateway.get_rest_apis()["items"]
        if a["name"].startswith(lab.names.prefix + "-")
    )

    mark("07-end-to-end")
    # the flow, which on aws only reads the stack and makes its users without e-mail
    targets = flow.targets_for(lab)
    facts["flow_how"] = targets.how_users_are_made
    result = lab.run_flow(users=2, concurrency=1, cloudwatch_wait_s=30)
    facts["flow_completed"] = [session.completed for session in result.sessions]
    spans = result.spans
    facts["flow_lambda_spans"] = int((spans["component"].astype("string") == "lambda-handler").sum())
    facts["flow_steps"] = sorted(set(spans["step"].astype("string")))
    facts["site_url"] = lab.site_url().startswith("https://") and lab.site_url().endswith(".cloudfront.net/")

    mark("10-instructor")
    # two practice students, each with a site and a tagged API, reset one after the other at the pace
    # API Gateway's quotas allow (one DeleteRestApi per 30 s per account)
    practice = [Lab(backend=lab.backend, student=f"{student[:12]}-p{n}") for n in (1, 2)]
    for other in practice:
        other.require("site", confirm=True)
        gateway.create_rest_api(name=other.names("api"), tags={"serverless-lab:student": other.student})
    facts["students_seen"] = all(other.student in teaching.students(lab.backend) for other in practice)
    waited_before = lab.backend.pacer.waited_s
    left = teaching.reset_students(lab.backend, [other.student for other in practice])
    facts["reset_left"] = len(left)
    facts["progress_rows"] = len(teaching.progress(lab.backend, [lab.student]))

    mark("02-cdn again")
    # the distribution destroyed and made again gets a CallerReference of its own
    first_reference = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"][
        "CallerReference"
    ]
    lab.destroy("cdn")
    lab.apply("cdn", confirm=True)
    second = lab.outputs["cdn"]["distribution_id"]
    facts["cdn_recreated"] = (second != distribution_id) and (
        cloudfront.get_distribution_config(Id=second)["DistributionConfig"]["CallerReference"]
        != first_reference
    )

    mark("09-teardown")
    facts["leftovers_before"] = len(teaching.leftovers(lab))
    facts["tag_checked"], facts["untagged_before_teardown"] = untagged(lab.backend, lab.names.prefix, student)
    teaching.remove_extras(lab)
    # Someone changes the distribution in the console while destroy runs: the lab's disable, sent with the
    # ETag it read, is refused (PreconditionFailed), the cdn step cannot go, and the site's bucket stays
    # (a distribution would otherwise point at a bucket name anyone may take).
    console = boto3.client("cloudfront", endpoint_url=info["moto"], region_name=backend.region,
                           aws_access_key_id="console", aws_secret_access_key="console")  # fmt: skip
    changed: list[str] = []

    def change_in_console(**_: Any) -> None:
        if not changed:
            answer = console.get_distribution_config(Id=second)
            config = {**answer["DistributionConfig"], "PriceClass": "PriceClass_200"}
            console.update_distribution(Id=second, IfMatch=answer["ETag"], DistributionConfig=config)
            changed.append(second)

    lab_cloudfront = lab.backend.client("cloudfront")
    lab_cloudfront.meta.events.register("after-call.cloudfront.GetDistributionConfig", change_in_console)
    facts["destroy_with_cdn_failing"] = error_of(lab.destroy)
    lab_cloudfront.meta.events.unregister("after-call.cloudfront.GetDistributionConfig", change_in_console)
    facts["bucket_kept"] = error_of(lambda: s3.head_bucket(Bucket=bucket)) == ""
    facts["distribution_kept"] = error_of(lambda: cloudfront.get_distribution(Id=second)) == ""
    facts["steps_left_after_failure"] = [step for step in lab.steps if lab.step(step).outputs()]
    lab.destroy()  # the console is done: everything goes
    lab.destroy()  # again: nothing left to do
    facts["leftovers_after"] = teaching.leftovers(lab).to_dict("records")
    facts["account_wide_leftovers"] = account_wide_leftovers(lab.backend, lab.names.prefix)
    facts["plans_after"] = {step: len(lab.plan(step)) > 0 for step in lab.steps}
    facts["pacer_waited_s"] = lab.backend.pacer.waited_s - waited_before
    # Reading a URL never deploys: with nothing deployed, it says so.
    calls_before = len(backend.calls)
    facts["site_url_after_destroy"] = error_of(lab.site_url)
    facts["trace_after_destroy"] = error_of(lab.trace)
    facts["mutating_calls_by_reads"] = [
        op for _, op in backend.calls[calls_before:] if op.startswith(MUTATING)
    ]
    facts["check_nothing_left"] = bool(teaching.leftovers(lab).empty)

    mark("the lab's own calls")
    # What the lab process itself sent: no log line of its own into any log group.
    facts["log_writes"] = sorted(
        {
            op
            for service, op in backend.calls
            if service == "logs" and op in ("PutLogEvents", "CreateLogStream")
        }
    )
    facts["invoke_calls"] = sum(1 for service, op in backend.calls if (service, op) == ("lambda", "Invoke"))
    # The memory backend cannot start beside an aws backend (its mock would capture the aws clients).
    facts["memory_beside_aws"] = error_of(lambda: Lab(backend="memory", student="mem"))
    facts["connection_attempts"] = list(ATTEMPTS)
    mark("end")
    facts["seconds"] = round(time.monotonic() - started, 1)
    facts["timings"] = timings
    return facts


if __name__ == "__main__":
    try:
        outcome = main(sys.argv[1], sys.argv[2])
    except (LabError, StepError, UsageError, Exception):
        traceback.print_exc()
        sys.exit(1)
    print(json.dumps(outcome, default=str))
