"""Fixture application (conformance/FIXTURE.md) on python-socketio's threaded Server, served by
Werkzeug's threaded WSGI server: every HTTP request runs on a thread of its own, every WebSocket
connection reads on a thread of its own, and timers fire on further threads. The suite's own check that
nothing it reports depends on a race (`make test` runs it with every case repeated).

Socket.IO on /socket.io/, a bare Engine.IO echo on /engine.io/, bound to HOST only. Handlers of one
connection run one after another (`async_handlers=False`), as FIXTURE.md's ordering section asks; the
handler that waits for an acknowledgement with a timeout does so with a timer, not by blocking.
python-socketio has no connect timeout, no broadcast with acknowledgement, no dynamic namespaces, no
volatile emit and no way to call an acknowledgement twice: those parts are left out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import signal
import sys
import threading

import engineio
import socketio
from werkzeug.serving import make_server

NAMESPACES = ["/", "/custom", "/auth"]
PACKAGES = ("python-socketio", "python-engineio", "werkzeug")
VERSIONS = {name: importlib.metadata.version(name) for name in PACKAGES}


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
    return ap.parse_args()


class FixtureServer(socketio.Server):
    """FIXTURE.md asks for `auth` right after the CONNECT reply. python-socketio writes that reply once the
    connect handler has returned, and a task started from the handler would race it on another thread,
    so `auth` is emitted here, after the server's own connect handling (a private method, pinned by
    requirements.txt) has written the reply."""

    def _handle_connect(self, eio_sid, namespace, data):
        super()._handle_connect(eio_sid, namespace, data)
        ns = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, ns)
        if sid is not None and self.manager.is_connected(sid, ns):
            self.emit("auth", data if data is not None else {}, to=sid, namespace=ns)


class Log:
    """FIXTURE.md section 5, shared by every connection's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[dict] = []

    def add(self, entry: dict) -> None:
        with self.lock:
            self.records.append(entry)
        print(json.dumps(entry), flush=True)

    def take(self) -> list[dict]:
        with self.lock:
            out, self.records = self.records, []
        return out


def build(cfg: argparse.Namespace):
    common = dict(
        async_mode="threading",
        ping_interval=cfg.ping_interval / 1000,
        ping_timeout=cfg.ping_timeout / 1000,
        max_http_buffer_size=cfg.max_payload,
        cors_allowed_origins="*",
    )
    sio = FixtureServer(namespaces=NAMESPACES, async_handlers=False, **common)
    echo = engineio.Server(**common)

    @echo.on("message")
    def echo_message(sid, data):
        echo.send(sid, data)

    log = Log()
    for ns in NAMESPACES:
        register(sio, ns, log)
    echo_app = engineio.WSGIApp(echo, engineio_path="engine.io")
    return socketio.WSGIApp(sio, echo_app, socketio_path="socket.io")


