"""Group H: the WebSocket layer (RFC 6455), observed through Engine.IO on the Socket.IO endpoint.

Every message sent here is a Socket.IO `message` event, which the fixture echoes as `message-back`, so a
message cut into fragments is seen to arrive whole, and a broken frame is seen to end the connection.
Case names carry the Autobahn|Testsuite case numbers they port. Each case runs on a fresh connection.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

import pytest

from harness import wire
from harness.eio import SessionEnded, WebSocketSession, query
from harness.sio import SioClient
from harness.targets import Target, handshake_eio
from harness.verify import heartbeat_end, heartbeat_timed
from harness.ws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WsClient, accept_key, encode_frame
from wirekit import handshake_works, raw_exchange

PROTOCOL_ERROR, INVALID_PAYLOAD, TOO_BIG = 1002, 1007, 1009


def connect(opener) -> tuple[SioClient, WsClient]:
    """A Socket.IO client joined to `/` over WebSocket, and its raw WebSocket."""
    c = opener.sio("websocket")
    assert c.eio.ws is not None
    return c, c.eio.ws


def event_frame(text: str) -> bytes:
    """The Engine.IO message carrying Socket.IO `42["message",<text>]`, as UTF-8 bytes."""
    return ("42" + json.dumps(["message", text], separators=(",", ":"), ensure_ascii=False)).encode("utf-8")


def binary_form(c: SioClient, data: bytes) -> bytes:
    """A binary message as the session's Engine.IO version frames it: v3 servers (whose open packet has no
    maxPayload) put the packet type byte 4 first (EIO-PKT-18), v4 sends the bytes alone."""
    return data if "maxPayload" in c.eio.open else b"\x04" + data


def echoed_binary(case, c: SioClient, data: bytes, what: str) -> None:
    try:
        p = c.expect_event("message-back")
    except (SessionEnded, TimeoutError) as exc:
        case.must(False, what, "message-back with the bytes", f"{type(exc).__name__}: {exc}")
        return
    got = [a[1:] if "maxPayload" not in c.eio.open and a[:1] == b"\x04" else a for a in p.attachments]
    case.must(got == [data], what, f"{len(data)} bytes echoed", [len(a) for a in got])


def send_fragments(ws: WsClient, opcode: int, pieces: list[bytes], between: bytes | None = None) -> None:
    """One message as len(pieces) frames; `between` is a control frame written after each non-final one."""
    frames = b""
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        frames += encode_frame(opcode if i == 0 else OP_CONT, piece, fin=last)
        if between is not None and not last:
            frames += between
    ws.send_bytes(frames)


def echoed(case, c: SioClient, sent: str, what: str) -> None:
    """The fixture's `message-back` must carry exactly the text that was sent."""
    try:
        p = c.expect_event("message-back")
    except (SessionEnded, TimeoutError) as exc:
        case.must(False, what, f'42["message-back",{json.dumps(sent)[:80]}…]', f"{type(exc).__name__}: {exc}")
        return
    case.must(p.args == [sent], what, [sent[:80]], [str(a)[:80] for a in p.args])


def closes(case, c: SioClient, target: Target, what: str, code: int) -> None:
    """The server must end the connection (MUST) in reaction to the frame just sent: an end its heartbeat
    explains (verify.heartbeat_end: at the timeout of a ping that came after the frame) is none, however
    soon it falls inside the wait; a close frame with `code` is expected (SHOULD)."""
    assert isinstance(c.eio, WebSocketSession) and c.eio.ws is not None
    ws = c.eio.ws
    started = time.monotonic()
    end = ws.wait_closed(target.prompt)
    waited = time.monotonic() - started
    by_heartbeat = None
    if end is not None:
        c.eio.wait_ended(0.0)  # the session takes the end the raw WebSocket saw, with its arrival time
        by_heartbeat = heartbeat_end(c)
    actual: Any = f"still open after {waited:.2f}s"
    if by_heartbeat is not None:
        actual = {"ended by the heartbeat": by_heartbeat}
    case.must(end is not None and by_heartbeat is None, what, f"close {code}", actual)
    assert end is not None
    if end.kind == "close" and end.code != code:
        case.non_strict(f"{what}: close code", code, wire.close_text(end.code, end.reason))


