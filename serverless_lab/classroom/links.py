"""Where a student's browser opens their site, API and Cognito endpoint: on loopback, or under their hub URL.

On a hub the browser cannot reach http://127.0.0.1:<port>/ (that is the server's loopback, not the
student's): jupyter-server-proxy, in the student's own Jupyter server, serves that port at
<hub>/user/<name>/proxy/<port>/ behind the student's hub login. The class's data plane (one process for
the class, `serverless-lab class serve`) serves every distribution at the root of a port of its own and the
APIs and Cognito on the class's data-plane port, so the links name those ports, under the prefix the hub
gives this student's server ($JUPYTERHUB_SERVICE_PREFIX, e.g. /user/ada/). The links are relative to the
hub's origin: they open from JupyterLab, whatever name the hub is reached by.
"""

from __future__ import annotations

import html
import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Any

PREFIX_VARIABLE = "JUPYTERHUB_SERVICE_PREFIX"


@dataclass(frozen=True)
class BrowserLinks:
    """The student's site, API and Cognito endpoint as their browser opens them."""

    site: str | None
    api: str | None
    cognito: str | None
    via: str  # "hub proxy" or "loopback"

    def as_dict(self) -> dict[str, str | None]:
        return {"site": self.site, "api": self.api, "cognito": self.cognito, "via": self.via}

    def __str__(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.as_dict().items() if value)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<li>{name}: <a href="{html.escape(url)}" target="_blank">{html.escape(url)}</a></li>'
            for name, url in (("site", self.site), ("API", self.api), ("Cognito", self.cognito))
            if url
        )
        return f"<ul>{rows}</ul><p>(through the {self.via})</p>"


def proxied(url: str, prefix: str) -> str:
    """http://127.0.0.1:<port>/<path> as jupyter-server-proxy serves it under a server's prefix."""
    rest = url.split("://", 1)[-1]
    host_port, _, path = rest.partition("/")
    port = host_port.rsplit(":", 1)[-1]
    return f"{prefix.rstrip('/')}/proxy/{port}/{path}"


def served_urls(port: int) -> dict[str, Any] | None:
    """What the data plane on this port serves (/_lab/urls); None when nothing answers there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_lab/urls", timeout=5) as answer:
            return dict(json.loads(answer.read()))
    except (OSError, ValueError):
        return None


def browser_links(lab: Any, environ: dict[str, str] | None = None) -> BrowserLinks:
    """The lab's site, API and Cognito endpoint as this student's browser opens them."""
    environ = dict(os.environ) if environ is None else environ
    prefix = environ.get(PREFIX_VARIABLE)
    distribution = (lab.outputs.get("cdn") or lab.step("cdn").outputs()).get("distribution_id")
    api = (lab.outputs.get("api") or {}).get("url")
    port = lab.backend.dataplane_port
    if not prefix or not lab.backend.offline or not port:
        site = lab.site_url() if distribution else None
        cognito = f"http://127.0.0.1:{port}/cognito-idp/" if port else lab.backend.cognito_endpoint()
        return BrowserLinks(site, api, cognito, "loopback")
    served = served_urls(port)
    if served is None:  # no class data plane runs: this kernel serves the class's port while it lives
        lab.serve()
        served = served_urls(port) or {}
    urls = {d["id"]: d["url"] for d in served.get("distributions", [])}
    site = urls.get(distribution) if distribution else None
    return BrowserLinks(
        site=proxied(site, prefix) if site else None,
        api=proxied(api, prefix) if api else None,
        cognito=proxied(f"http://127.0.0.1:{port}/cognito-idp/", prefix),
        via="hub proxy",
    )
