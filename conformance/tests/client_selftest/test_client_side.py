"""Self-tests of the client side: the wire module against hand-made bytes, the scripted server
against a raw client written here, fixture crash detection, and the completeness of the catalogue.
No client under test is needed."""

from __future__ import annotations

import ast
import base64
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clientside import agents, wire
from clientside.journal import Clock
from clientside.server import Profile, ScriptedServer
from harness import catalogue

CLIENT_TESTS = Path(__file__).resolve().parents[1] / "client"


# ------------------------------------------------------------------------------------------ catalogue
def test_client_catalogue_has_72_requirements_in_11_groups() -> None:
    reqs = catalogue.load(catalogue.CLIENT_PATH)
    assert len(reqs) == 72
    assert len({r.group for r in reqs.values()}) == 11
    assert {r.level for r in reqs.values()} <= {"MUST", "SHOULD", "MAY", "INFO"}


def test_every_client_requirement_has_a_case() -> None:
    names = set()
    for path in CLIENT_TESTS.glob("test_*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("def test_"):
                rid = catalogue.id_from_test_name(line[4:].split("(")[0])
                assert rid is not None, line
                names.add(rid)
    missing = sorted(set(catalogue.load(catalogue.CLIENT_PATH)) - names)
    assert missing == []


# ------------------------------------------------------------------------------------------ wire
def test_request_parser_chunked_body_in_pieces_then_a_pipelined_request() -> None:
    raw = (
        b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\n42[\"\r\n5;ext=1\r\na\"]\x1e3\r\n0\r\n\r\n"
        b"GET /socket.io/?EIO=4&transport=polling&sid=x&sid=y HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    p = wire.RequestParser()
    got = []
    for i in range(0, len(raw), 7):  # arrives seven bytes at a time
        p.feed(raw[i : i + 7])
        while (req := p.next_request()) is not None:
            got.append(req)
    assert [r.method for r in got] == ["POST", "GET"]
    assert got[0].chunked and got[0].body == b'42["a"]\x1e3'
    assert got[1].query == [("EIO", "4"), ("transport", "polling"), ("sid", "x"), ("sid", "y")]


def test_request_parser_rejects_a_bad_chunk_size() -> None:
    p = wire.RequestParser()
    p.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    with pytest.raises(wire.WireError):
        p.next_request()


def test_frame_parser_unmasks_and_joins_fragments_around_a_ping() -> None:
    def masked(op: int, data: bytes, fin: bool) -> bytes:
        key = b"\x01\x02\x03\x04"
        body = bytes(c ^ key[i % 4] for i, c in enumerate(data))
        return bytes([(0x80 if fin else 0) | op, 0x80 | len(data)]) + key + body

    fp = wire.FrameParser()
    fp.feed(masked(wire.OP_TEXT, b"4he", False) + masked(wire.OP_PING, b"p", True) + masked(wire.OP_CONT, b"llo", True))
    ping = fp.next_message()
    msg = fp.next_message()
    assert ping is not None and ping.opcode == wire.OP_PING and ping.data == b"p"
    assert msg is not None and msg.text == "4hello" and msg.frames == 2 and msg.masked


def test_payload_v4_round_trip_with_binary() -> None:
    packets: list[wire.Packet] = ['42["a"]', b"\x00\xff", "6"]
    assert wire.payload_v4_encode(packets) == b'42["a"]\x1ebAP8=\x1e6'
    assert wire.payload_v4_decode(wire.payload_v4_encode(packets)) == packets


def test_payload_v3_lengths_count_utf16_units() -> None:
    body = wire.payload_v3_encode(['42["\U0001f600"]', b"\x01"])
    assert body == '8:42["\U0001f600"]6:b4AQ=='.encode()  # the emoji counts 2, as String.length does
    assert wire.payload_v3_decode(body) == ['42["\U0001f600"]', b"\x01"]


def test_payload_v3_xhr2_binary_form() -> None:
    body = b"\x00\x03\xff42a" + b"\x01\x03\xff\x04\x01\x02"
    assert wire.payload_v3_decode(body) == ["42a", b"\x01\x02"]


def test_socketio_decode_and_assembler_errors() -> None:
    p = wire.sio_decode('51-/a,7["e",{"_placeholder":true,"num":0}]')
    assert (p.type, p.attachments, p.nsp, p.id) == (wire.BINARY_EVENT, 1, "/a", 7)
    asm = wire.Assembler()
    assert asm.feed('51-["e",{"_placeholder":true,"num":0}]') is None
    done = asm.feed(b"\x09")
    assert done is not None and done.data == ["e", b"\x09"]
    with pytest.raises(wire.WireError):
        wire.Assembler().feed(b"alone")
    bad = wire.Assembler()
    bad.feed('51-["e",{"_placeholder":true,"num":0}]')
    with pytest.raises(wire.WireError):
        bad.feed('2["text"]')
    assert wire.sio_encode(wire.EVENT, "/", ["x", b"\x01"]) == ['451-["x",{"_placeholder":true,"num":0}]', b"\x01"]


# ------------------------------------------------------------------------------------------ scripted server
class RawClient:
    """Just enough of a client to drive the scripted server by hand."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.buf = b""

    def request(self, method: str, target: str, body: bytes | None = None, chunked: bool = False) -> tuple[int, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: x\r\n"
        if body is not None and chunked:
            data = head.encode() + b"Transfer-Encoding: chunked\r\n\r\n"
            data += b"".join(
                f"{len(body[i : i + 5]):x}\r\n".encode() + body[i : i + 5] + b"\r\n" for i in range(0, len(body), 5)
            )
            data += b"0\r\n\r\n"
        else:
            data = (head + f"Content-Length: {len(body or b'')}\r\n\r\n").encode() + (body or b"")
        self.sock.sendall(data)
        return self.response()

    def response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        length = next(
            (int(ln.split(b":")[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")), 0
        )
        while len(rest) < length:
            rest += self._recv()
        self.buf = rest[length:]
        return status, rest[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        return chunk


def test_scripted_server_polling_session_chunked_post_and_upgrade() -> None:
    srv = ScriptedServer(Profile(ping_interval=5000, ping_timeout=5000))
    try:
        c = RawClient(srv.port)
        status, body = c.request("GET", "/socket.io/?EIO=4&transport=polling")
        assert status == 200 and body.startswith(b'0{"sid":')
        sid = json.loads(body[1:])["sid"]
        status, body = c.request(
            "POST", f"/socket.io/?EIO=4&transport=polling&sid={sid}", b'40{"k":1}\x1e42["hi",1]', chunked=True
        )
        assert (status, body) == (200, b"ok")
        connect = srv.sio.wait(lambda s: s.packet.type == wire.CONNECT, 2)
        event = srv.sio.wait(lambda s: s.packet.event == "hi", 2)
        assert connect is not None and connect.item.packet.data == {"k": 1}
        assert event is not None and event.item.packet.args == [1]
        status, body = c.request("GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
        assert status == 200 and body.startswith(b'40{"sid":"io-')
        # The upgrade: probe, then `5`; the parked GET is answered with a noop.
        ws = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        key = base64.b64encode(b"0123456789abcdef").decode()
        ws.sendall(
            f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

        def send_text(text: str) -> None:
            data = text.encode()
            ws.sendall(bytes([0x81, 0x80 | len(data)]) + b"\0\0\0\0" + data)

        send_text("2probe")
        got = b""
        while b"3probe" not in got:
            got += ws.recv(4096)
        assert wire.accept_key(key).encode() in got
        parked = RawClient(srv.port)
        assert parked.request("GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}") == (200, b"6")
        send_text("5")
        session = srv.wait_session(1, 1)
        assert session is not None
        srv.eio.wait(lambda e: e.packet == "5", 2)
        session.emit("/", "over-ws")
        got = b""
        while b"over-ws" not in got:
            got += ws.recv(4096)
        assert got.endswith(b'42["over-ws"]')
    finally:
        srv.stop()


def test_killed_transport_is_a_tcp_reset() -> None:
    srv = ScriptedServer(Profile(ping_interval=5000, ping_timeout=5000))
    try:
        c = RawClient(srv.port)
        _, body = c.request("GET", "/socket.io/?EIO=4&transport=polling")
        sid = json.loads(body[1:])["sid"]
        c.sock.sendall(f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        srv.http.wait_count(lambda h: h.sid == sid, 1, 2)
        session = srv.wait_session(1, 1)
        assert session is not None
        session.kill_transport()
        with pytest.raises(ConnectionResetError):
            while c.sock.recv(4096):
                pass
        # The session is gone: a request naming it is answered 400.
        status, _ = RawClient(srv.port).request("GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
        assert status == 400
    finally:
        srv.stop()


def test_v3_profile_speaks_length_prefixed_payloads_and_answers_client_pings() -> None:
    srv = ScriptedServer(Profile(eio=3, ping_interval=5000, ping_timeout=5000))
    try:
        c = RawClient(srv.port)
        status, body = c.request("GET", "/socket.io/?EIO=3&transport=polling")
        packets = wire.payload_v3_decode(body)
        assert status == 200 and isinstance(packets[0], str) and packets[0].startswith("0{") and packets[1] == "40"
        sid = json.loads(packets[0][1:])["sid"]
        c.request("POST", f"/socket.io/?EIO=3&transport=polling&sid={sid}", b"1:2")
        _, body = c.request("GET", f"/socket.io/?EIO=3&transport=polling&sid={sid}")
        assert body == b"1:3"
    finally:
        srv.stop()


# ------------------------------------------------------------------------------------------ fixture process
def _fake_spec(tmp_path: Path, program: str) -> agents.ClientSpec:
    script = tmp_path / "fake_fixture.py"
    script.write_text(program, encoding="utf-8")
    return agents.ClientSpec("fake", "a fixture written for this test", (sys.executable, str(script)), tmp_path)


def test_fixture_that_exits_early_is_a_crash(tmp_path: Path) -> None:
    spec = _fake_spec(tmp_path, 'import sys\nprint(\'{"ev": "connect", "nsp": "/"}\', flush=True)\nsys.exit(3)\n')
    fx = agents.Fixture(spec, {"url": "http://127.0.0.1:1"}, Clock())
    fx.start()
    assert fx.lines.wait(lambda d: False, 5) is None  # returns once the process ended
    assert fx.lines.snapshot()[0].item == {"ev": "connect", "nsp": "/"}
    assert fx.crash() == "the fixture exited with status 3 before the case ended"


def test_traceback_on_stderr_is_a_crash(tmp_path: Path) -> None:
    spec = _fake_spec(
        tmp_path, "import sys, threading, time\nthreading.Thread(target=lambda: 1 / 0).start()\ntime.sleep(30)\n"
    )
    fx = agents.Fixture(spec, {}, Clock())
    fx.start()
    try:
        deadline_lines = fx.lines.wait(lambda d: False, 0.5)
        assert deadline_lines is None
        for _ in range(50):
            if fx.crash():
                break
            fx.lines.wait(lambda d: False, 0.1)
        why = fx.crash()
        assert why is not None and "uncaught exception" in why
        assert "ZeroDivisionError" in fx.stderr_tail()
    finally:
        fx.stop()


def test_requests_are_timed_when_they_reached_the_machine() -> None:
    """The suite keeps its server threads from running for 0.3 s right after a request was sent (as a
    loaded machine would): the request is still timed when it arrived, not when a thread read it."""
    srv = ScriptedServer(Profile(ping_interval=5000, ping_timeout=5000))
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    switch = sys.getswitchinterval()
    try:
        sock.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        sent_ms = srv.clock.ms()
        sys.setswitchinterval(5.0)  # no other Python thread runs until this loop gives way
        until = time.monotonic() + 0.3
        while time.monotonic() < until:
            pass
        sys.setswitchinterval(switch)
        seen = srv.http.wait(lambda h: h.sid == "new", 3.0)
        assert seen is not None
        assert abs(seen.t - sent_ms) < 100, (seen.t, sent_ms)
    finally:
        sys.setswitchinterval(switch)
        sock.close()
        srv.stop()


# ------------------------------------------------------------------------------------------ CSIO-RC-03
SLOW_CLIENT = Path(__file__).resolve().parent / "slow_to_notice_client.py"


def _rc03_with(tmp_path: Path, notice_s: float, first_s: float) -> dict:
    """CSIO-RC-03 run on slow_to_notice_client.py, as a fixture by command line; its report's case."""
    report = tmp_path / "index.json"
    client = f"{sys.executable} {SLOW_CLIENT} {notice_s} {first_s}"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--catalogue", "client"]
        + ["--client", client, "--report-json", str(report), str(CLIENT_TESTS), "-k", "RC_03"],
        cwd=CLIENT_TESTS.parents[1],
        capture_output=True,
        timeout=120,
    )
    return json.loads(report.read_text(encoding="utf-8"))["cases"][0]


def test_rc03_first_gap_runs_from_the_clients_disconnect_line(tmp_path: Path) -> None:
    """A client that sees the drop 150 ms late and then waits the configured 50 ms passes: the first gap
    runs from its `disconnect` line, not from the drop (150 + 50 ms would be outside the window)."""
    case = _rc03_with(tmp_path, 0.15, 0.05)
    assert case["verdict"] == "pass", case["actual"]
    outages = ast.literal_eval(case["actual"])["outages within tolerance"]
    assert len(outages) == 2  # two alike decide
    # From the drop the first gap would be about 200 ms; from the line, about 50. The line is stamped when
    # it reached the machine (the kernel's receive time on the fixture's stdout connection), so a loaded
    # machine can make the gap longer (the client late), never shorter.
    for outage in outages:
        assert outage["disconnect line after the drop_ms"] >= 140
        assert 45 <= outage["gaps_ms"][0] <= 110


def test_rc03_a_late_first_attempt_is_seen(tmp_path: Path) -> None:
    """A client that notices at once but waits 200 ms before its first attempt (want 50) is non-strict."""
    case = _rc03_with(tmp_path, 0.0, 0.2)
    assert case["verdict"] == "non-strict", case["actual"]
    outages = ast.literal_eval(case["actual"])["outages outside tolerance"]
    assert len(outages) == 2  # two alike decide
    for outage in outages:
        assert outage["outside tolerance (got, want)"][0][1] == 50.0 and outage["gaps_ms"][0] >= 190


def test_numbers_named_names_only_exact_runs_of_consecutive_numbers():
    from clientside.journal import NUMBER_RUN_MIN, numbers_named

    padding = list(range(2000))
    assert numbers_named({"args": [{"$bin": "AQ=="}, padding]}) == {
        "args": [{"$bin": "AQ=="}, "<the 2000 numbers 0..1999>"]
    }
    changed = padding[:500] + padding[501:]  # one number missing: shown as it came
    assert numbers_named([changed]) == [changed]
    short = list(range(NUMBER_RUN_MIN - 1))
    assert numbers_named(short) == short
    at_bound = list(range(5, 5 + NUMBER_RUN_MIN))
    assert numbers_named(at_bound) == f"<the {NUMBER_RUN_MIN} numbers 5..{4 + NUMBER_RUN_MIN}>"
    assert numbers_named([True] * 40) == [True] * 40  # not numbers, though equal to 1 in Python
