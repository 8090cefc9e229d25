"""The local data plane's speed and memory, as ratios to baselines measured in the same run.

Baselines: a bare moto server get_item loop (boto3, one client) and a stdlib HTTP server with TCP_NODELAY
answering a fixed body (the floor of any Python HTTP server here). Measured through the lab, on the local
backend, with keep-alive clients in separate processes (loopback_load.KeepAliveGet: lean enough that the
server, not the client, sets the pace):

- authenticated GET /items/{id}: gateway, Cognito authorizer, warm Lambda environment, one DynamoDB
  get_item in the handler (goal: at least 0.8 of the bare get_item rate with one client);
- authenticated GET /me: the same path without DynamoDB, one client and eight (goal: above
  serverless-offline's ~4,000 req/s for a Python hello route with one client), and its ratio to the floor;
- an edge cache hit (goal: at least 0.5 of the floor);
- cold start (new environment to first response) and the runtime's warm overhead;
- the same GET /me and GET /items/{id} with isolation="inprocess" (handlers on threads of the lab process, the
  mode #3 provides "for speed where isolation does not matter"), for comparison;
- GET /items/{id} through the data plane's handle() in the lab process (no client process, no sockets) and
  the items function through invoke() (no gateway either), each against get_item from the same process:
  how much of the gap to the bare get_item the HTTP layers, the gateway and the runtime each take;
- memory: each idle execution environment (goal < 60 MB) and the whole lab after the load (goal < 600 MB
  PSS: pages that forked environments share with their zygote are counted once);
- where the time of a request goes: CPU time per request of each process it crosses (the lab, its
  execution environments, the moto server, the load clients), from /proc, for GET /me and GET /items/{id}
  (not a goal; it shows which process a speed-up would have to come from).

    .venv/bin/python benchmarks/bench_dataplane.py [--seconds 6] [--slice 0.1]

Each comparison runs its baseline and its subject in alternating 100 ms slices, every client in step, and
reports the median of the slice pairs' ratios with their quartiles. On a shared machine the speed drifts by
tens of percent within seconds; separately timed runs then disagree by more than the gaps they measure,
while a change of load lasting longer than a slice lowers both sides of a pair alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("SERVERLESS_LAB_HOME", tempfile.mkdtemp(prefix="bench-dataplane-"))
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback_load import (  # noqa: E402
    GetItemTarget,
    HttpTarget,
    KeepAliveGet,
    PairedResult,
    run_load,
    run_paired,
    run_paired_inline,
    sender,
)
from proc_stats import descendants, pss_mb, rss_mb  # noqa: E402

from serverless_lab import Lab  # noqa: E402
from serverless_lab.backends import LocalServer  # noqa: E402
from serverless_lab.dataplane.http import HttpRequest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# serverless-offline's figures and the baselines measured with them on the reference machine (#3).
# This machine is slower or faster than that one, so its figures are compared as ratios to those baselines:
# "4,000 req/s where a stdlib server answers 12,500" is 0.32 of the floor, on any machine.
SERVERLESS_OFFLINE_HELLO_ONE_CLIENT = 4000
SERVERLESS_OFFLINE_GET_ONE_CLIENT = 400
SERVERLESS_OFFLINE_GET_EIGHT_CLIENTS = 490
REFERENCE_STDLIB_FLOOR = 12_500
REFERENCE_MOTO_GET_ITEM = 450


class _Fixed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b'{"message": "hello"}'

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(self.body)}\r\n\r\n"
        )
        self.wfile.write(head.encode() + self.body)

    def log_message(self, *args: object) -> None:
        return None


@contextlib.contextmanager
def stdlib_floor() -> Iterator[str]:
    """A stdlib HTTP server with TCP_NODELAY answering a fixed body, in this process: its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def inprocess_dataplane(lab: Lab) -> Iterator[str]:
    """A second data plane of the same backend whose handlers run on threads of the lab process; its URL."""
    from serverless_lab.dataplane.server import DataPlaneServer
    from serverless_lab.dataplane.service import DataPlane

    dataplane = DataPlane(lab.backend, isolation="inprocess")
    server = DataPlaneServer(dataplane, port=0).start()
    try:
        yield server.url
    finally:
        server.stop()
        dataplane.close()


