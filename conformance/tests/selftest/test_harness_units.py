"""Self-tests of the harness: its own encoders and parsers, checked against published examples, and the
completeness of the requirement catalogue and of the case list. No target is needed."""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from harness import catalogue, tracking
from harness.eio import Ping, WebSocketSession, decode_payload, encode_payload
from harness.http import HttpResponse, _Reader, read_response
from harness.sio import BINARY_EVENT, CONNECT, EVENT, decode_text, encode
from harness.targets import Target
from harness.verdict import Failure, Verdict
from harness.verify import (
    early_pings,
    expect_closed,
    heartbeat_lapse,
    heartbeat_timed,
    held_pong_gaps,
    pong_hold,
    suite_lost,
)
from harness.ws import OP_CLOSE, OP_TEXT, WsClient, accept_key, encode_frame

PROTOCOL_TESTS = Path(__file__).resolve().parents[1] / "protocol"


def test_catalogue_has_151_requirements_in_15_groups():
    reqs = catalogue.load()
    assert len(reqs) == 151  # REQUIREMENTS.md's 136, ERR-06..08 and the WebSocket layer's WS-01..12
    assert len({r.group for r in reqs.values()}) == 15
    assert {r.level for r in reqs.values()} <= {"MUST", "SHOULD", "MAY", "INFO"}


def test_every_requirement_has_a_case():
    names = set()
    for path in PROTOCOL_TESTS.glob("test_*.py"):
        for m in re.finditer(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M):
            rid = catalogue.id_from_test_name(m.group(1))
            assert rid is not None, f"{path.name}: {m.group(1)} names no requirement ID"
            names.add(rid)
    missing = sorted(set(catalogue.load()) - names)
    unknown = sorted(names - set(catalogue.load()))
    assert not missing, f"requirements without a case: {missing}"
    assert not unknown, f"cases naming unknown IDs: {unknown}"


def test_id_from_test_name():
    assert catalogue.id_from_test_name("test_EIO_HS_04_bad_eio_rejected") == "EIO-HS-04"
    assert catalogue.id_from_test_name("test_ERR_03_x") == "ERR-03"
    assert catalogue.id_from_test_name("test_SIO_ROOM_01") == "SIO-ROOM-01"
    assert catalogue.id_from_test_name("test_helper") is None


def test_websocket_accept_key_rfc6455_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_frame_encoding_rfc6455_examples():
    assert encode_frame(OP_TEXT, b"Hello", mask=False) == bytes.fromhex("810548656c6c6f")
    assert encode_frame(OP_TEXT, b"Hello", mask_key=bytes.fromhex("37fa213d")) == bytes.fromhex(
        "818537fa213d7f9f4d5158"
    )
    assert encode_frame(OP_TEXT, b"Hel", fin=False, mask=False) == bytes.fromhex("010348656c")
    assert encode_frame(0x2, b"x" * 256, mask=False)[:4] == bytes.fromhex("827e0100")
    assert encode_frame(0x2, b"", mask=False, declared_length=70000)[:10] == bytes.fromhex("827f0000000000011170")


def _pair() -> tuple[WsClient, socket.socket]:
    a, b = socket.socketpair()
    client = WsClient(a, b"", HttpResponse(101, "Switching Protocols", [], b""))
    return client, b


def test_ws_reader_joins_fragments_and_answers_ping():
    client, server = _pair()
    try:
        server.sendall(
            bytes.fromhex("010348656c") + bytes.fromhex("8a00") + bytes.fromhex("89026869") + bytes.fromhex("80026c6f")
        )
        msg = client.recv(2.0)
        assert (msg.kind, msg.data) == ("text", b"Hello")
        server.settimeout(2.0)
        pong = server.recv(64)
        assert pong[0] == 0x8A and pong[1] & 0x80 and (pong[1] & 0x7F) == 2  # masked pong echoing "hi"
    finally:
        client.close()
        server.close()


def test_ws_reader_reports_close_then_eof():
    client, server = _pair()
    try:
        server.sendall(bytes.fromhex("880203e8"))
        msg = client.recv(2.0)
        assert (msg.kind, msg.code) == ("close", 1000)
        server.close()
        assert client.recv(2.0).kind == "eof"
    finally:
        client.close()