def still_serving(case, c: SioClient, what: str) -> None:
    """The connection survives: a plain event still gets its echo."""
    c.send_raw('42["message","after"]')
    echoed(case, c, "after", what)


# ---------------------------------------------------------------------------- WS-01 framing (Autobahn 1.x)
LENGTHS = [0, 125, 126, 127, 128, 65535, 65536]


@pytest.mark.parametrize("size", LENGTHS, ids=[f"autobahn-1.1-{n}" for n in LENGTHS])
def test_WS_01_text_payload_lengths(case, opener, size):
    c, ws = connect(opener)
    if size == 0:
        # An empty Engine.IO message is itself a violation (EIO-PKT-03), so the empty frame opens a
        # message that a continuation completes.
        ws.send_bytes(encode_frame(OP_TEXT, b"", fin=False) + encode_frame(OP_CONT, event_frame("")))
        echoed(case, c, "", "an empty text frame")
        return
    text = "x" * (size - len(event_frame("")))  # the frame's payload is exactly `size` bytes
    ws.send_frame(OP_TEXT, event_frame(text))
    form = "7" if size < 126 else "16" if size < 65536 else "64"
    echoed(case, c, text, f"text frame of {size} bytes ({form}-bit length)")


@pytest.mark.parametrize(
    "size", [0, 125, 126, 65535, 65536], ids=[f"autobahn-1.2-{n}" for n in [0, 125, 126, 65535, 65536]]
)
def test_WS_01_binary_payload_lengths(case, opener, size):
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, b'451-["message",{"_placeholder":true,"num":0}]')
    data = bytes(i & 0xFF for i in range(size))
    ws.send_frame(OP_BINARY, binary_form(c, data))
    echoed_binary(case, c, data, f"binary frame of {size} bytes")


def test_WS_01_frame_written_byte_by_byte(case, opener):
    """Autobahn 1.1.7/1.1.8 chop frames into small writes; here every byte is its own write."""
    c, ws = connect(opener)
    frame = encode_frame(OP_TEXT, event_frame("chopped"))
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(frame)):
        ws.send_bytes(frame[i : i + 1])
    echoed(case, c, "chopped", "a frame arriving one byte per write")


# ---------------------------------------------------------------------------- WS-02 ping/pong (Autobahn 2.x)
def next_pong(ws: WsClient, timeout: float) -> bytes | str:
    """Payload of the next pong frame, or a description of what came instead."""
    start = time.monotonic()
    deadline = start + timeout
    for _ in range(1000):
        try:
            frame = ws.recv_frame(deadline - time.monotonic())
        except TimeoutError:
            return f"no pong within {timeout:.2f}s"
        if frame is None:
            return f"no pong: the connection ended {time.monotonic() - start:.3f} s later ({ws.end_reason})"
        if frame.opcode == OP_PONG:
            return frame.payload
        if frame.opcode == OP_CLOSE:
            return f"close frame {frame.payload[:2].hex()}"
    return "no pong"


def next_pongs(ws: WsClient, count: int, timeout: float) -> list[bytes | str]:
    """The next `count` pongs of pings sent together: they are all due within `timeout` of the sending,
    so they share one deadline (waited out once, not once per missing pong)."""
    deadline = time.monotonic() + timeout
    got: list[bytes | str] = []
    for _ in range(count):
        pong = next_pong(ws, max(0.0, deadline - time.monotonic()))
        got.append(
            pong if isinstance(pong, bytes) or not pong.startswith("no pong") else f"no pong within {timeout:.2f}s"
        )
    return got


PING_PAYLOADS = [
    ("2.1-empty", b""),
    ("2.2-text", b"Hello, world!"),
    ("2.3-binary", bytes([0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF])),
    ("2.4-125-bytes", bytes(range(125))),
]


