"""Self-tests of the cluster section's own tools: the suite's MessagePack against bytes captured from
Node's adapter, the private Redis (start, restart on the same port, stop), and the observer."""

from __future__ import annotations

import pytest

from harness import msgpack
from harness.redis import Observer, RedisClient, RedisServer

# Captured from two socket.io 4.8.3 servers with @socket.io/redis-adapter 8.3.0 (notepack.io 3.0.1).
CAPTURED = {
    "to(room1).except(room2)": (
        "93a672303030303183a47479706502a46461746192a568656c6c6f01a36e7370a12f83a5726f6f6d7391a5726f6f6d31"
        "a665786365707491a5726f6f6d32a5666c61677380",
        [
            "r00001",
            {"type": 2, "data": ["hello", 1], "nsp": "/"},
            {"rooms": ["room1"], "except": ["room2"], "flags": {}},
        ],
    ),
    "binary": (
        "93a672303030303183a47479706502a46461746192a362696ec403010203a36e7370a12f83a5726f6f6d7390a665786365707490"
        "a5666c61677380",
        ["r00001", {"type": 2, "data": ["bin", b"\x01\x02\x03"], "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}],
    ),
    "broadcast ack request": (
        "85a3756964a6723030303031a9726571756573744964a6723030303033a47479706507a67061636b657483a47479706502a4646174"
        "6192a361736b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8",
        {
            "uid": "r00001",
            "requestId": "r00003",
            "type": 7,
            "packet": {"type": 2, "data": ["ask", 42], "nsp": "/"},
            "opts": {"rooms": [], "except": [], "flags": {"timeout": 1000}},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_msgpack_matches_node(name: str) -> None:
    hexbytes, value = CAPTURED[name]
    assert msgpack.pack(value).hex() == hexbytes
    assert msgpack.unpack(bytes.fromhex(hexbytes)) == value


@pytest.mark.parametrize(
    ("value", "hexbytes"),
    [
        (127, "7f"),
        (128, "cc80"),
        (65535, "cdffff"),
        (65536, "ce00010000"),
        (2**32, "cf0000000100000000"),
        (-32, "e0"),
        (-33, "d0df"),
        (-129, "d1ff7f"),
        (-(2**31) - 1, "d3ffffffff7fffffff"),
        (1.5, "cb3ff8000000000000"),
        (2.0, "02"),
        ("a" * 31, "bf" + "61" * 31),
        ("a" * 32, "d920" + "61" * 32),
        (b"\x00" * 256, "c50100" + "00" * 256),
    ],
)
def test_msgpack_shortest_forms(value: object, hexbytes: str) -> None:
    assert msgpack.pack(value).hex() == hexbytes


@pytest.mark.parametrize("bad", ["c1", "dd ffffffff", "a5 6869", "92 01"])
def test_msgpack_rejects(bad: str) -> None:
    with pytest.raises(msgpack.UnpackError):
        msgpack.unpack(bytes.fromhex(bad.replace(" ", "")))


def test_redis_restart_keeps_port_and_observer_sees_publish() -> None:
    server = RedisServer()
    try:
        server.start()
        port = server.port
        obs = Observer(port, "siotest#*")
        try:
            with RedisClient(port) as c:
                assert c.publish("siotest#x", b"\x93\x01") == 1
                assert c.numsub("siotest#x") == 0  # a pattern subscriber is not counted
            seen = obs.take(lambda p: True, 5.0)
            assert (seen.channel, seen.data) == ("siotest#x", b"\x93\x01")
        finally:
            obs.close()
        server.stop()
        assert not server.alive()
        server.start()
        assert server.port == port
        with RedisClient(port) as c:
            assert c.command("PING") == "PONG"
    finally:
        server.close()
    assert server.process is None