def inside_the_lab(
    lab: Lab,
    get_item: GetItemTarget,
    item_id: str,
    sub: str,
    token: str,
    api: str,
    *,
    seconds: float,
    slice_s: float,
) -> dict[str, PairedResult]:
    """GET /items/{id} without the client process and sockets (the data plane's handle()), and the items
    function without the gateway (invoke() with the event's essentials), each against a bare get_item
    made in the same process: what the HTTP layers and the gateway add to the runtime and the handler."""
    bare = sender(get_item)
    dataplane = lab.dataplane()
    parts = urlsplit(f"{api}/items/{item_id}")
    request = HttpRequest("GET", parts.path, headers=(("Host", parts.netloc), ("Authorization", token)))
    event = {
        "resource": "/items/{id}",
        "path": f"/items/{item_id}",
        "httpMethod": "GET",
        "pathParameters": {"id": item_id},
        "requestContext": {"authorizer": {"claims": {"sub": sub}}},
    }
    function = lab.function_name("items")

    def through_handle() -> None:
        if (status := dataplane.handle(request).status) != 200:
            raise RuntimeError(f"GET /items/{{id}} through handle() answered {status}")

    def through_invoke() -> None:
        payload = dataplane.invoke(function, event).payload
        if not isinstance(payload, dict) or payload.get("statusCode") != 200:
            raise RuntimeError(f"the items function answered {payload!r} to invoke()")

    return {
        "items_handle": run_paired_inline(bare, through_handle, seconds=seconds, slice_s=slice_s),
        "items_invoke": run_paired_inline(bare, through_invoke, seconds=seconds, slice_s=slice_s),
    }


