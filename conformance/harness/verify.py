"""Verifiers in the manner of h2spec: each takes what the case expects, waits for it on a session, a
client or a WebSocket, and computes Actual from what was observed (the packets that arrived instead,
how and when the connection ended, how long it stayed silent). No case writes an Actual by hand.

Each verifier judges at the requirement's level (`Case.check`) unless `must=True`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .eio import NotReceived, Packet, Session, SessionEnded
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
    waited = (s.end.at if s.end is not None else time.monotonic()) - t0
    if isinstance(x, SioClient):
        x.pull_queued()  # so the packets show at Socket.IO level
    return how, waited, _pending(x) if isinstance(x, SioClient) else list(s.inbox)


def expect_closed(case: Case, x: Session | SioClient, what: str, timeout: float, *, must: bool = False) -> str | None:
    """The session must end within `timeout`. Actual: how and after how long it ended, or that it was
    still open at the deadline and what it received meanwhile."""
    how, waited, seen = closed_within(x, timeout)
    if how is not None:
        actual: Any = f"ended after {waited:.3f} s: {how}"
    else:
        actual = {"still open after": f"{waited:.2f} s", "received meanwhile": seen}
    _judge(case, how is not None, what, f"the session ends within {timeout:.2f} s", actual, must)
    return how


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
        return False, before + late, f"echo received, then the session ended after {waited:.3f} s: {how}"
    client.inbox[:0] = late  # not part of the reply to the packet under test; left for the case
    return True, before, f"echo received; still open {waited:.2f} s later"
