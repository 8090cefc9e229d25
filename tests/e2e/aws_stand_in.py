"""A stand-in of AWS for the aws backend's tests, and the one aws backend that talks to it.

The stand-in is a process of its own on 127.0.0.1, playing both halves of AWS:

- the control plane: the lab's moto server (moto_host's app) with AWS's documented behaviours injected
  (serverless_lab/backends/aws_behaviours.py: IAM propagation, Lambda states, CloudFront's InProgress
  minutes and CallerReferences, DELETING tables, Cognito's e-mail limit, API Gateway's quotas), its clock
  `scale` times faster than AWS's, and its ledger of what AWS would have sent or refused;
- the data plane: the lab's own data plane over that moto server, standing in for CloudFront, API Gateway
  and Lambda (it runs the functions and writes their REPORT lines into the log groups, as Lambda does).

`StandInAws` is the production `AwsBackend` with four things replaced, and only these: where its clients
connect (`endpoint_for`), which host its guard accepts (`_allowed_host`), where AWS's public URLs are
reached (`public_url`) and how fast AWS's clock runs (`time_scale`). Nothing of it can be reached by
configuration: it exists only here, made by a test. Every boto3 call the backend's clients make is
observed (not intercepted) in `calls`, so a test proves what the lab did and did not send.

    python tests/e2e/aws_stand_in.py --state FILE --region R --scale S [--timing JSON]   # serves until killed

`--timing` sets AwsTiming's durations (AWS seconds), e.g. '{"table_deleting_s": 60}': a test picks the long
end of what AWS documents where its assertions must not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "210987654321"  # not moto's 123456789012: a lab that reports that one did not reach the stand-in
SCALE = 0.02  # AWS's minutes, 50 times faster
_EXECUTE_API = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com$")


# --- the stand-in's process ----------------------------------------------------------------------------------


def serve(state_file: Path, region: str, scale: float, timing: dict[str, float] | None = None) -> None:
    from werkzeug.serving import make_server

    from serverless_lab.backends import aws_behaviours
    from serverless_lab.backends.endpoint import EndpointBackend
    from serverless_lab.backends.local import free_port
    from serverless_lab.backends.moto_host import (
        NoDelayRequestHandler,
        apply_fixes_once,
        build_app,
        lambda_code_bytes,
        lambda_layer_bytes,
    )
    from serverless_lab.dataplane.server import DataPlaneServer
    from serverless_lab.dataplane.service import DataPlane

    dataplane_port = free_port()
    apply_fixes_once()  # the lab's mends, once (the server's first request would apply them again otherwise)
    aws_behaviours.apply(aws_behaviours.AwsTiming(scale=scale, **(timing or {})))
    app = aws_behaviours.BehaviourRoutes(build_app("aws-stand-in", dataplane_port))
    moto = make_server("127.0.0.1", 0, app, threaded=True, request_handler=NoDelayRequestHandler)
    threading.Thread(target=moto.serve_forever, name="stand-in-moto", daemon=True).start()
    moto_url = f"http://127.0.0.1:{moto.server_address[1]}"

    @dataclass
    class AwsDataPlaneBackend(EndpointBackend):
        """The stand-in's own view of its moto: the data plane reads it and runs the code it holds."""

        def account_id(self) -> str:
            return ACCOUNT

        @property
        def dataplane_port(self) -> int | None:
            return dataplane_port

        def lambda_code(self, function_name: str, version: str = "$LATEST") -> bytes:
            name = function_name.split(":function:")[-1].split(":")[0]
            return lambda_code_bytes(ACCOUNT, self.region, name, version)

        def lambda_layer_code(self, layer_version_arn: str) -> bytes:
            return lambda_layer_bytes(ACCOUNT, self.region, layer_version_arn)

    backend = AwsDataPlaneBackend(region=region, url=moto_url)
    server = DataPlaneServer(DataPlane(backend), port=dataplane_port, place_cpus=False, poll_s=0.5).start()
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    # Written whole, then renamed: the starting test never reads half a file.
    partial = state_file.with_suffix(".partial")
    partial.write_text(
        json.dumps({"moto": moto_url, "dataplane": server.url, "region": region, "scale": scale})
    )
    partial.replace(state_file)
    stop.wait()
    server.stop()
    server.dataplane.close()


