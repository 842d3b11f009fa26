"""Small steps the client cases share."""

from __future__ import annotations

from typing import Any

from clientside import wire
from clientside.journal import Entry
from clientside.scenario import WAIT_S, Run
from clientside.server import Session


def echo_back(run: Run, s: Session, name: str = "marker", nsp: str = "/", timeout: float = WAIT_S) -> Entry:
    """The client is alive and reading: it emits `name` when told to, and the server sees it (the wait
    ends early when the client ended session `s`)."""
    mark = run.command(s, "do-emit", {"nsp": nsp, "event": name, "args": []}, nsp=nsp)
    return run.event(name, nsp, timeout, start=mark, on=s)


def delivered(
    run: Run, s: Session, name: str = "after", nsp: str = "/", timeout: float = WAIT_S, args: list[Any] | None = None
) -> Entry | None:
    """Sends an ordinary event, with one argument unless `args` says otherwise; the fixture's line for it,
    or None if it never reported one. An event without arguments is CSIO-EV-02's question, not the
    asking case's: rust_socketio 0.6.0 hands `42["after"]` to its `message` handler, with "after" as the
    argument, so a case asking whether the client still delivers events would judge that instead."""
    start = len(run.fx.lines)
    s.emit(nsp, name, *(args if args is not None else [1]))
    return run.maybe_line("event", timeout, start, name=name, nsp=nsp)


def connect_packets(run: Run, nsp: str, sid: str | None = None) -> list[wire.SioPacket]:
    return [
        e.item.packet
        for e in run.srv.sio
        if e.item.packet.type == wire.CONNECT and e.item.packet.nsp == nsp and (sid is None or e.item.sid == sid)
    ]


def polling_requests(run: Run, sid: str | None = None) -> list[Entry]:
    return [h for h in run.srv.http if not h.item.request.is_websocket and (sid is None or h.item.sid == sid)]


def ws_requests(run: Run) -> list[Entry]:
    return [h for h in run.srv.http if h.item.request.is_websocket]


def reconnected(run: Run, n: int = 2, timeout: float = WAIT_S) -> Session | None:
    """The client's n-th session (counted from the one it joined on), if it opened it within `timeout`."""
    return run.srv.wait_session(run.nth(n), timeout, run.pointless)


def dropped_then_back(run: Run, start: int, timeout: float = 3.0) -> tuple[Entry | None, Session | None, str]:
    """After the server broke the session: the fixture's `disconnect` line (from line `start`) and the
    client's next session, each waited for up to `timeout`. Without a disconnect the case has failed
    already, so the new session is not waited for beyond what came meanwhile; the third value says
    which wait the answer covers ("new session" or "new session before the disconnect wait ended")."""
    gone = run.maybe_line("disconnect", timeout, start)
    if gone is None:
        return None, run.srv.wait_session(run.nth(2), 0.0), "new session before the disconnect wait ended"
    return gone, reconnected(run, 2, timeout), "new session"
