"""Client fixture (conformance/CLIENT-FIXTURE.md) for python-socketio: `--sync` runs socketio.Client,
`--async` socketio.AsyncClient. The scripted server holds the scenario; this program connects as
configured, obeys do-* events, answers server acks by echoing the arguments, and prints one JSON
line per thing it saw."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import threading
from importlib.metadata import version
from typing import Any

import socketio

FEATURES = [
    "multiplex",
    "auth-object",
    "binary",
    "ack-answer",
    "ws-only",
    "polling-only",
    "upgrade",
    "attempts",
    "timeout",
    "restart",
]


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def to_native(v: Any) -> Any:
    if isinstance(v, list):
        return [to_native(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"$bin"}:
            return base64.b64decode(v["$bin"])
        return {k: to_native(x) for k, x in v.items()}
    return v


def to_wire(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)):
        return [to_wire(x) for x in v]
    if isinstance(v, dict):
        return {k: to_wire(x) for k, x in v.items()}
    return v


def client_options(config: dict[str, Any]) -> dict[str, Any]:
    rc = config.get("reconnection") or {}
    opts: dict[str, Any] = {"reconnection": rc.get("enabled", True) is not False}
    if rc.get("delayMs") is not None:
        opts["reconnection_delay"] = rc["delayMs"] / 1000.0
    if rc.get("delayMaxMs") is not None:
        opts["reconnection_delay_max"] = rc["delayMaxMs"] / 1000.0
    if rc.get("jitter") is not None:
        opts["randomization_factor"] = rc["jitter"]
    if rc.get("attempts") is not None:
        opts["reconnection_attempts"] = rc["attempts"]
    if config.get("timeoutMs") is not None:
        opts["request_timeout"] = config["timeoutMs"] / 1000.0
    return opts


def url_of(config: dict[str, Any]) -> str:
    url = config["url"]
    if config.get("query"):
        from urllib.parse import urlencode

        url += "?" + urlencode(config["query"])
    return url


def connect_args(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "auth": config.get("auth"),
        "transports": config.get("transports")
        if config.get("upgrade", True)
        else [config.get("transports", ["polling"])[0]],
        "namespaces": config.get("namespaces") or ["/"],
        "socketio_path": config.get("path", "/socket.io/"),
        "wait_timeout": 5,
        "retry": True,
    }


class Fixture:
    """What both flavours share: the report lines and the command table."""

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.leaving = False

    def emit_args(self, action: dict[str, Any], i: int | None) -> tuple[Any, ...]:
        args = to_native(action.get("args") or [])
        if i is not None:
            args.append(i)
        return tuple(args)

    def ack_reporter(self, nsp: str, tag: Any):
        return lambda *res: say({"ev": "ack", "nsp": nsp, "tag": tag, "args": to_wire(list(res))})


class ReportingClient(socketio.Client):
    """python-socketio counts itself connected only when `connect()` returns, after the connect
    handlers ran: `ready` says when (the initial call, and each reconnection's, which goes through it)."""

    def connect(self, *args: Any, **kwargs: Any) -> None:
        super().connect(*args, **kwargs)
        say({"ev": "ready"})


class ReportingAsyncClient(socketio.AsyncClient):
    """The asyncio flavour of ReportingClient."""

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        await super().connect(*args, **kwargs)
        say({"ev": "ready"})


def run_sync(config: dict[str, Any]) -> None:
    # python-engineio handles each message in a thread of its own, so commands run side by side as in any
    # threaded application. Threads switch every 10 µs instead of 5 ms: a race between two of them (two
    # emits whose packets interleave) then shows within a case's trials instead of one run in a few.
    sys.setswitchinterval(1e-5)
    start_sync_client(config)
    threading.Event().wait()


def start_sync_client(config: dict[str, Any]) -> None:
    """A new socketio.Client from `config`, connected as at start (`do-restart` calls it again)."""
    sio = ReportingClient(**client_options(config))
    fx = Fixture(config)

    def perform(action: dict[str, Any], where: str) -> None:
        kind = action.get("do")
        nsp = action.get("nsp") or "/"
        try:
            if kind in ("emit", "emit-ack"):
                if action.get("volatile"):
                    say({"ev": "unsupported", "command": "volatile"})
                    return
                count = action.get("count")
                for i in range(count or 1):
                    cb = fx.ack_reporter(nsp, action.get("tag")) if kind == "emit-ack" else None
                    sio.emit(action["event"], fx.emit_args(action, i if count else None), namespace=nsp, callback=cb)
            elif kind == "disconnect":
                fx.leaving = True

                def leave() -> None:
                    # disconnect() returns once python-engineio's read loop ended, and that loop waits for
                    # its write loop: nothing the client queued is left to send when the process exits.
                    sio.disconnect()
                    os._exit(0)

                threading.Thread(target=leave, daemon=True).start()
            elif kind == "restart":
                fx.leaving = True

                def again() -> None:
                    sio.disconnect()
                    start_sync_client(config)

                threading.Thread(target=again, daemon=True).start()
            else:
                say({"ev": "unsupported", "command": kind, "where": where})
        except Exception as exc:  # reported, not fatal: the case judges it
            say({"ev": "error", "message": f"{type(exc).__name__}: {exc}", "command": kind})

    def on_any(event: str, namespace: str, *args: Any) -> Any:
        say({"ev": "event", "nsp": namespace, "name": event, "args": to_wire(list(args))})
        if isinstance(event, str) and event.startswith("do-"):
            perform({**(args[0] if args and isinstance(args[0], dict) else {}), "do": event[3:]}, "command")
        return tuple(args)

    def on_connect(namespace: str) -> None:
        say({"ev": "connect", "nsp": namespace, "id": sio.get_sid(namespace)})
        for a in config.get("on_connect") or []:
            if (a.get("nsp") or "/") == namespace:
                perform(a, "on_connect")

    def on_disconnect(namespace: str, reason: Any = None) -> None:
        say({"ev": "disconnect", "nsp": namespace, "reason": str(reason) if reason is not None else None})
        if not fx.leaving:
            for a in config.get("on_disconnect") or []:
                if (a.get("on") or "/") == namespace:
                    perform(a, "on_disconnect")

    def on_connect_error(namespace: str, data: Any = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        payload = data.get("data") if isinstance(data, dict) else None
        say({"ev": "connect_error", "nsp": namespace, "message": message, "data": to_wire(payload)})

    for nsp in config.get("namespaces") or ["/"]:
        # A namespace with handlers of its own takes its catch-all from its own table.
        sio.on("*", (lambda n: lambda event, *args: on_any(event, n, *args))(nsp), namespace=nsp)
        sio.on("connect", (lambda n: lambda: on_connect(n))(nsp), namespace=nsp)
        sio.on("disconnect", (lambda n: lambda reason=None: on_disconnect(n, reason))(nsp), namespace=nsp)
        sio.on("connect_error", (lambda n: lambda data=None: on_connect_error(n, data))(nsp), namespace=nsp)
    try:
        try:
            sio.connect(url_of(config), **connect_args(config))
        except TypeError:  # releases before 5.12 have no `retry`
            sio.connect(url_of(config), **{k: v for k, v in connect_args(config).items() if k != "retry"})
    except Exception as exc:
        say({"ev": "connect_error", "nsp": "/", "message": f"{type(exc).__name__}: {exc}", "data": None})
    watch_reconnection(sio, lambda: sio._reconnect_task, fx)


def watch_reconnection(sio: Any, task_of, fx: Fixture) -> None:
    """python-socketio reports no final failure; its reconnection task ending unconnected is one. The
    watch ends with the client (`do-restart` replaces it)."""

    def watch() -> None:
        while not fx.leaving:
            task = task_of()
            if task is not None:
                task.join()
                if not sio.connected and not fx.leaving:
                    say({"ev": "reconnect_failed"})
                    return
            threading.Event().wait(0.05)

    threading.Thread(target=watch, daemon=True).start()


async def run_async(config: dict[str, Any]) -> None:
    await start_async_client(config)
    await asyncio.Event().wait()


async def start_async_client(config: dict[str, Any]) -> None:
    """A new socketio.AsyncClient from `config`, connected as at start (`do-restart` calls it again)."""
    sio = ReportingAsyncClient(**client_options(config))
    fx = Fixture(config)

    async def perform(action: dict[str, Any], where: str) -> None:
        kind = action.get("do")
        nsp = action.get("nsp") or "/"
        try:
            if kind in ("emit", "emit-ack"):
                if action.get("volatile"):
                    say({"ev": "unsupported", "command": "volatile"})
                    return
                count = action.get("count")
                for i in range(count or 1):
                    cb = fx.ack_reporter(nsp, action.get("tag")) if kind == "emit-ack" else None
                    await sio.emit(
                        action["event"], fx.emit_args(action, i if count else None), namespace=nsp, callback=cb
                    )
            elif kind == "disconnect":
                fx.leaving = True
                await sio.disconnect()  # as in the sync client: returns once both engine loops ended
                os._exit(0)
            elif kind == "restart":
                fx.leaving = True
                await sio.disconnect()
                asyncio.ensure_future(start_async_client(config))
            else:
                say({"ev": "unsupported", "command": kind, "where": where})
        except Exception as exc:
            say({"ev": "error", "message": f"{type(exc).__name__}: {exc}", "command": kind})

    async def on_any(event: str, namespace: str, *args: Any) -> Any:
        say({"ev": "event", "nsp": namespace, "name": event, "args": to_wire(list(args))})
        if isinstance(event, str) and event.startswith("do-"):
            asyncio.ensure_future(
                perform({**(args[0] if args and isinstance(args[0], dict) else {}), "do": event[3:]}, "command")
            )
        return tuple(args)

    def catch_all(nsp: str):
        # A coroutine function of its own: AsyncClient awaits only handlers that are one.
        async def handler(event: str, *args: Any) -> Any:
            return await on_any(event, nsp, *args)

        return handler

    def handlers(nsp: str):
        async def on_connect() -> None:
            say({"ev": "connect", "nsp": nsp, "id": sio.get_sid(nsp)})
            for a in config.get("on_connect") or []:
                if (a.get("nsp") or "/") == nsp:
                    await perform(a, "on_connect")

        async def on_disconnect(reason: Any = None) -> None:
            say({"ev": "disconnect", "nsp": nsp, "reason": str(reason) if reason is not None else None})
            if not fx.leaving:
                for a in config.get("on_disconnect") or []:
                    if (a.get("on") or "/") == nsp:
                        await perform(a, "on_disconnect")

        async def on_connect_error(data: Any = None) -> None:
            message = data.get("message") if isinstance(data, dict) else data
            payload = data.get("data") if isinstance(data, dict) else None
            say({"ev": "connect_error", "nsp": nsp, "message": message, "data": to_wire(payload)})

        return on_connect, on_disconnect, on_connect_error

    for nsp in config.get("namespaces") or ["/"]:
        c, d, e = handlers(nsp)
        sio.on("*", catch_all(nsp), namespace=nsp)
        sio.on("connect", c, namespace=nsp)
        sio.on("disconnect", d, namespace=nsp)
        sio.on("connect_error", e, namespace=nsp)
    try:
        try:
            await sio.connect(url_of(config), **connect_args(config))
        except TypeError:  # releases before 5.12 have no `retry`
            await sio.connect(url_of(config), **{k: v for k, v in connect_args(config).items() if k != "retry"})
    except Exception as exc:
        say({"ev": "connect_error", "nsp": "/", "message": f"{type(exc).__name__}: {exc}", "data": None})
    asyncio.ensure_future(watch_async_reconnection(sio, fx))


async def watch_async_reconnection(sio: Any, fx: Fixture) -> None:
    """The asyncio flavour of watch_reconnection."""
    while not fx.leaving:
        task = sio._reconnect_task
        if task is not None:
            await task
            if not sio.connected and not fx.leaving:
                say({"ev": "reconnect_failed"})
                return
        await asyncio.sleep(0.05)


def main() -> None:
    flavour = "async" if "--async" in sys.argv else "sync"
    rest = [a for a in sys.argv[1:] if a not in ("--sync", "--async")]
    if rest and rest[0] == "--capabilities":
        say(
            {
                "agent": f"python-socketio {version('python-socketio')} {flavour} "
                f"(python-engineio {version('python-engineio')})",
                "features": FEATURES,
                "ready": True,
            }
        )
        return
    config = json.loads(rest[0])
    if flavour == "sync":
        run_sync(config)
    else:
        asyncio.run(run_async(config))


if __name__ == "__main__":
    main()
