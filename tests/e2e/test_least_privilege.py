"""The functions step's role is least privilege, provably (issue #17, point 8): over real HTTP against
`serve` on the local backend, every route of the items API (each method of each resource in the api
step's design, OPTIONS included) works with the role's policy as the step writes it, and with each action
taken out of that policy in turn (plain boto3: a new default version of the step's policy), exactly the
route that needs it breaks: the items function catches the AccessDeniedException, answers 500
{"message": "Internal server error"} and logs the refusal. The log actions break no route: without them
the functions' logs stop reaching CloudWatch Logs, as on Lambda.

Narrower than needed fails the first test; wider fails the exact-document test (the actions are written
out here, the ARNs are read from the table and the log groups, not from lambda_policy()), and each
resource is shown to be needed (without a function's log group, that function's logs stop) and to be
the limit (the items function pointed at another table is refused every call)."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from serverless_lab import Lab, flow
from serverless_lab.steps.api_design import FUNCTIONS
from serverless_lab.steps.api_design import ROUTES as DESIGN
from serverless_lab.steps.lambda_policies import normalize_policy

pytestmark = pytest.mark.server

ROUTES = tuple(f"{method} {route.path}" for route in DESIGN for method in route.all_methods)
FUNCTION_OF = {f"{method} {route.path}": route.function for route in DESIGN for method in route.all_methods}
WORKING = {
    "GET /items": 200,
    "POST /items": 201,
    "OPTIONS /items": 200,
    "GET /items/{id}": 200,
    "PUT /items/{id}": 200,
    "DELETE /items/{id}": 204,
    "OPTIONS /items/{id}": 200,
    "GET /me": 200,
    "OPTIONS /me": 200,
}
# Written out, not imported from lambda_policies: an action added to the step's policy must be justified
# here by the route that needs it.
NEEDED_BY = {
    "dynamodb:Query": "GET /items",
    "dynamodb:PutItem": "POST /items",
    "dynamodb:GetItem": "GET /items/{id}",
    "dynamodb:UpdateItem": "PUT /items/{id}",
    "dynamodb:DeleteItem": "DELETE /items/{id}",
}
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


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
        if method == "OPTIONS":  # a browser's CORS preflight: no token
            headers = {"Origin": "http://localhost", "Access-Control-Request-Method": "GET"}
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

    @contextmanager
    def policy_changed(self, change: Callable[[dict[str, Any]], None]) -> Iterator[None]:
        """The step's policy changed by `change` (plain boto3: a new default version), put back after."""
        iam = self.lab.backend.client("iam")
        policy_arn = self.lab.outputs["functions"]["policy_arn"]
        document = json.loads(json.dumps(self.policy))
        change(document)
        document["Statement"] = [s for s in document["Statement"] if s["Action"] and s["Resource"]]
        original = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        version = iam.create_policy_version(
            PolicyArn=policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
        try:
            yield
        finally:
            iam.set_default_policy_version(PolicyArn=policy_arn, VersionId=original)
            iam.delete_policy_version(PolicyArn=policy_arn, VersionId=version["PolicyVersion"]["VersionId"])

    def log_lines_since(self, function: str, started_ms: int) -> list[str]:
        self.lab.dataplane().flush_logs()
        group = f"/aws/lambda/{self.lab.function_name(function)}"
        events = self.lab.backend.client("logs").filter_log_events(logGroupName=group, startTime=started_ms)
        return [event["message"] for event in events["events"]]

    def refusals_since(self, started_ms: int) -> list[flow.AccessDenied]:
        self.lab.dataplane().flush_logs()
        logs = self.lab.backend.client("logs")
        return flow.refusals_in_logs(logs, self.lab.function_name("items"), started_ms)


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


def without_action(action: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            statement["Action"] = [a for a in statement["Action"] if a != action]

    return change


def without_log_group_of(function_name: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            resources = statement["Resource"]
            if isinstance(resources, list):
                statement["Resource"] = [
                    r for r in resources if f":log-group:/aws/lambda/{function_name}:" not in r
                ]

    return change


@contextmanager
def function_environment(stack: Stack, function: str, **variables: str) -> Iterator[None]:
    """The function's environment variables changed (plain boto3), which also starts new execution
    environments; put back after."""
    lambda_client = stack.lab.backend.client("lambda")
    name = stack.lab.function_name(function)
    before = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**before, **variables}}
    )
    try:
        time.sleep(1.1)  # the data plane reads configuration at most a second old
        yield
    finally:
        lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": before})
        time.sleep(1.1)


