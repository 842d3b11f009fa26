"""build/reference-server --deterministic: ids come from counters, responses carry no Date header,
and the same client bytes give the same server bytes. Without the option ids stay random."""

from __future__ import annotations

import re
import socket

import pytest
from serverkit import DEADLINE, Server, http, polling_open, read_response, request_bytes
from test_socketio import connect

from harness import wire

SID = re.compile(r"eio-session-\d{8}")
SOCKET_ID = re.compile(r"sio-socket--\d{8}")


def raw_exchange(port: int) -> bytes:
    """A fixed script on one keep-alive connection: handshake, CONNECT to / and /custom, collect
    the replies. Returns every byte the server sent."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:

        def roundtrip(method: str, target: str, body: bytes = b"") -> bytes:
            sock.sendall(request_bytes(method, target, body))
            r = read_response(sock)
            head = f"{r.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in sorted(r.headers.items()))
            return head.encode() + b"\r\n" + r.body

        first = roundtrip("GET", "/socket.io/?EIO=4&transport=polling")
        info = wire.open_packet_of_body(first.split(b"\r\n\r\n", 1)[1])
        assert info is not None, first
        sid = info["sid"]
        out += first
        base = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        out += roundtrip("POST", base, b"40\x1e40/custom,")
        out += roundtrip("GET", base)
    return out


@pytest.mark.server_args("--deterministic")
def test_ids_count_up_in_creation_order(fresh_server):
    sids = [polling_open(fresh_server.port)[0] for _ in range(3)]
    assert sids == ["eio-session-00000001", "eio-session-00000002", "eio-session-00000003"]
    ws1, id1 = connect(fresh_server.port)
    ws2, id2 = connect(fresh_server.port)
    ws1.close()
    ws2.close()
    assert (id1, id2) == ("sio-socket--00000001", "sio-socket--00000002")


@pytest.mark.server_args("--deterministic")
def test_no_date_header(fresh_server):
    r = http(fresh_server.port, "GET", "/socket.io/?EIO=4&transport=polling")
    assert r.status == 200
    assert "date" not in {k.lower() for k in r.headers}


def test_same_client_bytes_give_same_server_bytes():
    runs = []
    for _ in range(2):
        s = Server("--deterministic")
        try:
            runs.append(raw_exchange(s.port))
        finally:
            s.stop()
    assert SID.search(runs[0].decode(errors="replace")), runs[0]
    assert len(SOCKET_ID.findall(runs[0].decode(errors="replace"))) == 2, runs[0]
    assert runs[0] == runs[1]


def test_environment_variable_turns_it_on(monkeypatch):
    monkeypatch.setenv("DETERMINISTIC", "1")
    s = Server()
    try:
        assert polling_open(s.port)[0] == "eio-session-00000001"
    finally:
        s.stop()


def test_without_the_option_ids_are_random(server):
    sids = {polling_open(server.port)[0] for _ in range(20)}
    assert len(sids) == 20
    for sid in sids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{20}", sid) and not SID.fullmatch(sid), sid
    ws1, id1 = connect(server.port)
    ws2, id2 = connect(server.port)
    ws1.close()
    ws2.close()
    assert id1 != id2 and not SOCKET_ID.fullmatch(id1) and len(id1) == 20
