"""Verifiers in the manner of h2spec: each takes what the case expects, waits for it on a session, a
client or a WebSocket, and computes Actual from what was observed (the packets that arrived instead,
how and when the connection ended, how long it stayed silent). No case writes an Actual by hand.

Each verifier judges at the requirement's level (`Case.check`) unless `must=True`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import wire
from .eio import NotReceived, Packet, Ping, Session, SessionEnded
from .sio import SioClient, SioPacket
from .verdict import Case
from .ws import Message, WsClient


def _judge(case: Case, cond: bool, what: str, expected: Any, actual: Any, must: bool) -> None:
    (case.must if must else case.check)(cond, what, expected, actual)


def _session(x: Session | SioClient) -> Session:
    return x.eio if isinstance(x, SioClient) else x


def _pending(x: Session | SioClient) -> list:
    return list(x.inbox)


def expect_packet(
    case: Case,
    session: Session,
    want: Packet | Callable[[Packet], bool],
    what: str,
    *,
    expected: Any = None,
    timeout: float | None = None,
    must: bool = False,
) -> Packet | None:
    """The first packet equal to `want` (or matching it); Actual on failure: what arrived instead, or how
    the session ended. Returns the packet (None only when the check did not stop the case)."""
    match = want if callable(want) else (lambda p: p == want)
    shown = expected if expected is not None else (want if not callable(want) else what)
    try:
        return session.take(match, timeout, what)
    except NotReceived as nr:
        _judge(case, False, what, shown, {"received instead": nr.seen, "waited": f"{nr.waited:.2f} s"}, must)
    except SessionEnded as end:
        _judge(case, False, what, shown, {"session ended": end.how, "received before": end.pending}, must)
    return None


def expect_sio(
    case: Case,
    client: SioClient,
    match: Callable[[SioPacket], bool],
    what: str,
    expected: Any,
    *,
    timeout: float | None = None,
    must: bool = False,
) -> SioPacket | None:
    """The first Socket.IO packet for which `match` holds; Actual on failure: the packets received instead
    (left queued), or how the session ended."""
    try:
        return client.take(match, timeout, what)
    except NotReceived as nr:
        _judge(case, False, what, expected, {"received instead": nr.seen, "waited": f"{nr.waited:.2f} s"}, must)
    except SessionEnded as end:
        _judge(case, False, what, expected, {"session ended": end.how, "received before": end.pending}, must)
    return None


def send_expecting_close(x: Session | SioClient, *packets: Packet) -> None:
    """Sends packets after which the target is to end the session. It may end it as soon as the first of
    them shows the violation (a binary packet's header, before its attachments): a send that then finds
    the connection closed has met the end the case waits for, which closed_within or expect_closed reads
    next, and is no failure of its own."""
    try:
        if isinstance(x, SioClient):
            x.send_raw(*packets)
        else:
            x.send(*packets)
    except SessionEnded:
        pass


def closed_within(x: Session | SioClient, timeout: float) -> tuple[str | None, float, list]:
    """Waits for the session to end: how it ended (None if it did not), the seconds waited, and the
    packets that arrived meanwhile and were not taken."""
    s = _session(x)
    t0 = time.monotonic()
    how = s.wait_ended(timeout)
    waited = max(0.0, (s.end.at if s.end is not None else time.monotonic()) - t0)
    if isinstance(x, SioClient):
        x.pull_queued()  # so the packets show at Socket.IO level
    return how, waited, _pending(x) if isinstance(x, SioClient) else list(s.inbox)


def timing_tolerance(ping_timeout: float) -> float:
    """How much earlier than pingTimeout an end or a pong may be read and still count as at pingTimeout:
    the suite's own reading of two times (50 ms, or a quarter of a short pingTimeout)."""
    return min(0.05, ping_timeout / 4)


def heartbeat_timed(pings: list[Ping], last_input: float, end_at: float, ping_timeout: float) -> Ping | None:
    """The ping whose timeout explains an end at `end_at`, or None when the end is the target's reaction
    to the case. A server ends a session by its heartbeat pingTimeout after a ping (or a little sooner:
    one that writes its ping late has started the clock before the write), whether it ignored the pong or
    never got one. Such an end is the heartbeat's, not a reaction, when the target's last ping before it
    came after the case's last input (nothing the case sent since could have caused it) and the end came
    pingTimeout or more after that ping (less a tolerance for the suite's own reading of both times). An
    end sooner than that, or after further input, is read as a reaction (the reverse reading is not made
    either)."""
    before = [p for p in pings if p.arrived <= end_at]
    if not before:
        return None
    last = before[-1]
    tolerance = timing_tolerance(ping_timeout)
    if last.arrived < last_input or end_at - last.arrived < ping_timeout - tolerance:
        return None
    return last


def heartbeat_end(x: Session | SioClient) -> str | None:
    """When the session ended by the target's heartbeat rather than in reaction to the case's input
    (heartbeat_timed): what was seen, for an Actual; None otherwise, or while the session is open."""
    s = _session(x)
    if s.end is None:
        return None
    ping = heartbeat_timed(s.pings, s.last_input, s.end.at, s.target.ping_timeout)
    if ping is None:
        return None
    pong = "never answered" if ping.answered is None else f"answered {ping.answered - ping.arrived:.3f} s after it"
    return (
        f"no reaction: the target's ping came {ping.arrived - s.last_input:.3f} s after the case's last input "
        f"({pong}), and the session ended {s.end.at - ping.arrived:.3f} s after the ping ({s.end.how}), at its "
        f"pingTimeout of {s.target.ping_timeout:.3f} s: the heartbeat ended it"
    )


def reaction_within(x: Session | SioClient, timeout: float) -> tuple[str | None, float, list, str | None]:
    """closed_within, reading an end that the target's heartbeat explains (heartbeat_end) as no end:
    (how it ended in reaction, or None; seconds waited; packets received meanwhile; the heartbeat's end,
    described, or None)."""
    how, waited, seen = closed_within(x, timeout)
    by_heartbeat = heartbeat_end(x) if how is not None else None
    return (None if by_heartbeat else how), waited, seen, by_heartbeat


def expect_closed(
    case: Case, x: Session | SioClient, what: str, timeout: float, *, must: bool = False, heartbeat: bool = False
) -> str | None:
    """The session must end within `timeout`, in reaction to the case: an end the target's heartbeat
    explains does not count (heartbeat_end), unless `heartbeat` says the case awaits that very end (a
    ping timeout, or a client that stops answering pings). Actual: how and after how long it ended, or
    that it was still open at the deadline (or ended by its heartbeat) and what it received meanwhile."""
    if heartbeat:
        how, waited, seen = closed_within(x, timeout)
        by_heartbeat = None
    else:
        how, waited, seen, by_heartbeat = reaction_within(x, timeout)
    actual = reaction_seen(how, waited, seen, by_heartbeat)
    _judge(case, how is not None, what, f"the session ends within {timeout:.2f} s", actual, must)
    return how


def reaction_seen(how: str | None, waited: float, seen: list, by_heartbeat: str | None) -> Any:
    """The Actual of a wait for a reaction (reaction_within's four values)."""
    if how is not None:
        return f"ended after {waited:.3f} s: {how}"
    if by_heartbeat is not None:
        return {"ended by the heartbeat": by_heartbeat, "received meanwhile": seen}
    return {"still open after": f"{waited:.2f} s", "received meanwhile": seen}


def ws_closed_within(ws: WsClient, timeout: float) -> tuple[Message | None, float, list[Message]]:
    """Reads a raw WebSocket until it ends: the ending message (None at the deadline), seconds waited,
    and the messages that came before."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    seen: list[Message] = []
    for _ in range(100_000):
        try:
            msg = ws.recv(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return None, time.monotonic() - t0, seen
        if msg.ended:
            return msg, time.monotonic() - t0, seen
        seen.append(msg)
    return None, time.monotonic() - t0, seen


def expect_ws_closed(case: Case, ws: WsClient, what: str, timeout: float, *, must: bool = False) -> Message | None:
    """A raw WebSocket must be closed by the server within `timeout`; Actual: the close (code, reason) or
    end of stream and when, or what arrived while it stayed open."""
    end, waited, seen = ws_closed_within(ws, timeout)
    if end is not None:
        actual: Any = f"{end!r} after {waited:.3f} s" + (f", after {seen}" if seen else "")
    else:
        actual = {"still open after": f"{waited:.2f} s", "received meanwhile": seen}
    _judge(case, end is not None, what, f"closed within {timeout:.2f} s", actual, must)
    return end


def stays_open(client: SioClient, nsp: str = "/") -> tuple[bool, list, str]:
    """Whether the connection is still working: a barrier round trip on `nsp` (FIXTURE.md section 6, rule
    2), then a further `prompt` of watching for a close the server may carry out late (rule 4).
    Returns (open, packets that arrived before the echo, what was observed). The fixture's `auth`
    events are left out of those packets: FIXTURE.md sends `auth` only right after a CONNECT reply, so
    one is never a reply to the packet under test (a server that joins `/` at the handshake, as
    socket.io 2 does, sends a second one for the suite's own CONNECT)."""
    try:
        before = [p for p in client.barrier(nsp) if p.event != "auth"]
    except (SessionEnded, NotReceived) as exc:
        return False, getattr(exc, "pending", None) or getattr(exc, "seen", []), f"{type(exc).__name__}: {exc}"
    how, waited, late = closed_within(client, client.target.prompt)
    if how is not None:
        by_heartbeat = heartbeat_end(client)
        if by_heartbeat is not None:  # not a reaction, yet the connection is gone: the case cannot go on
            return False, before + late, f"echo received, then the session ended by the heartbeat: {by_heartbeat}"
        return False, before + late, f"echo received, then the session ended after {waited:.3f} s: {how}"
    client.inbox[:0] = late  # not part of the reply to the packet under test; left for the case
    return True, before, f"echo received; still open {waited:.2f} s later"


def _last_ping_before_the_end(s: Session) -> Ping | None:
    """The target's last ping before the session's end, when the suite was answering pings for the case;
    None while the session is open, or when no ping came."""
    if not getattr(s, "auto_pong", True):
        return None
    if s.end is None:
        s.wait_ended(0.0)  # an end already queued (a send may have found the connection closed first)
    if s.end is None:
        return None
    before = [p for p in s.pings if p.arrived <= s.end.at]
    return before[-1] if before else None


def suite_lost(x: Session | SioClient) -> str | None:
    """Whether the suite itself lost the session: it ended after a ping of the target that the suite, while
    answering pings for the case, answered pingTimeout (less the tolerance) or more after it arrived, or
    never before the end (its process stalled, or the ping came together with the end). What the case then
    saw says nothing about the requirement it judges. A pong held back behind a message or frame the case
    left unfinished on purpose is not the suite's lateness: the case waits there for the target by design
    (a WebSocket ping between fragments, a frame header without its body), and what the target does
    meanwhile is what the case observes. What was seen, or None."""
    s = _session(x)
    last = _last_ping_before_the_end(s)
    if last is None or last.held_by_case or s.end is None:
        return None
    tolerance = timing_tolerance(s.target.ping_timeout)
    answered = last.answered
    # A pong written after the end had arrived was not in time, however soon after the ping, when nothing
    # the case sent could have brought the end about (none for pingTimeout before it): the ping came with
    # a heartbeat's end (socketioxide writes a ping its own starved process delayed in the same segment
    # as the close its timeout then sends). After recent input, the end may be the target's reaction,
    # whose segment carried a ping it had queued: the pong is then timed from the ping as usual.
    quiet = s.end.at - s.last_input >= s.target.ping_timeout - tolerance
    if answered is not None and answered > s.end.at and quiet:
        answered = None
    if answered is not None and answered - last.arrived < s.target.ping_timeout - tolerance:
        return None
    pong = (
        f"answered {answered - last.arrived:.3f} s after it arrived"
        if answered is not None
        else f"not answered before the end, {s.end.at - last.arrived:.3f} s after it arrived"
    )
    timeout = s.target.ping_timeout
    return f"the target's ping was {pong} (its pingTimeout is {timeout:.3f} s); the session ended: {s.end.how}"


def heartbeat_lapse(x: Session | SioClient) -> str | None:
    """Whether the target's heartbeat ended the session although the suite's pong to its last ping went out
    in time: the end came at the ping's timeout, pingTimeout after a ping that followed the case's last
    input (heartbeat_timed), no later than half a pingInterval past it (later, the timing says nothing of
    the heartbeat: an upgraded session's polling ends whenever its next GET is refused), and the pong left
    under pingTimeout less the tolerance after the ping arrived. The target's own defect (its timeout
    fired with the pong in hand, or its timer raced its reader), but not its reaction to the case: what
    the case then saw says nothing about the requirement it judges. What was seen, or None."""
    s = _session(x)
    last = _last_ping_before_the_end(s)
    if last is None or last.answered is None or s.end is None:
        return None
    timeout = s.target.ping_timeout
    tolerance = timing_tolerance(timeout)
    if last.answered - last.arrived >= timeout - tolerance:
        return None
    if s.end.at - last.arrived > timeout + max(tolerance, s.target.ping_interval / 2):
        return None
    if heartbeat_timed(s.pings, s.last_input, s.end.at, timeout) is not last:
        return None
    since = f"{last.arrived - s.last_input:.3f} s after the case's last input" if s.last_input else "with no input"
    return (
        f"the target's ping came {since} and was answered {last.answered - last.arrived:.3f} s after it arrived, "
        f"yet the session ended {s.end.at - last.arrived:.3f} s after the ping ({s.end.how}), at its pingTimeout "
        f"of {timeout:.3f} s"
    )


# ---------------------------------------------------------------------------- EIO-HB-02
# The suite holds its pong back on purpose, three quarters of pingTimeout (less the timer allowance), so a
# server that times its next ping from its previous ping, not from the pong, sends it that much sooner
# than pingInterval after the pong, or before the pong at all when the hold outlasts its period. The
# judgement is one-sided and load-proof: the gap runs from just before the pong's write (the server
# cannot have had the pong sooner) to the next ping's arrival stamp, so a server that restarts its period
# at the pong is never early however late the suite's thread or the server is, and never pings while the
# pong is held; a server that does not restart it is early unless its own ping is later than the hold
# less the time its period leaves after the pong.
HELD_PONGS = 1
TIMER_EARLINESS = 0.02  # how much sooner than asked a server's timer may fire (timers round to the ms)


def pong_hold(ping_timeout: float) -> float:
    """How long the suite holds its pong back after the ping arrived; the last quarter of pingTimeout
    is left for the suite's own lateness (0.58 s of 0.8 s, 0.13 s of 0.2 s)."""
    return 0.75 * ping_timeout - TIMER_EARLINESS


def _is_message(p: Packet) -> bool:
    return isinstance(p, str) and p.startswith(wire.MESSAGE)


def held_pong_gaps(case: Case, s: Session, hold: float) -> list[tuple[float, float]] | float:
    """On a session whose pongs are the case's (auto_pong off): the first ping, then HELD_PONGS more,
    each pong written `hold` after its ping reached the machine. For each later ping, its gap from just
    before the pong before it (negative for a ping that came while the pong was held) and from the ping
    before it. When the suite itself wrote a pong too late for the server to owe it anything
    (pingTimeout - TIMER_EARLINESS after its ping or later: a loaded machine), how late, in seconds.
    Messages (the join's answers) are left out; anything else but a ping, or a session that ends, fails
    the case."""
    what = "Engine.IO packet other than a message"
    ping = expect_packet(case, s, lambda p: not _is_message(p), what, expected="2", must=True)
    case.must(ping == wire.PING, "server sends ping `2` (Socket.IO messages left out)", "2", ping)
    seen = len(s.pings)
    pinged = s.pings[-1].arrived
    gaps = []
    for _ in range(HELD_PONGS):
        held = [p for p in s.recv_all(max(0.0, pinged + hold - time.monotonic())) if not _is_message(p)]
        case.must(all(p == wire.PING for p in held), "only pings and messages while the pong is held", [], held)
        before_pong = time.monotonic()
        s.send(wire.PONG)
        written = time.monotonic() - pinged
        if written >= s.target.ping_timeout - TIMER_EARLINESS:
            return round(written, 3)
        if not held:
            ping = expect_packet(case, s, lambda p: not _is_message(p), what, expected="2", must=True)
            case.must(ping == wire.PING, "the next Engine.IO packet after the held pong is a ping", "2", ping)
        arrived = s.pings[seen].arrived
        gaps.append((round(arrived - before_pong, 3), round(arrived - pinged, 3)))
        seen, pinged = len(s.pings), s.pings[-1].arrived
    return gaps


def early_pings(gaps: list[tuple[float, float]], ping_interval: float) -> list[float]:
    """The gaps after a pong shorter than pingInterval (less what a timer may fire early)."""
    return [after_pong for after_pong, _ in gaps if after_pong < ping_interval - TIMER_EARLINESS]
