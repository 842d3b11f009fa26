#!/usr/bin/env python3
"""The fixture application of conformance/FIXTURE.md, reduced to what the server benchmarks drive
(echo, ack, rooms, room emit, broadcast), on python-socketio with aiohttp. Configuration from the
environment; binds only HOST; prints "READY <port>" when listening."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import socketio
from aiohttp import web


def env_ms(name: str, default: int) -> float:
    return int(os.environ.get(name, str(default))) / 1000.0


sio = socketio.AsyncServer(
    async_mode="aiohttp",
    # python-engineio takes seconds; it advertises whole seconds (a known deviation).
    ping_interval=env_ms("PING_INTERVAL_MS", 300),
    ping_timeout=env_ms("PING_TIMEOUT_MS", 200),
    max_http_buffer_size=int(os.environ.get("MAX_PAYLOAD", "1000000")),
    cors_allowed_origins="*",
    namespaces=["/", "/custom"],
)


async def connect(sid: str, environ: dict[str, Any], auth: Any = None, namespace: str = "/") -> None:
    await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)


def register(ns: str) -> None:
    """Same handlers on every accepted namespace, as the contract asks."""

    async def on_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await connect(sid, environ, auth, ns)

    async def on_message(sid: str, *args: Any) -> None:
        await sio.emit("message-back", args, to=sid, namespace=ns)

    async def on_message_with_ack(sid: str, *args: Any) -> tuple[Any, ...]:
        return args

    async def on_join(sid: str, room: str) -> list[str]:
        await sio.enter_room(sid, room, namespace=ns)
        return list(sio.rooms(sid, namespace=ns))

    async def on_leave(sid: str, room: str) -> list[str]:
        await sio.leave_room(sid, room, namespace=ns)
        return list(sio.rooms(sid, namespace=ns))

    async def on_to(sid: str, room: str, *args: Any) -> None:
        await sio.emit("to", args, room=room, skip_sid=sid, namespace=ns)

    async def on_broadcast(sid: str, *args: Any) -> None:
        await sio.emit("bc", args, skip_sid=sid, namespace=ns)

    sio.on("connect", on_connect, namespace=ns)
    sio.on("message", on_message, namespace=ns)
    sio.on("message-with-ack", on_message_with_ack, namespace=ns)
    sio.on("join", on_join, namespace=ns)
    sio.on("leave", on_leave, namespace=ns)
    sio.on("to", on_to, namespace=ns)
    sio.on("broadcast", on_broadcast, namespace=ns)


async def main() -> None:
    for ns in ("/", "/custom"):
        register(ns)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "0")))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
