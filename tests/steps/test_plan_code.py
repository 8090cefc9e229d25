"""A plan as boto3 code: every parameter in full, and code that deploys the step when run as printed."""

from __future__ import annotations

import uuid

from serverless_lab import Lab
from serverless_lab.steps import ORDER


def test_the_code_of_every_plan_deploys_its_step_when_run_as_printed() -> None:
    lab = Lab(backend="memory", student=f"code-{uuid.uuid4().hex[:4]}")
    for step in ORDER:
        plan = lab.plan(step)
        code = plan.code()
        assert len(code.splitlines()) > len(plan)
        assert "…" not in code  # nothing cut, unlike the table's 60 characters
        exec(compile(code, f"<plan {step}>", "exec"), {"lab": lab, **code.blobs})
        assert lab.plan(step) == [], f"{step}: the code left {lab.plan(step)}"
    assert lab.verify("api").passed


def test_the_code_shows_policies_as_documents_and_later_values_as_variables() -> None:
    lab = Lab(backend="memory", student=f"code-{uuid.uuid4().hex[:4]}")
    lab.require("table")
    code = lab.plan("functions").code()
    # The trust policy is shown whole, as a document, not as an escaped JSON string.
    assert "AssumeRolePolicyDocument=json.dumps(" in code
    assert "'Principal': {'Service': 'lambda.amazonaws.com'}" in code
    assert code.startswith("import json\n")
    # Each zip is a named variable; its bytes come with the code.
    zips = [name for name in code.blobs if name.endswith("zipfile")]
    assert len(zips) == 2 and all(f"{{'ZipFile': {name}}}" in code for name in zips)
    lab.require("functions")
    lab.require("users")
    api = lab.plan("api").code()
    assert "rest_api = apigateway.create_rest_api(" in api and "rest_api_id = rest_api['id']" in api
    assert "root_resource_id = rest_api['rootResourceId']" in api and "restApiId=rest_api_id" in api
