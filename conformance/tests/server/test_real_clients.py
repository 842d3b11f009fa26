"""Real client libraries, unchanged, against build/reference-server: the official socket.io-client
(npm, pinned in reference-server/clients/package.json) and the python-socketio client (PyPI, pinned
in reference-server/clients/requirements.txt). Each connects over polling, with an upgrade and
WebSocket-only, emits (with binary), gets acks both ways, joins a room, multiplexes a second
namespace and disconnects. `make deps-server-clients` installs both clients."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import time

import pytest
from serverkit import ROOT

CLIENTS = ROOT / "reference-server" / "clients"
MODES = ["polling", "upgrade", "websocket"]


@pytest.mark.parametrize("mode", MODES)
def test_official_socket_io_client(server, mode):
    if shutil.which("node") is None or not (CLIENTS / "node_modules" / "socket.io-client").exists():
        pytest.fail("socket.io-client not installed: run make deps-server-clients")
    run = subprocess.run(
        ["node", str(CLIENTS / "node-client.mjs"), f"http://127.0.0.1:{server.port}", mode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"], result
    assert result["transport"] == ("polling" if mode == "polling" else "websocket")
    assert len(result["steps"]) == 8


@pytest.mark.parametrize("mode", MODES)
def test_python_socketio_client(server, mode):
    socketio = pytest.importorskip("socketio", reason="python-socketio not installed (make deps-server-clients)")
    events: queue.Queue = queue.Queue()
    seen: list = []
    client = socketio.Client(reconnection=False)
    for name in ("auth", "message-back", "ack-result"):
        client.on(name, (lambda n: lambda *args: events.put((n, args)))(name))
    client.on("auth", lambda *args: events.put(("custom-auth", args)), namespace="/custom")
    client.on("need-ack", lambda value: value + 1)

    def expect(name):
        """The arguments of the next `name` event (others are kept for later)."""
        for i, got in enumerate(seen):
            if got[0] == name:
                return seen.pop(i)[1]
        while True:
            got = events.get(timeout=5)
            if got[0] == name:
                return got[1]
            seen.append(got)

    transports = {"polling": ["polling"], "upgrade": ["polling", "websocket"], "websocket": ["websocket"]}[mode]
    client.connect(
        f"http://127.0.0.1:{server.port}",
        transports=transports,
        namespaces=["/", "/custom"],
        auth={"token": "p"},
        wait_timeout=5,
    )
    try:
        assert expect("auth") == ({"token": "p"},)
        assert expect("custom-auth") == ({"token": "p"},)
        assert client.get_sid("/") != client.get_sid("/custom")
        client.emit("message", (1, "2", b"\x01\x02\x03"))
        assert expect("message-back") == (1, "2", b"\x01\x02\x03")
        assert client.call("message-with-ack", {"a": [True]}, timeout=5) == {"a": [True]}
        assert client.call("message-with-ack", b"\x09\x08", timeout=5) == b"\x09\x08"
        rooms = client.call("join", "r1", timeout=5)
        assert "r1" in rooms and client.get_sid("/") in rooms
        client.emit("server-ack", 41)
        assert expect("ack-result") == (42,)
        if mode == "upgrade":
            deadline = time.monotonic() + 5
            while client.transport() != "websocket" and time.monotonic() < deadline:
                events_wait = client.call("rooms", timeout=5)  # traffic until the upgrade lands
                assert client.get_sid("/") in events_wait
        assert client.transport() == ("polling" if mode == "polling" else "websocket")
    finally:
        client.disconnect()