def test_ws_own_messages_wait_for_an_unfinished_message():
    """An Engine.IO pong the client sends by itself never falls between the fragments of a message the
    case is sending (RFC 6455 section 5.4): it goes out right after the last fragment."""
    client, server = _pair()
    try:
        client.send_frame(OP_TEXT, b"4fr", fin=False, mask=False)
        client.send_own_text("3")  # held back: the text message is unfinished
        client.send_frame(0x9, b"p", mask=False)  # a control frame may interleave
        client.send_frame(0x0, b"ag", mask=False)  # the last fragment: the pong follows it
        client.send_own_text("3")  # no message unfinished: sent at once
        want = bytes.fromhex("0103") + b"4fr" + bytes.fromhex("8901") + b"p" + bytes.fromhex("8002") + b"ag"
        server.settimeout(2.0)
        got = b""
        while len(got) < len(want) + 2 * 7:  # and two masked one-byte text frames (2 + 4 + 1 bytes each)
            got += server.recv(256)
        assert got[: len(want)] == want
        assert got[len(want)] == 0x81 and got[len(want) + 7] == 0x81
    finally:
        client.close()
        server.close()


def test_ws_own_messages_wait_for_a_frame_written_in_pieces():
    """A frame the case writes one byte per write (or with its 16-bit length, mask and body in separate
    writes) is not cut by a pong: the pong goes out once the frame's last byte is out."""
    client, server = _pair()
    try:
        frame = encode_frame(OP_TEXT, b"x" * 130, mask=False)  # a 16-bit length: 4 header bytes
        for i in range(len(frame)):
            client.send_bytes(frame[i : i + 1])
            if i in (0, 2, 3, 60):  # inside the header, at its end, inside the body
                client.send_own_text("3")
        client.send_own_text("3")  # nothing unfinished: sent at once
        server.settimeout(2.0)
        got = b""
        while len(got) < len(frame) + 5 * 7:  # and five masked one-byte text frames
            got += server.recv(4096)
        assert got[: len(frame)] == frame
        assert all(got[len(frame) + 7 * k] == 0x81 for k in range(5))
    finally:
        client.close()
        server.close()


def test_http_response_parsing_chunked_and_length():
    a, b = socket.socketpair()
    try:
        b.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
        )
        reader = _Reader(a)
        first = read_response(reader)
        second = read_response(reader)
        assert (first.status, first.body) == (200, b"abcde")
        assert (second.status, second.body, second.header("content-type")) == (400, b"{}", "application/json")
    finally:
        a.close()
        b.close()


def test_polling_payload_round_trip():
    packets: list[str | bytes] = ["4hello", b"\x01\x02\x03\x04", "2"]
    body = encode_payload(packets)
    assert body == b"4hello\x1ebAQIDBA==\x1e2"
    assert decode_payload(body) == packets


def test_socketio_encoding():
    assert encode(EVENT, "/", ["message", 1]) == ['42["message",1]']
    assert encode(EVENT, "/admin", ["a"], 12) == ['42/admin,12["a"]']
    assert encode(CONNECT, "/custom", {"token": "x"}) == ['40/custom,{"token":"x"}']
    assert encode(EVENT, "/", ["b", b"\x01", {"x": [b"\x02"]}], 3) == [
        '452-3["b",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]}]',
        b"\x01",
        b"\x02",
    ]


@pytest.mark.parametrize(
    "text,fields",
    [
        ('2["a"]', (EVENT, "/", None, ["a"], 0)),
        ("0/custom", (CONNECT, "/custom", None, None, 0)),
        ('2/x,7["a"]', (EVENT, "/x", 7, ["a"], 0)),
        (
            '51-/x,["a",{"_placeholder":true,"num":0}]',
            (BINARY_EVENT, "/x", None, ["a", {"_placeholder": True, "num": 0}], 1),
        ),
    ],
)
def test_socketio_decoding(text, fields):
    p = decode_text(text)
    assert (p.type, p.nsp, p.id, p.data, p.count) == fields


def _case(level: str):
    from harness.catalogue import Requirement
    from harness.verdict import Case

    return Case(Requirement("EIO-HS-99", level, "a requirement", "EIO-HS"), "EIO-HS-99")


