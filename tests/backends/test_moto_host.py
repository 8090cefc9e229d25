"""The local backend's server passes Lambda's Invoke to the lab's data plane: a boto3 client the lab never
made, pointed at the moto server, gets the function's answer (moto alone answers a Docker error)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from shared_labs import plain_function, zip_source

from serverless_lab import Lab
from serverless_lab.backends.local import free_port
from serverless_lab.backends.moto_host import build_app


def plain_client(endpoint_url: str) -> Any:
    """A boto3 client made without the lab: no hook of the lab's on it."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def function(local_backend: Any) -> Iterator[str]:
    with plain_function(
        local_backend, "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"
    ) as name:
        yield name


def test_invoke_on_the_moto_server_runs_in_the_served_data_plane(local_backend: Any, function: str) -> None:
    lab = Lab(backend=local_backend, student=f"invoke-{uuid.uuid4().hex[:6]}")
    server = lab.serve()
    try:
        through_moto = plain_client(local_backend.endpoint_url).invoke(
            FunctionName=function, Payload=b'{"n": 21}'
        )
        assert through_moto["StatusCode"] == 200 and "FunctionError" not in through_moto
        assert json.loads(through_moto["Payload"].read()) == {"doubled": 42}
        direct = plain_client(server.url).invoke(
            FunctionName=function, Payload=b'{"n": 1}'
        )  # the data plane's port
        assert json.loads(direct["Payload"].read()) == {"doubled": 2}
        missing = plain_client(local_backend.endpoint_url)
        with pytest.raises(missing.exceptions.ResourceNotFoundException):
            missing.invoke(FunctionName=f"{function}-gone")
    finally:
        lab.stop_serving()  # the backend's data-plane port belongs to whoever serves next


def test_a_published_version_runs_the_code_it_was_published_with(local_backend: Any, function: str) -> None:
    control = local_backend.client("lambda")
    control.publish_version(FunctionName=function)
    changed = "def handler(event, context):\n    return {'tripled': event['n'] * 3}\n"
    control.update_function_code(FunctionName=function, ZipFile=zip_source(changed))
    control.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    # The moto server hands each version's own package to the lab (its /_lab/ code route).
    assert local_backend.lambda_code(function, "1") != local_backend.lambda_code(function)
    invoker = Lab(backend=local_backend, student=f"invoke-{uuid.uuid4().hex[:6]}").backend.client("lambda")
    aliased = invoker.invoke(FunctionName=function, Qualifier="live", Payload=b'{"n": 2}')
    assert (aliased["ExecutedVersion"], json.loads(aliased["Payload"].read())) == ("1", {"doubled": 4})
    latest = invoker.invoke(FunctionName=function, Payload=b'{"n": 2}')
    assert (latest["ExecutedVersion"], json.loads(latest["Payload"].read())) == ("$LATEST", {"tripled": 6})


def test_a_layer_published_on_the_moto_server_is_importable(local_backend: Any) -> None:
    control = local_backend.client("lambda")
    content = zip_source("WORD = 'from the layer'\n", "python/greeting.py")
    arn = control.publish_layer_version(LayerName="greeting", Content={"ZipFile": content})["LayerVersionArn"]
    assert local_backend.lambda_layer_code(arn) == content  # the moto server's /_lab/ code route
    source = "import greeting\ndef handler(event, context):\n    return greeting.WORD\n"
    with plain_function(local_backend, source, Layers=[arn]) as function:
        invoker = Lab(backend=local_backend, student=f"layer-{uuid.uuid4().hex[:6]}").backend.client("lambda")
        assert json.loads(invoker.invoke(FunctionName=function)["Payload"].read()) == "from the layer"


def test_invoke_without_a_served_data_plane_says_how_to_start_one() -> None:
    app = build_app("test-instance", dataplane_port=free_port())  # nothing listens there
    started: list[Any] = []
    body = b'{"n": 1}'
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/2015-03-31/functions/hello/invocations",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_AMZ_INVOCATION_TYPE": "RequestResponse",
    }
    answer = json.loads(b"".join(app(environ, lambda status, headers: started.append((status, headers)))))
    ((status, headers),) = started
    assert status.startswith("502")
    assert ("x-amzn-ErrorType", "ServiceException") in headers
    assert "serverless-lab serve" in answer["message"] and "lab.serve()" in answer["message"]


def test_the_moto_server_keeps_an_authorizers_identity_validation_expression(local_backend: Any) -> None:
    # moto 5.2 drops the expression create_authorizer is given (a misspelt parameter); moto_fixes mends it.
    apigateway = local_backend.client("apigateway")
    api = apigateway.create_rest_api(name=f"expression-{uuid.uuid4().hex[:6]}")["id"]
    try:
        authorizer = apigateway.create_authorizer(
            restApiId=api,
            name="token-check",
            type="TOKEN",
            authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
            identitySource="method.request.header.Authorization",
            identityValidationExpression="^Bearer [a-z]+$",
        )
        read = apigateway.get_authorizer(restApiId=api, authorizerId=authorizer["id"])
        assert read["identityValidationExpression"] == "^Bearer [a-z]+$"
    finally:
        apigateway.delete_rest_api(restApiId=api)
