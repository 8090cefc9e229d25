"""What a handler can import in process isolation: what a Python managed runtime provides, and its own code.

The zygote runs on the lab's venv, which holds requests, orjson and the lab itself; on Lambda a function
that imports them without shipping them fails its init with Runtime.ImportModuleError. The environments
must fail the same way, while the SDK and its dependencies, the function's zip and its layers import.
"""

from __future__ import annotations

import pytest

from serverless_lab.dataplane.lambda_.runtime import LambdaRuntime, LayerSpec, code_sha256

from .conftest import zip_handlers
from .test_runtime_layers import zip_of

PROVIDED = """
import importlib
import importlib.metadata

import boto3
import botocore
import dateutil.parser
import jmespath
import s3transfer.manager
import simplejson
import six
import urllib3


def handler(event, context):
    client = boto3.client("s3", region_name="us-east-1")
    return {
        "client": type(client).__name__,
        "search": jmespath.search("a.b", {"a": {"b": 1}}),
        "year": dateutil.parser.isoparse("2024-05-06T07:08:09Z").year,
        "decimal": simplejson.dumps({"x": 1}),
        "six": six.PY3,
        "urllib3": hasattr(urllib3, "PoolManager"),
        "transfer": hasattr(s3transfer.manager, "TransferManager"),
        "lab_venv": [name for name in LAB_VENV if _importable(name)],
        "versions": [importlib.metadata.version(name) == module.__version__ for name, module in (
            ("boto3", boto3), ("botocore", botocore), ("jmespath", jmespath), ("urllib3", urllib3),
        )],
    }


# in the lab's venv; orjson and certifi imported by the zygote (its frames, botocore), _distutils_hack by a .pth
LAB_VENV = ("requests", "orjson", "certifi", "yaml", "serverless_lab", "_distutils_hack")


def _importable(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
"""
METADATA = """
import importlib.metadata


def handler(event, context):
    found = {}
    for name in ("boto3", "python-dateutil", "requests", "orjson", "serverless-lab"):
        try:
            importlib.metadata.version(name)
            found[name] = True
        except importlib.metadata.PackageNotFoundError:
            found[name] = False
    return found
"""
USES_REQUESTS = "import requests\n\n\ndef handler(event, context):\n    return requests.WHO\n"
VENDORED_REQUESTS = "WHO = 'my own requests'\n"

PACKAGES = {
    "provided": zip_handlers({"provided.py": PROVIDED, "metadata.py": METADATA}),
    **{
        f"uses_{module}": zip_of(
            {f"uses_{module}.py": f"import {module}\n\n\ndef handler(event, context):\n    return None\n"}
        )
        for module in ("requests", "orjson", "serverless_lab")
    },
    "vendored": zip_of({"vendored.py": USES_REQUESTS, "requests/__init__.py": VENDORED_REQUESTS}),
    "layered": zip_of({"layered.py": USES_REQUESTS}),
}
LAYER = zip_of({"python/requests/__init__.py": "WHO = 'requests of a layer'\n"})
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:requests:1"


@pytest.fixture(scope="module")
def process_runtime():
    with LambdaRuntime(
        code_loader=lambda spec: PACKAGES[spec.name], layer_loader=lambda layer: LAYER, isolation="process"
    ) as runtime:
        yield runtime


def spec_of(make_spec, package: str, handler: str | None = None, **overrides):
    return make_spec(
        handler or f"{package}.handler", name=package, code_sha256=code_sha256(PACKAGES[package]), **overrides
    )


def test_the_sdk_and_its_dependencies_import_and_nothing_else_of_the_labs_venv(process_runtime, make_spec):
    done = process_runtime.invoke(spec_of(make_spec, "provided"), {})
    assert done.error is None
    assert done.payload == {
        "client": "S3",
        "search": 1,
        "year": 2024,
        "decimal": '{"x": 1}',
        "six": True,
        "urllib3": True,
        "transfer": True,
        "lab_venv": [],
        "versions": [True, True, True, True],
    }


def test_only_the_runtime_provided_distributions_have_metadata(process_runtime, make_spec):
    found = process_runtime.invoke(spec_of(make_spec, "provided", "metadata.handler"), {}).payload
    assert found == {
        "boto3": True,
        "python-dateutil": True,
        "requests": False,
        "orjson": False,
        "serverless-lab": False,
    }


@pytest.mark.parametrize(
    "module",
    [
        "requests",  # in the lab's venv, not in the runtime
        "orjson",  # imported by the zygote itself, for its frames
        "serverless_lab",  # the lab, installed in its own venv
    ],
)
def test_a_package_of_the_labs_venv_is_an_import_module_error(process_runtime, make_spec, module):
    failed = process_runtime.invoke(spec_of(make_spec, f"uses_{module}"), {})
    assert failed.error == {
        "errorMessage": f"Unable to import module 'uses_{module}': No module named '{module}'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_a_package_shipped_in_the_zip_or_a_layer_is_imported_from_there(process_runtime, make_spec):
    alone = process_runtime.invoke(spec_of(make_spec, "uses_requests"), {})
    assert alone.error["errorType"] == "Runtime.ImportModuleError", "not from the lab's venv"
    vendored = process_runtime.invoke(spec_of(make_spec, "vendored"), {})
    assert (vendored.error, vendored.payload) == (None, "my own requests")
    layer = LayerSpec(arn=LAYER_ARN, code_sha256=code_sha256(LAYER))
    layered = process_runtime.invoke(spec_of(make_spec, "layered", layers=(layer,)), {})
    assert (layered.error, layered.payload) == (None, "requests of a layer")
