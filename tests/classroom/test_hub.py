"""A class on a JupyterHub: three students run a notebook in their own servers, the instructor sees all three,
and a student's site, API and Cognito endpoint open in their browser under their hub URL.

The hub is the trial `serverless-lab hub` starts (DummyAuthenticator, SimpleLocalProcessSpawner, the proxy
from node_modules/, the class's data plane as a managed service), on free ports of 127.0.0.1 with a class
of its own. Each notebook runs in a kernel of the student's own single-user server, started through that
server's REST API with the student's token, as JupyterLab starts one in their browser.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from remote_kernel import RemoteKernel

from serverless_lab.backends.local import free_port
from serverless_lab.classroom import lifecycle
from serverless_lab.classroom.hub import TrialHub, proxy_command, stop_process
from serverless_lab.classroom.identity import student_for_hub_user
from serverless_lab.teaching import class_progress

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
USERS = ("ada", "grace.hopper", "linus")  # grace.hopper is no valid student name: the hub's rule names her
NOTEBOOK = ROOT / "notebooks" / "00-overview.ipynb"
EXERCISE = "private_bucket_call"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialHub]:
    proxy_command()  # the proxy is installed (make test does it): a clear error otherwise, never a skip
    home = tmp_path_factory.mktemp("hub-class")
    trial = TrialHub.create(f"hub{uuid.uuid4().hex[:4]}", home=home, port=free_port(), users=USERS)
    process = trial.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(len(USERS)) as pool:
            list(pool.map(trial.start_server, USERS))
        yield trial
    finally:
        stop_process(process)
        lifecycle.stop_class(trial.settings)


def login(hub: TrialHub, user: str) -> requests.Session:
    """A browser's session: the hub's login form (with its _xsrf field), then the hub's cookies."""
    session = requests.Session()
    form = session.get(f"{hub.url}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
    assert xsrf, form.text[:500]
    answer = session.post(
        f"{hub.url}/hub/login",
        data={"username": user, "password": hub.password, "_xsrf": xsrf.group(1)},
        timeout=60,
    )
    assert answer.status_code == 200 and f"/user/{user}/" in answer.url, (answer.status_code, answer.url)
    return session


async def run_as(hub: TrialHub, user: str, notebook: nbformat.NotebookNode) -> dict[str, Any]:
    kernel = await RemoteKernel(f"{hub.url}/user/{user}/", hub.user_token(user)).start()
    try:
        await kernel.run_notebook(notebook)
        probe = "import json, os; print(json.dumps({'student': lab.student, 'backend': lab.backend.name}))"
        return dict(json.loads((await kernel.execute(probe))[-1]))
    finally:
        await kernel.shutdown()


def test_three_students_run_a_notebook_and_the_instructor_sees_all_three(hub: TrialHub) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    async def everyone() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(run_as(hub, user, notebook) for user in USERS)))

    kernels = asyncio.run(everyone())
    students = [student_for_hub_user(user) for user in USERS]
    assert [k["student"] for k in kernels] == students
    assert students[1].startswith("grace-hopper--")
    assert {k["backend"] for k in kernels} == {"class"}
    table = class_progress.progress(lifecycle.class_backend(hub.settings))
    assert set(students) <= set(table.index)
    assert (table.loc[students, (EXERCISE, "attempts")] >= 1).all()


@pytest.fixture(scope="module")
def ada_links(hub: TrialHub) -> dict[str, str]:
    """Ada's whole stack, deployed in her own kernel, and the links her notebook shows her."""

    async def deploy() -> dict[str, str]:
        kernel = await RemoteKernel(f"{hub.url}/user/ada/", hub.user_token("ada")).start()
        try:
            await kernel.execute(
                "import json\nfrom serverless_lab import Lab, teaching\nlab = Lab(student=teaching.student())\n"
                "lab.require('api')"
            )
            code = "from serverless_lab.classroom.links import browser_links\nprint(json.dumps(browser_links(lab).as_dict()))"
            return dict(json.loads((await kernel.execute(code))[-1]))
        finally:
            await kernel.shutdown()

    return asyncio.run(deploy())


def test_a_students_site_api_and_cognito_open_under_their_hub_url(
    hub: TrialHub, ada_links: dict[str, str]
) -> None:
    assert ada_links["via"] == "hub proxy"
    assert re.fullmatch(r"/user/ada/proxy/\d+/", ada_links["site"])
    session = login(hub, "ada")
    site = hub.url + ada_links["site"]
    page = session.get(site, timeout=30)
    assert page.status_code == 200 and "<title>Serverless Lab" in page.text
    assert page.headers["X-Cache"] in ("Miss from cloudfront", "Hit from cloudfront")  # through the edge
    config = session.get(site + "config.js", timeout=30)
    values = json.loads(re.search(r"=\s*(\{.*\});", config.text, re.DOTALL).group(1))  # type: ignore[union-attr]
    # Relative to the page: the data plane's port through ada's own proxy.
    port = lifecycle.class_status(hub.settings)["dataplane_port"]
    assert (
        values["apiUrl"].startswith(f"../{port}/restapis/")
        and values["cognitoEndpoint"] == f"../{port}/cognito-idp/"
    )
    cognito = urllib.parse.urljoin(site, values["cognitoEndpoint"])
    api = urllib.parse.urljoin(site, values["apiUrl"])
    assert cognito == f"{hub.url}/user/ada/proxy/{port}/cognito-idp/"
    # Sign in through the proxy, as app.js does (a POST: jupyter-server-proxy leaves XSRF to the app).
    signed_in = session.post(
        cognito,
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": values["userPoolClientId"],
                "AuthParameters": {"USERNAME": "ada", "PASSWORD": "Analytical1843"},
            }
        ),
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Content-Type": "application/x-amz-json-1.1",
            "Origin": hub.url,
        },
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["AuthenticationResult"]["IdToken"]
    items = session.get(f"{api}/items", headers={"Authorization": token, "Origin": hub.url}, timeout=30)
    assert items.status_code == 200 and items.json()["items"], items.text
    created = session.post(f"{api}/items", data=json.dumps({"title": "from the hub"}),
                           headers={"Authorization": token, "Content-Type": "application/json"}, timeout=30)  # fmt: skip
    assert created.status_code == 201, created.text
    # A cross-origin caller's preflight is answered as the API's CORS settings say, for the hub's origin too.
    preflight = session.options(f"{api}/items", headers={"Origin": hub.url, "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "authorization,content-type"}, timeout=30)  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", hub.url)
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_another_student_or_nobody_cannot_open_a_students_proxy(
    hub: TrialHub, ada_links: dict[str, str]
) -> None:
    site = hub.url + ada_links["site"]
    anonymous = requests.get(site, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/hub/api/oauth2/authorize" in anonymous.headers["Location"]
    linus = login(hub, "linus")
    refused = linus.get(site, timeout=30)
    assert refused.status_code == 403  # the hub grants access to ada's server to ada (and admins) only
