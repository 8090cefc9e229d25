"""The handler files as the functions step ships them: one file per zip, stdlib + boto3 only."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path

import pytest
from lambda_test_events import HANDLERS, load_handler

# What the Lambda python3.12 runtime provides besides the standard library.
RUNTIME_PACKAGES = {"boto3", "botocore"}
HANDLER_FILES = ["items.py", "me.py"]


def imported_top_level_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import would need a second file in the zip"
            modules.add((node.module or "").split(".")[0])
    return modules


@pytest.mark.parametrize("name", HANDLER_FILES)
def test_handler_imports_only_what_lambda_provides(name: str) -> None:
    modules = imported_top_level_modules((HANDLERS / name).read_text(encoding="utf-8"))
    assert modules, "no imports found: the parser is wrong"
    foreign = {m for m in modules if m not in sys.stdlib_module_names and m not in RUNTIME_PACKAGES}
    assert foreign == set()


def test_the_handlers_folder_holds_only_the_two_functions() -> None:
    assert sorted(p.name for p in HANDLERS.glob("*.py")) == HANDLER_FILES


@pytest.mark.parametrize("name", ["items", "me"])
def test_handler_takes_event_and_context(name: str, table: object) -> None:
    module = load_handler(name)
    assert list(inspect.signature(module.handler).parameters) == ["event", "context"]
    assert module.COLD_START is True  # nothing ran yet: the next invocation is the cold one


def test_items_needs_its_table_name(monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> None:
    # Without TABLE_NAME the init phase fails; Lambda reports that init error with errorType KeyError.
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(KeyError, match="TABLE_NAME"):
        load_handler("items")


def test_sample_data_files_are_consistent() -> None:
    data = Path(HANDLERS).parent / "data"
    users = json.loads((data / "users.json").read_text(encoding="utf-8"))
    items = json.loads((data / "items.json").read_text(encoding="utf-8"))
    assert 2 <= len(users) <= 3
    for user in users:
        assert set(user) == {"username", "email", "password"}
        password = user["password"]
        # The lab's user pool policy: at least 8 characters with upper, lower and digit.
        assert len(password) >= 8
        assert re.search(r"[A-Z]", password) and re.search(r"[a-z]", password) and re.search(r"\d", password)
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", user["email"])
    usernames = {user["username"] for user in users}
    assert len(usernames) == len(users)
    assert len(items) >= 5
    for item in items:
        assert {"owner", "title", "notes"} <= set(item) <= {"owner", "title", "notes", "done"}
        assert isinstance(item.get("done", False), bool)
        assert item["owner"] in usernames
        assert 1 <= len(item["title"].strip()) <= 200
        assert len(item["notes"]) <= 2000
    assert {item["owner"] for item in items} == usernames  # every sample user has something to see
    # some done and some open, so that 05-functions' stats exercise cannot pass with a constant
    assert {item.get("done", False) for item in items} == {True, False}
