"""The reference server's Redis link (reference-server/cluster/link.c) against a real redis-server,
through build/cluster-tests/link_probe (ASan+UBSan build): subscriptions, publications, NUMSUB, and
a Redis restart in the middle (the link goes down, reconnects with backoff, subscribes again)."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.redis import Observer, RedisClient, RedisServer

PROBE = Path(__file__).resolve().parents[3] / "build" / "cluster-tests" / "link_probe"
DEADLINE_S = 10.0


class Probe:
    def __init__(self, url: str):
        self.proc = subprocess.Popen([str(PROBE), url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix: str, timeout: float = DEADLINE_S) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line starting {prefix!r} within {timeout} s; seen {self.seen[-10:]}"
                ) from None
            assert line is not None, f"probe exited; seen {self.seen[-10:]}"
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        assert self.proc.returncode == 0, f"probe exit status {self.proc.returncode} (sanitizer report on stderr)"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    if not PROBE.exists():
        pytest.fail(f"{PROBE} missing: make {PROBE.relative_to(PROBE.parents[2])}")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_link_subscribes_publishes_and_counts(redis: RedisServer) -> None:
    probe = Probe(redis.url)
    try:
        probe.send("sub socket.io-request#/#")
        probe.send("psub socket.io#/#*")
        probe.expect("up")
        with RedisClient(redis.port) as c:
            assert c.numsub("socket.io-request#/#") == 1
            c.publish("socket.io#/#room1#", b"\x93\x01\x02\x03")
            c.publish("socket.io-request#/#", b'{"type":1}')
        assert probe.expect("msg ") == "msg socket.io#/#* socket.io#/#room1# 93010203"
        assert probe.expect("msg ") == "msg - socket.io-request#/# " + b'{"type":1}'.hex()
        probe.send("numsub socket.io-request#/#")
        assert probe.expect("numsub") == "numsub ok 1"
        obs = Observer(redis.port, "socket.io*")
        try:
            probe.send("pub socket.io#/# c0ff00")
            assert probe.expect("pub") == "pub ok"
            seen = obs.take(lambda p: True, DEADLINE_S)
            assert (seen.channel, seen.data) == ("socket.io#/#", b"\xc0\xff\x00")
        finally:
            obs.close()
    finally:
        probe.close()


def test_link_survives_a_redis_restart(redis: RedisServer) -> None:
    probe = Probe(redis.url)
    try:
        probe.send("psub socket.io#/#*")
        probe.expect("up")
        redis.stop()
        probe.expect("down")
        probe.send("pub socket.io#/# 01")
        assert probe.expect("pub") == "pub dropped"  # nothing is queued while Redis is away
        probe.send("numsub socket.io#/#")
        assert probe.expect("numsub") == "numsub failed 0"
        started = time.monotonic()
        redis.start()
        probe.expect("up")  # reconnected and subscribed again, without being asked
        took = time.monotonic() - started
        with RedisClient(redis.port) as c:
            c.publish("socket.io#/#", b"\x90")
        assert probe.expect("msg ") == "msg socket.io#/#* socket.io#/# 90"
        assert took < DEADLINE_S
    finally:
        probe.close()
