"""Group A: Engine.IO packet and payload encoding (EIO-PKT), mostly on the echo endpoint."""

from __future__ import annotations

import pytest

from harness import http as rawhttp
from harness import targets
from harness.eio import PollingSession, WebSocketSession
from harness.verify import expect_closed
from harness.ws import OP_TEXT, WsClient
from wirekit import get, v3_sid

SIO = "/socket.io/"


def _echo_poll(case, opener, target, extra: str = "") -> PollingSession:
    targets.need(case, target, "echo")
    return opener.adopt(PollingSession.handshake(target, target.eio_path, extra))


def _echo_ws(case, opener, target, extra: str = "") -> WebSocketSession:
    targets.need(case, target, "echo")
    return opener.adopt(WebSocketSession.connect(target, target.eio_path, extra=extra))


# Cases that judge only the Engine.IO layer run on the echo endpoint when the fixture has one, and
# otherwise on the Socket.IO endpoint, with a Socket.IO CONNECT to `/` as the message whose answer
# (`40{…}`) shows that the packet was delivered.
def _eio_path(target) -> str:
    return target.eio_path if target.has("echo") else SIO


def _any_poll(opener, target) -> PollingSession:
    return opener.adopt(PollingSession.handshake(target, _eio_path(target)))


def _any_ws(opener, target) -> WebSocketSession:
    return opener.adopt(WebSocketSession.connect(target, _eio_path(target)))


def _delivered(target) -> tuple[str, str]:
    """A message to send, and the start of the answer that proves it was delivered."""
    return ("4ok", "4ok") if target.has("echo") else ("40", "40{")


def _echo_body(s: PollingSession) -> tuple[rawhttp.HttpResponse, list[bytes]]:
    """The next polling response that carries more than pings (pings are answered, as a client does),
    and its records as sent, pings left out."""
    resp, records = s.get(), []
    for _ in range(3):
        records = [r for r in resp.body.split(b"\x1e") if r != b"2"] if resp.status == 200 else []
        if b"2" in resp.body.split(b"\x1e"):
            s.post("3")
        if records or resp.status != 200:
            break
        resp = s.get()
    return resp, records


def _echo_records(s: PollingSession, count: int) -> tuple[list[rawhttp.HttpResponse], list[bytes]]:
    """The first `count` records echoed, whichever GETs they come in (pings answered and left out):
    for cases that judge the records themselves, not how the server batches them (EIO-PKT-07's)."""
    responses: list[rawhttp.HttpResponse] = []
    records: list[bytes] = []
    for _ in range(count + 1):
        resp, got = _echo_body(s)
        responses.append(resp)
        records += got
        if len(records) >= count or resp.status != 200:
            break
    return responses, records


def _ended(s: PollingSession) -> tuple[bool, list[str]]:
    """Whether the session is over: a GET is refused (pings answered; a body without the refusal is
    looked past once)."""
    seen = []
    for _ in range(2):
        resp, _ = _echo_body(s)
        seen.append(resp.summary())
        if resp.status == 400:
            return True, seen
    return False, seen


def test_EIO_PKT_01_packet_types(case, opener, target):
    s = _any_ws(opener, target)
    message, answer = _delivered(target)
    s.send("6", "3", "5", message)
    pkt = s.recv()
    case.must(
        isinstance(pkt, str) and pkt.startswith(answer),
        "noop, pong and upgrade dropped; the message delivered",
        answer,
        pkt,
    )


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_PKT_02_unknown_type(case, opener, target, transport):
    if transport == "websocket":
        ws = _any_ws(opener, target)
        ws.send("abc")
        expect_closed(case, ws, "text `abc` closes the WebSocket", target.prompt, must=True)
    else:
        poll = _any_poll(opener, target)
        post = poll.post("abc")
        ended, seen = _ended(poll)
        case.must(ended, "POST `abc`, then the sid is refused", "HTTP 400", [post.summary(), *seen])


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_PKT_03_empty_packet(case, opener, target, transport):
    if transport == "websocket":
        ws = _any_ws(opener, target)
        ws.send("")
        expect_closed(case, ws, "an empty text frame closes the session", target.prompt)
    else:
        poll = _any_poll(opener, target)
        post = poll.post(("4x" if target.has("echo") else "6") + "\x1e")  # a packet, then an empty record
        ended, seen = _ended(poll)
        case.check(ended, "a trailing empty record ends the session", "HTTP 400", [post.summary(), *seen])


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_PKT_04_message_without_data(case, opener, target, transport):
    if transport == "websocket":
        ws = _echo_ws(case, opener, target)
        ws.send("4")
        pkt = ws.recv()
    else:
        poll = _echo_poll(case, opener, target)
        poll.post("4")
        pkt = b"\x1e".join(_echo_body(poll)[1]).decode("utf-8", "replace")
    case.must_eq("`4` echoed as an empty message", "4", pkt)


