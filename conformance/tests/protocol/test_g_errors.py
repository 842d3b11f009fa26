"""Group G: reactions to bad input, summarised (ERR). Each case runs on a fresh connection."""

from __future__ import annotations

import pytest

from harness import targets
from harness.eio import PollingSession, SessionEnded

EIO_VIOLATIONS = [("unknown-type", "abc"), ("empty", ""), ("client-ping", "2"), ("bad-type-digit", "9")]


@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest.mark.parametrize("label,raw", EIO_VIOLATIONS, ids=[v[0] for v in EIO_VIOLATIONS])
def test_ERR_01_engine_io_violation_ends_session(case, opener, target, transport, label, raw):
    if transport == "polling":
        s = opener.adopt(PollingSession.handshake(target, target.sio_path))
        s.post(raw)
        resp = s.get()
        if resp.status == 200 and label == "client-ping" and resp.body == b"1":
            resp = s.get()
        case.must(resp.status == 400, f"{label}: the next request is refused", 400, resp.summary())
    else:
        s = opener.eio("websocket")
        s.send(raw)
        how = s.wait_ended(target.prompt)
        case.must(how is not None, f"{label}: the WebSocket closes", "closed", "open")


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_ERR_02_ignored_engine_io_input(case, opener, target, transport):
    c = opener.sio(transport)
    c.send_raw("0", "5", "6", "3", "3junk", "6junk")
    try:
        before = c.barrier()
    except (SessionEnded, TimeoutError) as exc:
        before = [f"{type(exc).__name__}: {exc}"]
        case.must(False, "stray 0/5/6 and unsolicited pongs leave the session working", "message-back", before)
    case.must(not before, "nothing is sent in reply to ignored packets", [], before)


SIO_VIOLATIONS = [
    ("bad-json", ['42/custom,{}']),
    ("unknown-type", ["4abc"]),
    ("bad-placeholder", ['451-/custom,["message",{"_placeholder":true,"num":3}]', b"\x01"]),
    ("disconnect-with-data", ["41/custom,{}"]),
    ("duplicate-connect", ["40/custom,"]),
    ("client-connect-error", ['44/custom,{"message":"x"}']),
    ("stray-binary", [b"\x09"]),
    ("unjoined-namespace", ['42/nope,["message"]']),
]


@pytest.mark.parametrize("label,raw", SIO_VIOLATIONS, ids=[v[0] for v in SIO_VIOLATIONS])
def test_ERR_03_socket_io_violation_closes_connection(case, opener, target, label, raw):
    c = opener.sio("websocket")
    c.connect("/custom")
    c.send_raw(*raw)
    how = c.eio.wait_ended(target.prompt)
    case.must(how is not None, f"{label}: the whole connection closes, / included", "closed", "open")


IGNORED = [
    ("ack-unknown-id", "43999[]"),
    ("ack-unknown-id-no-data", "4399"),
    ("ack-without-id", "43"),
    ("no-listener", '42["no-such-event",1]'),
    ("numeric-name", "42[7]"),
    ("binary-ack-unknown-id", '461-999[{"_placeholder":true,"num":0}]'),
]


@pytest.mark.parametrize("label,raw", IGNORED, ids=[v[0] for v in IGNORED])
def test_ERR_04_ignored_socket_io_input(case, opener, target, label, raw):
    c = opener.sio("websocket")
    packets: list = [raw] + ([b"\x01"] if raw.startswith("461-") else [])
    c.send_raw(*packets)
    # An ACK with no id at all is malformed rather than unknown; Node ignores it, a SHOULD here.
    judge = case.should if label == "ack-without-id" else case.must
    try:
        before = c.barrier()
    except (SessionEnded, TimeoutError) as exc:
        judge(False, f"{label}: connection keeps working", "message-back", f"{type(exc).__name__}: {exc}")
    judge(not before, f"{label}: ignored without reply", [], before)


def test_ERR_05_application_errors(case, opener, target):
    targets.need(case, target, "app-error")
    c = opener.sio("websocket")
    c.emit("app-error", "x", ack=True)  # the application fails on it; an ack id is there to tempt a reply
    try:
        before = c.barrier()
    except (SessionEnded, TimeoutError) as exc:
        case.check(
            False,
            "the connection keeps working after an application error",
            "message-back",
            f"{type(exc).__name__}: {exc}",
        )
    # A server that joins `/` at the handshake (protocol v4) sends the fixture's `auth` twice; that
    # is no reply to the failed event.
    replies = [p.raw for p in before if p.event != "auth"]
    case.check(not replies, "nothing is sent for the failed event (no ACK, no error packet)", [], replies)


# WebSocket frame violations (unmasked frames, reserved opcodes and bits, stray continuations, bad
# control frames, oversized frame headers) are judged once, in group H (test_h_websocket.py).
