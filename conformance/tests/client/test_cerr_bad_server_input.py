"""CERR: bad server input. The client may close (and reconnect) or ignore, but never crash, hang or
hand half-built data to the application. A fixture crash fails the case at any level (clientside.plugin)."""

from __future__ import annotations

import pytest

from clientkit import delivered, dropped_then_back, reconnected
from clientside import server as scripted
from clientside import wire
from clientside.scenario import WAIT_S, Run
from clientside.server import Session
from harness.verdict import Case


def _ignored_or_reconnected(run: Run, s: Session, case: Case, what: str) -> str:
    """After bad input: `ignored` when a following event is still delivered on the same session,
    `reconnected` when the client closed and came back; anything else fails."""
    line = delivered(run, s, "after", timeout=1.5)
    if line is not None and run.srv.wait_session(run.nth(2), 0.01) is None:
        return "ignored"
    s2 = reconnected(run, 2, 3.0)
    if s2 is not None:
        run.connected(start=1)
        return "reconnected"
    case.must(
        False,
        f"after {what}: the next event delivered, or a reconnection",
        "ignored or reconnected",
        {"lines": run.lines()[-6:], "handshakes": len(run.handshakes())},
    )
    return "neither"


def test_CERR_01_unknown_engineio_packet_type(run: Run, case: Case) -> None:
    run.start()
    s = run.ready()
    s.send("9zz")
    how = _ignored_or_reconnected(run, s, case, "`9zz`")
    case.record("ignored or reconnected", how)


OPEN_BAD = {
    "invalid-json": lambda sid: '0{"sid":"' + sid + '",',
    "no-sid": lambda sid: '0{"upgrades":[],"pingInterval":300,"pingTimeout":200}',
    "string-interval": lambda sid: '0{"sid":"' + sid + '","upgrades":[],"pingInterval":"300","pingTimeout":"x"}',
}


@pytest.mark.parametrize("variant", list(OPEN_BAD))
def test_CERR_02_malformed_open_packet(run: Run, case: Case, variant: str) -> None:
    srv = run.serve()
    first: list[str] = []

    def opener(sid: str) -> str:
        if not first:
            first.append(sid)
            return OPEN_BAD[variant](sid)
        return wire.open_packet(sid, [], 300, 200, 1_000_000 if run.eio == 4 else None)

    srv.open_override = opener
    run.start(transports=["polling"])
    ok = run.maybe_line("connect", 3.0)
    s1_connected = (
        ok is not None
        and run.srv.session(0) is not None
        and any(e.item.sid == first[0] and e.item.packet.type == wire.CONNECT for e in run.srv.sio)
    )
    hs = run.handshakes()
    # An Engine.IO 3 client sends no CONNECT for `/`: the server's `40` joins it (it follows the open packet
    # in the same answer), so a `connect` line before any second handshake is the bad session in use.
    # socket.io-client 2.x reports it, then gives the session up a moment later (a ping timeout of
    # "300" + "x" ms, which its timer takes as 0).
    s1_joined = run.eio == 3 and ok is not None and (len(hs) < 2 or ok.t < hs[1].t)
    err = run.lines("connect_error")
    case.check(
        not s1_connected and not s1_joined and (bool(err) or len(hs) > 1),
        f"open packet {variant}: a connection error (then a retry), never a session in use",
        "connect_error or a new handshake",
        {
            "CONNECT sent on the bad session": s1_connected,
            "connect line on the bad session (Engine.IO 3)": s1_joined,
            "connect_error lines": len(err),
            "handshakes": len(hs),
        },
    )


SIO_BAD = ["47", '42[', "42{}", "42[]", "4abc"]


@pytest.mark.parametrize("packet", SIO_BAD)
def test_CERR_03_malformed_socketio_packet(run: Run, case: Case, packet: str) -> None:
    run.start()
    s = run.ready()
    start = len(run.fx.lines)
    s.send(packet)
    how = _ignored_or_reconnected(run, s, case, repr(packet))
    odd = [
        ln.item
        for ln in run.fx.lines.snapshot()[start:]
        if ln.item.get("ev") == "event" and ln.item.get("name") != "after"
    ]
    case.check(not odd, f"{packet!r} delivered nothing to the application", [], odd)
    case.record("ignored or reconnected; nothing delivered", how)


ATT_BAD: dict[str, list[wire.Packet]] = {
    "num-past-count": ['451-["att",{"_placeholder":true,"num":5}]', b"\x01"],
    "text-while-expecting": ['451-["att",{"_placeholder":true,"num":0}]', '42["att-text"]', b"\x01"],
    "attachment-alone": [b"\x01\x02"],
}


@pytest.mark.parametrize("variant", list(ATT_BAD))
def test_CERR_04_attachment_errors(run: Run, case: Case, variant: str) -> None:
    run.need("binary")
    run.start()
    s = run.ready()
    start = len(run.fx.lines)
    for p in ATT_BAD[variant]:
        s.send(p)
    how = _ignored_or_reconnected(run, s, case, variant)
    # Any event but the probe sent after it comes from the bad input: rust_socketio delivered num-past-count's
    # packet as an event named 'att,{_placeholder:true,num:5}'.
    half = [
        ln.item
        for ln in run.fx.lines.snapshot()[start:]
        if ln.item.get("ev") == "event" and ln.item.get("name") != "after"
    ]
    case.check(not half, f"{variant}: no half-built event delivered", [], half)
    case.record("closed or dropped, nothing half-built", how)


