"""The log shipper: function log lines written in the background, merged per stream, in order."""

from __future__ import annotations

import threading

import pytest

from serverless_lab.dataplane.lambda_.log_shipping import LogShipper, Write

Written = list[tuple[str, str, list[tuple[int, str]]]]


def recorder() -> tuple[Written, Write]:
    """A write function that keeps what it is given (the shipper calls it from its own thread)."""
    written: Written = []

    def write(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        written.append((group, stream, list(events)))

    return written, write


def test_flush_writes_everything_queued_in_one_write_per_stream_in_order() -> None:
    written, write = recorder()
    # Lines would linger a minute: only flush() makes them go out, so what it waited for is all of them.
    shipper = LogShipper(write, linger_s=60.0, busy_linger_s=60.0)
    for n in range(50):
        shipper.ship("/aws/lambda/a", "stream-1", [(n, f"a{n}")])
        shipper.ship("/aws/lambda/b", "stream-2", [(n, f"b{n}"), (n, f"b{n}'")])
    shipper.flush()
    assert written == [
        ("/aws/lambda/a", "stream-1", [(n, f"a{n}") for n in range(50)]),
        ("/aws/lambda/b", "stream-2", [line for n in range(50) for line in ((n, f"b{n}"), (n, f"b{n}'"))]),
    ]
    shipper.close()


def test_lines_shipped_after_a_flush_go_out_with_the_next_one() -> None:
    written, write = recorder()
    shipper = LogShipper(write, linger_s=60.0, busy_linger_s=60.0)
    shipper.ship("/g", "s", [(1, "one")])
    shipper.flush()
    shipper.ship("/g", "s", [(2, "two")])
    shipper.ship("/g", "s", [])  # nothing to ship: ignored
    shipper.flush()
    assert written == [("/g", "s", [(1, "one")]), ("/g", "s", [(2, "two")])]
    shipper.close()


def test_close_writes_what_is_queued_and_stops_the_thread() -> None:
    written, write = recorder()
    shipper = LogShipper(write, linger_s=60.0, busy_linger_s=60.0)
    before = set(threading.enumerate())  # other data planes of this process have shippers too
    shipper.ship("/g", "s", [(1, "last words")])
    (thread,) = [t for t in threading.enumerate() if t not in before and t.name == "log-shipper"]
    shipper.close()
    assert written == [("/g", "s", [(1, "last words")])]
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_failed_write_is_logged_and_later_lines_still_ship(caplog: pytest.LogCaptureFixture) -> None:
    written: Written = []

    def write(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        if group == "/gone":
            raise ConnectionError("backend went away")
        written.append((group, stream, events))

    shipper = LogShipper(write, linger_s=60.0, busy_linger_s=60.0)
    shipper.ship("/gone", "s", [(1, "lost")])
    shipper.flush()
    shipper.ship("/g", "s", [(2, "kept")])
    shipper.flush()
    assert written == [("/g", "s", [(2, "kept")])]
    assert "Could not write logs to /gone" in caplog.text
    shipper.close()


def test_threads_shipping_and_flushing_at_once_lose_no_line_and_keep_each_streams_order() -> None:
    written, write = recorder()
    shipper = LogShipper(write, linger_s=0.001, busy_linger_s=0.01)

    def invoke_many(stream: str) -> None:
        for n in range(200):
            shipper.ship("/g", stream, [(n, f"{stream} {n}")])
            if n % 50 == 49:
                shipper.flush()

    threads = [threading.Thread(target=invoke_many, args=(f"s{k}",)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shipper.flush()
    for k in range(8):
        lines = [line for _, stream, events in written if stream == f"s{k}" for line in events]
        assert lines == [(n, f"s{k} {n}") for n in range(200)]
    shipper.close()
