"""Group D: transport upgrade from polling to WebSocket (EIO-UP)."""

from __future__ import annotations

import time

from harness import http as rawhttp
from harness.eio import PollingSession, UpgradedSession, WebSocketSession, query
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
    case.must(ws.recv(target.reply).text == "3probe", "probe answered", "3probe", "other")
    resp = s.get(timeout=target.reply + 1.0)
    case.must(
        resp.status == 200 and resp.body == b"6",
        "a GET during the upgrade is released with a noop",
        b"6",
        resp.summary(),
    )


def test_EIO_UP_03_upgrade_flushes_buffer(case, opener, target):
    s = opener.adopt(PollingSession.handshake(target, SIO))
    case.must(s.post("40").status == 200, "CONNECT posted before the upgrade", 200, "not 200")
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    case.must(ws.recv(target.reply).text == "3probe", "probe answered", "3probe", "other")
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
    s.send("40")
    case.must(str(s.recv()).startswith("40{"), "the WebSocket keeps working", "40{…}", "other")


def test_EIO_UP_05_extra_websocket_closed(case, opener, target):
    s = opener.adopt(UpgradedSession.establish(target, SIO))
    try:
        extra = opener.adopt(_probe_ws(target, s.sid))
        extra.send_text("2probe")
        end = extra.wait_closed(target.reply)
        outcome = "closed" if end is not None else "open"
    except WsRejected:
        outcome = "rejected"
    s.send("40")
    first_ok = str(s.recv()).startswith("40{")
    case.must(
        outcome in ("closed", "rejected") and first_ok,
        "a second WebSocket is closed, the first keeps working",
        ("closed", True),
        (outcome, first_ok),
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
    got = s.get()
    case.check(
        end is not None and post.status == 200 and got.text().startswith("40{"),
        "probing WebSocket closed, polling session unaffected",
        ("closed", 200, "40{…}"),
        (end, post.summary(), got.summary()),
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
    ws = opener.adopt(_probe_ws(target, s.sid))
    ws.send_text("2probe")
    case.must(ws.recv(target.reply).text == "3probe", "probe answered", "3probe", "other")
    t0 = time.monotonic()
    deadline = t0 + limit + target.heartbeat + target.slack
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
        "a second WebSocket on a WebSocket session is closed (Node swaps to it: checklist §2.2)", "closed", msg
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
    get(target, url)  # implicit CONNECT to /
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
