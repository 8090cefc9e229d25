"""Functions and an API that notebooks deploy with plain boto3 beside the steps, and take away again.

- `echo`: a function that answers with the event it received, behind an API of its own
  (`sl-<student>-echo-api`, `ANY /{proxy+}` with the same Cognito authorizer), so 06-api can show the
  Lambda proxy event exactly as API Gateway builds it;
- `sleepy`: a function that sleeps longer than its timeout, so 05-functions can show a timeout;
- `gatekeeper`: a Lambda TOKEN authorizer in front of the echo function (`sl-<student>-gatekeeper-api`), so
  06-api can show a function deciding, API Gateway enforcing its policy, and the policy cache.

They run as the functions step's role, whose policy names only the step's own log groups; each extra adds
an inline policy to the role that lets it write its own log group (Lambda writes a function's logs as its
role), as one would on AWS. They carry the student tag, so `lab.destroy("functions")` removes the
functions (and the role with its inline policies) too; `remove_extras` removes everything here, the echo
API included (the api step only knows its own API).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from botocore.exceptions import ClientError

from serverless_lab.dataplane.lambda_.runtime.logs import line_of

from ..errors import UsageError
from ..steps.base import STUDENT_TAG
from .deployed import deployed

ECHO_SOURCE = '''"""Answers with the Lambda proxy event it received, as JSON."""
import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
'''

SLEEPY_SOURCE = '''"""Sleeps event["seconds"] seconds: longer than its timeout, Lambda stops it."""
import time


def handler(event, context):
    print(f"sleeping {event.get('seconds', 2)} s with {context.get_remaining_time_in_millis()} ms left", flush=True)
    time.sleep(float(event.get("seconds", 2)))
    return {"slept": event.get("seconds", 2)}
'''

GATEKEEPER_SOURCE = '''"""A Lambda TOKEN authorizer: tokens "student-<name>" may call the method they asked for; "blocked"
is denied; anything else is 401.

It answers a policy for exactly the method ARN it was asked about, and API Gateway caches that policy per
token (300 s by default): the same token on another method is then refused by the cached policy.
"""


def handler(event, context):
    token = event["authorizationToken"]
    if token == "blocked":
        effect = "Deny"
    elif token.startswith("student-"):
        effect = "Allow"
    else:
        raise Exception("Unauthorized")  # the documented way to answer 401
    return {
        "principalId": token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"course": "serverless-lab", "seat": 7},
    }
'''

EXTRA_FUNCTIONS = ("echo", "sleepy", "gatekeeper")
EXTRA_APIS = ("echo-api", "gatekeeper-api")
ECHO_STAGE = "prod"


def extra_function_name(lab: Any, name: str) -> str:
    return str(lab.names(name))


def zip_source(module: str, source: str) -> bytes:
    """A deployment package holding one file, <module>.py, at the root of the zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


def deploy_function(lab: Any, name: str, source: str, *, timeout: int = 3, memory: int = 128) -> str:
    """Creates (or updates) the student's function `name` from one source file; returns its ARN."""
    # Lambda's bounds, checked before anything changes (botocore would refuse them after the code update).
    if not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise UsageError(f"timeout={timeout!r}: a Lambda function's timeout is 1 to 900 seconds.")
    if not isinstance(memory, int) or not 128 <= memory <= 10240:
        raise UsageError(f"memory={memory!r}: a Lambda function's memory is 128 to 10240 MB.")
    role_arn = deployed(lab, "functions")["role_arn"]
    lambda_client = lab.backend.client("lambda")
    function_name = extra_function_name(lab, name)
    allow_own_logs(lab, role_arn.rsplit("/", 1)[-1], function_name)
    package = zip_source(name, source)
    settings = {"Role": role_arn, "Runtime": "python3.12", "Handler": f"{name}.handler",
                "Timeout": timeout, "MemorySize": memory}  # fmt: skip
    try:
        lambda_client.update_function_code(FunctionName=function_name, ZipFile=package)
        answer = lambda_client.update_function_configuration(FunctionName=function_name, **settings)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        answer = lambda_client.create_function(
            FunctionName=function_name,
            Code={"ZipFile": package},
            Tags={STUDENT_TAG: lab.names.student},
            **settings,
        )
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=function_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    return str(answer["FunctionArn"])


def logs_policy_name(function_name: str) -> str:
    return f"{function_name}-logs"


