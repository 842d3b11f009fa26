"""Group D: transport upgrade from polling to WebSocket (EIO-UP)."""

from __future__ import annotations

import time

import pytest

from harness import http as rawhttp
from harness.eio import NotReceived, PollingSession, SessionEnded, UpgradedSession, WebSocketSession, query
from harness.verify import expect_packet, ws_closed_within
from harness.ws import WsClient, WsRejected
from wirekit import get, json_body, open_packet, v3_sid

SIO = "/socket.io/"


def _probe_ws(target, sid: str) -> WsClient:
    return WsClient.connect(target.host, target.port, query(SIO, "websocket", sid), timeout=target.reply)


def test_EIO_UP_01_probe_exchange(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    msg = ws.recv(target.reply)
    case.must(
        msg.kind == "text" and msg.text == "3probe",
        "first frame on the probing WebSocket answers the probe",
        "3probe",
        msg,
    )


def test_EIO_UP_02_polling_drained_with_noop(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    probe = ws.recv(target.reply)
    case.must(probe.kind == "text" and probe.text == "3probe", "probe answered", "3probe", probe)
    # A ping that falls due during the upgrade may release the GET first (it is answered, as a client
    # does); the GET after it must then get the noop.
    answers = []
    for _ in range(2):
        resp = s.get(timeout=target.reply + 1.0)
        answers.append(resp.summary())
        if not (resp.status == 200 and resp.body == b"2"):
            break
        s.post("3")
    case.must(
        resp.status == 200 and resp.body == b"6",
        "a GET during the upgrade is released with a noop (after a ping that fell due, if any)",
        b"6",
        answers,
    )


def test_EIO_UP_03_upgrade_flushes_buffer(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    post = s.post("40")
    case.must(post.status == 200, "CONNECT posted before the upgrade", 200, post.summary())
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    probe = ws.recv(target.reply)
    case.must(probe.kind == "text" and probe.text == "3probe", "probe answered", "3probe", probe)
    ws.send_text("5")
    got = []
    for _ in range(4):
        msg = ws.recv(target.reply)
        got.append(msg.text if msg.kind == "text" else repr(msg))
        if msg.kind == "text" and msg.text.startswith("40{"):
            break
    case.must(
        any(g.startswith("40{") for g in got), "packets buffered during polling arrive on the WebSocket", "40{…}", got
    )


def test_EIO_UP_04_polling_refused_after_upgrade(case, opener, target):
    s = opener.adopt(UpgradedSession.establish(target, SIO))
    _upgrade_completed(case, s)  # polling is tried only once the server has taken `5`
    g = get(target, query(SIO, "polling", s.sid))
    p = rawhttp.request(
        target.host, target.port, "POST", query(SIO, "polling", s.sid), body=b"40", timeout=target.reply
    )
    case.must(
        (g.status, p.status) == (400, 400), "GET and POST with an upgraded sid", (400, 400), (g.summary(), p.summary())
    )
    case.should(
        json_body(g) == {"code": 3, "message": "Bad request"},
        "error body (reference-compatible)",
        {"code": 3, "message": "Bad request"},
        g.body,
    )
    s.send('42["message","after"]')
    expect_packet(
        case,
        s,
        lambda p: str(p).startswith('42["message-back","after"]'),
        "the WebSocket keeps working",
        expected='42["message-back","after"]',
        must=True,
    )


def _upgrade_completed(case, s: UpgradedSession) -> None:
    """A CONNECT sent after `5` and answered on the WebSocket: the server has taken `5` (a server with a
    thread per request may otherwise still be upgrading when the next request arrives)."""
    s.send("40")
    try:
        joined: object = s.take(lambda p: str(p).startswith("40{"), what="CONNECT reply on the WebSocket")
    except (NotReceived, SessionEnded) as exc:
        joined = f"{type(exc).__name__}: {exc}"
    case.precondition(
        str(joined).startswith("40{"),
        "the upgrade completed: a CONNECT sent after `5` is answered on the WebSocket",
        "40{…}",
        joined,
        caused_by="EIO-UP-03",
    )


@pytest.mark.parametrize("phase", ["upgrading", "upgraded"])
def test_EIO_UP_05_extra_websocket_closed(case, opener, target, phase):
    # Both phases are set up explicitly: `upgrading` once the first WebSocket's probe is answered and
    # before `5`, `upgraded` once a packet sent after `5` has been answered on the first WebSocket.
    polling = opener.adopt(PollingSession.handshake(target, SIO))
    polling.start_poller()
    first_ws = opener.adopt(_probe_ws(target, polling.sid))
    first_ws.send_text("2probe")
    probe = first_ws.recv(target.reply)
    case.must(probe.kind == "text" and probe.text == "3probe", "probe answered", "3probe", probe)
    s = UpgradedSession(target, SIO)
    s.ws, s.sid = first_ws, polling.sid
    first_ws.on_frame = s._on_frame
    if phase == "upgraded":
        first_ws.send_text("5")
        _upgrade_completed(case, s)
    try:
        extra = opener.adopt(_probe_ws(target, polling.sid))
        extra.send_text("2probe")
        end, waited, seen = ws_closed_within(extra, target.reply)
        second: object = f"{end!r} after {waited:.3f} s" if end is not None else {"still open": seen}
    except WsRejected as rej:
        end, second = None, f"refused: {rej}"
    if phase == "upgrading":
        first_ws.send_text("5")
    s.send('42["message","first"]' if phase == "upgraded" else "40")
    want = '42["message-back","first"]' if phase == "upgraded" else "40{"
    try:
        first: object = s.take(lambda p: str(p).startswith(want), what=f"{want} on the first WebSocket")
    except (NotReceived, SessionEnded) as exc:
        first = f"{type(exc).__name__}: {exc}"
    case.must(
        (end is not None or str(second).startswith("refused")) and str(first).startswith(want),
        f"a second WebSocket for an {phase} session is closed, the first keeps working",
        ("second closed or refused", f"{want}… on the first"),
        (second, first),
    )


def test_EIO_UP_06_upgrade_without_probe(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("5")
    g = s.get(timeout=target.reply + 1.0)
    case.informational("`5` without `2probe`: polling afterwards (400 = upgrade completed)", g.summary())


def test_EIO_UP_07_bad_first_probe_packet(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("4early")
    end = ws.wait_closed(target.reply)
    post = s.post("40")
    got, last = s.poll_until(lambda got: bool(got))  # pings answered and left out
    case.check(
        end is not None and post.status == 200 and str(got[:1]).startswith("['40{"),
        "probing WebSocket closed, polling session unaffected",
        ("closed", 200, "40{…}"),
        (end, post.summary(), got, last.summary()),
    )


def test_EIO_UP_08_upgrade_timeout(case, opener, target):
    if "upgrade-timeout" in target.unknown:
        case.not_applicable(
            "not run: the suite does not know this server's upgrade timeout; give it with "
            "--target-upgrade-timeout MS or in the fixture-info answer (FIXTURE.md section 2)"
        )
    if target.upgrade_timeout_ms is None:
        return case.unimplemented("the target has no upgrade-timeout setting (FIXTURE.md UPGRADE_TIMEOUT_MS)")
    limit = target.upgrade_timeout_ms / 1000.0
    s = opener.adopt(PollingSession.handshake(target, SIO))
    s.start_poller()  # keeps the polling side alive (held GET, pongs) while `5` is withheld
    if not target.client_pings:  # join `/` first, or the Socket.IO connect timeout ends the session
        s.post("40")
        joined = s.recv_all(target.prompt)
        case.must(any(str(p).startswith("40{") for p in joined), "CONNECT to / answered", "40{…}", joined)
    # The server's timer starts when it receives the upgrade request, which cannot be before the
    # suite sends it: timing from here gives a lower bound that holds however slow the answers are.
    t0 = time.monotonic()
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    probe = ws.recv(target.reply)
    case.must(probe.kind == "text" and probe.text == "3probe", "probe answered", "3probe", probe)
    deadline = time.monotonic() + limit + target.heartbeat + target.slack
    end = None
    for _ in range(10000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if target.client_pings:
            s.post("2")
        end = ws.wait_closed(min(target.ping_interval / 2, left))
        if end is not None:
            break
    waited = round(time.monotonic() - t0, 3)
    case.must(
        end is not None,
        "the probing WebSocket is closed once the upgrade timeout has passed",
        f"closed within {limit + target.heartbeat + target.slack:.3f} s",
        f"open after {waited} s",
    )
    case.must(waited >= limit - 0.05, "not closed before the upgrade timeout", f">= {limit:.3f} s", f"{waited} s")
    # The session goes on over polling.
    if target.client_pings:
        s.post("2")
        want = "3"
    else:
        s.post("40/custom,")  # a second namespace on the same Engine.IO session (FIXTURE.md section 2)
        want = "40/custom,{"
    got = s.recv_all(target.reply)
    case.must(any(str(p).startswith(want) for p in got), "polling goes on after the abandoned upgrade", want, got)


def test_EIO_UP_09_second_websocket_on_websocket_session(case, opener, target):
    s = opener.adopt(WebSocketSession.connect(target, SIO))
    try:
        extra = opener.adopt(_probe_ws(target, s.sid))
    except WsRejected as rej:
        return case.record("refused", rej.response.summary() if rej.response else "dropped")
    extra.send_text("2probe")
    msg = extra.recv(target.reply)
    if msg.ended:
        return case.record("closed", msg)
    case.must(
        msg.kind == "text" and msg.text == "3probe", "second WebSocket closed (or Node's WS→WS swap)", "closed", msg
    )
    case.non_strict(
        "a second WebSocket on a WebSocket session is closed (Node swaps to it: REQUIREMENTS.md §2.2)", "closed", msg
    )


def test_EIO_UP_10_advertised_upgrades(case, opener, target):
    poll = open_packet(get(target, query(SIO, "polling")).text()) or {}
    ws = opener.adopt(WebSocketSession.connect(target, SIO))
    case.eq(
        "upgrades advertised by polling and WebSocket handshakes",
        [["websocket"], []],
        [poll.get("upgrades"), ws.open.get("upgrades")],
    )


def test_EIO_UP_11_v3_upgrade(case, opener, target):
    if not target.eio3:
        case.not_applicable("EIO3-only behaviour; the target runs without EIO3 support")
    resp = get(target, f"{SIO}?EIO=3&transport=polling")
    sid = v3_sid(resp)
    url = f"{SIO}?EIO=3&transport=polling&sid={sid}"
    # The implicit CONNECT to / and the fixture's `auth` event after it are fetched before the upgrade
    # starts: a server that emits `auth` a moment after the CONNECT reply (zishang520, from the handler's
    # own goroutine) would otherwise have it pending when the GET that the upgrade drains comes, and a
    # pending packet rightly goes into that GET instead of the noop.
    joined = resp.body
    for _ in range(3):
        if b'42["auth"' in joined:
            break
        joined += get(target, url).body
    ws = opener.adopt(
        WsClient.connect(target.host, target.port, f"{SIO}?EIO=3&transport=websocket&sid={sid}", timeout=target.reply)
    )
    ws.send_text("2probe")
    probe = ws.recv(target.reply)
    drained = get(target, url)
    case.must(
        probe.text == "3probe" and drained.body == b"1:6",
        "v3 probe answered and GET drained with `1:6`",
        ("3probe", b"1:6"),
        (probe, drained.summary()),
    )