def cpu_seconds(pid: int, *, kernel_only: bool = False) -> float:
    """User plus system CPU time of a process so far, or its system time alone (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[12]) if kernel_only else int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_per_request(target: HttpTarget, moto_pid: int, *, clients: int, seconds: float) -> dict[str, float]:
    """Microseconds of CPU per request in each process a request crosses, under `clients` clients."""
    lab_pid = os.getpid()
    before: dict[int, float] = {}

    kernel_before = 0.0

    def read_counters() -> None:
        nonlocal kernel_before
        for pid in [lab_pid, moto_pid, *descendants(lab_pid)]:
            before[pid] = cpu_seconds(pid)
        kernel_before = cpu_seconds(lab_pid, kernel_only=True)

    load = run_load(target, clients=clients, seconds=seconds, on_start=read_counters)
    if load.errors or not load.requests:
        raise RuntimeError(f"{load.errors} of {load.requests} requests to {target.url} failed")
    lab_kernel = cpu_seconds(lab_pid, kernel_only=True) - kernel_before
    moto_side = {moto_pid, *descendants(moto_pid)}
    # Environments started during the load (cold starts with eight clients) spent all their CPU in it.
    started_since = {pid: 0.0 for pid in descendants(lab_pid) if pid not in before}
    spent = {pid: cpu_seconds(pid) - start for pid, start in {**before, **started_since}.items()}
    environments = sum(
        t for pid, t in spent.items() if pid not in moto_side | set(load.client_pids) | {lab_pid}
    )
    per_request = 1e6 / load.requests
    return {
        "rate": load.rate,
        "lab": spent[lab_pid] * per_request,
        # In the kernel: system calls, and with many clients mostly handing the GIL between request threads.
        "lab_kernel_share": lab_kernel / spent[lab_pid] if spent[lab_pid] else 0.0,
        "environments": environments * per_request,
        "moto": sum(spent.get(pid, 0.0) for pid in moto_side) * per_request,
        "clients": load.client_cpu_s * per_request,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per comparison (baseline and subject)")
    parser.add_argument("--slice", type=float, default=0.1, help="seconds of each alternated slice")
    args = parser.parse_args()
    seconds, slice_s = args.seconds, args.slice

    lab = Lab(backend="local", student="bench-dp")
    lab.apply()
    lab.serve()
    users = json.loads((ROOT / "data" / "users.json").read_text())
    token = lab.backend.client("cognito-idp").initiate_auth(
        ClientId=lab.outputs["users"]["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": users[0]["username"], "PASSWORD": users[0]["password"]},
    )["AuthenticationResult"]["IdToken"]
    auth = {"Authorization": token}
    api = lab.outputs["api"]["url"]
    import urllib.request

    request = urllib.request.Request(
        api + "/items",
        data=b'{"title": "benchmark"}',
        method="POST",
        headers={**auth, "Content-Type": "application/json"},
    )
    item = json.loads(urllib.request.urlopen(request).read())
    table = lab.outputs["table"]["table_name"]
    sub = lab.outputs["users"]["sample_subs"][users[0]["username"]]
    key = {"owner": {"S": sub}, "itemId": {"S": item["itemId"]}}
    site = lab.site_url()
    backend_before_mb = pss_mb(LocalServer().read_state().pid)  # type: ignore[union-attr]
    if KeepAliveGet(site + "app.js")() != 200:  # the first request fills the edge cache
        raise RuntimeError(f"the site did not serve {site}app.js")

    print(
        f"each comparison: {seconds:.0f} s of baseline and subject in alternating {slice_s * 1000:.0f} ms slices "
        f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; other work on the machine "
        "lowers every rate, and the alternation makes it lower baseline and subject alike)\n",
        flush=True,
    )
    item_path = f"/items/{item['itemId']}"
    get_item = GetItemTarget(lab.backend.endpoint_url, lab.region, table, key)
    items, me = HttpTarget(api + item_path, auth), HttpTarget(api + "/me", auth)
    results: dict[str, PairedResult] = {}
    with stdlib_floor() as floor_url, inprocess_dataplane(lab) as inprocess_url:
        floor = HttpTarget(floor_url)
        inprocess_api = inprocess_url + urlsplit(api).path
        comparisons = {
            # name: (baseline, subject, baseline clients, subject clients)
            "items_1": (get_item, items, 1, 1),
            "items_8": (get_item, items, 1, 8),
            "me_1": (floor, me, 1, 1),
            "me_8_of_floor_1": (floor, me, 1, 8),
            "me_8": (floor, me, 8, 8),
            "edge_1": (floor, HttpTarget(site + "app.js"), 1, 1),
            "me_inprocess": (floor, HttpTarget(inprocess_api + "/me", auth), 1, 1),
            "items_inprocess": (get_item, HttpTarget(inprocess_api + item_path, auth), 1, 1),
        }
        for name, (baseline, subject, baseline_clients, subject_clients) in comparisons.items():
            results[name] = run_paired(
                baseline,
                subject,
                seconds=seconds,
                slice_s=slice_s,
                baseline_clients=baseline_clients,
                subject_clients=subject_clients,
            )
    results.update(
        inside_the_lab(lab, get_item, item["itemId"], sub, token, api, seconds=seconds, slice_s=slice_s)
    )

    def compared(name: str) -> str:
        result = results[name]
        low, high = result.quartiles
        return f"{result.ratio:.2f} (quartiles {low:.2f}-{high:.2f})"

    rows = [
        ("stdlib floor, 1 client", results["me_1"].baseline_rate, "baseline"),
        ("stdlib floor, 8 clients", results["me_8"].baseline_rate, "baseline"),
        ("moto get_item, 1 client (boto3)", results["items_1"].baseline_rate, "baseline"),
        (
            "GET /items/{id}, 1 client",
            results["items_1"].subject_rate,
            f"{compared('items_1')} of get_item (goal >= 0.8); serverless-offline ~{SERVERLESS_OFFLINE_GET_ONE_CLIENT}",
        ),
        (
            "GET /items/{id}, 8 clients",
            results["items_8"].subject_rate,
            f"{compared('items_8')} of 1-client get_item; serverless-offline ~{SERVERLESS_OFFLINE_GET_EIGHT_CLIENTS}",
        ),
        (
            "GET /me (no DynamoDB), 1 client",
            results["me_1"].subject_rate,
            f"{compared('me_1')} of floor; serverless-offline ~{SERVERLESS_OFFLINE_HELLO_ONE_CLIENT}",
        ),
        (
            "GET /me (no DynamoDB), 8 clients",
            results["me_8"].subject_rate,
            f"{compared('me_8')} of the 8-client floor, {compared('me_8_of_floor_1')} of the 1-client floor",
        ),
        (
            "GET /me, isolation=inprocess, 1 client",
            results["me_inprocess"].subject_rate,
            f"{compared('me_inprocess')} of floor (handler on a thread of the lab process)",
        ),
        (
            "GET /items/{id}, isolation=inprocess, 1 client",
            results["items_inprocess"].subject_rate,
            f"{compared('items_inprocess')} of get_item",
        ),
        (
            "edge cache hit, 1 client",
            results["edge_1"].subject_rate,
            f"{compared('edge_1')} of floor (goal >= 0.5)",
        ),
        (
            "GET /items/{id} through handle(), no sockets",
            results["items_handle"].subject_rate,
            f"{compared('items_handle')} of get_item, both in the lab process",
        ),
        (
            "items function through invoke(), no gateway",
            results["items_invoke"].subject_rate,
            f"{compared('items_invoke')} of get_item, both in the lab process",
        ),
    ]
    print(f"{'path':<48} {'req/s':>7}  comparison (median of the slice pairs' ratios)")
    for name, rate, note in rows:
        print(f"{name:<48} {rate:>7,.0f}  {note}")
    print(f"errors during the load: {sum(result.errors for result in results.values())}")

    # The goals of #3, each as the issue frames it, met or not. serverless-offline was measured on another
    # machine: its figures count here as the same ratio to that machine's baselines (see the constants).
    hello_ratio = SERVERLESS_OFFLINE_HELLO_ONE_CLIENT / REFERENCE_STDLIB_FLOOR
    goals = [
        ("GET /items/{id}, 1 client, of bare get_item", results["items_1"].ratio, 0.8),
        (
            "GET /me, 1 client, of the 1-client floor (serverless-offline: "
            f"{SERVERLESS_OFFLINE_HELLO_ONE_CLIENT:,}/{REFERENCE_STDLIB_FLOOR:,})",
            results["me_1"].ratio,
            hello_ratio,
        ),
        (
            "GET /me, 8 clients, of the 1-client floor (serverless-offline's one published figure)",
            results["me_8_of_floor_1"].ratio,
            hello_ratio,
        ),
        ("GET /me, 8 clients, of the 8-client floor (stricter)", results["me_8"].ratio, hello_ratio),
        ("edge cache hit, of the 1-client floor", results["edge_1"].ratio, 0.5),
    ]
    print(
        "\ngoals of #3 (median ratio of the slice pairs; the bar is the goal or serverless-offline's ratio):"
    )
    for name, value, bar in goals:
        print(f"  {'met    ' if value >= bar else 'NOT MET'} {value:5.3f} >= {bar:.3f}  {name}")
    others = [
        (
            "GET /items/{id}, isolation=inprocess, 1 client, of bare get_item",
            results["items_inprocess"].ratio,
            0.8,
        ),
        (
            "GET /items/{id}, 1 client, of bare get_item (serverless-offline: "
            f"{SERVERLESS_OFFLINE_GET_ONE_CLIENT}/{REFERENCE_MOTO_GET_ITEM})",
            results["items_1"].ratio,
            SERVERLESS_OFFLINE_GET_ONE_CLIENT / REFERENCE_MOTO_GET_ITEM,
        ),
        (
            "GET /items/{id}, 8 clients, of bare get_item (serverless-offline: "
            f"{SERVERLESS_OFFLINE_GET_EIGHT_CLIENTS}/{REFERENCE_MOTO_GET_ITEM})",
            results["items_8"].ratio,
            SERVERLESS_OFFLINE_GET_EIGHT_CLIENTS / REFERENCE_MOTO_GET_ITEM,
        ),
        ("GET /items/{id} through handle(), no client, no sockets", results["items_handle"].ratio, 0.8),
        ("items function through invoke(), no gateway either", results["items_invoke"].ratio, 0.8),
    ]
    print("for comparison (not goals of #3):")
    for name, value, bar in others:
        print(f"  {'above  ' if value >= bar else 'below  '} {value:5.3f} vs {bar:.3f}  {name}")

    # Cold start: a configuration change retires the environments; the next request starts a new one.
    dataplane = lab.dataplane()
    function = lab.function_name("me")
    variables = lab.backend.client("lambda").get_function_configuration(FunctionName=function)["Environment"][
        "Variables"
    ]
    colds, warms = [], []
    for round_number in range(5):
        lab.backend.client("lambda").update_function_configuration(
            FunctionName=function, Environment={"Variables": {**variables, "BENCH_ROUND": str(round_number)}}
        )
        dataplane.control_plane.refresh()
        started = time.perf_counter()
        cold = dataplane.invoke(function, {})
        colds.append((time.perf_counter() - started) * 1000)
        assert cold.cold
        started = time.perf_counter()
        warm = dataplane.invoke(function, {})
        warms.append(((time.perf_counter() - started) * 1000, warm.duration_ms))
    colds.sort()
    print(
        f"\ncold start, new environment to first response: median {colds[len(colds) // 2]:.1f} ms (goal < 150 ms)"
    )
    overheads = sorted(total - handler for total, handler in warms)
    print(f"warm invoke, time outside the handler: median {overheads[len(overheads) // 2]:.2f} ms")

    environments = dataplane.runtime.environments()
    if environments:
        largest = max(e.rss_mb or 0.0 for e in environments)
        largest_pss = max(pss_mb(e.pid) for e in environments if e.pid is not None)
        print(
            f"idle execution environments: {len(environments)}, largest RSS {largest:.1f} MB, "
            f"PSS {largest_pss:.1f} MB (goal < 60 MB)"
        )
    moto_pid = LocalServer().read_state().pid  # type: ignore[union-attr]
    pids = set([os.getpid(), moto_pid, *descendants(os.getpid())])
    total_rss = sum(rss_mb(pid) for pid in pids)
    total_pss = sum(pss_mb(pid) for pid in pids)
    # PSS counts the pages forked environments share with their zygote once; RSS counts them in each.
    lab_pss, backend_pss = pss_mb(os.getpid()), pss_mb(moto_pid)
    print(
        f"whole lab (backend, server, zygote, {len(environments)} environments): {total_pss:.0f} MB PSS "
        f"(goal < 600 MB), {total_rss:.0f} MB RSS; backend {backend_pss:.0f} MB, lab process {lab_pss:.0f} MB, "
        f"zygote and environments {total_pss - lab_pss - backend_pss:.0f} MB"
    )
    print(
        f"  the backend grew by {backend_pss - backend_before_mb:.0f} MB during the load: it keeps every log line "
        "the functions wrote, as CloudWatch Logs does, so the more requests a run serves, the more it holds"
    )
    # After the memory reading: this load adds log events that moto keeps in memory.
    print(
        "\nwhere a request's time goes: CPU per request of each process, in us (lab: gateway, runtime and HTTP "
        "server; environments: the function; moto: DynamoDB and the lab's log writes and configuration reads)"
    )
    for name, target, clients in (
        ("GET /me, 1 client", me, 1),
        ("GET /me, 8 clients", me, 8),
        ("GET /items/{id}, 1 client", items, 1),
    ):
        split = cpu_per_request(target, moto_pid, clients=clients, seconds=min(seconds, 3.0))
        total = split["lab"] + split["environments"] + split["moto"] + split["clients"]
        print(
            f"  {name:<26} {split['rate']:>6,.0f} req/s: lab {split['lab']:>5.0f} "
            f"({split['lab_kernel_share']:.0%} in the kernel), environments "
            f"{split['environments']:>5.0f}, moto {split['moto']:>5.0f}, clients {split['clients']:>4.0f}; "
            f"{total:,.0f} us of CPU in {1e6 / split['rate']:,.0f} us per request ({os.cpu_count()} cores)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    lab.destroy()
    LocalServer().stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
