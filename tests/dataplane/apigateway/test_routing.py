"""Route matching as API Gateway does it: literal > {param} > {proxy+}, ANY, trailing slash, decoding."""

from __future__ import annotations

import pytest
from gateway_helpers import make_api

from serverless_lab.dataplane.apigateway.model import MethodConfig, ResourceConfig
from serverless_lab.dataplane.apigateway.routing import RouteTable


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(make_api().resources)


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("GET", "/", "/", {}),
        ("GET", "/items", "/items", {}),
        ("GET", "/items/", "/items", {}),  # trailing slash served by /items
        ("GET", "/items/42", "/items/{id}", {"id": "42"}),
        ("GET", "/items/special", "/items/special", {}),  # literal beats {id}
        ("DELETE", "/items/special", None, None),  # the literal resource has no DELETE: no fallback to {id}
        ("PUT", "/items/7/tags/red", "/items/{id}/tags/{tag}", {"id": "7", "tag": "red"}),
        ("GET", "/items/a%20b", "/items/{id}", {"id": "a%20b"}),  # REST APIs pass them on encoded
        ("GET", "/items/j9Fb%2BD0v", "/items/{id}", {"id": "j9Fb%2BD0v"}),
        ("GET", "/items/a+b", "/items/{id}", {"id": "a+b"}),
        ("GET", "/public/a/b/c.txt", "/public/{proxy+}", {"proxy": "a/b/c.txt"}),  # greedy
        ("PATCH", "/public/x", "/public/{proxy+}", {"proxy": "x"}),  # ANY
        ("GET", "/public/caf%C3%A9", "/public/{proxy+}", {"proxy": "caf%C3%A9"}),
        # The email of LocalStack's AWS-recorded snapshot: %2B kept, a literal + kept.
        (
            "GET",
            "/public/u/test%2Balias@x.com/test+alias@x.com",
            "/public/{proxy+}",
            {"proxy": "u/test%2Balias@x.com/test+alias@x.com"},
        ),
        ("GET", "/public", None, None),  # the proxy's parent has no methods; {proxy+} needs a segment
        ("GET", "/nothing", None, None),
        ("GET", "/items/1/2", None, None),
        ("POST", "/items/42", None, None),  # resource exists, method does not
    ],
)
def test_match(
    table: RouteTable, method: str, path: str, resource: str | None, parameters: dict | None
) -> None:
    found = table.match(method, path)
    if resource is None:
        assert found is None
    else:
        assert found is not None
        assert (found.resource.path, found.path_parameters) == (resource, parameters)


def test_exact_method_beats_any() -> None:
    get = MethodConfig(http_method="GET")
    any_method = MethodConfig(http_method="ANY")
    table = RouteTable([ResourceConfig(id="r", path="/x", methods={"GET": get, "ANY": any_method})])
    assert table.match("GET", "/x").method is get
    assert table.match("post", "/x").method is any_method


def test_literal_dead_end_falls_back_to_parameter() -> None:
    get = MethodConfig(http_method="GET")
    table = RouteTable(
        [
            ResourceConfig(id="a", path="/a/b/c", methods={"GET": get}),
            ResourceConfig(id="p", path="/{x}/d", methods={"GET": get}),
        ]
    )
    found = table.match("GET", "/a/d")
    assert found.resource.id == "p"
    assert found.path_parameters == {"x": "a"}


def test_root_proxy_does_not_match_root() -> None:
    get = MethodConfig(http_method="ANY")
    table = RouteTable(
        [ResourceConfig(id="root", path="/"), ResourceConfig(id="p", path="/{proxy+}", methods={"ANY": get})]
    )
    assert table.match("GET", "/") is None
    assert table.match("GET", "/anything/at/all").path_parameters == {"proxy": "anything/at/all"}
