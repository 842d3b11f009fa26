"""Small steps the client cases share."""

from __future__ import annotations

from typing import Any

from clientside import wire
from clientside.journal import Entry
from clientside.scenario import WAIT_S, Run
from clientside.server import Session


def echo_back(run: Run, s: Session, name: str = "marker", nsp: str = "/", timeout: float = WAIT_S) -> Entry:
    """The client is alive and reading: it emits `name` when told to, and the server sees it."""
    mark = run.command(s, "do-emit", {"nsp": nsp, "event": name, "args": []}, nsp=nsp)
    return run.event(name, nsp, timeout, start=mark)


def delivered(
    run: Run, s: Session, name: str = "after", nsp: str = "/", timeout: float = WAIT_S, args: list[Any] | None = None
) -> Entry | None:
    """Sends an ordinary event; the fixture's line for it, or None if it never reported one."""
    start = len(run.fx.lines)
    s.emit(nsp, name, *(args or []))
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
    """The n-th session the server accepted, if the client opened one within `timeout`."""
    return run.srv.wait_session(n, timeout)
