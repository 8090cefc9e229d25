"""moto_lambda_logging: LoggingConfig kept and returned by moto as Lambda does, refused before any change."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from shared_labs import ROLE_POLICY

from serverless_lab.backends import moto_fixes


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    moto_fixes.apply()
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        # Names of their own: another test's memory backend may keep moto's state for the whole session.
        # A trust policy Lambda can assume: CreateFunction refuses any other role, as on AWS.
        role = iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=ROLE_POLICY)[
            "Role"
        ]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        client.role_arn = role  # type: ignore[attr-defined]
        yield client


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _names(client: Any) -> set[str]:
    return {function["FunctionName"] for function in client.list_functions()["Functions"]}


def _create(client: Any, name: str, **extra: Any) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("f.py", "def handler(event, context):\n    return 1\n")
    return client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=client.role_arn,
        Handler="f.handler",
        Code={"ZipFile": buffer.getvalue()},
        **extra,
    )


def test_a_function_without_logging_config_answers_lambdas_default(lambda_client: Any) -> None:
    name = _name("plain")
    created = _create(lambda_client, name)
    expected = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert created["LoggingConfig"] == expected
    assert lambda_client.get_function_configuration(FunctionName=name)["LoggingConfig"] == expected
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["LoggingConfig"] == expected
    listed = {f["FunctionName"]: f for f in lambda_client.list_functions()["Functions"]}
    assert listed[name]["LoggingConfig"] == expected


def test_json_gets_info_levels_unless_set_and_updates_keep_what_they_do_not_name(lambda_client: Any) -> None:
    name = _name("fn")
    _create(lambda_client, name, LoggingConfig={"LogFormat": "JSON"})
    config = lambda_client.get_function_configuration(FunctionName=name)["LoggingConfig"]
    assert config == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": f"/aws/lambda/{name}",
    }
    lambda_client.update_function_configuration(
        FunctionName=name, LoggingConfig={"ApplicationLogLevel": "DEBUG", "LogGroup": "/shared/app"}
    )
    config = lambda_client.get_function_configuration(FunctionName=name)["LoggingConfig"]
    assert (config["LogFormat"], config["ApplicationLogLevel"], config["SystemLogLevel"]) == (
        "JSON",
        "DEBUG",
        "INFO",
    )
    assert config["LogGroup"] == "/shared/app"
    # A published version keeps the configuration it was published with.
    assert lambda_client.publish_version(FunctionName=name)["LoggingConfig"] == config
    # Back to Text: the levels go.
    lambda_client.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    assert lambda_client.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text",
        "LogGroup": "/shared/app",
    }


def test_levels_with_the_text_format_are_refused_and_nothing_changes(lambda_client: Any) -> None:
    name = _name("fn")
    _create(lambda_client, name, Timeout=3)
    with pytest.raises(ClientError) as refused:
        lambda_client.update_function_configuration(
            FunctionName=name, Timeout=9, LoggingConfig={"LogFormat": "Text", "SystemLogLevel": "WARN"}
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"].startswith('LogLevel is not supported when LogFormat is set to "Text".')
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert configuration["Timeout"] == 3  # the other settings of the refused request did not apply
    assert configuration["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


@pytest.mark.parametrize(
    ("logging_config", "member"),
    [
        ({"LogFormat": "XML"}, "loggingConfig.logFormat"),
        ({"LogFormat": "JSON", "ApplicationLogLevel": "LOUD"}, "loggingConfig.applicationLogLevel"),
        ({"LogFormat": "JSON", "SystemLogLevel": "ERROR"}, "loggingConfig.systemLogLevel"),
    ],
)
def test_a_value_outside_the_enum_is_a_validation_error_and_creates_nothing(
    lambda_client: Any, logging_config: dict[str, str], member: str
) -> None:
    name = _name("bad")
    with pytest.raises(ClientError) as refused:
        _create(lambda_client, name, LoggingConfig=logging_config)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        f"at '{member}' failed to satisfy constraint: Member must satisfy enum value set" in error["Message"]
    )
    assert name not in _names(lambda_client)


def test_a_bad_log_group_name_is_refused(lambda_client: Any) -> None:
    name = _name("bad")
    with pytest.raises(ClientError) as refused:
        _create(lambda_client, name, LoggingConfig={"LogGroup": "no spaces allowed"})
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert name not in _names(lambda_client)


def test_an_update_moto_refuses_leaves_logging_config_and_versions_keep_theirs(lambda_client: Any) -> None:
    name = _name("fn")
    _create(lambda_client, name)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    missing_layer = "arn:aws:lambda:us-east-1:123456789012:layer:missing:1"
    with pytest.raises(ClientError):
        lambda_client.update_function_configuration(
            FunctionName=name, LoggingConfig={"LogFormat": "JSON"}, Layers=[missing_layer]
        )
    assert lambda_client.get_function_configuration(FunctionName=name)["LoggingConfig"]["LogFormat"] == "Text"
    lambda_client.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON"})
    published = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)[
        "LoggingConfig"
    ]
    assert published == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
