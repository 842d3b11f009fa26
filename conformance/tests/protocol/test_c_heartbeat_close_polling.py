"""Group C: heartbeat, close, polling discipline and size limits (EIO-HB, EIO-CL, EIO-POLL)."""

from __future__ import annotations

import time

import pytest

from harness import http as rawhttp
from harness import targets
from harness.eio import PollingSession, SessionEnded, WebSocketSession, query
from harness.ws import WsClient, WsRejected
from wirekit import get, json_body, v3_sid

SIO = "/socket.io/"


def _poll_session(target) -> PollingSession:
    return PollingSession.handshake(target, SIO)


def _session_gone(target, s: PollingSession) -> rawhttp.HttpResponse:
    return s.get(timeout=target.reply + 1.0)


# ---------------------------------------------------------------------------- heartbeat
def test_EIO_HB_01_ping_pong_polling(case, opener, target):
    t0 = time.monotonic()
    s = opener.adopt(_poll_session(target))
    gaps = []
    for _ in range(3):
        resp = s.get()
        gaps.append(round(time.monotonic() - t0, 3))
        case.must(resp.status == 200 and resp.body == b"2", "held GET answered with exactly `2`", b"2", resp.summary())
        t0 = time.monotonic()
        case.must(s.post("3").status == 200, "pong accepted", 200, "not 200")
    lo, hi = target.ping_interval - 0.05, target.ping_interval + target.slack
    case.check(
        all(lo <= g <= hi for g in gaps),
        "each ping arrives about pingInterval after the previous exchange",
        f"{lo:.3f}..{hi:.3f} s",
        gaps,
    )


def test_EIO_HB_01_ping_pong_websocket(case, opener, target):
    # The server's period starts somewhere between our request and our reading of its answer (the
    # open packet, then each pong we send). Each gap is measured from both ends of that window: the
    # one from the earlier end may not be short, the one from the later end may not be long, so a
    # slow client (scheduling on a loaded machine) cannot make a punctual server look early.
    earliest = time.monotonic()
    s = opener.adopt(WebSocketSession.connect(target, SIO, auto_pong=False))
    latest = time.monotonic()
    gaps = []
    for _ in range(3):
        pkt = s.recv(target.reply)
        now = time.monotonic()
        gaps.append((round(now - earliest, 3), round(now - latest, 3)))
        case.must(pkt == "2", "server sends ping `2`", "2", pkt)
        earliest = time.monotonic()
        s.send("3")
        latest = time.monotonic()
    lo, hi = target.ping_interval - 0.05, target.ping_interval + target.slack
    case.check(
        all(lo <= long_ and short <= hi for long_, short in gaps),
        "pings every pingInterval, the first pingInterval after open",
        f"{lo:.3f}..{hi:.3f} s",
        gaps,
    )


def test_EIO_HB_02_ping_period_restarts_at_pong(case, opener, target):
    s = opener.adopt(WebSocketSession.connect(target, SIO, auto_pong=False))
    delay = min(0.1, target.ping_timeout / 2)
    case.must(s.recv(target.reply) == "2", "first ping", "2", "other")
    t1 = time.monotonic()
    early = s.recv_all(delay)  # waiting on the queue: nothing is expected before the pong
    s.send("3")
    pkt = s.recv(target.reply)
    gap = time.monotonic() - t1
    case.must(pkt == "2" and not early, "second ping after the delayed pong", "2", (early, pkt))
    want = target.ping_interval + delay
    tolerance = max(0.08, target.slack / 2)
    case.check(
        abs(gap - want) <= tolerance,
        f"ping gap = pingInterval + pong delay (±{tolerance:.3f} s)",
        f"{want:.3f} s",
        f"{gap:.3f} s",
    )


