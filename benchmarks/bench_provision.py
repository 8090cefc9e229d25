"""How long provisioning the whole stack takes, and what the lab adds over boto3 itself.

For each backend (memory: moto in-process; local: a moto server process on 127.0.0.1) it prints the wall
time of `lab.apply()` on a fresh student, of a no-op re-apply, and the ratio of each to making exactly the
same boto3 calls directly (recorded from the lab's own run, replayed in the same run for another student
with the new ids substituted). Goals on a 2-core machine: whole stack on local under 2 s; overhead ratio
under 1.25.

    .venv/bin/python benchmarks/bench_provision.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("SERVERLESS_LAB_HOME", tempfile.mkdtemp(prefix="bench-provision-"))
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]

from serverless_lab import Lab  # noqa: E402
from serverless_lab.backends import Backend, LocalServer, make_backend  # noqa: E402

Recorded = tuple[str, str, dict[str, Any], dict[str, Any]]


@contextmanager
def recording(backend: Backend) -> Iterator[list[Recorded]]:
    """Every boto3 call made through the backend's clients: service, operation, params, parsed answer."""
    calls: list[Recorded] = []
    pending: dict[int, tuple[str, str, dict[str, Any]]] = {}
    clients = [
        backend.client(s)
        for s in ("s3", "cloudfront", "cognito-idp", "dynamodb", "iam", "lambda", "apigateway", "logs")
    ]

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        pending[id(model)] = (model.service_model.service_name, model.name, dict(params))

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        service, operation, params = pending.pop(id(model))
        calls.append((service, operation, params, parsed))

    for client in clients:
        client.meta.events.register("provide-client-params.*.*", before)
        client.meta.events.register("after-call.*.*", after)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("provide-client-params.*.*", before)
            client.meta.events.unregister("after-call.*.*", after)


def strings_at_same_paths(old: Any, new: Any, found: dict[str, str]) -> None:
    """Pairs of differing strings at the same place in two answers: the ids the replay must substitute."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() & new.keys():
            if key != "ResponseMetadata":
                strings_at_same_paths(old[key], new[key], found)
    elif isinstance(old, list) and isinstance(new, list):
        for a, b in zip(old, new, strict=False):
            strings_at_same_paths(a, b, found)
    elif isinstance(old, str) and isinstance(new, str) and old != new and len(old) >= 6:
        found[old] = new


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in mapping.items():
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    return value


_DIRECT_CLIENTS: dict[tuple[str, str], Any] = {}


def direct_client(backend: Backend, service: str) -> Any:
    """A plain boto3 client, kept across rounds (warm, like the lab's own clients)."""
    import boto3

    key = (backend.key, service)
    if key not in _DIRECT_CLIENTS:
        session = _DIRECT_CLIENTS.setdefault(
            (backend.key, ""),
            boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=backend.region
            ),
        )
        _DIRECT_CLIENTS[key] = session.client(service, endpoint_url=backend.endpoint_url)
    return _DIRECT_CLIENTS[key]


def replay(backend: Backend, calls: list[Recorded], mapping: dict[str, str]) -> float:
    """Makes the recorded calls again with plain boto3 clients; the wall time."""
    clients = {s: direct_client(backend, s) for s in {c[0] for c in calls}}
    started = time.perf_counter()
    for service, operation, params, answer in calls:
        method = getattr(clients[service], _snake(operation))
        try:
            new_answer = method(**substitute(params, mapping))
        except clients[service].exceptions.ClientError:
            continue  # a read the lab expected to fail (resource not there yet) fails again here
        strings_at_same_paths(answer, new_answer, mapping)
    return time.perf_counter() - started


def _snake(operation: str) -> str:
    import botocore

    return botocore.xform_name(operation)


def measure(backend: Backend, repeat: int) -> dict[str, float]:
    # One throwaway deploy: moto imports a service's models on first use, and boto3 loads its models.
    warm = Lab(backend=backend, student="bench-warm")
    with recording(backend) as warm_calls:
        warm.apply()
    replay(backend, warm_calls, {"sl-bench-warm": "sl-bench-warm-r"})  # warms the direct clients too
    warm.destroy()
    Lab(backend=backend, student="bench-warm-r").destroy()
    applies, noops, ratios_apply, ratios_noop = [], [], [], []
    for round_number in range(repeat):
        student = f"bench-{round_number}"
        lab = Lab(backend=backend, student=student)
        with recording(backend) as apply_calls:
            started = time.perf_counter()
            lab.apply()
            applies.append(time.perf_counter() - started)
        with recording(backend) as noop_calls:
            started = time.perf_counter()
            lab.apply()
            noops.append(time.perf_counter() - started)
        mapping = {f"sl-{student}": f"sl-{student}-r"}
        direct_apply = replay(backend, apply_calls, mapping)
        direct_noop = replay(backend, noop_calls, mapping)
        ratios_apply.append(applies[-1] / direct_apply)
        ratios_noop.append(noops[-1] / direct_noop)
        lab.destroy()
        Lab(backend=backend, student=f"{student}-r").destroy()
        print(
            f"  round {round_number + 1}: apply {applies[-1]:.2f} s ({len(apply_calls)} calls, direct "
            f"{direct_apply:.2f} s), no-op {noops[-1]:.2f} s ({len(noop_calls)} calls, direct {direct_noop:.2f} s)",
            flush=True,
        )
    return {
        "apply_s": statistics.median(applies),
        "noop_s": statistics.median(noops),
        "apply_ratio": statistics.median(ratios_apply),
        "noop_ratio": statistics.median(ratios_noop),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for name in ("memory", "local"):
        print(f"{name}:", flush=True)
        backend = make_backend(name)
        if name == "local":
            time.sleep(2.0)  # let the server pre-load its services, as it does while a student reads
        results[name] = measure(backend, args.repeat)
    LocalServer().stop()
    print()
    print(f"{'backend':<8} {'apply (s)':>10} {'no-op (s)':>10} {'apply / direct':>15} {'no-op / direct':>15}")
    for name, r in results.items():
        print(
            f"{name:<8} {r['apply_s']:>10.2f} {r['noop_s']:>10.2f} {r['apply_ratio']:>15.2f} {r['noop_ratio']:>15.2f}"
        )
    local = results["local"]
    print()
    print(
        f"goal: whole stack on local under 2 s -> {local['apply_s']:.2f} s ({'met' if local['apply_s'] < 2 else 'NOT met'})"
    )
    worst = max(r[k] for r in results.values() for k in ("apply_ratio", "noop_ratio"))
    print(
        f"goal: lab overhead ratio under 1.25 -> worst {worst:.2f} ({'met' if worst < 1.25 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
