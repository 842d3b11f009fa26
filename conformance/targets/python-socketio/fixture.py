"""Fixture application (conformance/FIXTURE.md) on python-socketio's AsyncServer with aiohttp.

Socket.IO on /socket.io/, a bare Engine.IO echo on /engine.io/, bound to HOST only.
python-socketio has no connect timeout, no broadcast-with-ack and no dynamic namespaces; those
fixture parts are left out, so the suite reports them as the server really is.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import signal
import sys

PACKAGES = ("python-socketio", "python-engineio", "aiohttp", "redis")


def installed_versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


VERSIONS = installed_versions()
# This fixture drives python-socketio 5.x (Socket.IO protocol v5); anything else is refused in one line.
if not VERSIONS.get("python-socketio", "").startswith("5."):
    print(
        f"UNSUPPORTED python-socketio {VERSIONS.get('python-socketio', '(not installed)')}: "
        "this fixture drives python-socketio 5.x",
        flush=True,
    )
    sys.exit(3)

import engineio  # noqa: E402  (after the version check, which must not need them)
import socketio  # noqa: E402
from aiohttp import web  # noqa: E402

NAMESPACES = ["/", "/custom", "/auth"]


def settings() -> argparse.Namespace:
    env = os.environ.get
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default=env("HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(env("PORT", "0")))
    ap.add_argument("--ping-interval", type=int, default=int(env("PING_INTERVAL_MS", "1000")))
    ap.add_argument("--ping-timeout", type=int, default=int(env("PING_TIMEOUT_MS", "1000")))
    ap.add_argument("--max-payload", type=int, default=int(env("MAX_PAYLOAD", "1000000")))
    ap.add_argument("--connect-timeout", type=int, default=int(env("CONNECT_TIMEOUT_MS", "1000")))
    ap.add_argument("--eio3", action="store_true", default=env("EIO3", "0") == "1")
    # FIXTURE.md section 8: join a cluster through python-socketio's own Redis manager. Its messages
    # are its own (one channel, JSON dicts), not those of Node's Redis adapter.
    ap.add_argument("--adapter", default=env("ADAPTER", ""))
    ap.add_argument("--adapter-key", default=env("ADAPTER_KEY", ""))
    return ap.parse_args()


def build(cfg: argparse.Namespace) -> web.Application:
    common = dict(
        async_mode="aiohttp",
        ping_interval=cfg.ping_interval / 1000,
        ping_timeout=cfg.ping_timeout / 1000,
        max_http_buffer_size=cfg.max_payload,
        cors_allowed_origins="*",
    )
    manager = {}
    if cfg.adapter:
        channel = cfg.adapter_key or "socketio"
        manager = {"client_manager": socketio.AsyncRedisManager(cfg.adapter, channel=channel)}
    sio = socketio.AsyncServer(namespaces=NAMESPACES, **manager, **common)
    echo = engineio.AsyncServer(**common)
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    echo.attach(app, engineio_path="engine.io")

    @echo.on("message")
    async def echo_message(sid, data):
        await echo.send(sid, data)

    records: list[dict] = []

    def record(entry: dict) -> None:
        records.append(entry)
        print(json.dumps(entry), flush=True)

    for ns in NAMESPACES:
        register(sio, ns, record, records, clustered=bool(cfg.adapter))
    return app


def register(sio: socketio.AsyncServer, ns: str, record, records: list, clustered: bool) -> None:
    def rooms(sid: str) -> list:
        return list(sio.rooms(sid, namespace=ns))

    async def send_auth_later(sid: str, auth) -> None:
        await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=ns)

    @sio.on("connect", namespace=ns)
    async def connect(sid, environ, auth=None):
        if ns == "/auth" and not (isinstance(auth, dict) and auth.get("token") == "ok"):
            if isinstance(auth, dict) and "withData" in auth:
                raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 42})
            raise socketio.exceptions.ConnectionRefusedError("not authorized")
        # The CONNECT reply is written after this handler returns; `auth` must follow it.
        sio.start_background_task(send_auth_later, sid, auth)

    @sio.on("disconnect", namespace=ns)
    async def disconnect(sid, reason=""):
        record({"event": "disconnecting", "nsp": ns, "sid": sid, "reason": str(reason), "rooms": rooms(sid)})
        record({"event": "disconnect", "nsp": ns, "sid": sid, "reason": str(reason), "rooms": []})

    @sio.on("message", namespace=ns)
    async def message(sid, *args):
        await sio.emit("message-back", tuple(args), to=sid, namespace=ns)

    @sio.on("message-with-ack", namespace=ns)
    async def message_with_ack(sid, *args):
        return tuple(args)

    @sio.on("fixture-info", namespace=ns)
    async def fixture_info(sid):
        # FIXTURE.md section 2: no dynamic namespaces, no request refusal, no volatile emit, no
        # upgrade timeout, no INITIAL_PACKET or RECOVERY setting in python-socketio.
        # FIXTURE.md section 9: python-socketio's manager shares emits, room changes and
        # disconnects by socket id between servers; it has no cluster-wide room list, socket
        # list or server-side events, and no volatile emit.
        cluster_parts = ["cluster", "cluster-remote"] if clustered else []
        adapter_settings = {"adapter": {"protocol": "python-socketio"}} if clustered else {}
        return {
            "name": "python-socketio",
            "version": VERSIONS["python-socketio"],
            "parts": [
                "extended",
                "close-connection",
                "auth",
                "connect-error-data",
                "echo",
                "log",
                "app-error",
                *cluster_parts,
            ],
            "packages": VERSIONS,
            "settings": {"upgradeTimeoutMs": None, **adapter_settings},
        }

    async def maybe_await(value):
        if asyncio.iscoroutine(value):
            await value

    @sio.on("join", namespace=ns)
    async def join(sid, room):
        await maybe_await(sio.enter_room(sid, room, namespace=ns))
        return rooms(sid)

    @sio.on("leave", namespace=ns)
    async def leave(sid, room):
        await maybe_await(sio.leave_room(sid, room, namespace=ns))
        return rooms(sid)

    @sio.on("rooms", namespace=ns)
    async def rooms_event(sid):
        return rooms(sid)

    @sio.on("to", namespace=ns)
    async def to(sid, room, *args):
        await sio.emit("to", tuple(args), to=room, skip_sid=sid, namespace=ns)

    @sio.on("to-many", namespace=ns)
    async def to_many(sid, room_list, *args):
        await sio.emit("to", tuple(args), to=list(room_list), skip_sid=sid, namespace=ns)

    @sio.on("broadcast", namespace=ns)
    async def broadcast(sid, *args):
        await sio.emit("bc", tuple(args), skip_sid=sid, namespace=ns)

    @sio.on("nsp-emit", namespace=ns)
    async def nsp_emit(sid, *args):
        await sio.emit("nsp", tuple(args), namespace=ns)

    def members(room) -> list:
        return [s for s, _ in sio.manager.get_participants(ns, room)]

    @sio.on("except", namespace=ns)
    async def except_(sid, room, *args):
        await sio.emit("except", tuple(args), skip_sid=members(room), namespace=ns)

    @sio.on("to-except", namespace=ns)
    async def to_except(sid, room, except_room, *args):
        await sio.emit("except", tuple(args), to=room, skip_sid=members(except_room), namespace=ns)

    @sio.on("server-ack", namespace=ns)
    async def server_ack(sid, *args):
        async def result(*reply):
            await sio.emit("ack-result", tuple(reply), to=sid, namespace=ns)

        await sio.emit("need-ack", tuple(args), to=sid, namespace=ns, callback=result)

    @sio.on("server-ack-timeout", namespace=ns)
    async def server_ack_timeout(sid, ms, *args):
        try:
            reply = await sio.call("need-ack", tuple(args), to=sid, namespace=ns, timeout=ms / 1000)
        except socketio.exceptions.TimeoutError:
            await sio.emit("ack-timeout", to=sid, namespace=ns)
            return
        reply = reply if isinstance(reply, tuple) else (reply,)
        await sio.emit("ack-result", reply, to=sid, namespace=ns)

    # No `double-ack`: a handler acks by returning, once, so the second call of FIXTURE.md cannot be
    # made; FIXTURE.md asks such a fixture to leave the event out.

    @sio.on("server-bin", namespace=ns)
    async def server_bin(sid):
        await sio.emit("bin", (b"\x01\x02", {"x": [b"\x03"]}), to=sid, namespace=ns)

    @sio.on("disconnect-me", namespace=ns)
    async def disconnect_me(sid, close=False):
        if close:
            await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, ns))
        else:
            await sio.disconnect(sid, namespace=ns)

    @sio.on("log", namespace=ns)
    async def log(sid):
        out = list(records)
        records.clear()
        return out  # a list is one ack argument; a tuple would be several

    if clustered:
        register_cluster(sio, ns)

    @sio.on("app-error", namespace=ns)
    async def app_error(sid, *args):
        # FIXTURE.md section 3: the application fails on this event. python-socketio has no
        # volatile emit, so `volatile` is left out.
        raise RuntimeError("app-error")


def register_cluster(sio: socketio.AsyncServer, ns: str) -> None:
    """FIXTURE.md section 9, the events python-socketio's manager can do across servers."""

    @sio.on("local-emit", namespace=ns)
    async def local_emit(sid, *args):
        # The manager's own local delivery, without the publication that follows it in a cluster.
        await socketio.AsyncManager.emit(sio.manager, "local", tuple(args), namespace=ns)

    @sio.on("remote-join", namespace=ns)
    async def remote_join(sid, room, target):
        await sio.manager.enter_room(target, ns, room)

    @sio.on("remote-leave", namespace=ns)
    async def remote_leave(sid, room, target):
        await sio.manager.leave_room(target, ns, room)

    @sio.on("remote-disconnect", namespace=ns)
    async def remote_disconnect(sid, target, close=False):
        await sio.manager.disconnect(target, namespace=ns)


async def main() -> None:
    cfg = settings()
    runner = web.AppRunner(build(cfg), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
