"""Small helpers shared by the wire-level cases."""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

from harness import http as rawhttp
from harness import tracking, wire
from harness.eio import query
from harness.http import HttpResponse
from harness.targets import Target
from harness.ws import WsClient, WsRejected


def get(target: Target, url: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return rawhttp.request(target.host, target.port, "GET", url, headers=headers, timeout=target.reply + 1.0)


def req(
    target: Target, method: str, url: str, body: bytes | None = None, headers: list[tuple[str, str]] | None = None
) -> HttpResponse:
    return rawhttp.request(
        target.host, target.port, method, url, headers=headers, body=body, timeout=target.reply + 1.0
    )


def json_body(resp: HttpResponse) -> Any:
    try:
        return json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def open_packet(text: str) -> dict | None:
    """The open packet's object in the text of a v4 handshake body (or of a WebSocket message)."""
    return wire.open_packet(text.split(wire.RS)[0])


def v3_sid(resp: HttpResponse) -> str:
    """The sid of a v3 polling handshake (any v3 payload form)."""
    info = wire.open_packet_of_body(resp.body, eio=3)
    if info is None or not isinstance(info.get("sid"), str):
        raise AssertionError(f"v3 handshake without an open packet: {resp.summary()}")
    return info["sid"]


def handshake_works(target: Target) -> str | None:
    """None if a new polling handshake succeeds within the reply deadline, else what happened instead
    (refused, reset, silence): the check that the server survived what a case sent it."""
    try:
        resp = rawhttp.request(target.host, target.port, "GET", query(target.sio_path, "polling"), timeout=target.reply)
    except Exception as exc:  # the failure itself is the observation
        return f"{type(exc).__name__}: {exc}"
    return None if resp.status == 200 else resp.summary()


def raw_exchange(
    target: Target, data: bytes, timeout: float | None = None, reset: bool = False, until: bytes | None = None
) -> bytes:
    """Write `data` on a new TCP connection and return what the server writes until it closes the
    connection, `until` appears in it (b"\r\n\r\n": the end of a response head) or `timeout` (default:
    the reply deadline) passes. With `reset`, the connection is then aborted with a TCP RST, not a FIN."""
    sock = socket.create_connection((target.host, target.port), timeout=target.reply)
    tracking.register(sock, f"{target.host}:{target.port}")
    seen = b""
    try:
        tracking.send(sock, data)
        deadline = time.monotonic() + (target.reply if timeout is None else timeout)
        for _ in range(10000):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = tracking.recv(sock)
            except OSError:  # timeout or reset: what arrived so far is the answer
                break
            if not chunk:
                break
            seen += chunk
            if until is not None and until in seen:
                break
    finally:
        if reset:  # close() with a zero linger time sends RST (no FIN first, so no shutdown())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            tracking.forget(sock)
            sock.close()
        else:
            tracking.close(sock)
    return seen


def ws_outcome(target: Target, url: str) -> tuple[str, Any]:
    """How a WebSocket upgrade attempt ends: ('rejected', response, or what came instead of one when there
    was none), ('open', first text) or ('closed', msg)."""
    try:
        ws = WsClient.connect(target.host, target.port, url, timeout=target.reply)
    except WsRejected as rej:
        return "rejected", rej.response if rej.response is not None else str(rej)
    try:
        msg = ws.recv(target.reply)
        if msg.kind == "text" and msg.text.startswith("0{"):
            return "open", msg.text
        if msg.ended:
            return "closed", msg
        end = ws.wait_closed(target.reply)
        return ("closed", msg) if end is not None else ("open", msg)
    except TimeoutError:
        return "open", f"no frame and no close within {target.reply:.2f} s"
    finally:
        ws.close()