@pytest.mark.parametrize("label,payload", PING_PAYLOADS, ids=[p[0] for p in PING_PAYLOADS])
def test_WS_02_ping_answered_with_same_payload(case, opener, target, label, payload):
    c, ws = connect(opener)
    ws.send_frame(OP_PING, payload)
    got = next_pong(ws, target.reply)
    case.must(got == payload, "pong carries the ping's payload", payload, got)


def test_WS_02_unsolicited_pong_ignored(case, opener):
    """Autobahn 2.7/2.8: pongs nobody asked for, empty and with payload."""
    c, ws = connect(opener)
    ws.send_frame(OP_PONG, b"")
    ws.send_frame(OP_PONG, b"unsolicited")
    still_serving(case, c, "unsolicited pongs are ignored")


def test_WS_02_ping_burst(case, opener, target):
    """Autobahn 2.10/2.11: ten pings in a row (one write, then one write each) are all answered, in order."""
    c, ws = connect(opener)
    payloads = [f"ping-{i}".encode() for i in range(10)]
    ws.send_bytes(b"".join(encode_frame(OP_PING, p) for p in payloads))
    got = next_pongs(ws, len(payloads), target.reply)
    case.must(got == payloads, "every ping answered, in order", payloads, got)


def test_WS_02_ping_before_data_answered_first(case, opener, target):
    """A pong is due before later messages are dealt with; pong and echo both arrive."""
    c, ws = connect(opener)
    ws.send_bytes(encode_frame(OP_PING, b"first") + encode_frame(OP_TEXT, event_frame("second")))
    got = next_pong(ws, target.reply)
    case.must(got == b"first", "the ping is answered", b"first", got)
    echoed(case, c, "second", "the message after the ping is processed")


# ---------------------------------------------------------------------------- WS-03 control frames (2.5, 5.1, 5.2)
CONTROL_VIOLATIONS = [
    ("2.5-ping-126-bytes", dict(opcode=OP_PING, payload=b"x" * 126)),
    ("5.1-fragmented-ping", dict(opcode=OP_PING, payload=b"x", fin=False)),
    ("5.2-fragmented-pong", dict(opcode=OP_PONG, payload=b"x", fin=False)),
]


@pytest.mark.parametrize("label,frame", CONTROL_VIOLATIONS, ids=[v[0] for v in CONTROL_VIOLATIONS])
def test_WS_03_bad_control_frame(case, opener, target, label, frame):
    c, ws = connect(opener)
    ws.send_frame(**frame)
    closes(case, c, target, f"{label}: the connection is failed", PROTOCOL_ERROR)


# ---------------------------------------------------------------------------- WS-04 reserved bits (3.x)
RSV_CASES = [
    ("3.1-rsv2-text", OP_TEXT, 2),
    ("3.2-rsv3-text", OP_TEXT, 1),
    ("3.3-rsv1-rsv2-text", OP_TEXT, 6),
    ("3.4-rsv3-after-valid", OP_TEXT, 1),
    ("3.5-rsv1-rsv3-binary", OP_BINARY, 5),
    ("3.6-rsv2-rsv3-ping", OP_PING, 3),
    ("3.7-all-rsv-close", OP_CLOSE, 7),
    ("rsv1-without-extension", OP_TEXT, 4),
]


@pytest.mark.parametrize("label,opcode,rsv", RSV_CASES, ids=[r[0] for r in RSV_CASES])
def test_WS_04_reserved_bits(case, opener, target, label, opcode, rsv):
    c, ws = connect(opener)
    payload = struct.pack("!H", 1000) if opcode == OP_CLOSE else event_frame("rsv") if opcode != OP_PING else b"p"
    if label.startswith("3.4"):
        ws.send_frame(OP_TEXT, event_frame("valid first"))
        echoed(case, c, "valid first", "the valid message before the bad frame is processed")
    ws.send_frame(opcode, payload, rsv=rsv)
    closes(case, c, target, f"{label}: a frame with reserved bits set fails the connection", PROTOCOL_ERROR)


