"""The functions step's role is least privilege, provably (issue #17, point 8): over real HTTP against
`serve` on the local backend, every route of the items API works with the role's policy as the step writes
it, and with each action taken out of that policy in turn (plain boto3: a new default version of the
step's policy), exactly the route that needs it breaks: the items function catches the AccessDenied-
Exception, answers 500 {"message": "Internal server error"} and logs the refusal. The log actions break no
route: without them the functions' logs stop reaching CloudWatch Logs, as on Lambda."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from serverless_lab import Lab, flow
from serverless_lab.steps.lambda_policies import LOG_ACTIONS, TABLE_ACTIONS

pytestmark = pytest.mark.server

ROUTES = ("GET /items", "POST /items", "GET /items/{id}", "PUT /items/{id}", "DELETE /items/{id}")
WORKING = {"GET /items": 200, "POST /items": 201, "GET /items/{id}": 200, "PUT /items/{id}": 200}
WORKING["DELETE /items/{id}"] = 204
NEEDED_BY = {
    "dynamodb:Query": "GET /items",
    "dynamodb:PutItem": "POST /items",
    "dynamodb:GetItem": "GET /items/{id}",
    "dynamodb:UpdateItem": "PUT /items/{id}",
    "dynamodb:DeleteItem": "DELETE /items/{id}",
}


@dataclass
class Stack:
    lab: Lab
    host: str
    port: int
    api_path: str
    token: str = ""
    owner: str = ""
    policy: dict[str, Any] = field(default_factory=dict)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers or {})
            answer = connection.getresponse()
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
        finally:
            connection.close()

    def call(self, route: str, item_id: str) -> tuple[int, Any]:
        method, template = route.split(" ")
        path = self.api_path + template.replace("{id}", item_id)
        body = (
            {"title": "changed", "version": 1}
            if method == "PUT"
            else {"title": "new"}
            if method == "POST"
            else None
        )
        headers = {"Authorization": self.token, "Content-Type": "application/json"}
        return self.request(method, path, body, headers)  # type: ignore[no-any-return]

    def seed_item(self) -> str:
        """An item of the user's, written with the lab's own keys (not through the routes under test)."""
        item_id = f"{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:16]}"
        item = {
            "owner": {"S": self.owner},
            "itemId": {"S": item_id},
            "title": {"S": "seeded"},
            "version": {"N": "1"},
            "createdAt": {"S": "2025-01-01T00:00:00.000Z"},
            "updatedAt": {"S": "2025-01-01T00:00:00.000Z"},
        }
        table = self.lab.outputs["table"]["table_name"]
        self.lab.backend.client("dynamodb").put_item(TableName=table, Item=item)
        return item_id

    def routes(self) -> dict[str, int]:
        """Every route once, on a fresh item: route -> HTTP status."""
        item_id = self.seed_item()
        return {route: self.call(route, item_id)[0] for route in ROUTES}


@pytest.fixture(scope="module")
def stack(local_backend: Any) -> Iterator[Stack]:
    lab = Lab(backend=local_backend, student=f"lp-{uuid.uuid4().hex[:6]}")
    lab.require("api")
    server = lab.serve()
    host, port = server.url.removeprefix("http://").split(":")
    api = lab.outputs["api"]
    stack = Stack(lab, host, int(port), f"/restapis/{api['rest_api_id']}/{api['stage']}/_user_request_")
    users = lab.outputs["users"]
    status, answer = stack.request(
        "POST",
        "/cognito-idp/",
        {
            "ClientId": users["client_id"],
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada", "PASSWORD": "Analytical1843"},
        },
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    assert status == 200, answer
    stack.token, stack.owner = answer["AuthenticationResult"]["IdToken"], users["sample_subs"]["ada"]
    iam = lab.backend.client("iam")
    policy_arn = lab.outputs["functions"]["policy_arn"]
    default = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    stack.policy = iam.get_policy_version(PolicyArn=policy_arn, VersionId=default)["PolicyVersion"][
        "Document"
    ]
    yield stack
    server.stop()
    local_backend.services.pop("server", None)
    lab.dataplane().flush_logs()
    lab.destroy()


@pytest.fixture
def without(stack: Stack, request: pytest.FixtureRequest) -> Iterator[str]:
    """The step's policy with one action taken out (a new default version), restored afterwards."""
    action = request.param
    iam = stack.lab.backend.client("iam")
    policy_arn = stack.lab.outputs["functions"]["policy_arn"]
    document = json.loads(json.dumps(stack.policy))
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    original = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    version = iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
    )
    yield action
    iam.set_default_policy_version(PolicyArn=policy_arn, VersionId=original)
    iam.delete_policy_version(PolicyArn=policy_arn, VersionId=version["PolicyVersion"]["VersionId"])


def _refusals_since(stack: Stack, started_ms: int) -> set[str]:
    stack.lab.dataplane().flush_logs()
    logs = stack.lab.backend.client("logs")
    return {
        denial.action for denial in flow.refusals_in_logs(logs, stack.lab.function_name("items"), started_ms)
    }


def _items_log_lines_since(stack: Stack, started_ms: int) -> list[str]:
    stack.lab.dataplane().flush_logs()
    group = f"/aws/lambda/{stack.lab.function_name('items')}"
    events = stack.lab.backend.client("logs").filter_log_events(logGroupName=group, startTime=started_ms)
    return [event["message"] for event in events["events"]]


def test_the_step_s_policy_is_exactly_the_table_and_log_actions(stack: Stack) -> None:
    granted = sorted(action for statement in stack.policy["Statement"] for action in statement["Action"])
    assert granted == sorted(TABLE_ACTIONS + LOG_ACTIONS)
    assert set(NEEDED_BY) == set(TABLE_ACTIONS)


def test_every_route_works_with_the_policy_the_step_writes(stack: Stack) -> None:
    started_ms = int(time.time() * 1000)
    assert stack.routes() == WORKING
    assert _refusals_since(stack, started_ms) == set()
    assert any('"request handled"' in line for line in _items_log_lines_since(stack, started_ms))


@pytest.mark.parametrize("without", TABLE_ACTIONS, indirect=True)
def test_without_a_table_action_exactly_its_route_breaks(stack: Stack, without: str) -> None:
    started_ms = int(time.time() * 1000)
    expected = {route: 500 if route == NEEDED_BY[without] else status for route, status in WORKING.items()}
    assert stack.routes() == expected
    # The items function caught the AccessDeniedException and logged it: the refusal names the action.
    assert _refusals_since(stack, started_ms) == {without}


@pytest.mark.parametrize("without", ["logs:PutLogEvents"], indirect=True)
def test_without_put_log_events_every_route_works_and_no_log_line_arrives(stack: Stack, without: str) -> None:
    started_ms = int(time.time() * 1000)
    assert stack.routes() == WORKING
    assert _items_log_lines_since(stack, started_ms) == []


@pytest.mark.parametrize("without", ["logs:CreateLogStream"], indirect=True)
def test_without_create_log_stream_a_new_environment_writes_no_logs(stack: Stack, without: str) -> None:
    # A warm environment writes to the stream it created before; a new one (here: after a configuration
    # change) needs CreateLogStream for its own stream, as on Lambda.
    lambda_client = stack.lab.backend.client("lambda")
    name = stack.lab.function_name("items")
    variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "REDEPLOYED": uuid.uuid4().hex}}
    )
    try:
        time.sleep(1.1)  # the data plane reads configuration at most a second old
        started_ms = int(time.time() * 1000)
        assert stack.routes() == WORKING
        assert _items_log_lines_since(stack, started_ms) == []
    finally:
        lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
