"""build/reference-server under bad, partial, slow and numerous input: each client gets the reaction
the requirements name and nobody else is disturbed; limits are enforced at the bound; shutdown is clean."""

from __future__ import annotations

import os
import socket
import time

import pytest
from serverkit import (
    DEADLINE,
    Server,
    WebSocket,
    eio_url,
    http,
    polling_open,
    read_response,
    read_until_closed,
    request_bytes,
    ws_open,
)

ECHO = "/engine.io/"


def still_serving(port: int) -> bool:
    return http(port, "GET", eio_url(ECHO)).status == 200


def test_unmasked_frame_closes_1002(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.sock.sendall(bytes([0x81, 0x02]) + b"4x")  # a client frame without mask
    assert ws.wait_closed(1.0) and ws.close_code == 1002
    assert still_serving(server.port)


def test_invalid_utf8_text_closes_1007(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.send_frame(1, b"4\xff\xfe")
    assert ws.wait_closed(1.0) and ws.close_code == 1007


def test_ws_ping_frame_answered_with_pong(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.send_frame(9, b"hi")
    ws.sock.settimeout(DEADLINE)
    data = ws.buffer
    while len(data) < 4:
        data += ws.sock.recv(64)
    assert data[:4] == bytes([0x8A, 0x02]) + b"hi"


def test_garbage_and_partial_heads_do_not_block_others(server):
    garbage = socket.create_connection(("127.0.0.1", server.port))
    garbage.sendall(os.urandom(512).replace(b"\r\n\r\n", b"xxxx") + b"\r\n\r\n")
    partial = socket.create_connection(("127.0.0.1", server.port))
    partial.sendall(b"GET /socket.io/?EIO=4&transport=pol")  # never finished
    assert read_response(garbage).status == 400
    assert still_serving(server.port)
    partial.close()
    garbage.close()


def test_head_limits_431_and_414(server):
    big = http(server.port, "GET", eio_url(ECHO), headers={"X-Pad": "a" * 9000})
    assert big.status == 431
    long_target = http(server.port, "GET", eio_url(ECHO) + "&x=" + "b" * 5000)
    assert long_target.status == 414
    assert still_serving(server.port)


def test_head_answers_carry_no_content(server):
    """Every answer to HEAD keeps the head GET would get, Content-Length included, and no content: on a
    kept-alive connection the next response starts right after the blank line."""
    sid, _ = polling_open(server.port, ECHO)
    refusal = b'{"code":2,"message":"Bad handshake method"}'
    asked = [
        ("/nope", 404, "text/plain", len(b"Not Found")),  # no endpoint
        (eio_url("/socket.io/"), 400, "application/json", len(refusal)),  # a handshake must be GET
        (eio_url(ECHO, sid), 500, None, 0),  # a session's polling endpoint takes GET and POST only
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        for target, status, content_type, length in asked:
            s.sendall(request_bytes("HEAD", target))
            r = read_response(s, to_head=True)
            assert (r.status, r.headers.get("content-type"), r.headers["content-length"]) == (
                status,
                content_type,
                str(length),
            ), target
        s.sendall(request_bytes("GET", "/nope"))
        r = read_response(s)  # stray content before it would have been read as its status line
        assert (r.status, r.body) == (404, b"Not Found")


def test_head_refusals_that_close_carry_no_content(server):
    """A HEAD WebSocket handshake (refused as raw text, EIO-HS-13) and a HEAD head the parser refuses: the
    head, then the connection closes without a byte of content."""
    ws_headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    refused = [
        request_bytes("HEAD", eio_url("/socket.io/", transport="websocket"), headers=ws_headers),
        b"HEAD /socket.io/ HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
    ]
    for raw in refused:
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
            s.sendall(raw)
            r = read_response(s, to_head=True)
            assert r.status == 400 and int(r.headers["content-length"]) > 0
            rest = read_until_closed(s)
            assert rest == b"", rest
    assert still_serving(server.port)


def test_chunked_post_refused_411(server):
    sid, _ = polling_open(server.port, ECHO)
    r = http(server.port, "POST", eio_url(ECHO, sid), headers={"Transfer-Encoding": "chunked"})
    assert r.status == 411


def test_pipelined_requests(server):
    sid, _ = polling_open(server.port, ECHO)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        s.sendall(
            request_bytes("POST", eio_url(ECHO, sid), b"4one")
            + request_bytes("POST", eio_url(ECHO, sid), b"4two")
            + request_bytes("GET", eio_url(ECHO, sid))
        )
        assert read_response(s).text == "ok"
        assert read_response(s).text == "ok"
        assert read_response(s).body == b"4one\x1e4two"


def test_post_body_in_pieces(server):
    sid, _ = polling_open(server.port, ECHO)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        raw = request_bytes("POST", eio_url(ECHO, sid), b"4slowly")
        for i in range(0, len(raw), 7):
            s.sendall(raw[i : i + 7])
        assert read_response(s).text == "ok"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4slowly"


def test_frames_split_byte_by_byte(server):
    ws, _ = ws_open(server.port, ECHO)
    mask = b"\x01\x02\x03\x04"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"4bytewise"))
    for b in bytes([0x81, 0x80 | 9]) + mask + payload:
        ws.sock.sendall(bytes([b]))
    assert ws.recv() == "4bytewise"


# A heartbeat long enough that the pings this client never answers cannot end a session while the
# 200 connections are opened, however slow a loaded machine (or a sanitizer build) makes that.
@pytest.mark.server_args("--ping-interval", "10000", "--ping-timeout", "5000")
def test_many_websockets(fresh_server):
    server = fresh_server
    conns = [ws_open(server.port, ECHO)[0] for _ in range(200)]
    for i, ws in enumerate(conns):
        ws.send(f"4m{i}")
    for i, ws in enumerate(conns):
        assert ws.recv_skip_pings() == f"4m{i}"
    for ws in conns:
        ws.close()


@pytest.mark.server_args("--max-connections", "2")
def test_max_connections(fresh_server):
    a = WebSocket(fresh_server.port, eio_url(ECHO, transport="websocket"))
    b = WebSocket(fresh_server.port, eio_url(ECHO, transport="websocket"))
    assert a.status == b.status == 101
    with pytest.raises((ConnectionError, OSError)):
        WebSocket(fresh_server.port, eio_url(ECHO, transport="websocket"))
    a.close()
    b.close()


def test_clean_shutdown_with_open_sessions():
    srv = Server("--ping-interval", "300", "--ping-timeout", "200")
    ws, _ = ws_open(srv.port, "/socket.io/")
    ws.send("40")
    sid, _ = polling_open(srv.port, ECHO)
    held = socket.create_connection(("127.0.0.1", srv.port))
    held.sendall(request_bytes("GET", eio_url(ECHO, sid)))
    t0 = time.monotonic()
    srv.stop()  # asserts exit status 0
    assert time.monotonic() - t0 < 2.0
    assert ws.wait_closed(1.0)
    held.close()


def test_help_and_bad_options():
    import subprocess

    from serverkit import SERVER

    if not SERVER.exists():
        pytest.fail("server not built: run make server")
    out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=5)
    assert out.returncode == 0 and "--ping-interval" in out.stdout and "--cors-origin" in out.stdout
    bad = subprocess.run([str(SERVER), "--port", "99999"], capture_output=True, text=True, timeout=5)
    assert bad.returncode == 2 and "--port" in bad.stderr


def test_request_pipelined_behind_held_get(server):
    sid, _ = polling_open(server.port, ECHO)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        s.sendall(request_bytes("GET", eio_url(ECHO, sid)) + request_bytes("POST", eio_url(ECHO, sid), b"3"))
        assert read_response(s).body == b"2"  # the GET waits for the ping
        assert read_response(s).text == "ok"  # then the pong behind it is served
    assert http(server.port, "POST", eio_url(ECHO, sid), b"4alive").text == "ok"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4alive"


SEED_PACKETS = [
    '40',
    '40/custom,{"token":"x"}',
    '42["message",1,"2",{"3":[true]}]',
    '421["join","r1"]',
    '452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
    '43/custom,7["a"]',
    '41',
    '42["to-many",["r1","r2"],{"a":null}]',
    '42["bc-ack",50,1]',
    '2',
    '3',
    '5',
    '6',
    '1',
    'bAQID',
    '4',
]


def mutate(rng, text: str) -> bytes:
    data = bytearray(text.encode())
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 1:
            data.insert(pos, rng.choice(b'[]{}",:0123456789/-_\x1e\x00\xff'))
        elif op == 2 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        else:
            data[pos:pos] = data[: rng.randrange(len(data) + 1)]
    return bytes(data)


def test_mutated_packets_never_disturb_others(server):
    """Mutated Engine.IO/Socket.IO packets (text and binary frames, POST bodies) on many sessions:
    each session gets an answer or a close, and a bystander session keeps working throughout."""
    import random

    rng = random.Random(1234)
    bystander, _ = ws_open(server.port)
    bystander.send("40")
    bystander.recv_skip_pings()
    bystander.recv_skip_pings()
    for round_no in range(300):
        ws, _ = ws_open(server.port)
        for _ in range(8):
            payload = mutate(rng, rng.choice(SEED_PACKETS))
            try:
                if rng.random() < 0.3:
                    ws.send_frame(2, payload)
                else:
                    ws.send_frame(1, payload.decode("utf-8", "replace").encode())
            except OSError:  # the server closed this session: an expected reaction
                break
        ws.close()
        sid, _ = polling_open(server.port)
        http(
            server.port, "POST", eio_url(sid=sid), b"\x1e".join(mutate(rng, rng.choice(SEED_PACKETS)) for _ in range(3))
        )
        bystander.send(f'42["message",{round_no}]')
        assert bystander.recv_skip_pings() == f'42["message-back",{round_no}]'


def test_expect_100_continue(server):
    sid, _ = polling_open(server.port, ECHO)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        raw = request_bytes("POST", eio_url(ECHO, sid), b"4continued", headers={"Expect": "100-continue"})
        head, body = raw.split(b"\r\n\r\n", 1)
        s.sendall(head + b"\r\n\r\n")
        assert read_response(s).status == 100
        s.sendall(body)
        assert read_response(s).text == "ok"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4continued"


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.server_args("--ping-interval", "60000", "--ping-timeout", "60000")
def test_backpressure_then_idle(fresh_server):
    """Echoes produced faster than the client reads pile up in the server (reads from that client
    are paused above the high-water mark), arrive complete and in order, and afterwards the idle
    server sleeps instead of polling for writability."""
    import threading

    ws = WebSocket(fresh_server.port, eio_url(ECHO, transport="websocket"), rcvbuf=4096)
    assert ws.recv().startswith("0{")
    chunk = "4" + "z" * 100_000
    messages = [chunk[: -len(str(i))] + str(i) for i in range(100)]

    def send_all() -> None:
        for m in messages:
            ws.send(m)

    sender = threading.Thread(target=send_all)
    sender.start()
    for m in messages:
        assert ws.recv() == m
    sender.join(DEADLINE)
    before = _cpu_seconds(fresh_server.proc.pid)
    time.sleep(0.5)  # a measurement window: an idle server must not spin
    assert _cpu_seconds(fresh_server.proc.pid) - before < 0.1
