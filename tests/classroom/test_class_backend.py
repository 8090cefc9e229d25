"""The class backend: one moto server for the class, the same namespace for every kernel of one student."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from serverless_lab import Lab
from serverless_lab.backends import make_backend
from serverless_lab.backends.classroom import ClassBackend, ClassSettings, browser_url, current_class
from serverless_lab.classroom import lifecycle
from serverless_lab.classroom.identity import student_for_hub_user
from serverless_lab.classroom.links import served_urls
from serverless_lab.errors import BackendNotRunningError, UsageError
from serverless_lab.steps.site_config import config_values

pytestmark = pytest.mark.server

KERNEL = """
import json, sys
from serverless_lab import Lab, teaching
lab = Lab(student=teaching.student())
if sys.argv[1] == "deploy":
    lab.apply("table")
print(json.dumps({"student": lab.student, "backend": lab.backend.name, "endpoint": lab.backend.endpoint_url,
                  "table": lab.step("table").state()}))
"""


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClassSettings]:
    home = tmp_path_factory.mktemp("class-home")
    settings = lifecycle.start_class(f"c{uuid.uuid4().hex[:6]}", home=home, instructor="teacher")
    yield settings
    lifecycle.stop_class(settings)


def kernel(settings: ClassSettings, hub_user: str, home: Path, action: str = "read") -> dict[str, str]:
    """A kernel of a hub user: a process with the environment a hub's spawner gives it (its own home)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SERVERLESS_LAB_", "JUPYTERHUB_"))}
    environ.update(settings.environment(), JUPYTERHUB_USER=hub_user, SERVERLESS_LAB_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", KERNEL, action], env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_start_writes_the_settings_and_makes_the_progress_table(klass: ClassSettings) -> None:
    saved = json.loads((klass.home / "class.json").read_text())
    assert saved == {"name": klass.name, "instructor": "teacher", "browser": "loopback"}
    status = lifecycle.class_status(klass)
    assert status["running"] and status["endpoint"].startswith("http://127.0.0.1:")
    backend = lifecycle.class_backend(klass)
    assert (
        backend.client("dynamodb").describe_table(TableName="sl-teacher-progress")["Table"]["TableStatus"]
        == "ACTIVE"
    )
    assert status["dataplane_running"]  # the class's data plane, on the port config.js names
    # Starting again keeps the running server and the settings.
    assert lifecycle.start_class(klass.name, home=klass.home) == klass
    assert lifecycle.class_status(klass)["endpoint"] == status["endpoint"]


def test_two_kernels_of_one_student_share_a_namespace_and_two_students_never_do(
    klass: ClassSettings, tmp_path: Path
) -> None:
    grace_home, other_home = tmp_path / "grace", tmp_path / "other"
    first = kernel(klass, "Grace.Hopper", grace_home, "deploy")
    assert first["student"] == student_for_hub_user("Grace.Hopper")
    assert first["backend"] == "class"
    assert first["endpoint"] == lifecycle.class_status(klass)["endpoint"]
    assert first["table"] == "deployed"
    # Another kernel of the same hub user finds what the first one deployed.
    assert kernel(klass, "Grace.Hopper", grace_home) == first
    # A hub user whose name normalises alike is another student, with nothing deployed.
    other = kernel(klass, "grace.hopper", other_home)
    assert other["student"] != first["student"]
    assert other["table"] == "absent"


def test_a_student_kernel_never_starts_a_server_of_its_own(tmp_path: Path) -> None:
    settings = ClassSettings("stopped", tmp_path / "stopped").save()
    with pytest.raises(
        BackendNotRunningError, match="the instructor starts it with `serverless-lab class start stopped"
    ):
        ClassBackend(settings=settings).start()
    assert not (settings.home / "backend.json").exists()


def test_in_a_class_lab_uses_the_class_backend_by_default(
    klass: ClassSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in klass.environment().items():
        monkeypatch.setenv(key, value)
    assert current_class() == klass
    lab = Lab(student="ada")
    assert lab.backend.name == "class"
    assert lab.backend is make_backend("class")
    assert lab.backend.endpoint_url == lifecycle.class_status(klass)["endpoint"]
    assert Lab(backend="memory", student="ada").backend.name == "memory"  # a backend named is that backend


def test_backend_class_outside_a_class_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVERLESS_LAB_CLASS", raising=False)
    with pytest.raises(UsageError, match="backend='class' needs a class: set SERVERLESS_LAB_CLASS"):
        make_backend("class")


def test_class_json_of_another_class_is_refused(klass: ClassSettings) -> None:
    with pytest.raises(UsageError, match=f"belongs to the class {klass.name!r}, not 'other'"):
        ClassSettings.load("other", klass.home)


def test_on_a_hub_config_js_names_the_data_plane_relative_to_the_page(klass: ClassSettings) -> None:
    hub = ClassSettings(klass.name, klass.home, klass.instructor, browser="hub")
    backend = ClassBackend(settings=hub)
    backend.start()
    port = backend.dataplane_port
    api = f"http://127.0.0.1:{port}/restapis/abc123/prod/_user_request_/"
    values = config_values({"api": {"url": api}}, backend)
    # The page is at <hub>/user/<name>/proxy/<distribution port>/, so ../<port>/ is the data plane's port
    # through the same student's proxy, whoever the student is.
    assert values["apiUrl"] == f"../{port}/restapis/abc123/prod/_user_request_"
    assert values["cognitoEndpoint"] == f"../{port}/cognito-idp/"
    assert values["backend"] == "class"
    loopback = lifecycle.class_backend(klass)
    assert config_values({"api": {"url": api}}, loopback)["apiUrl"] == api.rstrip("/")


@pytest.mark.parametrize(
    ("url", "mode", "expected"),
    [
        (
            "http://127.0.0.1:4000/restapis/a/prod/_user_request_",
            "hub",
            "../4000/restapis/a/prod/_user_request_",
        ),
        ("http://127.0.0.1:4000", "hub", "../4000/"),
        ("http://127.0.0.1:4000/x", "loopback", "http://127.0.0.1:4000/x"),
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
            "hub",
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
        ),
    ],
)
def test_browser_url(url: str, mode: str, expected: str) -> None:
    assert browser_url(url, mode) == expected


def test_a_kernel_serves_beside_the_class_data_plane_on_a_port_of_its_own(klass: ClassSettings) -> None:
    backend = lifecycle.class_backend(klass)
    lab = Lab(backend=backend, student="zed")
    server = lab.serve()
    try:
        assert server.url != f"http://127.0.0.1:{backend.dataplane_port}"
        assert server.shared_with is None  # it never tried the class's port
        assert served_urls(backend.dataplane_port) is not None  # the class's data plane answers there
    finally:
        lab.stop_serving()


def test_stop_class_stops_its_data_plane_too(tmp_path: Path) -> None:
    settings = lifecycle.start_class("brief", home=tmp_path / "brief")
    port = lifecycle.class_status(settings)["dataplane_port"]
    assert served_urls(port) is not None
    assert lifecycle.stop_class(settings)
    assert served_urls(port) is None
    assert lifecycle.class_status(settings)["running"] is False
