"""handlers/items.py against DynamoDB in moto, called with REST API proxy events as API Gateway sends them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from lambda_test_events import ALICE, BOB, ApiClient, LambdaTestContext, build_rest_proxy_event

ORIGIN = "https://d111111abcdef8.cloudfront.net"


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


# --- POST /items -------------------------------------------------------------------------------------


def test_create_returns_201_with_the_item_and_a_location(alice: ApiClient, table: Any) -> None:
    status, item, headers = alice.call(
        "POST", "/items", body={"title": "  Buy milk  ", "notes": "2 litres", "done": True}
    )
    assert status == 201
    assert item["title"] == "Buy milk"
    assert item["notes"] == "2 litres"
    assert item["done"] is True
    assert item["version"] == 1
    assert item["createdAt"] == item["updatedAt"]
    assert item["createdAt"].endswith("Z")
    assert headers["Location"] == f"/prod/items/{item['itemId']}"
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Content-Type"] == "application/json"
    stored = table.get_item(Key={"owner": ALICE.sub, "itemId": item["itemId"]})["Item"]
    assert stored["title"] == "Buy milk"
    assert stored["version"] == 1


def test_create_defaults_done_to_false_and_notes_to_empty(alice: ApiClient) -> None:
    item = alice.create(title="x")
    assert item["done"] is False
    assert item["notes"] == ""


def test_create_accepts_a_base64_encoded_body(alice: ApiClient) -> None:
    event = build_rest_proxy_event("POST", "/items", body=base64.b64encode(b'{"title": "encoded"}').decode())
    event["isBase64Encoded"] = True
    response = alice.module.handler(event, LambdaTestContext())
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["title"] == "encoded"


def test_title_of_exactly_200_characters_after_strip_is_accepted(alice: ApiClient) -> None:
    assert alice.create(title=" " + "t" * 200 + " ")["title"] == "t" * 200


@pytest.mark.parametrize(
    ("body", "expected_words"),
    [
        ("{not json", ["not valid JSON"]),
        ('{"title": NaN}', ["not valid JSON"]),
        ("", ["body is required"]),
        (None, ["body is required"]),
        ("[1, 2]", ["JSON object", "array"]),
        ('"just a string"', ["JSON object", "string"]),
        ("42", ["JSON object", "number"]),
        ("null", ["JSON object", "null"]),
        ({}, ["title", "required"]),
        ({"notes": "no title"}, ["title", "required"]),
        ({"title": 5}, ["title", "string", "number"]),
        ({"title": None}, ["title", "string", "null"]),
        ({"title": ["a"]}, ["title", "string", "array"]),
        ({"title": ""}, ["title", "1 to 200"]),
        ({"title": "    "}, ["title", "1 to 200"]),
        ({"title": "t" * 201}, ["title", "1 to 200"]),
        ({"title": "ok", "notes": 7}, ["notes", "string"]),
        ({"title": "ok", "notes": "n" * 2001}, ["notes", "2000"]),
        ({"title": "ok", "done": "true"}, ["done", "boolean", "string"]),
        ({"title": "ok", "done": 1}, ["done", "boolean", "number"]),
        ({"title": "ok", "owner": "someone-else"}, ["Unknown field", "owner"]),
        ({"title": "ok", "version": 3}, ["Unknown field", "version"]),
        ({"title": "ok", "itemId": "0000000000001-0000000000000000"}, ["Unknown field", "itemId"]),
    ],
)
def test_create_rejects_bad_input_with_400_naming_the_problem(
    alice: ApiClient, table: Any, body: Any, expected_words: list[str]
) -> None:
    status, answer, headers = alice.call("POST", "/items", body=body)
    assert status == 400
    for word in expected_words:
        assert word in answer["message"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert table.scan()["Count"] == 0


def test_invalid_base64_body_is_400(alice: ApiClient) -> None:
    event = build_rest_proxy_event("POST", "/items", body="%%%not-base64")
    event["isBase64Encoded"] = True
    response = alice.module.handler(event, LambdaTestContext())
    assert response["statusCode"] == 400
    assert "base64" in json.loads(response["body"])["message"]


# --- GET /items/{id} ---------------------------------------------------------------------------------


def test_get_returns_the_callers_item(alice: ApiClient) -> None:
    created = alice.create(title="read me", notes="n")
    status, item, _ = alice.call("GET", "/items/{id}", path_parameters={"id": created["itemId"]})
    assert status == 200
    assert item == created


@pytest.mark.parametrize(
    "item_id", ["0000000000001-0123456789abcdef", "not-an-id", "0000000000000-sample-99", "x" * 2000, "a b"]
)
def test_get_unknown_or_impossible_id_is_404(alice: ApiClient, item_id: str) -> None:
    status, answer, headers = alice.call("GET", "/items/{id}", path_parameters={"id": item_id})
    assert status == 404
    assert "not found" in answer["message"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_another_users_item_is_404_as_if_missing(alice: ApiClient, bob: ApiClient) -> None:
    created = alice.create(title="alice's secret")
    status, answer, _ = bob.call("GET", "/items/{id}", path_parameters={"id": created["itemId"]})
    missing_status, missing_answer, _ = bob.call(
        "GET", "/items/{id}", path_parameters={"id": "0000000000001-0123456789abcdef"}
    )
    assert status == missing_status == 404
    assert "alice" not in json.dumps(answer)
    assert answer["message"].replace(created["itemId"], "ID") == missing_answer["message"].replace(
        "0000000000001-0123456789abcdef", "ID"
    )


# --- GET /items --------------------------------------------------------------------------------------


def test_list_is_newest_first_and_only_the_callers(alice: ApiClient, bob: ApiClient) -> None:
    titles = [f"item {n}" for n in range(4)]
    for title in titles:
        alice.create(title=title)
    bob.create(title="bob's")
    status, page, _ = alice.call("GET", "/items")
    assert status == 200
    assert [item["title"] for item in page["items"]] == list(reversed(titles))
    assert page["cursor"] is None
    _, bob_page, _ = bob.call("GET", "/items")
    assert [item["title"] for item in bob_page["items"]] == ["bob's"]


def test_list_defaults_to_20_items(alice: ApiClient) -> None:
    for n in range(23):
        alice.create(title=f"item {n}")
    _, page, _ = alice.call("GET", "/items")
    assert len(page["items"]) == 20
    assert page["cursor"]


def test_cursor_pages_through_everything_once(alice: ApiClient) -> None:
    created = [alice.create(title=f"item {n}")["itemId"] for n in range(7)]
    seen: list[str] = []
    pages = 0
    query: dict[str, str] = {"limit": "3"}
    while True:
        status, page, _ = alice.call("GET", "/items", query=query)
        assert status == 200
        assert len(page["items"]) <= 3
        seen += [item["itemId"] for item in page["items"]]
        pages += 1
        if page["cursor"] is None:
            break
        query = {"limit": "3", "cursor": page["cursor"]}
    assert seen == list(reversed(created))
    assert pages == 3  # 3 + 3 + 1, and no empty last page


def test_exactly_limit_items_has_no_next_page(alice: ApiClient) -> None:
    for n in range(3):
        alice.create(title=f"item {n}")
    _, page, _ = alice.call("GET", "/items", query={"limit": "3"})
    assert len(page["items"]) == 3
    assert page["cursor"] is None


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", "", "0100"])
def test_bad_limit_is_400(alice: ApiClient, limit: str) -> None:
    status, answer, _ = alice.call("GET", "/items", query={"limit": limit})
    assert status == 400
    assert "limit" in answer["message"]


def test_limit_bounds_are_accepted(alice: ApiClient) -> None:
    alice.create(title="one")
    assert alice.call("GET", "/items", query={"limit": "1"})[0] == 200
    assert alice.call("GET", "/items", query={"limit": "100"})[0] == 200


def cursor_of(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"not json").decode(),
        cursor_of([1, 2]),
        cursor_of({"owner": ALICE.sub}),
        cursor_of({"owner": ALICE.sub, "itemId": "0000000000001-0123456789abcdef", "extra": 1}),
        cursor_of({"owner": ALICE.sub, "itemId": 5}),
        cursor_of({"owner": ALICE.sub, "itemId": "../../etc"}),
        cursor_of({"owner": ALICE.sub, "itemId": ""}),
        cursor_of({"owner": ALICE.sub, "itemId": "9" * 1025}),
        cursor_of({"owner": BOB.sub, "itemId": "9999999999999-0123456789abcdef"}),
    ],
)
def test_tampered_or_foreign_cursor_is_400(alice: ApiClient, cursor: str) -> None:
    alice.create(title="mine")
    status, answer, _ = alice.call("GET", "/items", query={"cursor": cursor})
    assert status == 400
    assert "cursor" in answer["message"]


def test_a_cursor_cannot_page_into_another_users_partition(alice: ApiClient, bob: ApiClient) -> None:
    for n in range(3):
        alice.create(title=f"alice {n}")
    _, page, _ = alice.call("GET", "/items", query={"limit": "1"})
    status, answer, _ = bob.call("GET", "/items", query={"cursor": page["cursor"]})
    assert status == 400
    assert "items" not in answer


# --- PUT /items/{id} ---------------------------------------------------------------------------------


def test_update_bumps_version_and_changes_only_what_was_sent(alice: ApiClient, table: Any) -> None:
    created = alice.create(title="draft", notes="keep me")
    status, updated, _ = alice.call(
        "PUT", "/items/{id}", path_parameters={"id": created["itemId"]}, body={"done": True, "version": 1}
    )
    assert status == 200
    assert updated["version"] == 2
    assert updated["done"] is True
    assert updated["title"] == "draft"
    assert updated["notes"] == "keep me"
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] >= created["updatedAt"]
    stored = table.get_item(Key={"owner": ALICE.sub, "itemId": created["itemId"]})["Item"]
    assert stored["version"] == 2
    assert stored["done"] is True


def test_stale_version_is_409_with_the_current_item(alice: ApiClient) -> None:
    created = alice.create(title="shared")
    path = {"id": created["itemId"]}
    assert (
        alice.call("PUT", "/items/{id}", path_parameters=path, body={"title": "first", "version": 1})[0]
        == 200
    )
    status, answer, headers = alice.call(
        "PUT", "/items/{id}", path_parameters=path, body={"title": "second", "version": 1}
    )
    assert status == 409
    assert "version 2" in answer["message"]
    assert "version 1" in answer["message"]
    assert answer["item"]["title"] == "first"
    assert answer["item"]["version"] == 2
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_update_of_missing_id_is_404_and_creates_nothing(alice: ApiClient, table: Any) -> None:
    status, answer, _ = alice.call(
        "PUT",
        "/items/{id}",
        path_parameters={"id": "0000000000001-0123456789abcdef"},
        body={"title": "ghost", "version": 1},
    )
    assert status == 404
    assert "not found" in answer["message"]
    assert table.scan()["Count"] == 0


def test_update_of_another_users_item_is_404_and_changes_nothing(
    alice: ApiClient, bob: ApiClient, table: Any
) -> None:
    created = alice.create(title="alice's")
    status, _, _ = bob.call(
        "PUT", "/items/{id}", path_parameters={"id": created["itemId"]}, body={"title": "pwned", "version": 1}
    )
    assert status == 404
    assert alice.call("GET", "/items/{id}", path_parameters={"id": created["itemId"]})[1] == created
    assert table.scan()["Count"] == 1  # bob's failed update did not create an item in his partition


@pytest.mark.parametrize(
    ("body", "expected_words"),
    [
        ({"title": "no version"}, ["version", "required"]),
        ({"title": "x", "version": "1"}, ["version", "integer"]),
        ({"title": "x", "version": True}, ["version", "integer"]),
        ({"title": "x", "version": 1.5}, ["version", "integer"]),
        ({"title": "x", "version": 0}, ["version", "integer"]),
        ({"version": 1}, ["Nothing to change"]),
        ({"title": "", "version": 1}, ["title", "1 to 200"]),
        ({"title": "t" * 201, "version": 1}, ["title", "1 to 200"]),
        ({"notes": "n" * 2001, "version": 1}, ["notes", "2000"]),
        ({"done": "yes", "version": 1}, ["done", "boolean"]),
        ({"title": "x", "version": 1, "owner": BOB.sub}, ["Unknown field", "owner"]),
        ("{broken", ["not valid JSON"]),
        ("[]", ["JSON object"]),
        (None, ["body is required"]),
    ],
)
def test_update_rejects_bad_input_with_400(alice: ApiClient, body: Any, expected_words: list[str]) -> None:
    created = alice.create(title="original")
    status, answer, _ = alice.call("PUT", "/items/{id}", path_parameters={"id": created["itemId"]}, body=body)
    assert status == 400
    for word in expected_words:
        assert word in answer["message"]
    assert alice.call("GET", "/items/{id}", path_parameters={"id": created["itemId"]})[1] == created


def test_update_can_clear_notes(alice: ApiClient) -> None:
    created = alice.create(title="t", notes="something")
    _, updated, _ = alice.call(
        "PUT", "/items/{id}", path_parameters={"id": created["itemId"]}, body={"notes": "", "version": 1}
    )
    assert updated["notes"] == ""


# --- DELETE /items/{id} ------------------------------------------------------------------------------


def test_delete_then_get_is_404(alice: ApiClient) -> None:
    created = alice.create(title="bye")
    path = {"id": created["itemId"]}
    status, body, headers = alice.call("DELETE", "/items/{id}", path_parameters=path)
    assert status == 204
    assert body is None
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert alice.call("GET", "/items/{id}", path_parameters=path)[0] == 404
    assert alice.call("DELETE", "/items/{id}", path_parameters=path)[0] == 404


def test_delete_of_another_users_item_is_404_and_keeps_it(alice: ApiClient, bob: ApiClient) -> None:
    created = alice.create(title="keep")
    path = {"id": created["itemId"]}
    assert bob.call("DELETE", "/items/{id}", path_parameters=path)[0] == 404
    assert alice.call("GET", "/items/{id}", path_parameters=path)[0] == 200


# --- Routing, auth, errors, logs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "resource", "allowed"),
    [("PATCH", "/items", "GET, POST"), ("POST", "/items/{id}", "DELETE, GET, PUT")],
)
def test_unsupported_method_is_405_with_allow(
    alice: ApiClient, method: str, resource: str, allowed: str
) -> None:
    params = {"id": "0000000000001-0123456789abcdef"} if "{id}" in resource else None
    status, answer, headers = alice.call(method, resource, path_parameters=params, body={"title": "x"})
    assert status == 405
    assert method in answer["message"]
    assert headers["Allow"] == allowed


def test_unknown_route_is_404(alice: ApiClient) -> None:
    status, answer, headers = alice.call("GET", "/things")
    assert status == 404
    assert "/things" in answer["message"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_greedy_proxy_resource_is_routed_by_path(alice: ApiClient) -> None:
    created = alice.create(title="via proxy")
    event = build_rest_proxy_event(
        "GET", "/{proxy+}", path_parameters={"proxy": f"items/{created['itemId']}"}
    )
    assert event["path"] == f"/items/{created['itemId']}"
    response = alice.module.handler(event, LambdaTestContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["title"] == "via proxy"


def test_no_authorizer_claims_is_401(alice: ApiClient) -> None:
    status, answer, _ = alice.call("GET", "/items", user=None)
    assert status == 401
    assert answer == {"message": "Unauthorized"}


def test_unexpected_error_is_500_without_details_and_logged_with_request_id(
    alice: ApiClient, table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    table.delete()  # the function now meets ResourceNotFoundException, which it does not expect
    capsys.readouterr()
    context = LambdaTestContext()
    response = alice.module.handler(build_rest_proxy_event("GET", "/items"), context)
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal server error"}
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    (line,) = log_lines(capsys)
    assert line["level"] == "ERROR"
    assert line["requestId"] == context.aws_request_id
    assert line["status"] == 500
    assert line["errorType"] == "ResourceNotFoundException"
    assert "ResourceNotFoundException" in line["error"]


def test_one_json_log_line_per_request_with_cold_then_warm(
    items: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ApiClient(items)
    capsys.readouterr()
    *_, first_headers = client.call("GET", "/items")
    *_, second_headers = client.call("GET", "/items/{id}", path_parameters={"id": "nope"})
    first, second = log_lines(capsys)
    assert first["coldStart"] is True
    assert second["coldStart"] is False
    # The same in the function's own answer header, which a page on another origin may read.
    assert (first_headers["X-Cold-Start"], second_headers["X-Cold-Start"]) == ("true", "false")
    assert "X-Cold-Start" in first_headers["Access-Control-Expose-Headers"].split(", ")
    assert (first["level"], first["route"], first["status"]) == ("INFO", "GET /items", 200)
    assert (second["route"], second["status"]) == ("GET /items/{id}", 404)
    for line in (first, second):
        assert set(line) >= {"timestamp", "level", "message", "requestId", "route", "status", "duration_ms"}
        assert line["duration_ms"] >= 0
        assert line["requestId"]


def test_sample_items_seeded_by_the_table_step_are_reachable(alice: ApiClient, table: Any) -> None:
    """The table step seeds ids like 0000000000000-sample-01; they sort after (older than) real items."""
    sample_id = "0000000000000-sample-01"
    table.put_item(
        Item={
            "owner": ALICE.sub,
            "itemId": sample_id,
            "title": "Write the first program",
            "done": False,
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "version": 1,
        }
    )
    alice.create(title="newer")
    _, first, _ = alice.call("GET", "/items", query={"limit": "1"})
    assert first["items"][0]["title"] == "newer"
    _, second, _ = alice.call("GET", "/items", query={"limit": "1", "cursor": first["cursor"]})
    assert [item["itemId"] for item in second["items"]] == [sample_id]
    assert second["cursor"] is None
    path = {"id": sample_id}
    status, updated, _ = alice.call(
        "PUT", "/items/{id}", path_parameters=path, body={"done": True, "version": 1}
    )
    assert (status, updated["version"], updated["notes"]) == (200, 2, "")
    assert alice.call("DELETE", "/items/{id}", path_parameters=path)[0] == 204