@pytest.mark.parametrize(
    "level,kind", [("MUST", "fail"), ("SHOULD", "non-strict"), ("MAY", "non-strict"), ("INFO", "informational")]
)
def test_case_check_raises_the_verdict_of_the_level(level, kind):
    with pytest.raises((Verdict, Failure)) as info:
        _case(level).check(False, "what", b"expected", b"actual")
    assert getattr(info.value, "kind", None) == kind
    text = str(info.value)
    assert "EIO-HS-99" in text and "a requirement" in text and "b'expected'" in text and "b'actual'" in text


def test_case_check_passes_and_records():
    c = _case("MUST")
    c.check(True, "what", 1, 1)
    assert (c.expected, c.actual) == (1, 1)
    with pytest.raises(Verdict) as info:
        c.unimplemented("no such feature")
    assert info.value.kind == "unimplemented"


def test_stall_watch_notes_when_the_suite_did_not_run():
    """The process keeps the interpreter to one thread for 0.4 s (as a starved process would be kept from
    running at all): the watch notes the gap in the running case's transcript once it runs again."""
    tracking.watch_stalls()
    transcript = tracking.begin_case()
    switch = sys.getswitchinterval()
    try:
        sys.setswitchinterval(5.0)  # no other Python thread runs until this loop gives way
        until = time.monotonic() + 0.4
        while time.monotonic() < until:
            pass
    finally:
        sys.setswitchinterval(switch)
    noted = threading.Event()
    for _ in range(100):  # the watch needs a tick to run again
        if transcript.stall_ms or noted.wait(0.02):
            break
    tracking.end_case()
    assert transcript.stall_ms >= 300, transcript.stall_ms
    notes = [m["text"] for m in transcript.messages() if m["dir"] == "!"]
    assert any(n.startswith("the suite itself did not run for") for n in notes), notes


def test_received_bytes_are_timed_when_they_reached_the_machine():
    """The suite's threads are kept from running for 0.3 s after the peer sent: the transcript still
    times the bytes when they arrived, so it shows who was late."""
    listener = socket.create_server(("127.0.0.1", 0))
    transcript = tracking.begin_case()
    sock = socket.create_connection(listener.getsockname(), timeout=3)
    tracking.register(sock, "peer")
    peer, _ = listener.accept()
    switch = sys.getswitchinterval()
    try:
        peer.sendall(b"hello")
        sent = time.monotonic()
        sys.setswitchinterval(5.0)  # no other Python thread runs until this loop gives way
        while time.monotonic() < sent + 0.3:
            pass
        sys.setswitchinterval(switch)
        assert tracking.recv(sock) == b"hello"
    finally:
        sys.setswitchinterval(switch)
        tracking.close(sock)
        peer.close()
        listener.close()
        tracking.end_case()
    got = [e.t for e in transcript.events if e.direction == "<"]
    assert got and abs(got[0] - (sent - transcript.t0)) < 0.1, (got, sent - transcript.t0)


def _scripted_session(ping_timeout_ms: int, ping_interval_ms: int = 300) -> tuple[WebSocketSession, socket.socket]:
    """A WebSocket session on a socket pair whose other end the test writes as the target would."""
    target = Target(
        "scripted", "127.0.0.1", 0, ping_interval_ms, ping_timeout_ms, 1000, 100000, False, frozenset(), "", ""
    )
    s = WebSocketSession(target, "/socket.io/")
    a, b = socket.socketpair()
    s.ws = WsClient(a, b"", HttpResponse(101, "Switching Protocols", [], b""), on_frame=s._on_frame)
    return s, b


def test_heartbeat_timed_tells_the_heartbeat_from_a_reaction():
    """An end pingTimeout (less the tolerance) or more after a ping that followed the case's last input is
    the heartbeat's; an end sooner after it, or after further input, is a reaction."""
    ping = Ping(arrived=10.3, answered=10.301)
    assert heartbeat_timed([ping], 10.0, 10.5, 0.2) is ping  # 0.2 s after the ping, nothing sent since
    assert heartbeat_timed([ping], 10.0, 10.46, 0.2) is ping  # a ping written late: within the tolerance
    assert heartbeat_timed([ping], 10.0, 10.44, 0.2) is None  # too soon after the ping: a reaction
    assert heartbeat_timed([ping], 10.4, 10.5, 0.2) is None  # input after the ping: its reaction
    assert heartbeat_timed([], 10.0, 10.5, 0.2) is None  # no ping at all
    assert heartbeat_timed([Ping(10.6)], 10.0, 10.5, 0.2) is None  # a ping after the end does not count


