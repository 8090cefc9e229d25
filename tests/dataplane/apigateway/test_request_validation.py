"""Request validators: required parameters and the body's model checked before the integration runs, with
API Gateway's 400 answers; a customised BAD_REQUEST_BODY response can show the reasons."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

from gateway_helpers import FakeLambda, lambda_method, make_api, make_gateway

from serverless_lab.dataplane.apigateway.model import GatewayResponseConfig, ResourceConfig, RestApiConfig
from serverless_lab.dataplane.http import HttpRequest, HttpResponse

ITEM_MODEL = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["title"],
        "properties": {"title": {"type": "string", "maxLength": 10}, "done": {"type": "boolean"}},
    }
)


def validated_api(
    validate_body: bool = True, validate_parameters: bool = True, **options: object
) -> RestApiConfig:
    api = make_api(**options)  # type: ignore[arg-type]
    method = dataclasses.replace(
        lambda_method("POST"),
        request_validator_id="v1",
        request_parameters={
            "method.request.querystring.lang": True,
            "method.request.header.X-Team": True,
            "method.request.querystring.optional": False,
        },
        request_models={"application/json": "Item"},
    )
    resource = ResourceConfig(
        id="res10", path="/checked", path_part="checked", parent_id="root", methods={"POST": method}
    )
    return dataclasses.replace(
        api,
        resources=(*api.resources, resource),
        request_validators={"v1": (validate_body, validate_parameters)},
        models={"Item": ITEM_MODEL},
    )


def post(
    api: RestApiConfig, body: bytes, *, query: str = "lang=en", team: str | None = "blue"
) -> tuple[HttpResponse, FakeLambda]:
    gateway, fake, _ = make_gateway(api)
    headers = [("Content-Type", "application/json; charset=utf-8")] + (
        [("X-Team", team)] if team is not None else []
    )
    return gateway.handle(
        HttpRequest("POST", "/checked", query, tuple(headers), body), "a1b2c3d4e5", "prod"
    ), fake


def test_a_valid_request_reaches_the_function() -> None:
    answer, fake = post(validated_api(), b'{"title": "milk", "done": false}')
    assert answer.status == 200 and len(fake.calls) == 1


def test_missing_required_parameters_are_named_and_the_function_never_runs() -> None:
    answer, fake = post(validated_api(), b'{"title": "milk"}', query="", team="  ")
    assert (answer.status, json.loads(answer.body)) == (
        400,
        # AWS lists them in the order of their full names: header, then path, then query string.
        {"message": "Missing required request parameters: [X-Team, lang]"},
    )
    assert answer.header("x-amzn-ErrorType") == "BadRequestException" and fake.calls == []
    answer, _ = post(validated_api(validate_parameters=False), b'{"title": "milk"}', query="", team=None)
    assert answer.status == 200, "a body-only validator does not check parameters"


def test_a_body_that_does_not_match_the_model_is_400() -> None:
    for body in [b'{"done": true}', b'{"title": "far too long a title"}', b'{"title": 3}', b"not json", b""]:
        answer, fake = post(validated_api(), body)
        assert (answer.status, json.loads(answer.body)) == (400, {"message": "Invalid request body"}), body
        assert fake.calls == []
    answer, _ = post(validated_api(validate_body=False), b"not json")
    assert answer.status == 200, "a parameters-only validator does not check the body"


def test_the_reasons_show_in_a_customised_bad_request_body_response() -> None:
    custom = GatewayResponseConfig(
        response_type="BAD_REQUEST_BODY",
        response_templates={
            "application/json": '{"message": $context.error.messageString, "why": "$context.error.validationErrorString"}'
        },
    )
    answer, _ = post(validated_api(gateway_responses=(custom,)), b'{"title": 3}')
    assert answer.status == 400
    assert json.loads(answer.body) == {
        "message": "Invalid request body",
        "why": "[3 is not of type 'string']",
    }


def test_the_data_plane_loads_jsonschema_only_when_a_body_is_validated() -> None:
    # jsonschema and its metaschemas weigh ~25 MB in a process; most APIs have no request validator.
    code = "import sys, serverless_lab.dataplane.service; print('jsonschema' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
