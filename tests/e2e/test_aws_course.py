"""Issue 20's proof without an account: the whole course's aws path against the stand-in of AWS.

One stand-in (tests/e2e/aws_stand_in.py: moto with AWS's documented behaviours injected, and the lab's data
plane playing CloudFront, API Gateway and Lambda) and one fresh Python process running the course
(tests/e2e/aws_course.py: every step, the notebooks' aws-relevant cells, the flow, the instructor's
operations, destroy), which prints its facts. The process gets what a user's shell might hold: a region
in AWS_REGION (not the default one), and a leftover LocalStack endpoint in AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_S3 pointing at a socket this test listens on. Each test below checks one promise of the
issue from those facts, the process's output and the stand-in's ledger (what AWS would have sent or
refused).

The stand-in runs AWS's clock 50 times faster (a CloudFront deployment of "a few minutes" takes seconds).
Two durations take the long end of what AWS documents, so that the behaviour is met whatever the load
of the machine: a deleted table stays DELETING for a minute, and a new role reaches Lambda after 40 s
(the lab retries CreateFunction for 60).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_stand_in import ACCOUNT, start_stand_in

pytestmark = pytest.mark.server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REGION = "eu-central-1"  # not the offline default: the region must come from the user's configuration
STUDENT = "ada"
COURSE_TIMING = {"table_deleting_s": 60.0, "iam_propagation_s": 40.0}


@dataclass
class CourseRun:
    facts: dict[str, Any]
    stdout: str
    stderr: str
    ledger: dict[str, list[dict[str, str]]]
    redirect_connections: int  # connections the leftover AWS_ENDPOINT_URL's listener received

    def refused(self, operation: str, code: str) -> int:
        return sum(1 for e in self.ledger["refused"] if (e["operation"], e["code"]) == (operation, code))


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseRun:
    home = tmp_path_factory.mktemp("aws-course")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    leftover = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stand_in = start_stand_in(home, region=REGION, timing=COURSE_TIMING)
    try:
        info = home / "stand-in-info.json"
        info.write_text(json.dumps(stand_in.info()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": "us-west-2",
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_ENDPOINT_URL": leftover, "AWS_ENDPOINT_URL_S3": leftover,
                    "SERVERLESS_LAB_HOME": str(home / "lab"), "PYTHONUNBUFFERED": "1"})  # fmt: skip
        run = subprocess.run(
            [sys.executable, str(HERE / "aws_course.py"), str(info), STUDENT],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, f"the course failed:\n{run.stderr[-6000:]}\n{run.stdout[-2000:]}"
        ledger = stand_in.ledger()
    finally:
        stand_in.stop()
    listener.settimeout(0)
    connections = 0
    while True:
        try:
            listener.accept()[0].close()
            connections += 1
        except BlockingIOError:
            break
    listener.close()
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"aws course: {facts['seconds']} s, by section: {facts['timings']}")
    return CourseRun(facts, run.stdout, run.stderr, ledger, connections)


def test_the_course_reaches_only_the_stand_in_whatever_the_environment_says(course: CourseRun) -> None:
    facts = course.facts
    assert facts["account"] == ACCOUNT  # not moto's 123456789012
    assert facts["region"] == REGION  # AWS_REGION, over AWS_DEFAULT_REGION and the offline default
    assert len(facts["endpoints"]) == 1 and facts["endpoints"][0].startswith("http://127.0.0.1:")
    # No client of the lab, its flow or its helpers followed the leftover endpoint variables, and no
    # connection left loopback (the course refuses them and lists every attempt).
    assert course.redirect_connections == 0
    assert facts["connection_attempts"] == []


def test_apply_on_aws_shows_the_plan_and_the_cost_and_changes_nothing_unconfirmed(course: CourseRun) -> None:
    facts = course.facts
    assert facts["refused_without_confirm"] is True
    assert f"AWS account {ACCOUNT} ({REGION})" in facts["refusal"]
    assert "lab.apply('site', confirm=True)" in facts["refusal"]
    assert facts["preview_cost"].startswith("Estimated monthly cost for 1,000 user sessions")
    assert facts["mutating_calls_without_confirm"] == []
    assert f"apply on AWS account {ACCOUNT}, region {REGION}, student 'ada'" in course.stdout
    # The CLI's question: without a terminal and without --yes it refuses; --yes goes ahead.
    assert facts["cli_without_yes"] is False
    assert "run the same command with --yes" in course.stderr
    assert facts["cli_with_yes"] is True
    assert facts["mutating_calls_by_cli_questions"] == []


def test_every_step_applies_and_verifies_on_aws(course: CourseRun) -> None:
    facts = course.facts
    assert facts["status_before"] == ["absent"]
    assert [facts[f"verify_{step}"] for step in ("site", "cdn", "users", "table", "functions", "api")] == [
        True
    ] * 6
    assert facts["site_objects"] == 6 and facts["plan_site_after"] == 0
    assert facts["edge"] == [[200, "Miss"], [200, "Hit"], [200, "Miss"]]
    assert facts["cache_behaviors"] == 3
    assert facts["ada_items"] == 3


def test_waits_show_what_they_wait_for_and_aws_typical_duration(course: CourseRun) -> None:
    err = course.stderr
    assert "to be Deployed to the edge (AWS: typically a few minutes)" in err
    assert "DynamoDB table sl-ada-items to be deleted (AWS: typically seconds to a minute)" in err
    assert "to reach Lambda (CreateFunction: the role cannot be assumed yet) (AWS: typically seconds)" in err
    assert "DeleteRestApi: API Gateway allows one every 30 s per account" in err


def test_a_new_role_refused_by_lambda_is_waited_for(course: CourseRun) -> None:
    assert course.refused("CreateFunction", "InvalidParameterValueException") >= 1
    assert course.facts["verify_functions"] is True


def test_a_deleting_table_is_waited_for_before_it_is_made_again(course: CourseRun) -> None:
    facts = course.facts
    assert facts["deleting_status"] == "DELETING"
    assert facts["deleting_plan"] == ["wait:table_not_exists", "create_table"]
    assert facts["table_after_deleting"] is True


def test_every_invalidation_has_a_reference_of_its_own(course: CourseRun) -> None:
    facts = course.facts
    references = facts["revert_references"]
    assert len(references) == 3 and len(set(references)) == 3  # A, B, A: three invalidations
    assert facts["plan_after_each_change"] == [0, 0, 0]
    assert facts["interrupted_replanned"] == ["create_invalidation"]
    assert facts["interrupted_same_reference"] is True
    assert facts["plan_after_interrupted"] == 0
    assert facts["invalidations_made"] == 5  # one by hand, three reverts, the interrupted one (once)
    assert course.refused("CreateInvalidation", "InvalidationBatchAlreadyExists") == 0


def test_a_distribution_made_again_after_a_destroy_has_a_new_caller_reference(course: CourseRun) -> None:
    assert course.facts["cdn_recreated"] is True
    assert course.refused("CreateDistribution", "DistributionAlreadyExists") == 0


def test_the_pool_lets_only_administrators_create_users_and_no_email_is_sent(course: CourseRun) -> None:
    facts = course.facts
    assert facts["self_sign_up"] is False
    assert facts["self_sign_up_attempt"].startswith("NotAuthorizedException:NotAuthorizedException:")
    assert "SignUp is not permitted for this user pool" in facts["self_sign_up_attempt"]
    assert course.refused("SignUp", "NotAuthorizedException") == 1  # the ledger sees Cognito's answers
    assert facts["id_token_claims"] == ["aud", "auth_time", "cognito:username"]
    # Sample users, extras, the flow's users: Cognito's default sender sent nothing at all.
    assert course.ledger["messages"] == []
    assert course.refused("SignUp", "LimitExceededException") == 0


def test_functions_run_in_lambda_and_nothing_local_writes_a_log_group(course: CourseRun) -> None:
    facts = course.facts
    assert facts["invokes"] == [[200, True, True], [200, False, True]]  # cold then warm, billed by Lambda
    assert facts["invoke_calls"] == 4  # every lab.invoke() is Lambda's Invoke API
    assert facts["dataplane_made"] is False
    assert facts["dataplane_on_aws"].startswith("UsageError::The aws backend has no local data plane")
    assert facts["cache_table_on_aws"].startswith("UsageError::The aws backend has no local data plane")
    assert facts["refresh_on_aws"] == ""  # nothing to refresh on AWS, and no error in the notebook's cell
    assert facts["log_writes"] == []  # the lab process sent no CreateLogStream or PutLogEvents
    assert facts["report_lines"] == 2 and facts["function_logs"] > 0  # Lambda's own lines, read back
    assert facts["invoke_api"] == [200, 200]
    assert facts["sleepy"] == ["Unhandled", True]  # updated (code, then configuration) and timed out


def test_the_api_is_throttled_and_its_extras_are_built_the_careful_way(course: CourseRun) -> None:
    facts = course.facts
    assert facts["stage_throttle"] == {"rateLimit": 10.0, "burstLimit": 20}
    assert facts["stage_throttle_set"] == 10.0
    assert facts["api_calls"] == [200, 201, 401, 403]
    assert facts["echo"] == [200, "/hello/world"]
    assert facts["gatekeeper"] == [200, 403]
    assert facts["permissions_have_source_arn"] is True
    assert facts["extra_apis_tagged"] is True
    # Lambda refused no update while another was InProgress: the extras wait for each.
    assert course.refused("UpdateFunctionConfiguration", "ResourceConflictException") == 0
    assert course.refused("UpdateFunctionCode", "ResourceConflictException") == 0


def test_the_flow_reads_the_stack_and_makes_its_users_without_email(course: CourseRun) -> None:
    facts = course.facts
    assert "AdminCreateUser with MessageAction=SUPPRESS" in facts["flow_how"]
    assert "run_flow on aws: each simulated user is made by an administrator" in course.stdout
    assert facts["flow_completed"] == [True, True]
    assert facts["flow_lambda_spans"] == 10  # five API calls per user, from Lambda's REPORT lines
    assert {"site", "sign-up", "sign-in", "create", "list", "get", "update", "delete"} <= set(
        facts["flow_steps"]
    )
    assert facts["site_url"] is True


def test_the_instructor_resets_a_class_at_the_pace_api_gateway_allows(course: CourseRun) -> None:
    facts = course.facts
    assert facts["students_seen"] is True
    assert facts["reset_left"] == 0
    assert facts["progress_rows"] == 1
    assert facts["pacer_waited_s"] > 0  # AWS seconds the lab waited for the DeleteRestApi quota


def test_a_failed_cdn_destroy_keeps_the_site_and_says_why(course: CourseRun) -> None:
    facts = course.facts
    failure = facts["destroy_with_cdn_failing"]
    assert failure.startswith("StepError:")
    assert "PreconditionFailed" in failure
    assert "site: not destroyed, because the cdn step could not be" in failure
    assert facts["bucket_kept"] is True and facts["distribution_kept"] is True
    assert facts["steps_left_after_failure"] == ["site", "cdn"]
    assert course.refused("UpdateDistribution", "PreconditionFailed") == 1


def test_destroy_leaves_nothing_and_says_where_it_searched(course: CourseRun) -> None:
    facts = course.facts
    assert facts["leftovers_before"] > 0
    # Everything the lab made (the extras too) carries the student tag, which destroy finds it by.
    assert facts["untagged_before_teardown"] == []
    kinds = ["api", "bucket", "distribution", "function", "log", "policy", "pool", "role", "table"]
    assert facts["tag_checked"] == kinds
    assert facts["leftovers_after"] == []
    assert facts["account_wide_leftovers"] == []
    assert facts["check_nothing_left"] is True
    assert facts["plans_after"] == {
        step: True for step in ("site", "cdn", "users", "table", "functions", "api")
    }
    assert f"destroy: searching AWS account {ACCOUNT}, region {REGION}" in course.stdout


def test_reading_a_url_never_deploys(course: CourseRun) -> None:
    facts = course.facts
    assert facts["site_url_after_destroy"].startswith("StepError::The site step is not deployed")
    assert "lab.require('cdn', confirm=True)" in facts["site_url_after_destroy"]
    assert facts["trace_after_destroy"].startswith("StepError::The site step is not deployed")
    assert facts["mutating_calls_by_reads"] == []


def test_the_memory_backend_refuses_to_start_beside_the_aws_backend(course: CourseRun) -> None:
    assert course.facts["memory_beside_aws"].startswith("AwsGuardError::This Python process already uses")