def test_WS_04_reserved_bits_in_upgrade_segment(case, target):
    """The bad frame travels in the same TCP segment as the upgrade request, before the server has
    answered it (engine.io's CVE-2022-21676, GHSA-273r-mgr4-v34f: the frame error was raised while no
    handler listened, killing the process). Bytes `test` read as a frame header have RSV2 and RSV3 set."""
    request = (
        f"GET {query(target.sio_path, 'websocket')} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: DXR4dX615eRds8nRmlhqtw==\r\n\r\n"
    ).encode("ascii")
    seen = raw_exchange(target, request + b"test")
    case.must(
        b"101" in seen[:16] or seen[:12].startswith(b"HTTP/1.1 4"),
        "the upgrade is answered (101 or 4xx)",
        "HTTP/1.1 101 …",
        seen[:60],
    )
    serving = handshake_works(target)
    case.must(serving is None, "the server still serves new clients afterwards", "handshake answered", serving)


# ---------------------------------------------------------------------------- WS-05 reserved opcodes (4.x)
OPCODES = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]


@pytest.mark.parametrize("opcode", OPCODES, ids=[f"opcode-{o}" for o in OPCODES])
def test_WS_05_reserved_opcode(case, opener, target, opcode):
    c, ws = connect(opener)
    ws.send_frame(opcode, b"" if opcode >= 8 else b"reserved")
    closes(case, c, target, f"a frame with reserved opcode {opcode} fails the connection", PROTOCOL_ERROR)


# ---------------------------------------------------------------------------- WS-06 fragmentation (5.x, 10.1.1)
def pong_payload_as_anywhere(case, ws: WsClient, target: Target, payload_kept: bool) -> None:
    """When a pong between fragments did not carry its ping's payload, a ping outside any message (sent
    once the fragmented one is complete) tells whose defect it is: a pong that loses the payload there
    too is WS-02's (a precondition of the fragmentation case); a pong wrong between fragments alone is
    the fragmentation case's own."""
    if payload_kept:
        return
    ws.send_frame(OP_PING, b"control")
    control = next_pong(ws, target.reply)
    case.precondition(
        control == b"control",
        "a pong carries its ping's payload (a ping outside any message)",
        b"control",
        control,
        caused_by="WS-02",
    )


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def test_WS_06_text_in_two_fragments(case, opener):
    """Autobahn 5.3-5.5: `4hello`-style split inside the Socket.IO packet."""
    c, ws = connect(opener)
    data = event_frame("hello")
    send_fragments(ws, OP_TEXT, [data[:5], data[5:]])
    echoed(case, c, "hello", "two text fragments arrive as one message")


def test_WS_06_ping_between_fragments(case, opener, target):
    """Autobahn 5.6-5.8: a ping between fragments is answered at once, and the message still arrives whole."""
    c, ws = connect(opener)
    data = event_frame("fragmented")
    ws.send_bytes(encode_frame(OP_TEXT, data[:6], fin=False) + encode_frame(OP_PING, b"mid"))
    got = next_pong(ws, target.reply)
    case.must(isinstance(got, bytes), "a ping between fragments is answered before the message ends", "a pong", got)
    ws.send_frame(OP_CONT, data[6:])
    echoed(case, c, "fragmented", "the fragmented message arrives whole after the ping")
    pong_payload_as_anywhere(case, ws, target, got == b"mid")
    case.must(got == b"mid", "the pong between fragments carries the ping's payload", b"mid", got)