def _limit_payload(variant: str) -> list[wire.Packet]:
    if variant == "11-attachments":
        return wire.sio_encode(wire.EVENT, "/", ["big", *[bytes([i]) for i in range(11)]])
    if variant == "10MB-event":
        return ['42["big","' + "x" * 10_000_000 + '"]']
    if variant == "zero-attachments":
        return ['450-["big",{"plain":1}]']
    return [f'42["big",{i}]' for i in range(10_000)]


def _one_per_get(run: Run, s: Session, packets: list[wire.Packet]) -> None:
    """Sends `packets` one per GET answer: each once the client asked again after the one before. A client
    that hands each received packet to a thread of its own (python-engineio) then meets them in order,
    as this case means: a client's handling of order is judged by CEIO-POLL-02 and CSIO-BIN-04."""
    lines = len(run.fx.lines)

    def gone() -> bool:  # the client ended the session (it refused what came): nothing more to send
        return run.pointless() or s.closed is not None or run.fx.lines.find(_is_disconnect, lines) is not None

    for p in packets:
        mark = len(run.srv.http)
        s.send(p)
        if run.srv.http.wait(lambda h: h.sid == s.sid and h.request.method == "GET", WAIT_S, mark, gone) is None:
            return


def _is_disconnect(line: dict) -> bool:
    return line.get("ev") == "disconnect"


@pytest.mark.parametrize("variant", ["11-attachments", "10MB-event", "10k-packets", "zero-attachments"])
def test_CERR_05_limits_recorded(run: Run, case: Case, variant: str) -> None:
    """The binary variants go one packet per GET answer (`_one_per_get`): what is recorded is the client's
    policy on the limit, not how its threads happened to order the packets of one answer. The event after
    the payload has an argument, as `clientkit.delivered`'s has."""
    if variant in ("11-attachments", "zero-attachments"):
        run.need("binary")
    run.start(transports=["polling"])
    s = run.ready()
    start = len(run.fx.lines)
    if variant in ("11-attachments", "zero-attachments"):
        _one_per_get(run, s, [*_limit_payload(variant), *wire.sio_encode(wire.EVENT, "/", ["after-limit", 1])])
    else:
        s.send(*_limit_payload(variant))
        s.emit("/", "after-limit", 1)  # delivered in order: once it is, the client has dealt with the payload
    last = [9_999] if variant == "10k-packets" else None
    # Done when the last event is delivered, the event after it is, or the client dropped the session.
    run.fx.lines.wait(
        lambda d: (
            d.get("ev") == "disconnect"
            or (d.get("ev") == "event" and d.get("name") == "after-limit")
            or (d.get("ev") == "event" and d.get("name") == "big" and (last is None or d.get("args") == last))
        ),
        6.0,
        start,
        run.pointless,
    )
    got = len([ln for ln in run.fx.lines.snapshot()[start:] if ln.item.get("name") == "big"])
    closed = run.srv.wait_session(run.nth(2), 1.0) is not None
    case.informational(
        f"{variant}: what the client did", {"delivered": got, "reconnected": closed}, "a documented policy"
    )


@pytest.mark.parametrize("variant", ["garbage", "empty", "cut-off"])
def test_CERR_06_broken_get_answer(run: Run, case: Case, variant: str) -> None:
    run.start(transports=["polling"])
    s = run.ready()
    start = len(run.fx.lines)
    action = {
        "garbage": scripted.answer(200, b"\xff\xfe<garbage>\x00"),
        "empty": scripted.answer(200, b""),
        "cut-off": scripted.cut_off(100, b'42["partial"'),
    }[variant]
    s.get_actions.append(action)
    s.emit("/", "wake")  # answers the parked GET; the next GET gets the broken answer
    gone, s2, which = dropped_then_back(run, start)
    case.check(
        gone is not None and s2 is not None,
        f"{variant} 200 answer: disconnect, then a new handshake",
        {"disconnect": True, "new session": True},
        {"disconnect": gone.item.get("reason") if gone else None, which: s2 is not None},
    )


def test_CERR_07_unsolicited_connect_and_unknown_ack_ignored(run: Run, case: Case) -> None:
    run.start()
    s = run.ready()
    start = len(run.fx.lines)
    if run.eio == 4:
        s.send('40{"sid":"another-id"}', '40/never-joined,{"sid":"x"}', '43999["nobody"]')
    else:
        s.send("40", "40/never-joined,", '43999["nobody"]')
    line = delivered(run, s, "after", timeout=2.0)
    extra = [ln.item for ln in run.fx.lines.snapshot()[start:] if ln.item.get("ev") in ("connect", "ack", "disconnect")]
    case.eq(
        "the next event delivered, no connect/ack/disconnect line",
        {"after delivered": True, "lines": []},
        {"after delivered": line is not None, "lines": extra},
    )


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_CERR_08_dropped_tcp_connection(run: Run, case: Case, transport: str) -> None:
    if transport == "websocket":
        run.need("ws-only")
    run.start(transports=[transport])
    s = run.ready()
    start = len(run.fx.lines)
    drop = run.clock.ms()
    s.kill_transport()
    gone = run.maybe_line("disconnect", 3.0, start)
    s2 = reconnected(run, 2, 3.0)
    gap = round(s2.opened_ms - drop) if s2 else None
    tol = run.spec.tolerance
    high = 50 * (1 + tol.gap_jitter) * (1 + tol.gap_rel) + tol.gap_abs_ms + tol.reconnect_grace_ms
    case.check(
        gone is not None and gap is not None and gap <= high,
        f"disconnect, then a new handshake within {high:.0f} ms (delay 50 ms)",
        {"disconnect": True, "reconnected within_ms": round(high)},
        {"disconnect": gone.item.get("reason") if gone else None, "reconnected after_ms": gap},
    )
