"""The helpers around the student's own calls: AWS's errors in one line, names, catching up a fresh kernel
on the earlier notebooks only, and the API over real HTTP."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from serverless_lab import Lab, teaching
from serverless_lab.steps import STEPS, StepContext


def test_aws_errors_shows_the_refusal_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    lab = Lab(backend="memory", student=f"ae-{uuid.uuid4().hex[:4]}")
    with teaching.aws_errors() as seen:
        lab.backend.client("dynamodb").describe_table(TableName="no-such-table")
    assert seen and seen.code == "ResourceNotFoundException" and seen.status == 400
    assert capsys.readouterr().out.startswith("AWS answered ResourceNotFoundException (HTTP 400): ")
    with teaching.aws_errors() as seen:
        lab.backend.client("s3").put_object(Bucket="b")  # no Key: boto3 refuses before sending
    assert (
        seen.code == "ParamValidationError" and "refused the call before sending" in capsys.readouterr().out
    )
    with teaching.aws_errors() as seen:
        pass
    assert not seen and capsys.readouterr().out == ""
    with pytest.raises(ZeroDivisionError), teaching.aws_errors():  # not AWS's: a traceback, as usual
        1 / 0  # noqa: B018


def test_the_names_a_student_uses_are_the_ones_the_steps_look_for() -> None:
    lab = Lab(backend="memory", student="names")
    context = StepContext(lab.backend, lab.names, {}, lab.root)
    steps = {name: STEPS[name](context) for name in STEPS}
    names = lab.names
    assert names.table == steps["table"].table_name and names.user_pool == steps["users"].pool_name
    assert names.app_client == steps["users"].client_name and names.oac == steps["cdn"].oac_name
    assert names.role == steps["functions"].role_name and names.role_policy == steps["functions"].policy_name
    assert names.api == steps["api"].api_name and names.authorizer == steps["api"].authorizer_name
    assert names.function("items") == steps["functions"].function_name("items")


def test_catch_up_builds_only_what_earlier_notebooks_build() -> None:
    lab = Lab(backend="memory", student=f"cu-{uuid.uuid4().hex[:4]}")
    assert teaching.catch_up(lab, "01") == {}
    teaching.catch_up(lab, "03")
    states = {name: lab.step(name).state() for name in lab.steps}
    assert states == {"site": "deployed", "cdn": "deployed", "users": "absent", "table": "absent",
                      "functions": "absent", "api": "absent"}  # fmt: skip
    teaching.catch_up(lab, "06")
    assert lab.step("functions").state() == "deployed" and lab.step("api").state() == "absent"
    # 05's stats function, as its cell writes it, not tagged: no step owns it
    function = lab.backend.client("lambda").get_function(FunctionName=lab.names.function("stats"))
    assert "serverless-lab:student" not in function.get("Tags", {})
    assert (teaching.workspace(lab) / "stats.py").read_text() == teaching.STATS_STARTER
    teaching.catch_up(lab, "07")
    assert teaching.resource_id(lab, "/items/stats") and lab.verify("api").passed
    lab.destroy()
    left = teaching.leftovers(lab)
    assert list(left["name"]) == [lab.names.function("stats")] or set(left["kind"]) <= {
        "function",
        "log group",
    }
    assert teaching.remove_student_work(lab) and teaching.leftovers(lab).empty


def test_a_student_made_function_is_kept_by_catch_up() -> None:
    lab = Lab(backend="memory", student=f"ck-{uuid.uuid4().hex[:4]}")
    lab.require("functions")
    path = teaching.workspace(lab) / "stats.py"
    path.write_text(teaching.STATS_STARTER.replace('"items": answer["Count"]', '"mine": answer["Count"]'))
    lab.backend.client("lambda").create_function(
        FunctionName=lab.names.function("stats"), Role=lab.outputs["functions"]["role_arn"], Runtime="python3.12",
        Handler="stats.handler", Code={"ZipFile": teaching.zip_file(path)},
        Environment={"Variables": {"TABLE_NAME": lab.names.table}},
    )  # fmt: skip
    teaching.catch_up(lab, "06")
    event = {
        "requestContext": {"authorizer": {"claims": {"sub": lab.outputs["users"]["sample_subs"]["ada"]}}}
    }
    assert '"mine": 3' in lab.invoke("stats", event).payload["body"]


@pytest.mark.server
def test_the_api_over_http_with_the_students_token(local_backend: object) -> None:
    lab = Lab(backend="local", student=f"hc-{uuid.uuid4().hex[:4]}")
    teaching.catch_up(lab, "07")
    url, token = teaching.api_url(lab), teaching.sign_in(lab, "grace").id_token
    assert url.startswith("http://127.0.0.1:")
    created = teaching.http_call("POST", url + "/items", token=token, body={"title": "over HTTP"})
    assert created.status == 201 and created.body["title"] == "over HTTP"
    stats = teaching.http_call("GET", url + "/items/stats", token=token)
    assert stats.status == 200 and stats.body == {"items": 3}
    refused = teaching.http_call("GET", url + "/items")
    assert refused.status == 401 and "401" in str(refused)
    with pytest.raises(ClientError):
        lab.backend.client("lambda").get_function(FunctionName=lab.names.function("nothing"))
    lab.destroy()
    teaching.remove_student_work(lab)
