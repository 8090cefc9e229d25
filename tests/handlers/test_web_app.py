"""The static web app in data/site/, checked without a browser: ids, labels, paths, hooks."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "data" / "site"
FORM_CONTROLS = {"input", "textarea", "select"}


@dataclass
class Element:
    tag: str
    attributes: dict[str, str]
    inside_label: bool


@dataclass
class PageParser(HTMLParser):
    """Collects every element with its attributes, and the text of nothing else."""

    elements: list[Element] = field(default_factory=list)
    open_labels: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, self.open_labels > 0))
        if tag == "label":
            self.open_labels += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1


def parse(name: str) -> PageParser:
    parser = PageParser()
    parser.feed((SITE / name).read_text(encoding="utf-8"))
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> PageParser:
    return parse("index.html")


@pytest.fixture(scope="module")
def app_js() -> str:
    return (SITE / "app.js").read_text(encoding="utf-8")


def ids_of(page: PageParser) -> list[str]:
    return [element.attributes["id"] for element in page.elements if "id" in element.attributes]


def test_site_has_its_files() -> None:
    for name in ("index.html", "app.js", "style.css", "favicon.svg", "404.html"):
        assert (SITE / name).stat().st_size > 0, name
    assert not (SITE / "config.js").exists(), "config.js is generated at upload time, not committed"


def test_ids_are_unique(page: PageParser) -> None:
    ids = ids_of(page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_id_app_js_refers_to_exists(page: PageParser, app_js: str) -> None:
    referenced = set(re.findall(r"#([a-z][a-z0-9-]*)", app_js))
    assert referenced, "app.js refers to no element id: the regular expression is wrong"
    assert referenced - set(ids_of(page)) == set()


def test_the_ids_the_brief_promises_the_browser_tests_exist(page: PageParser) -> None:
    promised = {
        "signup-form", "signup-username", "signup-email", "signup-password", "confirm-code",
        "signin-username", "signin-password", "item-title", "item-notes", "add-item",
        "signout", "status", "latency-log", "edge-cache",
    }  # fmt: skip
    assert promised - set(ids_of(page)) == set()


def test_every_form_control_has_a_label(page: PageParser) -> None:
    label_targets = {e.attributes.get("for") for e in page.elements if e.tag == "label"}
    controls = [e for e in page.elements if e.tag in FORM_CONTROLS and e.attributes.get("type") != "hidden"]
    assert controls
    unlabelled = [
        e.attributes.get("id", e.tag)
        for e in controls
        if e.attributes.get("id") not in label_targets
        and not e.inside_label
        and not e.attributes.get("aria-label")
    ]
    assert unlabelled == []


def test_every_form_submits_with_enter(page: PageParser) -> None:
    """A form with a submit button submits when Enter is pressed in one of its fields."""
    html = (SITE / "index.html").read_text(encoding="utf-8")
    forms = re.findall(r"<form\b.*?</form>", html, flags=re.DOTALL)
    assert len(forms) == 4
    for form in forms:
        assert re.search(r'<button type="submit"', form), form[:60]


def test_assets_use_relative_paths_and_config_loads_before_app(page: PageParser) -> None:
    # Relative, so the page works at its distribution's root and under a hub's /user/<name>/proxy/<port>/.
    scripts = [e.attributes["src"] for e in page.elements if e.tag == "script"]
    assert scripts == ["config.js", "app.js"]
    links = [e.attributes["href"] for e in page.elements if e.tag == "link"]
    assert links == ["favicon.svg", "style.css"]
    images = [e.attributes["src"] for e in page.elements if e.tag == "img"]
    assert all(not src.startswith("/") for src in images)


def test_status_is_announced(page: PageParser) -> None:
    (status,) = [e for e in page.elements if e.attributes.get("id") == "status"]
    assert status.attributes["aria-live"] == "polite"
    assert status.attributes["role"] == "status"


def test_app_js_never_injects_html(app_js: str) -> None:
    # Item titles are user input: the page must render them with textContent only.
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", app_js)


def test_app_js_calls_the_contracted_operations(app_js: str) -> None:
    for operation in ("SignUp", "ConfirmSignUp", "InitiateAuth"):
        assert f'cognito("{operation}"' in app_js
    for flow in ("USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH"):
        assert flow in app_js
    assert "application/x-amz-json-1.1" in app_js
    assert "AWSCognitoIdentityProviderService." in app_js
    assert "sessionStorage" in app_js
    for route in (
        'api("GET", `/items?',
        'api("POST", "/items"',
        'api("PUT", `/items/',
        'api("DELETE", `/items/',
    ):
        assert route in app_js
    assert 'api("GET", "/me")' in app_js


def test_documented_class_hooks_are_used_in_app_js(app_js: str) -> None:
    header = app_js.split("*/", 1)[0]
    code = app_js.split("*/", 1)[1]
    documented = set(re.findall(r"\.(item[a-z-]*|latency-entry|edge-entry)", header))
    assert {"item", "item-edit", "item-delete", "item-conflict"} <= documented
    for hook in documented:
        assert re.search(rf"[\"' ]{hook}[\"' ]", code), hook


def test_404_page_parses_and_links_home() -> None:
    page = parse("404.html")
    assert any(e.tag == "a" and e.attributes.get("href") == "/" for e in page.elements)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_app_js_is_valid_javascript() -> None:
    result = subprocess.run(["node", "--check", str(SITE / "app.js")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
