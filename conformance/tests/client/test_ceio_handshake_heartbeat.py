"""CEIO-HS (handshake) and CEIO-HB (heartbeat): the client opens sessions and keeps them alive."""

from __future__ import annotations

import json

import pytest

from clientkit import echo_back, polling_requests, reconnected
from clientside import wire
from clientside.scenario import WAIT_S, Run
from clientside.server import Session
from harness.verdict import Case

FIRST_REQUEST_STARTS = 48


def test_CEIO_HS_01_first_request_is_a_polling_handshake(run: Run, case: Case) -> None:
    """FIRST_REQUEST_STARTS fresh starts, so that a client choosing its first transport at random shows it
    on every run. zishang520's Go client keeps its transports in a Go map-backed set and begins with a
    WebSocket about one start in six to eight: 48 starts miss it about once in 600 runs at one in eight,
    once in 6,000 at one in six (5 starts missed it one run in two). The first start is a process; the
    others are `Run.fresh_starts` (processes several at a time, each against its own scripted server,
    or new clients in the same process for a fixture that can restart its client). Any start that
    begins otherwise fails the case, and the Actual names it with its request line."""
    run.start(any_first_transport=True)
    run.connected()
    firsts: list[wire.Request | None] = [run.srv.http.snapshot()[0].item.request]
    firsts += [start.first for start in run.fresh_starts(FIRST_REQUEST_STARTS - 1)]
    want = {"method": "GET", "EIO": str(run.eio), "transport": "polling", "sid": None}
    other, kinds = [], []
    for i, r in enumerate(firsts):
        if r is None:
            other.append(f"start {i + 1}: no request within {run.spec.tolerance.startup_s + WAIT_S:.0f} s")
            continue
        seen = {"method": r.method, "EIO": r.param("EIO"), "transport": r.param("transport"), "sid": r.param("sid")}
        if seen != want:
            other.append(f"start {i + 1}: {r.summary()}")
        if seen not in kinds:
            kinds.append(seen)
    how = "in one process (do-restart)" if run.has("restart") else "each a process"
    case.check(not other, f"the first request of each of {len(firsts)} starts ({how})", want, other or kinds)


def test_CEIO_HS_02_configured_path_is_used(run: Run, case: Case) -> None:
    run.start(path="/x/")
    s = run.ready()
    echo_back(run, s)
    paths = sorted({h.item.request.path for h in run.srv.http})
    case.eq("request paths", ["/x/"], paths)


def test_CEIO_HS_03_cache_buster_on_every_polling_request(run: Run, case: Case) -> None:
    run.start(transports=["polling"])
    s = run.ready()
    for i in range(3):
        echo_back(run, s, f"m{i}")
    reqs = [h.item.request for h in polling_requests(run)]
    ts = [r.param("t") for r in reqs]
    case.check(
        None not in ts and all(ts[i] != ts[i - 1] for i in range(1, len(ts))),
        "`t` on each polling request, differing from the one before",
        "a fresh t on every request",
        [r.summary() for r in reqs][:12],
    )


def test_CEIO_HS_04_sid_on_every_later_request(run: Run, case: Case) -> None:
    run.start()
    s1 = run.ready()
    echo_back(run, s1)
    s1.kill_transport()
    s2 = run.session(2)
    run.connected(start=1)
    echo_back(run, s2, "again")
    wrong = []
    for h in run.srv.http:
        if h.item.sid == "new":
            continue
        want = s2.sid if h.t >= s2.opened_ms else s1.sid
        if h.item.request.param("sid") != want:
            wrong.append(f"{h.item.request.summary()} at {h.t:.0f} ms (expected sid {want})")
    case.eq("requests naming another session's sid", [], wrong)


def test_CEIO_HS_05_user_query_kept_and_not_duplicated(run: Run, case: Case) -> None:
    run.start(query={"k": "v"})
    s = run.ready()
    echo_back(run, s)
    bad = []
    for h in run.srv.http:
        q = [k for k, _ in h.item.request.query]
        if q.count("k") != 1 or any(q.count(n) > 1 for n in ("EIO", "transport", "sid")):
            bad.append(h.item.request.summary())
    case.eq("requests without k=v exactly once, or with EIO/transport/sid repeated", [], bad)