def test_EIO_HB_03_ping_timeout_polling(case, opener, target):
    t0 = time.monotonic()
    s = opener.adopt(_poll_session(target))
    first = s.get()
    case.must(first.body == b"2", "first ping", b"2", first.summary())
    outcome = []
    for _ in range(3):
        resp = s.get(timeout=target.reply + 1.0)
        outcome.append(resp.summary())
        if resp.status == 400:
            break
    elapsed = time.monotonic() - t0
    case.must(
        outcome and outcome[-1].startswith("HTTP 400"), "the sid is refused after the ping timeout", "HTTP 400", outcome
    )
    case.should(
        elapsed <= target.heartbeat + 2 * target.slack,
        "closed within pingInterval + pingTimeout",
        f"<= {target.heartbeat + 2 * target.slack:.2f} s",
        f"{elapsed:.3f} s",
    )


def test_EIO_HB_03_ping_timeout_websocket(case, opener, target):
    t0 = time.monotonic()
    s = opener.adopt(WebSocketSession.connect(target, SIO, auto_pong=False))
    how = s.wait_ended(target.heartbeat + 2 * target.slack)
    elapsed = time.monotonic() - t0
    case.must(how is not None, "WebSocket closed after an unanswered ping", "closed", f"open after {elapsed:.2f} s")
    case.check(
        elapsed >= target.heartbeat - 0.05,
        "not closed before pingInterval + pingTimeout",
        f">= {target.heartbeat:.2f} s",
        f"{elapsed:.3f} s",
    )


def test_EIO_HB_04_only_pong_counts(case, opener, target):
    s = opener.adopt(WebSocketSession.connect(target, target.eio_path if target.has("echo") else SIO, auto_pong=False))
    t0 = time.monotonic()
    deadline = t0 + target.heartbeat + 2 * target.slack
    ended = None
    for _ in range(1000):
        if time.monotonic() >= deadline:
            break
        try:
            s.send("4busy" if target.has("echo") else "6")  # never a pong: that is the point
            s.recv_all(0.05)
        except SessionEnded as end:
            ended = end.how
            break
        if s.ended:
            ended = s.ended
            break
    case.must(
        ended is not None,
        "traffic without pongs still ends in a ping timeout",
        "closed",
        f"open after {time.monotonic() - t0:.2f} s",
    )


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_HB_05_client_ping_is_violation(case, opener, target, transport):
    if transport == "websocket":
        s = opener.adopt(WebSocketSession.connect(target, SIO))
        s.send("2")
        how = s.wait_ended(target.reply)
        case.check(how is not None, "a v4 client ping closes the WebSocket", "closed", "still open")
    else:
        s = opener.adopt(_poll_session(target))
        s.post("2")
        resp = s.get()
        case.check(
            resp.status == 400 or resp.body in (b"1",),
            "a v4 client ping ends the polling session",
            "HTTP 400 (or `1`)",
            resp.summary(),
        )


def test_EIO_HB_06_unsolicited_pongs_harmless(case, opener, target):
    c = opener.sio("websocket")
    c.send_raw("3", "3xyz")
    back = c.barrier()
    case.check(not c.eio.ended, "session keeps working after unsolicited pongs", "message-back", back)


def test_EIO_HB_07_held_get_released_with_close(case, opener, target):
    s = opener.adopt(_poll_session(target))
    case.must(s.get().body == b"2", "first ping", b"2", "other")
    resp = s.get(timeout=target.reply + 1.0)
    case.check(
        resp.status == 200 and resp.body == b"1",
        "the GET held at ping timeout is answered with `1`",
        b"1",
        resp.summary(),
    )


def test_EIO_HB_08_v3_heartbeat(case, opener, target):
    if not target.eio3:
        case.not_applicable("EIO3-only behaviour; the target runs without EIO3 support")
    resp = get(target, f"{SIO}?EIO=3&transport=polling")
    sid = v3_sid(resp)
    url = f"{SIO}?EIO=3&transport=polling&sid={sid}"
    first = get(target, url)  # the implicit `40`
    post = rawhttp.request(
        target.host,
        target.port,
        "POST",
        url,
        headers=[("Content-Type", "text/plain;charset=UTF-8")],
        body=b"1:2",
        timeout=target.reply,
    )
    case.must(post.status == 200, "v3 client ping accepted", 200, post.summary())
    pong = get(target, url)
    case.must(
        pong.status == 200 and b"1:3" in pong.body,
        "v3 server answers the ping with `3`",
        b"1:3",
        (first.summary(), pong.summary()),
    )