@pytest.mark.parametrize("input_after_ping", [False, True])
def test_expect_closed_reads_a_heartbeat_end_as_no_reaction(input_after_ping):
    """The target pings, answers nothing the case sends, and ends the session pingTimeout after the ping:
    no reaction (a failed check, the Actual naming the heartbeat). The same end right after input the case
    sent after the ping is a reaction (the check holds)."""
    s, peer = _scripted_session(200)
    try:
        s.send("4abc")  # the case's input, before the ping
        ping_sent = time.monotonic()
        peer.sendall(encode_frame(OP_TEXT, b"2", mask=False))
        if input_after_ping:
            time.sleep(0.15)  # the scenario's timing, not a synchronisation: input 0.15 s after the ping
            s.send("4later")
        ends = threading.Timer(max(0.0, ping_sent + 0.2 - time.monotonic()), peer.close)
        ends.start()
        c = _case("MUST")
        if input_after_ping:
            assert expect_closed(c, s, "the session ends", 1.0) is not None
        else:
            with pytest.raises(Failure) as info:
                expect_closed(c, s, "the session ends", 1.0)
            assert "ended by the heartbeat" in str(info.value)
        ends.join()
    finally:
        s.close()
        peer.close()


@pytest.mark.parametrize("pong", ["sent at once", "held by the case", "never"])
def test_suite_lost_names_only_a_session_lost_to_the_suites_own_lateness(pong):
    """A session that ends after a ping the suite answered at once was not lost by the suite; nor was one
    whose pong the case held back by design (behind a message it left unfinished, as a case that waits for
    the target's answer to a ping between fragments does). One whose ping the suite never answered (its
    reader stalled) was."""
    s, peer = _scripted_session(200)
    assert s.ws is not None
    try:
        if pong == "held by the case":
            s.ws.send_frame(OP_TEXT, b"4fr", fin=False)  # the case is in the middle of a message
        if pong == "never":
            s.auto_pong = False  # as if the suite's reader never got to the ping ...
        peer.sendall(encode_frame(OP_TEXT, b"2", mask=False))
        peer.settimeout(2.0)
        if pong == "sent at once":
            assert peer.recv(64)[:1] == b"\x81"  # the pong arrived
        peer.close()
        assert s.wait_ended(2.0) is not None  # the reader took the ping, then the end
        s.auto_pong = True  # ... while it was answering pings for the case
        lost = suite_lost(s)
        if pong == "never":
            assert lost is not None and "not answered before the end" in lost
        else:
            assert lost is None, lost
        if pong == "held by the case":
            assert s.pings[-1].held_by_case
    finally:
        s.close()


@pytest.mark.parametrize("input_before", [False, True])
def test_suite_lost_names_a_ping_that_came_with_the_end(input_before):
    """The target's ping and its close arrive in one segment (its own writer was late): the suite's pong,
    written once its reader got to the ping, went out after the end had arrived. With nothing sent by the
    case before, it was not answered before the end, however soon after the ping, so the session is one
    the case cannot be judged on. Right after the case's input, the end may be the target's reaction
    carrying a ping it had queued: the pong is timed from the ping, and 70 ms is in time."""
    s, peer = _scripted_session(200)
    try:
        if input_before:
            s.send("4abc")
        peer.sendall(encode_frame(OP_TEXT, b"2", mask=False) + encode_frame(OP_CLOSE, b"", mask=False))
        peer.close()
        assert s.wait_ended(2.0) is not None
        ping = s.pings[-1]
        assert s.end is not None and ping.arrived <= s.end.at
        ping.answered = s.end.at + 0.07  # as a reader held up 70 ms by machine load writes it
        lost = suite_lost(s)
        if input_before:
            assert lost is None, lost
            return
        assert lost is not None and "not answered before the end, 0.000 s after it arrived" in lost, lost
        ping.answered = s.end.at  # written as the end arrived: in time
        assert suite_lost(s) is None
    finally:
        s.close()