def test_CEIO_HS_06_open_packet_with_extra_and_reordered_keys(run: Run, case: Case) -> None:
    srv = run.serve()
    p = run.profile
    srv.open_override = lambda sid: (
        "0"
        + json.dumps(
            {
                "x": 1,
                "maxPayload": 1000000,
                "pingTimeout": p.ping_timeout,
                "upgrades": [],
                "pingInterval": p.ping_interval,
                "sid": sid,
                "extra": {"nested": [1, 2]},
            },
            separators=(",", ":"),
        )
    )
    run.start()
    run.connected()
    s = run.session(1)
    if run.eio == 4:
        # Read as milliseconds, a 300 ms interval means pings answered within pingTimeout.
        got = run.eio_packet(lambda e: e.packet == "3", "a pong to the first ping", timeout=2.0)
        case.check(got is not None, "pong after the first ping", "3", got.item.packet)
    echo_back(run, s)


HS07_BAD = {
    "503": wire.response(503, b"busy"),
    "html": wire.response(200, b"<html><body>hello</body></html>", "text/html"),
    "message-first": wire.response(200, b"4hi"),
}


@pytest.mark.parametrize("answer", list(HS07_BAD))
def test_CEIO_HS_07_bad_handshake_is_a_connect_error_then_retry(run: Run, case: Case, answer: str) -> None:
    srv = run.serve()
    srv.on_handshake = lambda req, n: HS07_BAD[answer] if n == 1 else None
    run.start()
    # A client may only notice at its connect timeout (2 s in the configuration), and the same holds for
    # its retry: zishang520's Go client at times sends no CONNECT on a fresh session (CSIO-NSP-01) and
    # connects on the session after, once its connect timeout ended the one before. That wait is given
    # only to a client that did retry. A client that connected first can no longer report the error before
    # its connect: the case does not wait for it then.
    first = run.maybe_line(("connect_error", "connect"), 2.0 + WAIT_S)
    err = first if first is not None and first.item["ev"] == "connect_error" else None
    ok = first if err is None else run.maybe_line("connect", WAIT_S)
    if ok is None and srv.handshakes >= 2:
        ok = run.maybe_line("connect", 2.0)
    case.check(
        err is not None and ok is not None and err.t < ok.t and srv.handshakes >= 2,
        "connect_error for the bad handshake, then a new handshake that connects",
        "connect_error, handshake #2, connect",
        {"lines": run.lines()[:8], "handshakes": srv.handshakes},
    )


def test_CEIO_HS_08_websocket_only_handshake(run: Run, case: Case) -> None:
    run.need("ws-only")
    run.start(transports=["websocket"])
    run.connected()
    first = run.srv.http.snapshot()[0].item.request
    want = {"websocket": True, "EIO": str(run.eio), "transport": "websocket", "sid": None, "polling requests": 0}
    seen = {
        "websocket": first.is_websocket,
        "EIO": first.param("EIO"),
        "transport": first.param("transport"),
        "sid": first.param("sid"),
        "polling requests": len(polling_requests(run)),
    }
    case.eq(f"first request {first.summary()}", want, seen)


