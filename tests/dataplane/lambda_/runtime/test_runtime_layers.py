"""Layers: the runtime extracts a function's layer versions in order into one folder, importable after the
task root as /opt/python on Lambda, each layer checked against its CodeSha256 like the package itself."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from serverless_lab.dataplane.lambda_.runtime import (
    CodeIntegrityError,
    FunctionSpec,
    InvalidParameterValueException,
    LambdaRuntime,
    LayerSpec,
    ValidationException,
    code_sha256,
)
from serverless_lab.errors import UsageError

HANDLER = (
    "import shared, vendored\n"
    "def handler(event, context):\n"
    "    return {'shared': shared.WHO, 'vendored': vendored.WHO, 'file': shared.__file__}\n"
)


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, source)
    return buffer.getvalue()


BASE = zip_of(
    {
        "python/shared.py": "WHO = 'base layer'\n",
        "python/lib/python3.12/site-packages/vendored.py": "WHO = 'base site-packages'\n",
    }
)
OVERRIDE = zip_of({"python/shared.py": "WHO = 'second layer'\n"})
CODE = zip_of({"app.py": HANDLER})
LAYERS = {
    "arn:aws:lambda:us-east-1:123456789012:layer:base:1": BASE,
    "arn:aws:lambda:us-east-1:123456789012:layer:override:4": OVERRIDE,
}


def layer(arn: str, content: bytes | None = None) -> LayerSpec:
    return LayerSpec(arn=arn, code_sha256=code_sha256(content if content is not None else LAYERS[arn]))


def spec_with(*layers: LayerSpec, **overrides: Any) -> FunctionSpec:
    values: dict[str, Any] = {
        "name": "app",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:app",
        "runtime": "python3.12",
        "handler": "app.handler",
        "code_sha256": code_sha256(CODE),
        "layers": layers,
    }
    values.update(overrides)
    return FunctionSpec(**values)


def load_layer(fetched: list[str]) -> Callable[[LayerSpec], bytes]:
    def load(spec: LayerSpec) -> bytes:
        fetched.append(spec.arn)
        return LAYERS[spec.arn]

    return load


@pytest.mark.parametrize("isolation", ["process", "inprocess"])
def test_layers_are_importable_in_order_a_later_layer_replacing_an_earlier_ones_files(isolation: str) -> None:
    base, override = (layer(arn) for arn in LAYERS)
    fetched: list[str] = []
    with LambdaRuntime(
        code_loader=lambda spec: CODE, layer_loader=load_layer(fetched), isolation=isolation
    ) as runtime:
        one = runtime.invoke(spec_with(base), {}).payload
        both = runtime.invoke(spec_with(base, override), {}).payload
        again = runtime.invoke(spec_with(base, override), {}).payload
    assert (one["shared"], one["vendored"]) == ("base layer", "base site-packages")
    assert one["file"].endswith("/python/shared.py")
    assert (both["shared"], both["vendored"]) == ("second layer", "base site-packages")
    assert again == both
    assert fetched == [base.arn, base.arn, override.arn], "each combination is extracted once"


def test_a_layer_whose_content_does_not_match_its_sha_is_refused() -> None:
    tampered = layer("arn:aws:lambda:us-east-1:123456789012:layer:base:1", content=b"something else")
    refused = pytest.raises(CodeIntegrityError, match=r"layer arn:aws:lambda:.*:layer:base:1 does not match")
    with LambdaRuntime(code_loader=lambda spec: CODE, layer_loader=load_layer([])) as runtime, refused:
        runtime.invoke(spec_with(tampered), {})


def test_a_runtime_without_a_layer_loader_names_what_is_missing() -> None:
    refused = pytest.raises(UsageError, match="no layer_loader")
    with LambdaRuntime(code_loader=lambda spec: CODE) as runtime, refused:
        runtime.invoke(spec_with(layer(next(iter(LAYERS)))), {})


def test_layer_arns_and_count_are_checked_as_lambda_checks_them() -> None:
    with pytest.raises(ValidationException, match="layers"):
        spec_with(LayerSpec(arn="arn:aws:lambda:us-east-1:123456789012:layer:no-version", code_sha256="x"))
    six = [layer(next(iter(LAYERS)))] * 6
    with pytest.raises(InvalidParameterValueException, match="at most 5 layers"):
        spec_with(*six)
    assert spec_with(*six[:5]).layers == tuple(six[:5])
