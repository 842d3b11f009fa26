"""A small Engine.IO v4 / Socket.IO v5 server with two planted bugs, for the fuzzer's self-test.

It serves what the fuzzer's sessions need (polling handshake, POST and GET, WebSocket with or without a
prior polling session, CONNECT answers) and nothing more, on the codec's decoders. The bugs:
  - a Socket.IO CONNECT whose payload is `null` kills the process (exit status 70), as it killed
    socket.io 4.6.1;
  - a Socket.IO CONNECT to the namespace `/admin` blocks the event loop for good: the process lives
    but answers nobody;
  - a Socket.IO CONNECT to the namespace `/custom` keeps 40 MB that are never freed (armed only when
    asked for, with `leak`).
Started like any fixture (conformance/FIXTURE.md section 1): `--host`, `--port`, `READY <port>`.
PLANTED_BUGS (environment) lists the bugs that are armed: `crash,hang` (the default), or any of
`crash`, `hang`, `leak`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "conformance"))

from siocodec import CodecError  # noqa: E402
from siocodec import eio as codec_eio  # noqa: E402
from siocodec import ws as codec_ws  # noqa: E402

HANG_NAMESPACE = b"/admin"
LEAK_NAMESPACE = b"/custom"
LEAK_BYTES = 40_000_000
ARMED = set(os.environ.get("PLANTED_BUGS", "crash,hang").split(","))
LEAKED: list[bytes] = []
OPEN = '0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}'


class Session:
    def __init__(self) -> None:
        self.sid = secrets.token_urlsafe(15)
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()


SESSIONS: dict[str, Session] = {}


def planted(packet: bytes) -> None:
    """The bugs: `packet` is a Socket.IO packet (the Engine.IO message data)."""
    if packet[:1] != b"0":
        return
    nsp, body = b"/", packet[1:]
    if body.startswith(b"/"):
        nsp, _, body = body.partition(b",")
    if body == b"null" and "crash" in ARMED:
        sys.stderr.write("planted crash: a CONNECT with a null payload\n")
        sys.stderr.flush()
        os._exit(70)
    if nsp == LEAK_NAMESPACE and "leak" in ARMED:
        LEAKED.append(b"L" * LEAK_BYTES)  # written, so resident
    if nsp == HANG_NAMESPACE and "hang" in ARMED:
        sys.stderr.write("planted hang: a CONNECT to /admin\n")
        sys.stderr.flush()
        threading.Event().wait()  # the event loop never runs again


def on_message(s: Session, data: bytes) -> None:
    """An Engine.IO packet from the client; a Socket.IO CONNECT gets its answer, a close ends the session."""
    if data[:1] == b"1":
        SESSIONS.pop(s.sid, None)
    if data[:1] != b"4":
        return
    planted(data[1:])
    if data[1:2] == b"0":
        nsp = data[2:].split(b",", 1)[0] + b"," if data[2:3] == b"/" else b""
        s.queue.put_nowait(b"40" + nsp + b'{"sid":"' + secrets.token_urlsafe(15).encode() + b'"}')


async def respond(w: asyncio.StreamWriter, status: str, body: bytes, ctype: str = "text/plain; charset=UTF-8") -> None:
    w.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    await w.drain()


async def websocket(r: asyncio.StreamReader, w: asyncio.StreamWriter, headers: dict, s: Session | None) -> None:
    key = headers.get("sec-websocket-key", "").encode()
    w.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + codec_ws.accept_for(key).encode() + b"\r\n\r\n")  # fmt: skip
    session = s or Session()
    if s is None:
        SESSIONS[session.sid] = session
        w.write(codec_ws.encode_frame(1, OPEN.format(sid=session.sid).encode()))
    try:
        await ws_loop(r, w, session)
    finally:
        SESSIONS.pop(session.sid, None)  # the WebSocket carried the session: it ends with it


async def ws_loop(r: asyncio.StreamReader, w: asyncio.StreamWriter, session: Session) -> None:
    reader = codec_ws.StreamReader(codec_ws.ROLE_SERVER)
    while True:
        chunk = await r.read(65536)
        if not chunk:
            return
        try:
            messages = reader.feed(chunk)
        except CodecError:
            return
        for m in messages:
            if m["type"] == "text":
                data = m["data"]["text"].encode() if "text" in m["data"] else bytes.fromhex(m["data"].get("hex", ""))
                if data == b"2probe":
                    w.write(codec_ws.encode_frame(1, b"3probe"))
                else:
                    on_message(session, data)
            elif m["type"] == "close":
                return
        while not session.queue.empty():
            w.write(codec_ws.encode_frame(1, session.queue.get_nowait()))
        await w.drain()


async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, method: str, target: str, headers: dict,
                 body: bytes) -> bool:  # fmt: skip
    """One request; False when the connection has become a WebSocket (and has ended)."""
    path, _, query = target.partition("?")
    q = dict(p.partition("=")[::2] for p in query.split("&") if p)
    if path != "/socket.io/" or q.get("EIO") != "4":
        await respond(w, "400 Bad Request", b'{"code":0,"message":"Transport unknown"}', "application/json")
        return True
    session = SESSIONS.get(q.get("sid", ""))
    if "sid" in q and session is None:
        await respond(w, "400 Bad Request", b'{"code":1,"message":"Session ID unknown"}', "application/json")
        return True
    if q.get("transport") == "websocket" and headers.get("upgrade", "").lower() == "websocket":
        await websocket(r, w, headers, session)
        return False
    if session is None:
        session = Session()
        SESSIONS[session.sid] = session
        await respond(w, "200 OK", OPEN.format(sid=session.sid).encode())
    elif method == "POST":
        try:
            packets = codec_eio.decode_payload_format(codec_eio.PAYLOAD_V4, body, {})["packets"]
        except CodecError:
            await respond(w, "400 Bad Request", b'{"code":3,"message":"Bad request"}', "application/json")
            return True
        for p in packets:
            if "text" in p:
                on_message(session, str(codec_eio.TYPE_NAMES.index(p["type"])).encode() + p["text"].encode())
            if session.sid not in SESSIONS:
                break
        await respond(w, "200 OK", b"ok", "text/html")
    else:
        try:
            first = await asyncio.wait_for(session.queue.get(), 0.05)
        except TimeoutError:
            first = b"6"
        out = [first]
        while not session.queue.empty():
            out.append(session.queue.get_nowait())
        await respond(w, "200 OK", b"\x1e".join(out))
    return True


async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await r.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            body = await r.readexactly(int(headers.get("content-length", "0") or "0"))
            if not await handle(r, w, method, target, headers, body):
                return
            if headers.get("connection", "").lower() == "close":
                return
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        w.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "0")))
    args, _ = ap.parse_known_args()
    server = await asyncio.start_server(serve, args.host, args.port, limit=2_000_000)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