# ------------------------------------------------------------------------------------------ heartbeat
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_CEIO_HB_01_every_ping_answered_in_time(run: Run, case: Case, transport: str) -> None:
    run.only_eio(4, "Engine.IO 3 clients send the pings themselves (CEIO-HB-05)")
    if transport == "websocket":
        run.need("ws-only")
    run.serve(ping_interval=100, ping_timeout=200)
    run.start(transports=[transport])
    s = run.ready()
    run.srv.eio.wait_count(lambda e: e.packet == "3" and e.sid == s.sid, 6, 3.0)
    pongs = [e.t for e in run.srv.eio if e.item.packet == "3" and e.item.sid == s.sid]
    # Each of the first five pings against the first pong that came after it, timed as a server's
    # pingTimeout runs: from the ping's sending. The first one is timed from when it reached the client:
    # over polling it waits for the client's first GET, and a client still opening its polling loop when
    # the case's short pingInterval (100 ms, far below any real one) ran out would be timed for its
    # start-up (rust's took up to 340 ms after the open packet on a loaded machine).
    answered = []
    delivered_at = s.delivered_pings(min(5, len(s.pings)), 1.0)
    for i, (ping, delivered) in enumerate(zip(s.pings[:5], delivered_at, strict=False)):
        timed_from = delivered if i == 0 else ping
        pong = next((t for t in pongs if t >= timed_from), None)
        answered.append(
            {
                "ping_ms": round(ping, 1),
                "waited_for_a_get_ms": round(delivered - ping, 1),
                "pong_after_ms": None if pong is None else round(pong - timed_from, 1),
            }
        )
    late = [a for a in answered if a["pong_after_ms"] is None or a["pong_after_ms"] > run.profile.ping_timeout]
    case.check(
        len(answered) == 5 and not late,
        "5 pings each answered within pingTimeout (200 ms)",
        "5 pongs, none late",
        {
            "late": late,
            "pong_after_ms": [a["pong_after_ms"] for a in answered],
            "pings_sent": len(s.pings),
            "pongs": len(pongs),
            "transport": s.transport,
        },
    )


def test_CEIO_HB_02_no_client_pings_or_unsolicited_pongs(run: Run, case: Case) -> None:
    run.only_eio(4, "Engine.IO 3 clients ping by design (CEIO-HB-05)")
    run.start()
    s = run.ready()
    run.srv.eio.quiet(lambda e: False, 1.0)
    client_pings = [
        e.item.packet
        for e in run.srv.eio
        if isinstance(e.item.packet, str) and e.item.packet.startswith("2") and e.item.packet != "2probe"
    ]
    pongs = [e for e in run.srv.eio if e.item.packet == "3" and e.item.sid == s.sid]
    case.check(
        not client_pings and len(pongs) <= len(s.pings),
        "no client-initiated ping, no more pongs than pings",
        {"pings from client": 0},
        {"pings from client": client_pings, "pongs": len(pongs), "server pings": len(s.pings)},
    )


def _first_heard(run: Run, s: Session) -> float:
    """When the first request or Engine.IO packet of session `s` reached the server (the case's clock;
    the present moment when none has)."""
    times = [e.t for e in run.srv.http if e.item.sid == s.sid] + [e.t for e in run.srv.eio if e.item.sid == s.sid]
    return min(times, default=run.clock.ms())