# ---------------------------------------------------------------------------- close
def test_EIO_CL_01_client_close_polling(case, opener, target):
    s = opener.adopt(_poll_session(target))
    held = s.start_get()
    post = s.post("1")
    case.must(post.status == 200, "the POST carrying `1` is answered 200", 200, post.summary())
    try:
        released = held.result(target.reply).summary()
    except (TimeoutError, rawhttp.HttpConnectionLost) as exc:
        released = f"no answer: {exc}"
    after = s.get()
    case.must(after.status == 400, "the session is gone afterwards", 400, after.summary())
    case.should(
        released in ("HTTP 200 b'6'", "HTTP 200 b'1'"),
        "the held GET is released (Node: noop `6`)",
        "HTTP 200 b'6'",
        released,
    )


def test_EIO_CL_02_client_close_websocket(case, opener, target):
    s = opener.adopt(WebSocketSession.connect(target, SIO))
    t0 = time.monotonic()
    s.auto_pong = False  # a client that has said goodbye answers no more pings
    s.send("1")
    how = s.wait_ended(target.heartbeat + 2 * target.slack)
    elapsed = time.monotonic() - t0
    case.must(how is not None, "a client `1` over WebSocket ends the session", "closed", "still open")
    if elapsed > target.slack:
        case.non_strict(
            "closed at once, not by the ping timeout (Node ignores `1` on WebSocket: "
            "checklist §2.1, socketio/socket.io#5286)",
            f"<= {target.slack:.2f} s",
            f"{elapsed:.3f} s",
        )


def test_EIO_CL_03_server_close_polling(case, opener, target):
    targets.need(case, target, "extended")  # disconnect-me
    s = opener.adopt(_poll_session(target))
    s.post("40")
    first = s.get()
    case.must(first.status == 200 and first.text().startswith("40"), "CONNECT reply", "40{…}", first.summary())
    s.post('42["disconnect-me",true]')
    bodies = []
    for _ in range(5):
        resp = s.get(timeout=target.reply + 1.0)
        bodies.append(resp.summary())
        if resp.status != 200 or resp.body.split(b"\x1e")[-1] == b"1":
            break
    texts = " ".join(bodies)
    case.check(
        "41" in texts and ("b'1'" in texts or "\\x1e1'" in texts),
        "DISCONNECT, then the close packet `1`",
        "41 … 1",
        bodies,
    )
    final = s.get()
    case.must(final.status == 400, "sid refused once the close was delivered", 400, final.summary())


def test_EIO_CL_04_server_close_websocket(case, opener, target):
    targets.need(case, target, "extended")  # disconnect-me
    c = opener.sio("websocket")
    c.emit("disconnect-me", True)
    seen = []
    try:
        for _ in range(10):
            seen.append(c.eio.recv())
    except SessionEnded as end:
        seen.append(end.how)
    except TimeoutError:
        seen.append("timeout")
    case.check(
        seen and "timeout" not in seen[-1] and "41" in seen,
        "DISCONNECT then the WebSocket closes",
        ["41", "close"],
        seen,
    )


def test_EIO_CL_05_closed_session_forgotten(case, opener, target):
    s = opener.adopt(_poll_session(target))
    s.post("1")
    g = s.get()
    p = s.post("40")
    try:
        WsClient.connect(target.host, target.port, query(SIO, "websocket", s.sid), timeout=target.reply).close()
        ws: int | str = "101"
    except WsRejected as rej:
        ws = rej.response.status if rej.response else "dropped"
    case.must(
        (g.status, p.status) == (400, 400) and ws != "101",
        "GET, POST and upgrade with a closed sid",
        (400, 400, "refused"),
        (g.summary(), p.summary(), ws),
    )
    case.should(json_body(g) == {"code": 1, "message": "Session ID unknown"}, "error body", {"code": 1}, g.body)


