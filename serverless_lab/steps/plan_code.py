"""A plan as boto3 code a student can read whole, paste into a cell, edit and run.

The table of a plan cuts each parameter at 60 characters; this module writes every call with all of its
parameters (a DistributionConfig, a trust policy, a role policy in full). Values an earlier call produces
(`Ref`) become the variables that call assigns; bytes (a zip, a file's body) become a variable the code
names and the comment describes, since a listing of a zip's bytes helps no one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from serverless_lab.steps.calls import Call, Ref

_CLIENT_NAMES = {"cognito-idp": "cognito", "lambda": "lambda_", "logs": "logs"}
_JSON_PARAMS = re.compile(r"(Policy|PolicyDocument|AssumeRolePolicyDocument)$")


class Code(str):
    """Python source; shows as a highlighted code block in a notebook. `blobs` holds the bytes the code
    names (``exec(code, {"lab": lab, **code.blobs})`` runs it as printed)."""

    blobs: dict[str, bytes]

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"


class _Name:
    """Prints as a bare Python name inside pprint's output."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _JsonDocument:
    """A policy passed as a JSON string: shown as json.dumps({...}) so the student reads the document."""

    def __init__(self, document: Any) -> None:
        self.document = document


def formatted(value: Any, indent: int = 0, width: int = 100) -> str:
    """A Python literal laid out as ruff or black would lay it out: on one line when it fits, else one item
    per line. Written here because pprint aligns nested items under their opening bracket, which pushes a
    DistributionConfig far off the right of the screen, and neither formatter is a runtime dependency."""
    if isinstance(value, _JsonDocument):
        return f"json.dumps({formatted(value.document, indent, width - 11)})"
    flat = _flat(value)
    if len(flat) + indent <= width or not isinstance(value, Mapping | list | tuple) or not value:
        return flat
    inner = " " * (indent + 4)
    if isinstance(value, Mapping):
        items = [f"{inner}{key!r}: {formatted(item, indent + 4, width)}," for key, item in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    items = [f"{inner}{formatted(item, indent + 4, width)}," for item in value]
    return opening + "\n" + "\n".join(items) + "\n" + " " * indent + closing


def _flat(value: Any) -> str:
    if isinstance(value, _JsonDocument):
        return f"json.dumps({_flat(value.document)})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {_flat(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_flat(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def client_variable(service: str) -> str:
    return _CLIENT_NAMES.get(service, service.replace("-", "_"))


def plan_code(calls: Iterable[Call], client_expression: str = "lab.backend.client({service!r})") -> Code:
    """The calls as one runnable program: clients first, then each call with its parameters in full."""
    calls = list(calls)
    blobs: dict[str, bytes] = {}
    saved = {name for call in calls for name, _ in ((call.save,) if call.save else ()) + call.also_save}

    def printable(value: Any, key: str = "", owner: str = "") -> Any:
        if isinstance(value, Ref):
            return _Name(value.name)
        if isinstance(value, str) and any(f"<{name}>" in value for name in saved):
            # A plan shows a value an earlier call produces inside a string as <name>: an f-string here.
            text = value.replace("{", "{{").replace("}", "}}")
            for name in saved:
                text = text.replace(f"<{name}>", "{" + name + "}")
            return _Name("f" + repr(text))
        if isinstance(value, bytes | bytearray):
            name = re.sub(r"\W+", "_", f"{owner}_{key}".lower()).strip("_") or "data"
            name = f"object_{name}" if name[0].isdigit() else name
            for known, data in blobs.items():
                if data == value:
                    return _Name(known)
            while name in blobs:
                name += "_"
            blobs[name] = bytes(value)
            return _Name(name)
        if isinstance(value, str) and _JSON_PARAMS.search(key):
            try:
                return _JsonDocument(printable(json.loads(value)))
            except ValueError:
                return value
        if isinstance(value, Mapping):
            return {k: printable(v, str(k), owner) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(printable(v, key, owner) for v in value)
        return value

    body: list[str] = []
    for call in calls:
        client = client_variable(call.service)
        owner = str(call.params.get("FunctionName") or call.params.get("Key") or "")
        params = {k: printable(v, k, owner) for k, v in call.params.items()}
        if call.why:
            body.append(f"# {call.why}")
        if call.operation.startswith("wait:"):
            target = f"{client}.get_waiter({call.operation[5:]!r}).wait"
            params["WaiterConfig"] = {"Delay": 1, "MaxAttempts": 120}
        else:
            target = f"{client}.{call.operation}"
        arguments = _arguments(params)
        if call.save and not call.also_save:
            body.append(f"{call.save[0]} = {target}({arguments}){_subscripts(call.save[1])}")
        elif call.save or call.also_save:
            result = call.operation.removeprefix("create_")
            body.append(f"{result} = {target}({arguments})")
            for name, path in (call.save, *call.also_save) if call.save else call.also_save:
                body.append(f"{name} = {result}{_subscripts(path)}")
        else:
            body.append(f"{target}({arguments})")
        body.append("")
    header = ["import json", ""] if any("json.dumps(" in line for line in body) else []
    for service in dict.fromkeys(call.service for call in calls):
        header.append(f"{client_variable(service)} = {client_expression.format(service=service)}")
    for name, data in blobs.items():
        digest = hashlib.sha256(data).hexdigest()[:10]
        header.append(f"# {name}: {len(data):,} bytes (sha256 {digest}...), in this code's .blobs[{name!r}]")
    code = Code("\n".join([*header, "", *body]).rstrip() + "\n")
    code.blobs = blobs
    return code


def _subscripts(path: str) -> str:
    return "".join(f"[{part!r}]" for part in path.split("."))


def _arguments(params: Mapping[str, Any]) -> str:
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        parts.append(f"{key}={formatted(value, 4)}")
    return "\n    " + ",\n    ".join(parts) + ",\n"