def test_EIO_PKT_05_websocket_binary(case, opener, target):
    s = _echo_ws(case, opener, target)
    s.send(b"\x01\x02\x03\x04")
    case.must_eq("binary frame echoed byte for byte, no type prefix", b"\x01\x02\x03\x04", s.recv())


def test_EIO_PKT_06_polling_binary_base64(case, opener, target):
    s = _echo_poll(case, opener, target)
    s.post("4hello\x1ebAQIDBA==")
    _, records = _echo_records(s, 2)
    case.must_eq("text and base64 binary echoed (pings left out)", [b"4hello", b"bAQIDBA=="], records)


def test_EIO_PKT_07_payload_batching(case, opener, target):
    s = _echo_poll(case, opener, target)
    s.post("4test1\x1e4test2\x1e4test3")
    resp, records = _echo_body(s)
    case.must_eq(
        "all buffered packets in one body, 0x1E-separated (pings left out)", [b"4test1", b"4test2", b"4test3"], records
    )


def test_EIO_PKT_08_lenient_base64(case, opener, target):
    s = _echo_poll(case, opener, target)
    post = s.post("b!!AQ==")
    resp = s.get()
    case.informational("`b!!AQ==` (invalid base64 characters)", (post.summary(), resp.summary()))


def test_EIO_PKT_09_b_prefixed_text_frame(case, opener, target):
    s = _echo_ws(case, opener, target)
    s.send("bAQID")
    try:
        pkt = s.recv(target.reply)
    except Exception as exc:  # recorded, not judged
        pkt = f"{type(exc).__name__}: {exc}"
    case.informational("text frame `bAQID` on WebSocket", pkt)


def test_EIO_PKT_10_b64_on_websocket(case, opener, target):
    s = _echo_ws(case, opener, target, extra="&b64=1")
    s.send(b"\x01\x02\x03")
    pkt = s.recv()
    if pkt == b"\x01\x02\x03":
        case.unimplemented("b64=1 not honoured on WebSocket (binary echoed as binary)")
    case.check(pkt == "bAQID", "binary sent as base64 text when b64 is set", "bAQID", pkt)


def test_EIO_PKT_11_separator_inside_websocket_frame(case, opener, target):
    s = _echo_ws(case, opener, target)
    s.send("4a\x1e4b")
    case.must_eq("one frame is one packet, 0x1E included", "4a\x1e4b", s.recv())


def test_EIO_PKT_12_utf8_round_trip(case, opener, target):
    s = _echo_poll(case, opener, target)
    body = "4€é\x1e4😀".encode()
    s.post(body)
    responses, records = _echo_records(s, 2)
    case.must_eq("UTF-8 text echoed byte for byte (pings left out)", body.split(b"\x1e"), records)
    # A body delimited otherwise (chunked, end of stream) has no Content-Length.
    lengths = [(r.header("content-length"), len(r.body)) for r in responses]
    case.must(
        all(length is None or length == str(size) for length, size in lengths),
        "Content-Length, when present, counts bytes",
        [str(size) for _, size in lengths],
        [length for length, _ in lengths],
    )


def test_EIO_PKT_13_polling_headers(case, opener, target):
    s = _any_poll(opener, target)
    post = s.post(_delivered(target)[0])
    resp, _ = _echo_body(s)
    actual = {
        "get": (resp.status, (resp.header("content-type") or "").lower().replace(" ", "")),
        "post": (post.status, post.body, (post.header("content-type") or "").lower().split(";")[0]),
    }
    expected = {"get": (200, "text/plain;charset=utf-8"), "post": (200, b"ok", "text/html")}
    case.must(post.status == 200 and resp.status == 200, "POST and GET answered 200", (200, 200), actual)
    case.check(actual == expected, "reference content types and `ok` body", expected, actual)


def test_EIO_PKT_14_octet_stream_post(case, opener, target):
    s = _any_poll(opener, target)
    post = s.post(_delivered(target)[0].encode(), headers=[("Content-Type", "application/octet-stream")])
    after = s.get()
    case.informational(
        "v4 POST declaring application/octet-stream (Node: 400, session closed)", (post.summary(), after.summary())
    )