# ---------------------------------------------------------------------------- polling discipline
def test_EIO_POLL_01_overlapping_get(case, opener, target):
    s = opener.adopt(_poll_session(target))
    held = s.start_get()
    second = s.get()
    try:
        first = held.result(target.reply).summary()
    except (TimeoutError, rawhttp.HttpConnectionLost) as exc:
        first = f"no answer: {exc}"
    after = s.get()
    case.must(
        second.status in (400, 500) and after.status == 400,
        "second GET refused and session closed",
        (400, 400),
        (second.summary(), first, after.summary()),
    )


def test_EIO_POLL_02_overlapping_post(case, opener, target):
    s = opener.adopt(_poll_session(target))
    sock = rawhttp.open_connection(target.host, target.port, target.reply)
    head = rawhttp.build_request(
        "POST", s.url(), target.port, [("Content-Type", "text/plain;charset=UTF-8"), ("Content-Length", "10")], None
    )
    sock.sendall(head + b"4hel")  # body left unfinished on purpose
    second = s.post("4x")
    after = s.get()
    case.must(
        second.status in (400, 500) and after.status == 400,
        "second POST refused and session closed",
        (400, 400),
        (second.summary(), after.summary()),
    )


def test_EIO_POLL_03_aborted_get_ends_session(case, opener, target):
    s = opener.adopt(_poll_session(target))
    held = s.start_get()
    held.abort()
    resp = s.get(timeout=target.reply + 1.0)
    case.check(resp.status == 400, "the session ends when its held GET is dropped", 400, resp.summary())


def test_EIO_POLL_04_get_is_held(case, opener, target):
    s = opener.adopt(_poll_session(target))
    t0 = time.monotonic()
    resp = s.get()
    elapsed = time.monotonic() - t0
    case.must(
        resp.body == b"2" and elapsed >= target.ping_interval - 0.05,
        "an idle GET is held until the ping, never answered empty",
        ("2", f">= {target.ping_interval:.2f} s"),
        (resp.summary(), f"{elapsed:.3f} s"),
    )


def test_EIO_POLL_05_post_size_limit(case, opener, target):
    path = target.eio_path if target.has("echo") else SIO
    s = opener.adopt(PollingSession.handshake(target, path))
    big = s.post(b"4" + b"a" * target.max_payload)
    case.check(big.status == 413, "POST of maxPayload + 1 bytes", 413, big.summary())
    if target.has("echo"):
        ok = s.post(b"4" + b"a" * (target.max_payload - 1), timeout=target.reply + 2)
        case.check(ok.status == 200, "POST of exactly maxPayload bytes", 200, ok.summary())


def test_EIO_POLL_06_websocket_size_limit(case, opener, target):
    s = opener.adopt(WebSocketSession.connect(target, SIO))
    assert s.ws is not None
    s.ws.send_text("4" + "a" * target.max_payload)
    end = s.ws.wait_closed(target.reply + 2)
    case.check(end is not None, "a frame above maxPayload closes the connection", "close 1009", end)
    if end is not None and end.kind == "close" and end.code != 1009:
        case.non_strict("close code", 1009, end.code)


def test_EIO_POLL_07_stray_control_packets(case, opener, target):
    # On the echo endpoint the message after them comes back; without it, a CONNECT to `/` is answered.
    echo = target.has("echo")
    s = opener.adopt(PollingSession.handshake(target, target.eio_path if echo else SIO))
    s.post("0\x1e5\x1e6\x1e" + ("4after" if echo else "40"))
    resp = s.get()
    want = b"4after" if echo else b"40{"
    case.check(
        resp.status == 200 and resp.body.startswith(want),
        "0, 5, 6 dropped; the message after them delivered",
        want,
        resp.summary(),
    )


def test_EIO_POLL_08_post_processed_before_ok(case, opener, target):
    s = opener.adopt(_poll_session(target))
    post = s.post("40")
    resp = s.get()
    case.must(
        post.status == 200 and resp.text().startswith("40{"),
        "the reply to a POSTed packet is ready for the next GET",
        "40{…}",
        resp.summary(),
    )
