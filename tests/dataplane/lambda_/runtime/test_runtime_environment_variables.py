"""What the handler sees: Lambda's variables, the context object, and none of the lab's own identity."""

from __future__ import annotations

import re

import pytest
from moto.server import ThreadedMotoServer

from serverless_lab.dataplane.lambda_.runtime import LambdaRuntime

OFFLINE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def test_the_handler_sees_lambdas_variables_and_context(handlers_zip, make_spec, monkeypatch):
    # The lab's own credentials must not leak into an environment.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-lab-users-real-secret")
    monkeypatch.setenv("AWS_PROFILE", "lab-user")
    spec = make_spec(
        "introspect.handler",
        memory_mb=256,
        timeout_s=5,
        # LANG and PATH are Lambda's unreserved variables: a configured value replaces Lambda's default.
        environment={"TABLE_NAME": "items", "LANG": "de_DE.UTF-8", "PATH": "/opt/custom/bin:/usr/bin"},
        region="eu-west-1",
    )
    base = {**OFFLINE, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, base_environment=base) as runtime:
        invocation = runtime.invoke(
            spec,
            {},
            client_context={"custom": {"tenant": "ada"}},
            identity={"cognitoIdentityId": "eu-west-1:abc", "cognitoIdentityPoolId": "eu-west-1:pool"},
        )
        # Called through an alias, the handler sees the ARN it was called by; the version stays its own.
        aliased = runtime.invoke(spec, {}, invoked_arn=f"{spec.arn}:live").payload["context"]
    assert (aliased["invoked_function_arn"], aliased["function_version"]) == (f"{spec.arn}:live", "$LATEST")
    seen = invocation.payload
    environ = seen["environ"]
    assert environ["TABLE_NAME"] == "items"
    assert (environ["LANG"], environ["PATH"]) == ("de_DE.UTF-8", "/opt/custom/bin:/usr/bin")
    assert environ["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
    assert environ["AWS_XRAY_DAEMON_ADDRESS"] == "169.254.79.129:2000"
    assert environ["PYTHONPATH"] == environ["LAMBDA_RUNTIME_DIR"]  # /var/runtime on Lambda
    assert environ["LD_LIBRARY_PATH"].split(":")[:3] == [
        environ["LAMBDA_RUNTIME_DIR"],
        environ["LAMBDA_TASK_ROOT"],
        environ["LAMBDA_TASK_ROOT"] + "/lib",
    ]
    assert environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert environ["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert "AWS_PROFILE" not in environ
    assert {
        key: environ[key]
        for key in (
            "_HANDLER",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_EXECUTION_ENV",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            "TZ",
        )
    } == {
        "_HANDLER": "introspect.handler",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": "introspect",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/introspect",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "TZ": ":UTC",
    }
    assert environ["LAMBDA_TASK_ROOT"] == seen["cwd"] == seen["sys_path_0"]
    assert environ["AWS_LAMBDA_LOG_STREAM_NAME"] == invocation.log_stream_name
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", environ["AWS_LAMBDA_LOG_STREAM_NAME"])
    context = seen["context"]
    assert context["aws_request_id"] == invocation.request_id
    assert context["function_name"] == "introspect"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == spec.arn
    assert context["memory_limit_in_mb"] == "256"  # a string, as on Lambda
    assert context["log_group_name"] == "/aws/lambda/introspect"
    assert context["log_stream_name"] == invocation.log_stream_name
    assert 4000 < context["remaining"] <= 5000
    assert context["identity_id"] == "eu-west-1:abc"
    assert context["client_custom"] == {"tenant": "ada"}
    assert seen["repo_handlers_importable"] is False  # only the zip's code runs
    assert seen["lab_importable"] is False


@pytest.mark.server
@pytest.mark.parametrize("isolation", ["process", "inprocess"])
def test_sdk_calls_are_timed_inside_the_environment(handlers_zip, make_spec, isolation):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        base = {**OFFLINE, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
        with LambdaRuntime(
            code_loader=lambda spec: handlers_zip, base_environment=base, isolation=isolation
        ) as runtime:
            spec = make_spec("sdk.handler", timeout_s=10)
            cold = runtime.invoke(spec, {})
            warm = runtime.invoke(spec, {})
    finally:
        server.stop()
    assert cold.error is None, cold.error
    assert cold.payload == {"tables": [], "failed": "ResourceNotFoundException", "region": "us-east-1"}
    for invocation in (cold, warm):
        list_tables, describe = invocation.calls
        assert (list_tables["service"], list_tables["operation"], list_tables["http_status"]) == (
            "dynamodb",
            "ListTables",
            200,
        )
        assert (describe["operation"], describe["http_status"]) == ("DescribeTable", 400)
        assert 0 <= list_tables["start_ms"] <= describe["start_ms"] <= invocation.duration_ms
        assert 0 < list_tables["duration_ms"] <= invocation.duration_ms
    assert warm.calls[0]["start_ms"] < 50  # offsets are from the invoke's start, not the environment's
