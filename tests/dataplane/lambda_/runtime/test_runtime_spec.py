"""Bad input: function configuration Lambda would refuse, and code that is not what the function says."""

from __future__ import annotations

import pytest

from serverless_lab.dataplane.lambda_.runtime import (
    CodeIntegrityError,
    InvalidParameterValueException,
    InvalidRuntimeException,
    LambdaRuntime,
    ValidationException,
    code_sha256,
)
from serverless_lab.errors import LambdaError, UsageError


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (
            {"memory_mb": 64},
            ValidationException,
            "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: "
            "Member must have value greater than or equal to 128",
        ),
        (
            {"memory_mb": 20000},
            ValidationException,
            "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: "
            "Member must have value less than or equal to 10240",
        ),
        (
            {"timeout_s": 0},
            ValidationException,
            "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"timeout_s": 901},
            ValidationException,
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
            "Member must have value less than or equal to 900",
        ),
        (
            {"handler": "items handler"},
            ValidationException,
            "1 validation error detected: Value 'items handler' at 'handler' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: [^\s]+",
        ),
        (
            {"environment": {"AWS_REGION": "eu-west-1", "TABLE": "items"}},
            InvalidParameterValueException,
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. "
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"runtime": "nodejs20.x"},
            InvalidRuntimeException,
            "The runtime parameter of nodejs20.x is not supported by the local runtime: serverless-lab runs "
            "python3.x functions only.",
        ),
        (
            {"code_sha256": "not base64!"},
            InvalidParameterValueException,
            "CodeSha256 'not base64!' is not the base64 of a sha256 digest.",
        ),
        (
            {"reserved_concurrency": -1},
            ValidationException,
            "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0",
        ),
        (
            {"name": "orders/list"},
            ValidationException,
            "1 validation error detected: Value 'orders/list' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+",
        ),
    ],
)
def test_configuration_lambda_refuses_is_refused(make_spec, overrides, error, message):
    handler = overrides.pop("handler", "counter.handler")
    with pytest.raises(error) as refused:
        make_spec(handler, **{"name": "counter", **overrides})
    assert refused.value.message == message
    assert isinstance(refused.value, LambdaError)
    assert refused.value.status in (400, 502)


def test_environment_values_must_be_strings(make_spec):
    with pytest.raises(ValidationException, match=r"environment\.variables"):
        make_spec("counter.handler", environment={"RETRIES": 3})


def test_code_that_does_not_match_the_code_sha_is_refused(make_spec, handlers_zip):
    other_zip = handlers_zip + b"tampered"
    with LambdaRuntime(code_loader=lambda spec: other_zip) as runtime:
        with pytest.raises(CodeIntegrityError) as mismatch:
            runtime.invoke(make_spec("counter.handler"), {})
        assert runtime.environments() == []
    assert mismatch.value.status == 502
    assert code_sha256(handlers_zip) in mismatch.value.message
    assert code_sha256(other_zip) in mismatch.value.message


def test_a_package_that_is_not_a_zip_is_refused(make_spec):
    not_a_zip = b"print('hello')"
    spec = make_spec("counter.handler", code_sha256=code_sha256(not_a_zip))
    with (
        LambdaRuntime(code_loader=lambda spec: not_a_zip) as runtime,
        pytest.raises(InvalidParameterValueException) as refused,
    ):
        runtime.invoke(spec, {})
    assert (
        refused.value.message
        == "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def test_each_code_version_is_fetched_and_extracted_once(make_spec, handlers_zip):
    fetched: list[str] = []

    def loader(spec):
        fetched.append(spec.name)
        return handlers_zip

    with LambdaRuntime(code_loader=loader) as runtime:
        runtime.invoke(make_spec("counter.handler", name="a"), {})
        runtime.invoke(make_spec("counter.handler", name="b"), {})
        runtime.invoke(make_spec("counter.handler", name="a", memory_mb=256), {})
        extracted = [p for p in runtime.code_root.iterdir() if p.is_dir()]
        assert len(extracted) == 1 and (extracted[0] / "counter.py").is_file()
    assert fetched == ["a"]


def test_bad_arguments_are_usage_errors(make_spec, handlers_zip):
    with pytest.raises(UsageError, match="isolation"):
        LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation="docker")
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        with pytest.raises(UsageError, match="FunctionSpec"):
            runtime.invoke({"name": "counter"}, {})
        with pytest.raises(InvalidParameterValueException, match="invocation type"):
            runtime.invoke(make_spec("counter.handler"), {}, invocation_type="Later")
    with pytest.raises(UsageError, match="shut down"):
        runtime.invoke(make_spec("counter.handler"), {})