def test_WS_06_many_fragments_with_pings(case, opener, target):
    """Autobahn 5.19/5.20: five fragments with a ping after each but the last; every pong, then the message."""
    c, ws = connect(opener)
    data = event_frame("five fragments")
    pieces = split(data, -(-len(data) // 5))
    send_fragments(ws, OP_TEXT, pieces, between=encode_frame(OP_PING, b"p"))
    got = next_pongs(ws, len(pieces) - 1, target.reply)
    case.must(
        all(isinstance(g, bytes) for g in got),
        "every ping between fragments answered",
        ["a pong"] * (len(pieces) - 1),
        got,
    )
    echoed(case, c, "five fragments", "five fragments arrive as one message")
    pong_payload_as_anywhere(case, ws, target, got == [b"p"] * (len(pieces) - 1))
    case.must(
        got == [b"p"] * (len(pieces) - 1), "each pong carries its ping's payload", [b"p"] * (len(pieces) - 1), got
    )


def test_WS_06_empty_fragments(case, opener):
    c, ws = connect(opener)
    data = event_frame("empty around")
    send_fragments(ws, OP_TEXT, [b"", data[:4], b"", data[4:], b""])
    echoed(case, c, "empty around", "empty fragments anywhere in the message")


def test_WS_06_binary_fragments(case, opener):
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, b'451-["message",{"_placeholder":true,"num":0}]')
    data = bytes(range(256)) * 4
    send_fragments(ws, OP_BINARY, split(binary_form(c, data), 100))
    echoed_binary(case, c, data, "binary fragments arrive as one attachment")


def test_WS_06_autofragmented_64k(case, opener):
    """Autobahn 10.1.1: a 65,536-byte text message in fragments of 1,300 bytes."""
    c, ws = connect(opener)
    frame = event_frame("")
    text = "y" * (65536 - len(frame))
    send_fragments(ws, OP_TEXT, split(event_frame(text), 1300))
    echoed(case, c, text, "65,536 bytes in 1,300-byte fragments")


# ---------------------------------------------------------------------------- WS-07 bad fragmentation (5.9-5.18)
def first_half() -> bytes:
    return event_frame("unfinished")[:6]


FRAGMENT_VIOLATIONS = [
    ("5.9-continuation-fin-without-start", [encode_frame(OP_CONT, b"x")]),
    ("5.12-continuation-without-start", [encode_frame(OP_CONT, b"x", fin=False)]),
    (
        "5.15-continuation-after-finished",
        [
            encode_frame(OP_TEXT, first_half(), fin=False),
            encode_frame(OP_CONT, event_frame("unfinished")[6:]),
            encode_frame(OP_CONT, b"x"),
        ],
    ),
    ("5.18-text-while-text-unfinished", [encode_frame(OP_TEXT, first_half(), fin=False), encode_frame(OP_TEXT, b"x")]),
    ("binary-while-text-unfinished", [encode_frame(OP_TEXT, first_half(), fin=False), encode_frame(OP_BINARY, b"x")]),
]


@pytest.mark.parametrize("label,frames", FRAGMENT_VIOLATIONS, ids=[v[0] for v in FRAGMENT_VIOLATIONS])
def test_WS_07_bad_fragmentation(case, opener, target, label, frames):
    c, ws = connect(opener)
    if label.startswith("5.15"):
        ws.send_bytes(frames[0] + frames[1])
        echoed(case, c, "unfinished", "the valid fragmented message before the stray continuation")
        frames = frames[2:]
    ws.send_bytes(b"".join(frames))
    closes(case, c, target, f"{label}: the connection is failed", PROTOCOL_ERROR)


# ---------------------------------------------------------------------------- WS-08 UTF-8 (6.x)
VALID_TEXT = [
    ("6.2-multibyte", "κόσμε ✓ 𝄞"),
    ("6.5-max-code-points", "\u007f\u07ff\uffff\U0010ffff"),
    ("6.6-edge-surrogate-neighbours", "\ud7ff\ue000\ufffd"),
]


@pytest.mark.parametrize("label,text", VALID_TEXT, ids=[v[0] for v in VALID_TEXT])
def test_WS_08_valid_utf8(case, opener, label, text):
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, event_frame(text))
    echoed(case, c, text, f"{label}: valid UTF-8 is delivered")


def test_WS_08_valid_utf8_split_inside_code_point(case, opener):
    """Autobahn 6.2.3/6.2.4: fragment boundaries fall inside multi-byte sequences."""
    c, ws = connect(opener)
    text = "𝄞κόσμε𝄞"
    data = event_frame(text)
    cut = data.index("𝄞".encode()) + 2  # in the middle of the four-byte G clef
    send_fragments(ws, OP_TEXT, [data[:cut], data[cut : cut + 3], data[cut + 3 :]])
    echoed(case, c, text, "UTF-8 split inside code points across fragments")