def _v3(case, target) -> None:
    if not target.eio3:
        case.not_applicable("EIO3-only behaviour; the target runs without EIO3 support")
    targets.need(case, target, "echo")


def _v3_session(target, extra: str = "") -> str:
    return v3_sid(get(target, f"{target.eio_path}?EIO=3&transport=polling{extra}"))


def _v3_post(target, sid: str, body: bytes, extra: str = ""):
    return rawhttp.request(
        target.host,
        target.port,
        "POST",
        f"{target.eio_path}?EIO=3&transport=polling&sid={sid}{extra}",
        headers=[("Content-Type", "text/plain;charset=UTF-8")],
        body=body,
        timeout=target.reply,
    )


def test_EIO_PKT_15_v3_length_prefixed(case, target):
    _v3(case, target)
    sid = _v3_session(target, "&b64=1")
    _v3_post(target, sid, "6:4hello2:4€".encode(), "&b64=1")
    resp = get(target, f"{target.eio_path}?EIO=3&transport=polling&sid={sid}&b64=1")
    case.must(
        resp.body == "6:4hello2:4€".encode(),
        "v3 records `<len>:<packet>`, length in UTF-16 units",
        "6:4hello2:4€".encode(),
        resp.body,
    )


def test_EIO_PKT_16_v3_base64_keeps_type(case, target):
    _v3(case, target)
    sid = _v3_session(target, "&b64=1")
    _v3_post(target, sid, b"6:4hello10:b4AQIDBA==", "&b64=1")
    resp = get(target, f"{target.eio_path}?EIO=3&transport=polling&sid={sid}&b64=1")
    case.must(resp.body == b"6:4hello10:b4AQIDBA==", "v3 base64 record `b4…`", b"6:4hello10:b4AQIDBA==", resp.body)


def test_EIO_PKT_17_v3_binary_payload(case, target):
    _v3(case, target)
    sid = _v3_session(target)
    _v3_post(target, sid, b"6:4hello10:b4AQIDBA==")
    resp = get(target, f"{target.eio_path}?EIO=3&transport=polling&sid={sid}")
    want = b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04"
    case.check(resp.body == want, "v3 XHR2 binary payload framing", want, resp.body)


def test_EIO_PKT_18_v3_websocket_binary(case, opener, target):
    _v3(case, target)
    ws = opener.adopt(
        WsClient.connect(target.host, target.port, f"{target.eio_path}?EIO=3&transport=websocket", timeout=target.reply)
    )
    ws.recv(target.reply)  # open packet
    ws.send_binary(b"\x04\x01\x02\x03\x04")
    msg = ws.recv(target.reply)
    case.must(
        msg.kind == "binary" and msg.data == b"\x04\x01\x02\x03\x04",
        "v3 binary frame keeps its type byte",
        b"\x04\x01\x02\x03\x04",
        msg,
    )


def test_EIO_PKT_19_v3_bad_length(case, target):
    _v3(case, target)
    sid = _v3_session(target, "&b64=1")
    _v3_post(target, sid, b"5:4hello", "&b64=1")
    resp = get(target, f"{target.eio_path}?EIO=3&transport=polling&sid={sid}&b64=1")
    case.must(resp.status == 400, "payload with a wrong length ends the session", 400, resp.summary())


def test_EIO_PKT_20_jsonp(case, target):
    resp = get(target, f"{SIO}?EIO=4&transport=polling&j=3")
    if resp.status != 200 or resp.body.startswith(b"0{"):
        case.unimplemented(f"JSONP polling not offered ({resp.summary()})")
    case.check(resp.body.startswith(b'___eio[3]("0{'), "JSONP body", b'___eio[3]("0{...', resp.body)


def test_EIO_PKT_21_webtransport(case, target):
    case.not_applicable("WebTransport needs HTTP/3; the harness speaks HTTP/1.1 and WebSocket only")


def test_EIO_PKT_11_fragmented_frame_is_one_packet(case, opener, target):
    s = _echo_ws(case, opener, target)
    assert s.ws is not None
    s.ws.send_frame(OP_TEXT, b"4frag", fin=False)
    s.ws.send_frame(0x9, b"ping-between-fragments")  # control frames may interleave (RFC 6455 5.4)
    s.ws.send_frame(0x0, b"\x1e4ment", fin=False)
    s.ws.send_frame(0x0, b"ed", fin=True)
    pkt = s.recv()
    case.must(
        pkt == "4frag\x1e4mented", "continuation frames form one message, hence one packet", "4frag\x1e4mented", pkt
    )