def test_a_write_that_found_the_connection_closed_is_no_input():
    """The target's ping and its close arrive in one segment, the suite's pong goes out late, and the case
    then tries to send and finds the connection closed (a broken pipe): nothing of that write reached the
    target, so it cannot have caused the end, and the session is still one the suite lost."""
    s, peer = _scripted_session(200)
    assert s.ws is not None
    try:
        peer.sendall(encode_frame(OP_TEXT, b"2", mask=False) + encode_frame(OP_CLOSE, b"", mask=False))
        peer.close()
        assert s.wait_ended(2.0) is not None
        s.ws.sock.shutdown(socket.SHUT_WR)  # what the target's close leaves of the suite's side
        with pytest.raises(OSError):
            s.ws.send_bytes(encode_frame(OP_TEXT, b"41", mask=True))
        assert s.end is not None
        s.pings[-1].answered = s.end.at + 0.07
        lost = suite_lost(s)
        assert lost is not None and "not answered before the end" in lost, lost
    finally:
        s.close()


@pytest.mark.parametrize("end_after", [0.2, 0.05, 0.4])
def test_heartbeat_lapse_names_a_timeout_that_fired_with_the_pong_in_time(end_after):
    """The target pings after the case's last input, the suite answers at once, and the target still ends
    the session pingTimeout after its ping: its heartbeat lapsed (named, so the case runs again). An end
    sooner after the ping is a reaction, and one more than half a pingInterval past the timeout is not
    timed by the heartbeat: neither is a lapse."""
    s, peer = _scripted_session(200)
    try:
        s.send("4abc")  # the case's input, before the ping
        peer.sendall(encode_frame(OP_TEXT, b"2", mask=False))
        ping_sent = time.monotonic()
        peer.settimeout(2.0)
        assert peer.recv(64)[:1] == b"\x81"  # the pong arrived in time
        ends = threading.Timer(max(0.0, ping_sent + end_after - time.monotonic()), peer.close)
        ends.start()
        assert s.wait_ended(2.0) is not None
        ends.join()
        lapse = heartbeat_lapse(s)
        if end_after == 0.2:
            assert lapse is not None and "yet the session ended" in lapse, lapse
        else:
            assert lapse is None, lapse
        assert suite_lost(s) is None
    finally:
        s.close()
        peer.close()


def _pinging_peer(peer: socket.socket, interval: float, restarts_at_pong: bool, pings: int) -> threading.Thread:
    """The target's heartbeat on the peer's end: `pings` pings `interval` apart, timed from the pong that
    answers each (as the protocol asks) or from the ping before (as socketioxide and netty-socketio do)."""

    def run() -> None:
        peer.settimeout(3.0)
        next_at = time.monotonic()
        for n in range(pings):
            time.sleep(max(0.0, next_at - time.monotonic()))  # the peer's own timer: the scenario's timing
            sent = time.monotonic()
            peer.sendall(encode_frame(OP_TEXT, b"2", mask=False))
            if n < pings - 1 and restarts_at_pong:
                peer.recv(64)  # the held pong: the only frame the session writes
            next_at = (time.monotonic() if restarts_at_pong else sent) + interval

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("restarts_at_pong,ping_timeout_ms", [(True, 150), (False, 150), (True, 400), (False, 400)])
def test_held_pongs_tell_a_period_restarted_at_the_pong(restarts_at_pong, ping_timeout_ms):
    """With the pong held back, a target that times its next ping from the pong is never early, and one
    that times it from its previous ping is early: sooner than pingInterval after the pong (a hold shorter
    than its period), or before the pong at all (a longer hold). A prompt pong could not tell them apart
    by more than the pong's own delay. A pong the suite wrote too late spoils the measurement, which the
    case takes again on a fresh session; so does this test."""
    for _ in range(3):
        s, peer = _scripted_session(ping_timeout_ms, ping_interval_ms=200)
        s.auto_pong = False
        peer_thread = _pinging_peer(peer, 0.2, restarts_at_pong, 2)
        try:
            gaps = held_pong_gaps(_case("SHOULD"), s, pong_hold(ping_timeout_ms / 1000))
        finally:
            peer_thread.join(3.0)
            s.close()
            peer.close()
        if not isinstance(gaps, float):
            break
    assert not isinstance(gaps, float), f"each pong written too late: {gaps} s after its ping"
    assert len(gaps) == 1
    after_pong, held_past_the_period = gaps[0][0], pong_hold(ping_timeout_ms / 1000) > 0.2
    assert early_pings(gaps, 0.2) == ([] if restarts_at_pong else [after_pong]), gaps
    assert (after_pong < 0) == (held_past_the_period and not restarts_at_pong), gaps