INVALID_UTF8 = [
    ("6.3-invalid-continuation", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
    ("6.8-past-U+10FFFF", b"\xf4\x90\x80\x80"),
    ("6.9-overlong-slash", b"\xc0\xaf"),
    ("6.10-overlong-max", b"\xe0\x9f\xbf"),
    ("6.11-surrogate", b"\xed\xa0\x80"),
    ("6.12-lone-continuation", b"\x80"),
    ("6.14-truncated-at-end", b"\xe2\x82"),
    ("6.17-invalid-byte-fe", b"\xfe"),
]


@pytest.mark.parametrize("label,bad", INVALID_UTF8, ids=[v[0] for v in INVALID_UTF8])
def test_WS_08_invalid_utf8(case, opener, target, label, bad):
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, b'42["message","' + bad + b'"]')
    closes(case, c, target, f"{label}: invalid UTF-8 fails the connection", INVALID_PAYLOAD)


def test_WS_08_invalid_utf8_across_fragments(case, opener, target):
    """Autobahn 6.4.x: the invalid sequence only appears once fragments are joined."""
    c, ws = connect(opener)
    send_fragments(ws, OP_TEXT, [b'42["message","\xf4', b'\x90\x80\x80"]'])
    closes(case, c, target, "a code point past U+10FFFF split over two fragments", INVALID_PAYLOAD)


# ---------------------------------------------------------------------------- WS-09 close handling (7.x)
GOOD_CLOSES = [
    ("7.1.1-empty", b""),
    ("7.3.3-code-only", struct.pack("!H", 1000)),
    ("7.3.4-code-and-reason", struct.pack("!H", 1000) + "bye ✓".encode()),
    ("7.7.x-code-3000", struct.pack("!H", 3000)),
    ("7.7.x-code-4999", struct.pack("!H", 4999)),
]


@pytest.mark.parametrize("label,payload", GOOD_CLOSES, ids=[v[0] for v in GOOD_CLOSES])
def test_WS_09_close_answered(case, opener, target, label, payload):
    c, ws = connect(opener)
    ws.close_sent = True  # the reader must not echo the server's answer back: this case inspects it
    ws.send_frame(OP_CLOSE, payload)
    end = ws.wait_closed(target.reply)
    case.must(end is not None, f"{label}: the connection ends", "close frame", "still open")
    assert end is not None
    if end.kind != "close":
        case.non_strict(f"{label}: a close frame answers the client's close", "close frame", "TCP closed without one")


