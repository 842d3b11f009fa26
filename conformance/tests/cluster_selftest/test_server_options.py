"""The reference server's cluster settings at their bounds (reference-server/README.md): an adapter
URL that is not redis://HOST:PORT[/DB] and a uid that is not six characters of [A-Za-z0-9_-] stop
the server at start with status 2; a node with a uid of exactly six prints READY once its
request and own response channels are subscribed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.redis import RedisClient, RedisServer

SERVER = Path(__file__).resolve().parents[3] / "build" / "reference-server"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SERVER), "--port", "0", *args], capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--adapter", "http://127.0.0.1:6379"], "redis://"),
        (["--adapter", "redis://127.0.0.1:6379", "--adapter-uid", "abcde"], "six characters"),
        (["--adapter", "redis://127.0.0.1:6379", "--adapter-uid", "abcdefg"], "six characters"),
        (["--adapter", "redis://127.0.0.1:6379", "--adapter-uid", "abc de"], "six characters"),
    ],
)
def test_bad_cluster_settings_stop_the_server(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2, done
    assert message in done.stderr and done.stdout == ""


def test_node_is_ready_once_subscribed_with_a_six_character_uid() -> None:
    redis = RedisServer()
    redis.start()
    proc = subprocess.Popen(
        [str(SERVER), "--port", "0", "--adapter", redis.url, "--adapter-uid", "Ab0_-z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("READY "), ready
        client = RedisClient(redis.port)
        try:
            counts = client.command("PUBSUB", "NUMSUB", "socket.io-request#/#", "socket.io-response#/#Ab0_-z#")
            assert counts == [b"socket.io-request#/#", 1, b"socket.io-response#/#Ab0_-z#", 1], counts
        finally:
            client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        redis.close()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