def allow_own_logs(lab: Any, role_name: str, function_name: str) -> None:
    """An inline policy letting the role create and write the function's own log group, and nothing else."""
    group = f"arn:aws:logs:{lab.region}:{lab.names.account_id}:log-group:/aws/lambda/{function_name}:*"
    statement = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": group,
    }
    lab.backend.client("iam").put_role_policy(
        RoleName=role_name,
        PolicyName=logs_policy_name(function_name),
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def find_extra_api(lab: Any, name: str = "echo-api") -> str | None:
    full_name = extra_function_name(lab, name)
    for page in lab.backend.client("apigateway").get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api["name"] == full_name:
                return str(api["id"])
    return None


def find_echo_api(lab: Any) -> str | None:
    return find_extra_api(lab, "echo-api")


def _lambda_uri(lab: Any, function_arn: str) -> str:
    return f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def _echo_behind(lab: Any, api_name: str, authorizer: dict[str, Any], authorization_type: str) -> str:
    """The echo function behind `ANY /{proxy+}` of a new API with this authorizer; returns the API id."""
    function_arn = deploy_function(lab, "echo", ECHO_SOURCE)
    gateway = lab.backend.client("apigateway")
    api_id = gateway.create_rest_api(name=extra_function_name(lab, api_name))["id"]
    root = next(r["id"] for r in gateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    proxy = gateway.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    authorizer_id = gateway.create_authorizer(restApiId=api_id, **authorizer)["id"]
    gateway.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY",
                       authorizationType=authorization_type, authorizerId=authorizer_id)  # fmt: skip
    gateway.put_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY",
                            integrationHttpMethod="POST", uri=_lambda_uri(lab, function_arn))  # fmt: skip
    lab.backend.client("lambda").add_permission(
        FunctionName=function_arn, StatementId=api_name, Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.names.account_id}:{api_id}/*/*/*",
    )  # fmt: skip
    gateway.create_deployment(restApiId=api_id, stageName=ECHO_STAGE)
    # The data plane reads permissions again within a second (as AWS takes seconds to apply one); the
    # notebook calls at once, so the lab's own data plane forgets what it read of the functions' policies.
    lab.dataplane().control_plane.refresh()
    return str(api_id)


def deploy_echo_api(lab: Any) -> str:
    """The echo function behind `ANY /{proxy+}` with the user pool's authorizer; returns the API id."""
    found = find_extra_api(lab, "echo-api")
    if found is not None:
        return found
    pool_arn = deployed(lab, "users")["user_pool_arn"]
    authorizer = {"name": "cognito", "type": "COGNITO_USER_POOLS", "providerARNs": [pool_arn],
                  "identitySource": "method.request.header.Authorization"}  # fmt: skip
    return _echo_behind(lab, "echo-api", authorizer, "COGNITO_USER_POOLS")


def deploy_authorizer_api(lab: Any) -> str:
    """The echo function behind `ANY /{proxy+}` with the gatekeeper, a Lambda TOKEN authorizer (policy
    cached 300 s per token); returns the API id."""
    found = find_extra_api(lab, "gatekeeper-api")
    if found is not None:
        return found
    gatekeeper_arn = deploy_function(lab, "gatekeeper", GATEKEEPER_SOURCE)
    lab.backend.client("lambda").add_permission(
        FunctionName=gatekeeper_arn, StatementId="gatekeeper-authorizer", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )  # fmt: skip
    authorizer = {"name": "gatekeeper", "type": "TOKEN", "authorizerUri": _lambda_uri(lab, gatekeeper_arn),
                  "identitySource": "method.request.header.Authorization",
                  "authorizerResultTtlInSeconds": 300}  # fmt: skip
    return _echo_behind(lab, "gatekeeper-api", authorizer, "CUSTOM")


def function_logs(lab: Any, function: str, limit: int = 30) -> list[str]:
    """The last `limit` lines of a function's log group, read back with the CloudWatch Logs client."""
    lab.dataplane().flush_logs()  # the runtime ships log lines in the background, as Lambda does
    group = f"/aws/lambda/{lab.function_name(function)}"
    try:
        events = lab.backend.client("logs").filter_log_events(logGroupName=group)["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    # CloudWatch keeps each line's newline (and a tab before a REPORT line's): shown as the lines they are.
    return [line_of(event["message"]) for event in sorted(events, key=lambda e: e["timestamp"])][-limit:]


def remove_extras(lab: Any) -> list[str]:
    """Deletes the extra APIs and functions, with the functions' log groups; returns what it deleted."""
    deleted = []
    for api_name in EXTRA_APIS:
        while (api_id := find_extra_api(lab, api_name)) is not None:
            lab.backend.client("apigateway").delete_rest_api(restApiId=api_id)
            deleted.append(f"apigateway rest api {api_id}")
    for name in EXTRA_FUNCTIONS:
        function_name = extra_function_name(lab, name)
        for operation, params, what in (
            ("lambda", {"FunctionName": function_name}, "function"),
            ("logs", {"logGroupName": f"/aws/lambda/{function_name}"}, "log group"),
        ):
            client = lab.backend.client(operation)
            delete = client.delete_function if operation == "lambda" else client.delete_log_group
            try:
                delete(**params)
                deleted.append(f"{operation} {what} {next(iter(params.values()))}")
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        role = lab.outputs.get("functions", {}).get("role_arn", "").rsplit("/", 1)[-1]
        if role:
            try:
                iam = lab.backend.client("iam")
                iam.delete_role_policy(RoleName=role, PolicyName=logs_policy_name(function_name))
                deleted.append(f"iam role policy {logs_policy_name(function_name)}")
            except ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchEntity":
                    raise
    lab.dataplane().control_plane.refresh()  # forget the deleted log groups and functions
    return deleted