def test_WS_09_data_after_close_ignored(case, opener, target):
    """Autobahn 7.1.5/7.1.6: a message after the client's close frame is not processed."""
    c, ws = connect(opener)
    ws.close_sent = True
    ws.send_bytes(encode_frame(OP_CLOSE, struct.pack("!H", 1000)) + encode_frame(OP_TEXT, event_frame("late")))
    seen = []
    deadline = time.monotonic() + target.reply
    for _ in range(100):
        try:
            msg = ws.recv(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            seen.append("still open")
            break
        seen.append(repr(msg))
        if msg.ended:
            break
    case.must(
        not any("message-back" in s for s in seen), "nothing is processed after the close frame", "close, no echo", seen
    )
    case.must(bool(seen) and seen[-1] != "still open", "the connection ends", "close", seen)


BAD_CLOSES = [
    ("7.3.2-one-byte", b"\x03", PROTOCOL_ERROR),
    ("7.9.1-code-0", struct.pack("!H", 0), PROTOCOL_ERROR),
    ("7.9.2-code-999", struct.pack("!H", 999), PROTOCOL_ERROR),
    ("7.9.3-code-1004", struct.pack("!H", 1004), PROTOCOL_ERROR),
    ("7.9.4-code-1005", struct.pack("!H", 1005), PROTOCOL_ERROR),
    ("7.9.5-code-1006", struct.pack("!H", 1006), PROTOCOL_ERROR),
    ("7.9.6-code-1016", struct.pack("!H", 1016), PROTOCOL_ERROR),
    ("7.9.7-code-1100", struct.pack("!H", 1100), PROTOCOL_ERROR),
    ("7.9.8-code-2000", struct.pack("!H", 2000), PROTOCOL_ERROR),
    ("7.9.9-code-2999", struct.pack("!H", 2999), PROTOCOL_ERROR),
    ("7.9.x-code-1015", struct.pack("!H", 1015), PROTOCOL_ERROR),
    (
        "7.5.1-reason-not-utf8",
        struct.pack("!H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
        INVALID_PAYLOAD,
    ),
]


@pytest.mark.parametrize("label,payload,code", BAD_CLOSES, ids=[v[0] for v in BAD_CLOSES])
def test_WS_09_invalid_close_payload(case, opener, target, label, payload, code):
    c, ws = connect(opener)
    ws.close_sent = True
    ws.send_frame(OP_CLOSE, payload)
    end = ws.wait_closed(target.reply)
    case.must(end is not None, f"{label}: the connection ends", f"close {code}", "still open")
    assert end is not None
    if end.kind == "close" and end.code != code:
        case.non_strict(f"{label}: close code", code, wire.close_text(end.code, end.reason))


# ---------------------------------------------------------------------------- WS-10 limits (9.x scaled)
def scaled_sizes(target: Target) -> list[int]:
    """Autobahn 9.1/9.2 use 64 KiB to 16 MiB; here the same steps end at the target's maxPayload."""
    top = target.max_payload
    return sorted({min(top, n) for n in (65536, 262144, top)})


@pytest.mark.parametrize(
    "chunk",
    [None, 65536, 4096, 256, 64],
    ids=["9.1-one-frame", "9.4-64k-frames", "9.4-4k-frames", "9.4-256-frames", "9.4-64-frames"],
)
def test_WS_10_large_message_up_to_max_payload(case, opener, target, chunk):
    c, ws = connect(opener)
    sizes = scaled_sizes(target) if chunk is None else [min(target.max_payload, 262144)]
    for size in sizes:
        text = "z" * (size - len(event_frame("")))
        data = event_frame(text)
        if chunk is None:
            ws.send_frame(OP_TEXT, data)
        else:
            send_fragments(ws, OP_TEXT, split(data, chunk))
        echoed(case, c, text, f"a {size}-byte message in {'one frame' if chunk is None else f'{chunk}-byte frames'}")


def test_WS_10_binary_at_max_payload(case, opener, target):
    """Autobahn 9.2.x: the largest binary message the target allows, after its header packet."""
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, b'451-["message",{"_placeholder":true,"num":0}]')
    data = bytes(i & 0xFF for i in range(target.max_payload - (0 if "maxPayload" in c.eio.open else 1)))
    ws.send_frame(OP_BINARY, binary_form(c, data))
    echoed_binary(case, c, data, "a binary message of exactly maxPayload is delivered")


def test_WS_10_declared_length_over_limit(case, opener, target):
    """A frame header announcing maxPayload + 1 bytes, and the body never sent: the server must close at
    once (within the prompt-reaction window), without waiting for the body.

    Once the header is out the suite cannot answer a ping: any byte it wrote would be read as the
    announced body. A server that ignores the header therefore still ends the connection, by ping
    timeout, pingTimeout after the first ping it sends, and whether that lands inside the window depends
    on where its ping cycle stood. Such a close is not a reaction to the header: told apart by its bytes
    (no close 1009 or 1002) and its timing (pingTimeout or more after a ping the suite could not answer),
    it is judged as no reaction at all, and the Actual says so, with the ping and the close seen."""
    c, ws = connect(opener)
    assert isinstance(c.eio, WebSocketSession)
    c.eio.auto_pong = False  # a pong written now would be taken for the announced body; pings are watched
    what = "a frame header announcing more than maxPayload closes at once"
    seen: list[str] = []
    if not target.client_pings:
        # The header goes out right after a ping has been answered, so that the next ping, the first the
        # suite cannot answer, comes a whole pingInterval later (socketioxide pings at once on open, and
        # a ping left unanswered before the header would make the heartbeat's end look like a reaction).
        for _ in range(100):
            try:
                msg = ws.recv(target.reply)
            except TimeoutError:
                break
            if msg.kind == "text" and msg.text == "2":
                ws.send_text("3")
                break
            seen.append(f"before the header: {msg!r}")
            if msg.ended:
                break
    sent = time.monotonic()
    ws.send_frame(OP_TEXT, b"4", declared_length=target.max_payload + 1)  # header only: the body never comes
    end = None
    for _ in range(1000):
        try:
            msg = ws.recv(sent + target.prompt - time.monotonic())
        except TimeoutError:
            break
        seen.append(f"{ws.arrival - sent:.3f} s: {msg!r}")  # when it reached the machine
        if msg.ended:
            end = (msg, (ws.end_arrival or time.monotonic()) - sent)
            break
    waited = time.monotonic() - sent
    case.must(end is not None, what, f"close {TOO_BIG}", f"still open after {waited:.2f}s; received {seen}")
    assert end is not None
    msg, at = end
    # The pings are timed when they reached the machine: a server that writes its ping late (socketioxide
    # writes it with the fixture's `auth`) has started its clock before, and the suite may read it later.
    timed = heartbeat_timed(c.eio.pings, sent, sent + at, target.ping_timeout)
    if timed is not None and not (msg.kind == "close" and msg.code in (TOO_BIG, PROTOCOL_ERROR)):
        ping_at = timed.arrived - sent
        case.must(
            False,
            what,
            f"close {TOO_BIG}",
            f"no reaction to the header: ping `2` at {ping_at:.3f} s went unanswered (the announced body was "
            f"due), and the connection ended {at - ping_at:.3f} s later, by the heartbeat's ping timeout; "
            f"received {seen}",
        )
    case.record(f"close {TOO_BIG}", f"ended {at:.3f} s after the header; received {seen}")
    if msg.kind == "close" and msg.code != TOO_BIG:
        seen_text = f"{wire.close_text(msg.code, msg.reason)} {at:.3f} s after the header; received {seen}"
        case.non_strict(f"{what}: close code", TOO_BIG, seen_text)


# ---------------------------------------------------------------------------- WS-11 masking
def test_WS_11_unmasked_client_frame(case, opener, target):
    c, ws = connect(opener)
    ws.send_frame(OP_TEXT, event_frame("unmasked"), mask=False)
    closes(case, c, target, "an unmasked client frame fails the connection", PROTOCOL_ERROR)


# ---------------------------------------------------------------------------- WS-12 the opening handshake
def test_WS_12_two_key_lines_refused(case, target):
    """RFC 6455 section 11.3.1: Sec-WebSocket-Key must not appear more than once in a request; section
    4.2.1: a server that reads a handshake other than the one described there answers an HTTP error (such
    as 400) instead of 101. A 101 would carry the accept of one of the two keys, and which one the server
    read is anyone's guess: the Actual names it."""
    keys = ["dGhlIHNhbXBsZSBub25jZQ==", "DXR4dX615eRds8nRmlhqtw=="]
    request = (
        f"GET {query(target.sio_path, 'websocket', eio=handshake_eio(target))} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{target.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\n" + "".join(f"Sec-WebSocket-Key: {key}\r\n" for key in keys) + "\r\n"
    ).encode("ascii")
    seen = raw_exchange(target, request, until=b"\r\n\r\n")
    head = seen.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    status = head[0]
    accept = next(
        (line.split(":", 1)[1].strip() for line in head if line.lower().startswith("sec-websocket-accept:")), None
    )
    answered = {accept_key(key): f"the accept of key {i + 1} ({key})" for i, key in enumerate(keys)}
    actual = {"status": status or f"no response ({len(seen)} bytes)", "accept": answered.get(accept or "", accept)}
    case.must(status.startswith(("HTTP/1.1 4", "HTTP/1.0 4")),
              "a WebSocket handshake with two Sec-WebSocket-Key lines is refused", "HTTP/1.1 400 …", actual)  # fmt: skip