def register(sio: socketio.Server, ns: str, log: Log) -> None:
    def rooms(sid: str) -> list:
        return list(sio.rooms(sid, namespace=ns))

    def members(room) -> list:
        return [s for s, _ in sio.manager.get_participants(ns, room)]

    @sio.on("connect", namespace=ns)
    def connect(sid, environ, auth=None):
        if ns == "/auth" and not (isinstance(auth, dict) and auth.get("token") == "ok"):
            if isinstance(auth, dict) and "withData" in auth:
                raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 42})
            raise socketio.exceptions.ConnectionRefusedError("not authorized")

    @sio.on("disconnect", namespace=ns)
    def disconnect(sid, reason=""):
        log.add({"event": "disconnecting", "nsp": ns, "sid": sid, "reason": str(reason), "rooms": rooms(sid)})
        log.add({"event": "disconnect", "nsp": ns, "sid": sid, "reason": str(reason), "rooms": []})

    @sio.on("message", namespace=ns)
    def message(sid, *args):
        sio.emit("message-back", tuple(args), to=sid, namespace=ns)

    @sio.on("message-with-ack", namespace=ns)
    def message_with_ack(sid, *args):
        return tuple(args)

    @sio.on("fixture-info", namespace=ns)
    def fixture_info(sid):
        # FIXTURE.md section 2: no dynamic namespaces, no request refusal, no volatile emit, no
        # double-ack, no upgrade timeout, no INITIAL_PACKET or RECOVERY setting.
        return {
            "name": "python-socketio (threading)",
            "version": VERSIONS["python-socketio"],
            "parts": ["extended", "close-connection", "auth", "connect-error-data", "echo", "log", "app-error"],
            "packages": VERSIONS,
            "settings": {"upgradeTimeoutMs": None},
        }

    @sio.on("join", namespace=ns)
    def join(sid, room):
        sio.enter_room(sid, room, namespace=ns)
        return rooms(sid)

    @sio.on("leave", namespace=ns)
    def leave(sid, room):
        sio.leave_room(sid, room, namespace=ns)
        return rooms(sid)

    @sio.on("rooms", namespace=ns)
    def rooms_event(sid):
        return rooms(sid)

    @sio.on("to", namespace=ns)
    def to(sid, room, *args):
        sio.emit("to", tuple(args), to=room, skip_sid=sid, namespace=ns)

    @sio.on("to-many", namespace=ns)
    def to_many(sid, room_list, *args):
        sio.emit("to", tuple(args), to=list(room_list), skip_sid=sid, namespace=ns)

    @sio.on("broadcast", namespace=ns)
    def broadcast(sid, *args):
        sio.emit("bc", tuple(args), skip_sid=sid, namespace=ns)

    @sio.on("nsp-emit", namespace=ns)
    def nsp_emit(sid, *args):
        sio.emit("nsp", tuple(args), namespace=ns)

    @sio.on("except", namespace=ns)
    def except_(sid, room, *args):
        sio.emit("except", tuple(args), skip_sid=members(room), namespace=ns)

    @sio.on("to-except", namespace=ns)
    def to_except(sid, room, except_room, *args):
        sio.emit("except", tuple(args), to=room, skip_sid=members(except_room), namespace=ns)

    @sio.on("server-ack", namespace=ns)
    def server_ack(sid, *args):
        def result(*reply):
            sio.emit("ack-result", tuple(reply), to=sid, namespace=ns)

        sio.emit("need-ack", tuple(args), to=sid, namespace=ns, callback=result)

    @sio.on("server-ack-timeout", namespace=ns)
    def server_ack_timeout(sid, ms, *args):
        settled = threading.Lock()  # the ack and the timer race; whichever takes the lock first wins

        def result(*reply):
            if settled.acquire(blocking=False):
                sio.emit("ack-result", tuple(reply), to=sid, namespace=ns)

        def expire():
            if settled.acquire(blocking=False):
                sio.emit("ack-timeout", to=sid, namespace=ns)

        sio.emit("need-ack", tuple(args), to=sid, namespace=ns, callback=result)
        timer = threading.Timer(ms / 1000, expire)
        timer.daemon = True
        timer.start()

    @sio.on("server-bin", namespace=ns)
    def server_bin(sid):
        sio.emit("bin", (b"\x01\x02", {"x": [b"\x03"]}), to=sid, namespace=ns)

    @sio.on("disconnect-me", namespace=ns)
    def disconnect_me(sid, close=False):
        if close:
            sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, ns))
        else:
            sio.disconnect(sid, namespace=ns)

    @sio.on("log", namespace=ns)
    def log_event(sid):
        return log.take()  # a list is one ack argument (a tuple would be several)

    @sio.on("app-error", namespace=ns)
    def app_error(sid, *args):
        raise RuntimeError("app-error")  # FIXTURE.md section 3: the application fails on this event


def main() -> None:
    cfg = settings()
    server = make_server(cfg.host, cfg.port, build(cfg), threaded=True)
    print(f"READY {server.socket.getsockname()[1]}", flush=True)

    def stop(signum, frame) -> None:
        # shutdown() waits for serve_forever() to return, so it runs on a thread of its own.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
