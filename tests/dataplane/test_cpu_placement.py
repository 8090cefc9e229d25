"""Where the served data plane runs: its threads on one CPU, the environments on the others."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from serverless_lab.dataplane import cpu_placement
from serverless_lab.dataplane.http import HttpResponse
from serverless_lab.dataplane.server import listen

ALLOWED = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
needs_two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="CPU placement needs two CPUs")


@needs_two_cpus
def test_the_server_takes_one_cpu_and_leaves_the_others_to_the_environments(monkeypatch: Any) -> None:
    monkeypatch.delenv(cpu_placement.ENV_VAR, raising=False)
    placement = cpu_placement.plan_placement()
    assert placement is not None
    (server,) = placement.server_cpus
    assert server in ALLOWED and placement.environment_cpus == ALLOWED - {server}
    # the labs of a classroom on one machine spread their servers over its CPUs
    spread = {cpu for pid in range(len(ALLOWED)) for cpu in cpu_placement.plan_placement(pid).server_cpus}  # type: ignore[union-attr]
    assert spread == ALLOWED


@pytest.mark.parametrize("value", ["off", "0", "OFF ", "false", "no"])
def test_placement_can_be_turned_off(monkeypatch: Any, value: str) -> None:
    monkeypatch.setenv(cpu_placement.ENV_VAR, value)
    assert cpu_placement.plan_placement() is None


@needs_two_cpus
def test_a_placed_thread_and_the_threads_it_starts_stay_on_their_cpu_and_no_other_thread_moves() -> None:
    cpu = frozenset({min(ALLOWED)})
    seen: dict[str, Any] = {}

    def placed() -> None:
        cpu_placement.place_current_thread(cpu)
        seen["placed"] = os.sched_getaffinity(0)
        seen["avoids_the_others"] = cpu_placement.thread_avoids(ALLOWED - cpu)
        child = threading.Thread(target=lambda: seen.update(child=os.sched_getaffinity(0)))
        child.start()
        child.join()

    thread = threading.Thread(target=placed)
    thread.start()
    thread.join()
    assert seen == {"placed": cpu, "avoids_the_others": True, "child": cpu}
    assert os.sched_getaffinity(0) == ALLOWED  # the test's own thread was not moved
    assert not cpu_placement.thread_avoids(cpu)


@needs_two_cpus
def test_placing_a_process_places_every_thread_of_it_and_an_ended_process_is_skipped() -> None:
    script = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); print(1, flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"1\n"
        cpu = frozenset({max(ALLOWED)})
        cpu_placement.place_process(child.pid, cpu)
        threads = os.listdir(f"/proc/{child.pid}/task")
        assert len(threads) == 2
        assert all(os.sched_getaffinity(int(thread)) == cpu for thread in threads)
    finally:
        child.kill()
        child.wait()
    cpu_placement.place_process(child.pid, frozenset({max(ALLOWED)}))  # gone: no error


@needs_two_cpus
def test_a_listener_placed_on_a_cpu_answers_from_threads_on_that_cpu() -> None:
    cpu = frozenset({max(ALLOWED)})

    def handler(request: Any, spans: Any) -> HttpResponse:
        return HttpResponse(200, [], json.dumps(sorted(os.sched_getaffinity(0))).encode())

    for cpus, expected in ((cpu, sorted(cpu)), (None, sorted(ALLOWED))):
        server = listen(handler, cpus=cpus)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
            connection.request("GET", "/")
            assert json.loads(connection.getresponse().read()) == expected
            connection.close()
        finally:
            server.shutdown()
            server.server_close()
