"""Match a request path and method to a REST API resource the way API Gateway does.

- A path segment matches a literal child first, then a `{param}` child, then a greedy `{proxy+}`
  child, which takes the rest of the path (one segment at least; it never matches the parent itself).
  "API Gateway matches the most specific path first"; a literal that leads nowhere falls back to the
  parameter or greedy sibling.
- A trailing slash is ignored for matching (`/items/` is served by `/items`); the event's `path` keeps
  the slash as the client sent it.
- The method is matched exactly, then `ANY`. A missing method on an existing resource, or no resource
  at all, is API Gateway's 403 "Missing Authentication Token".
- Path parameters stay percent-encoded, as `path` does: a REST API (unlike an HTTP API) passes
  `/items/a%20b` on as `{"id": "a%20b"}` and `.../test%2Balias@gmail.com` as `test%2Balias@gmail.com`
  (LocalStack's test_lambda_aws_proxy_integration, recorded against AWS); the handler decodes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from serverless_lab.dataplane.apigateway.model import MethodConfig, ResourceConfig

__all__ = ["RouteMatch", "RouteTable"]


@dataclass(frozen=True)
class RouteMatch:
    """The resource and method serving a request, with its path parameters (percent-encoded, as sent)."""

    resource: ResourceConfig
    method: MethodConfig
    path_parameters: dict[str, str]


@dataclass
class _Node:
    resource: ResourceConfig | None = None
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None


class RouteTable:
    """The resource tree of one API, built once per configuration and matched per request."""

    def __init__(self, resources: Iterable[ResourceConfig]) -> None:
        self._root = _Node()
        for resource in resources:
            self._insert(resource)

    def _insert(self, resource: ResourceConfig) -> None:
        node = self._root
        for part in _segments(resource.path):
            if part.startswith("{") and part.endswith("+}"):
                name = part[1:-2]
                if node.greedy is None:
                    node.greedy = (name, _Node())
                node = node.greedy[1]
            elif part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if node.parameter is None:
                    node.parameter = (name, _Node())
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(part, _Node())
        node.resource = resource

    def find_resource(self, path: str) -> tuple[ResourceConfig, dict[str, str]] | None:
        """The most specific resource for a raw (percent-encoded) path, or None."""
        if path != "/" and path.endswith("/"):
            path = path[:-1]  # API Gateway serves /items/ from the /items resource
        found = _walk(self._root, _segments(path), {})
        if found is None:
            return None
        resource, parameters = found
        return resource, parameters

    def match(self, http_method: str, path: str) -> RouteMatch | None:
        """The resource and method for a request, or None when API Gateway would answer 403."""
        found = self.find_resource(path)
        if found is None:
            return None
        resource, parameters = found
        method = resource.methods.get(http_method.upper()) or resource.methods.get("ANY")
        if method is None:
            return None
        return RouteMatch(resource=resource, method=method, path_parameters=parameters)


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _walk(node: _Node, segments: list[str], captured: dict[str, str]) -> tuple[ResourceConfig, dict] | None:
    if not segments:
        return (node.resource, captured) if node.resource is not None else None
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(unquote(head))
    if literal is not None:
        found = _walk(literal, rest, captured)
        if found is not None:
            return found
    if node.parameter is not None and head:
        name, child = node.parameter
        found = _walk(child, rest, {**captured, name: head})
        if found is not None:
            return found
    if node.greedy is not None and node.greedy[1].resource is not None:
        name, child = node.greedy
        return child.resource, {**captured, name: "/".join(segments)}
    return None