@dataclass
class StandIn:
    """A running stand-in process (see start_stand_in)."""

    process: subprocess.Popen[bytes]
    moto: str
    dataplane: str
    region: str
    scale: float

    def ledger(self) -> dict[str, list[dict[str, str]]]:
        with urllib.request.urlopen(self.moto + "/_aws_behaviours/ledger", timeout=10) as answer:
            return dict(json.loads(answer.read()))

    def info(self) -> dict[str, Any]:
        """What make_backend (and tests/e2e/aws_course.py) needs to reach it."""
        return {"moto": self.moto, "dataplane": self.dataplane, "region": self.region, "scale": self.scale}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_stand_in(
    home: Path, region: str = "eu-west-1", scale: float = SCALE, timing: dict[str, float] | None = None
) -> StandIn:
    """Starts the stand-in in a process of its own (offline: fake credentials, no AWS_ variable passed on)."""
    state = home / "stand-in.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"MOTO_ACCOUNT_ID": ACCOUNT, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": region, "SERVERLESS_LAB_HOME": str(home)})  # fmt: skip
    command = [sys.executable, str(Path(__file__)), "--state", str(state), "--region", region,
               "--scale", str(scale), "--timing", json.dumps(timing or {})]  # fmt: skip
    with open(home / "stand-in.log", "ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if state.exists() and state.read_text():
            info = json.loads(state.read_text())
            return StandIn(process, info["moto"], info["dataplane"], info["region"], info["scale"])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the AWS stand-in did not start: {(home / 'stand-in.log').read_text()[-3000:]}")


# --- the aws backend that reaches it ---------------------------------------------------------------------------


def stand_in_backend_class() -> type:
    """StandInAws, defined on first use (importing the lab must not happen before a test set its variables)."""
    from serverless_lab.backends.aws import AwsBackend

    @dataclass
    class StandInAws(AwsBackend):
        """The production aws backend, its endpoints, public URLs and clock replaced by the stand-in's."""

        moto: str = ""
        dataplane: str = ""
        scale: float = SCALE
        calls: list[tuple[str, str]] = field(default_factory=list, repr=False)

        def __post_init__(self) -> None:
            super().__post_init__()
            self.time_scale = self.scale

        def endpoint_for(self, service: str) -> str | None:
            return self.moto

        def _allowed_host(self, host: str | None) -> bool:
            return host == urlsplit(self.moto).hostname

        def _new_client(
            self, service: str, *, validate: bool = True, credentials: dict[str, str] | None = None
        ) -> Any:
            client = super()._new_client(service, validate=validate, credentials=credentials)
            client.meta.events.register("before-call.*.*", self._observe)
            return client

        def _observe(self, model: Any, **_: Any) -> None:
            self.calls.append((model.service_model.service_name, model.name))

        def public_url(self, url: str) -> str:
            parts = urlsplit(url)
            host = parts.hostname or ""
            path = parts.path or "/"
            if host.startswith("cognito-idp.") and host.endswith(".amazonaws.com"):
                return self.moto + path if path.endswith("/jwks.json") else self.dataplane + "/cognito-idp/"
            match = _EXECUTE_API.match(host)
            if match:
                stage, _, rest = path.lstrip("/").partition("/")
                return f"{self.dataplane}/restapis/{match['api']}/{stage}/_user_request_/{rest}"
            if host.endswith(".cloudfront.net"):
                return self.distribution_url(host).rstrip("/") + path
            raise AssertionError(f"the stand-in serves no {url}")

        def distribution_url(self, domain: str) -> str:
            cloudfront = self.client("cloudfront")
            items = cloudfront.list_distributions()["DistributionList"].get("Items") or []
            distribution_id = next(item["Id"] for item in items if item["DomainName"] == domain)
            with urllib.request.urlopen(self.dataplane + "/_lab/urls", timeout=10) as answer:
                served = json.loads(answer.read())["distributions"]
            return next(d["url"] for d in served if d["id"] == distribution_id)

    return StandInAws


def make_backend(info: dict[str, Any]) -> Any:
    """The started StandInAws for a stand-in described by `info` (moto, dataplane, region, scale)."""
    backend = stand_in_backend_class()(region=info["region"], moto=info["moto"], dataplane=info["dataplane"],
                                       scale=info["scale"])  # fmt: skip
    backend.start()
    return backend


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--timing", type=json.loads, default={})
    arguments = parser.parse_args()
    serve(arguments.state, arguments.region, arguments.scale, arguments.timing)