def test_the_routes_are_every_method_of_every_resource_of_the_design() -> None:
    assert set(WORKING) == set(ROUTES)
    assert set(NEEDED_BY.values()) <= set(ROUTES)


def test_the_step_s_policy_grants_exactly_what_the_routes_and_logs_need(stack: Stack) -> None:
    table = stack.lab.outputs["table"]["table_name"]
    table_arn = stack.lab.backend.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    logs = stack.lab.backend.client("logs")
    groups = []
    for function in FUNCTIONS:
        group = f"/aws/lambda/{stack.lab.function_name(function)}"
        found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        groups += [g["arn"] for g in found if g["logGroupName"] == group]  # log-group:<name>:*
    assert len(groups) == len(FUNCTIONS)
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": sorted(NEEDED_BY), "Resource": [table_arn]},
            {"Effect": "Allow", "Action": LOG_ACTIONS, "Resource": sorted(groups)},
        ],
    }
    assert normalize_policy(stack.policy) == normalize_policy(expected)
    assert stack.policy["Version"] == "2012-10-17"


def test_every_route_works_with_the_policy_the_step_writes(stack: Stack) -> None:
    started_ms = int(time.time() * 1000)
    assert stack.routes() == WORKING
    assert stack.refusals_since(started_ms) == []
    for function in FUNCTIONS:
        assert any('"request handled"' in line for line in stack.log_lines_since(function, started_ms))


@pytest.mark.parametrize("action", sorted(NEEDED_BY))
def test_without_a_table_action_exactly_its_route_breaks(stack: Stack, action: str) -> None:
    with stack.policy_changed(without_action(action)):
        started_ms = int(time.time() * 1000)
        expected = {route: 500 if route == NEEDED_BY[action] else status for route, status in WORKING.items()}
        assert stack.routes() == expected
        # The items function caught the AccessDeniedException and logged it: the refusal names the action.
        assert {denial.action for denial in stack.refusals_since(started_ms)} == {action}


def test_without_put_log_events_every_route_works_and_no_log_line_arrives(stack: Stack) -> None:
    with stack.policy_changed(without_action("logs:PutLogEvents")):
        started_ms = int(time.time() * 1000)
        assert stack.routes() == WORKING
        for function in FUNCTIONS:
            assert stack.log_lines_since(function, started_ms) == []


def test_without_create_log_stream_a_new_environment_writes_no_logs(stack: Stack) -> None:
    # A warm environment writes to the stream it created before; a new one (here: after a configuration
    # change) needs CreateLogStream for its own stream, as on Lambda.
    with (
        stack.policy_changed(without_action("logs:CreateLogStream")),
        function_environment(stack, "items", REDEPLOYED=uuid.uuid4().hex),
    ):
        started_ms = int(time.time() * 1000)
        assert stack.routes() == WORKING
        assert stack.log_lines_since("items", started_ms) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_without_a_function_s_log_group_only_that_function_s_logs_stop(stack: Stack, function: str) -> None:
    with stack.policy_changed(without_log_group_of(stack.lab.function_name(function))):
        started_ms = int(time.time() * 1000)
        assert stack.routes() == WORKING
        for other in FUNCTIONS:
            lines = stack.log_lines_since(other, started_ms)
            if other == function:
                assert lines == []
            else:
                assert any('"request handled"' in line for line in lines)


def test_the_table_statement_covers_this_table_only(stack: Stack) -> None:
    # The items function pointed at another table (which need not exist: IAM decides first, as on AWS).
    other = f"{stack.lab.outputs['table']['table_name']}-other"
    with function_environment(stack, "items", TABLE_NAME=other):
        started_ms = int(time.time() * 1000)
        table_routes = {route for route, function in FUNCTION_OF.items() if function == "items"}
        expected = {
            route: 500 if route in table_routes and not route.startswith("OPTIONS") else status
            for route, status in WORKING.items()
        }
        assert stack.routes() == expected
        refused = stack.refusals_since(started_ms)
        assert {denial.action for denial in refused} == set(NEEDED_BY)
        assert {denial.resource.rsplit("/", 1)[-1] for denial in refused} == {other}