def _silence_then_reconnect(run: Run, case: Case, transport: str, chatter: bool) -> None:
    """The server stops pinging; the client should give up pI + pT after the last ping (or the open
    packet) and reconnect. With `chatter`, events keep coming every 100 ms meanwhile (HB-04).

    The giving up is timed by the client's `disconnect` line: what a client does between giving up and
    its next handshake (its reconnection delay, a new HTTP client built per attempt as rust_socketio
    does, python-engineio's teardown) is its reconnection, which the CSIO-RC cases judge. Without such a
    line before the new handshake, the new handshake is timed instead, less the reconnection delay.

    The client's timer starts when it takes the open packet in, a moment the server cannot see. It lies
    between the open packet leaving and the first request or packet of the session reaching the server
    (the client needed the open packet's sid to send it), so the giving up is known within that
    interval: it misses the requirement only when it does from every moment of it. rust_socketio arms
    its timer with its first requests, 130-440 ms after the open packet under load."""
    if transport == "websocket":
        run.need("ws-only")
    srv = run.serve()
    srv.auto_ping = False
    run.start(transports=[transport], reconnection={"delayMs": 50, "delayMaxMs": 50})
    s = run.ready()
    mark = len(run.fx.lines)
    expected = run.profile.ping_interval + run.profile.ping_timeout
    tol = run.spec.tolerance
    since = s.opened_ms
    # The session after the one the client joined on: a client that gave up its first session before
    # joining (zishang520's Go client at times sends no CONNECT on a fresh session) is judged on the next.
    following = run.nth(2)
    if chatter:
        stop_at = since + expected + tol.heartbeat_grace_ms + 1000
        while run.srv.wait_session(following, 0.1) is None and run.clock.ms() < stop_at:
            s.emit("/", "tick")
    s2 = reconnected(run, following, (expected + tol.heartbeat_grace_ms + 50 + tol.reconnect_grace_ms) / 1000.0)
    line = run.fx.lines.find(lambda item: item.get("ev") == "disconnect", mark)
    noticed = line[1].t if line is not None and s2 is not None and line[1].t <= s2.opened_ms else None
    heard = _first_heard(run, s)
    if s2 is None:
        gone = None
    elif noticed is not None:
        gone = noticed
    else:
        gone = s2.opened_ms - 50
    # The giving up timed from the earliest and the latest moment the client can have taken the open in.
    most = None if gone is None else round(gone - since)
    least = None if gone is None else round(gone - min(heard, gone))
    back = None if s2 is None or noticed is None else round(s2.opened_ms - noticed)
    low, high = expected, expected + tol.heartbeat_grace_ms
    stalled = run.stalled_ms(since, noticed if noticed is not None else s2.opened_ms) if s2 is not None else 0
    actual = {
        "gave_up_after_ms": most,
        "gave_up after the session's first request or packet_ms": least,
        "timed by": "the disconnect line" if noticed is not None else "the new handshake, less the 50 ms delay",
        "new handshake after the disconnect line_ms": back,
        "transport": transport,
        "suite stalled meanwhile_ms": stalled,
    }
    in_time = most is not None and least is not None and most >= low and least <= high
    back_ok = back is None or back <= 50 + tol.reconnect_grace_ms
    if not in_time and most is not None and least is not None and max(low - most, least - high) <= stalled:
        # The suite itself did not run for longer than the miss: its clock says nothing of the client's.
        case.precondition(False, "a measurement without a stall of the suite itself as long as the miss", low, actual)
    case.check(
        in_time and back_ok,
        f"gives up between {low} and {high:.0f} ms after the last sign of life (the open packet, taken in between "
        "its sending and the session's first request), then a new handshake within "
        f"{50 + tol.reconnect_grace_ms:.0f} ms",
        f"[{low}, {high:.0f}] ms",
        actual,
    )


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_CEIO_HB_03_silent_server_is_given_up(run: Run, case: Case, transport: str) -> None:
    run.only_eio(4, "Engine.IO 3 clients measure the pong to their own ping (CEIO-HB-05)")
    _silence_then_reconnect(run, case, transport, chatter=False)


def test_CEIO_HB_04_only_pings_rearm_the_timer(run: Run, case: Case) -> None:
    run.only_eio(4, "Engine.IO 3 clients measure the pong to their own ping (CEIO-HB-05)")
    _silence_then_reconnect(run, case, "websocket" if run.has("ws-only") else "polling", chatter=True)


def test_CEIO_HB_05_v3_client_pings_every_interval(run: Run, case: Case) -> None:
    run.only_eio(3, "Engine.IO 4 servers send the pings (CEIO-HB-01)")
    run.serve(ping_interval=200, ping_timeout=300)
    run.start()
    s = run.ready()
    pings = run.srv.eio.wait_count(lambda e: e.packet == "2" and e.sid == s.sid, 4, 2.0)
    # The reference client times its next ping from the pong it receives: each gap runs from the suite's
    # pong to the previous ping until the next ping arrives, leaving out how long the suite took to answer.
    gaps = []
    for i in range(1, len(pings)):
        pongs = [t for t in s.pongs_sent if pings[i - 1].t <= t <= pings[i].t]
        gaps.append(round(pings[i].t - (pongs[0] if pongs else pings[i - 1].t)))
    tol = run.spec.tolerance
    ok = len(pings) == 4 and all(abs(g - 200) <= tol.gap_abs_ms + 200 * tol.gap_rel for g in gaps)
    case.check(ok, "4 pings, 200 ms apart", "gaps of 200 ms", {"pings": len(pings), "gaps_ms": gaps})
    echo_back(run, s)
