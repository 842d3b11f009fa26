"""Engine.IO v4 sessions over the raw transports: polling, WebSocket, and polling upgraded to WebSocket.

All three expose the same small interface (send packets, receive the next packet from a queue, wait
for the session to end), so Socket.IO tests run unchanged over each of them.
Packets are `str` for text packets ("4hello", "2") and `bytes` for binary messages.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
from dataclasses import dataclass

from . import http as rawhttp
from .targets import Target
from .ws import OP_TEXT, Frame, Message, WsClient, WsRejected

Packet = str | bytes
RS = "\x1e"
TRANSPORTS = ("polling", "websocket", "upgrade")


class SessionEnded(Exception):
    """The session ended (400 on polling, close/eof on WebSocket) while a packet was awaited."""

    def __init__(self, how: str):
        self.how = how
        super().__init__(how)


@dataclass
class _End:
    how: str


def encode_payload(packets: list[Packet]) -> bytes:
    parts = []
    for p in packets:
        parts.append("b" + base64.b64encode(p).decode() if isinstance(p, bytes) else p)
    return RS.join(parts).encode("utf-8")


def decode_payload(body: bytes) -> list[Packet]:
    text = body.decode("utf-8", errors="surrogateescape")
    out: list[Packet] = []
    for rec in text.split(RS):
        if rec.startswith("b"):
            out.append(base64.b64decode(rec[1:] + "=" * (-len(rec[1:]) % 4)))
        else:
            out.append(rec)
    return out


def query(path: str, transport: str, sid: str | None = None, eio: str = "4", extra: str = "") -> str:
    q = f"{path}?EIO={eio}&transport={transport}"
    if sid is not None:
        q += f"&sid={sid}"
    return q + extra


class Session:
    transport = ""

    def __init__(self, target: Target, path: str):
        self.target = target
        self.path = path
        self.sid = ""
        self.open: dict = {}
        self.packets: queue.Queue[Packet | _End] = queue.Queue()
        self.ended: str | None = None

    def recv(self, timeout: float | None = None) -> Packet:
        """Next packet, waiting at most `timeout` (default: the target's reply deadline)."""
        if self.ended is not None:
            raise SessionEnded(self.ended)
        t = self.target.reply if timeout is None else timeout
        try:
            item = self.packets.get(timeout=max(0.0, t))
        except queue.Empty:
            raise TimeoutError(f"no packet within {t:.2f}s") from None
        if isinstance(item, _End):
            self.ended = item.how
            raise SessionEnded(item.how)
        return item

    def recv_all(self, timeout: float) -> list[Packet]:
        """Everything that arrives within `timeout`; stops early if the session ends."""
        out: list[Packet] = []
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            try:
                out.append(self.recv(deadline - time.monotonic()))
            except (TimeoutError, SessionEnded):
                break
        return out

    def wait_ended(self, timeout: float) -> str | None:
        """Drop packets until the session ends; how it ended, or None at the deadline."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            try:
                self.recv(deadline - time.monotonic())
            except SessionEnded as end:
                return end.how
            except TimeoutError:
                return None
        return None

    def send(self, *packets: Packet) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PollingSession(Session):
    transport = "polling"

    def __init__(self, target: Target, path: str):
        super().__init__(target, path)
        self._post_lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._held: rawhttp.PendingRequest | None = None
        self._held_lock = threading.Lock()  # close() must see the GET the poller is about to hold
        self.auto_pong = True

    @classmethod
    def handshake(cls, target: Target, path: str, extra: str = "") -> PollingSession:
        s = cls(target, path)
        resp = rawhttp.request(
            target.host, target.port, "GET", query(path, "polling", extra=extra), timeout=target.reply
        )
        if resp.status != 200:
            raise AssertionError(f"polling handshake failed: {resp.summary()}")
        packets = decode_payload(resp.body)
        first = packets[0]
        if not isinstance(first, str) or not first.startswith("0"):
            raise AssertionError(f"polling handshake: first packet is not an open packet: {first!r}")
        s.open = json.loads(first[1:])
        s.sid = s.open["sid"]
        for p in packets[1:]:
            s.packets.put(p)
        return s

    def url(self, extra: str = "") -> str:
        return query(self.path, "polling", self.sid, extra=extra)

    def get(self, timeout: float | None = None, extra: str = "") -> rawhttp.HttpResponse:
        t = self.target.reply + 1.0 if timeout is None else timeout
        return rawhttp.request(self.target.host, self.target.port, "GET", self.url(extra), timeout=t)

    def start_get(self, timeout: float | None = None, extra: str = "") -> rawhttp.PendingRequest:
        t = self.target.reply + 1.0 if timeout is None else timeout
        return rawhttp.start_request(self.target.host, self.target.port, "GET", self.url(extra), timeout=t)

    def post(
        self,
        body: bytes | str,
        headers: list[tuple[str, str]] | None = None,
        timeout: float | None = None,
        extra: str = "",
    ) -> rawhttp.HttpResponse:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = headers if headers is not None else [("Content-Type", "text/plain;charset=UTF-8")]
        with self._post_lock:
            return rawhttp.request(
                self.target.host,
                self.target.port,
                "POST",
                self.url(extra),
                headers=hdrs,
                body=data,
                timeout=self.target.reply if timeout is None else timeout,
            )

    def send(self, *packets: Packet) -> None:
        resp = self.post(encode_payload(list(packets)))
        if resp.status != 200:
            raise SessionEnded(f"POST answered {resp.summary()}")

    def start_poller(self, auto_pong: bool = True) -> None:
        """Keep one GET held at all times and feed what arrives into the packet queue."""
        self.auto_pong = auto_pong
        self._poller = threading.Thread(target=self._poll_loop, daemon=True, name=f"poller {self.sid}")
        self._poller.start()

    def _poll_loop(self) -> None:
        for _ in range(100000):
            if self._stop.is_set():
                return
            try:
                with self._held_lock:
                    if self._stop.is_set():
                        return
                    self._held = held = self.start_get()
                resp = held.result(self.target.reply + 2.0)
            except Exception as exc:  # the test thread is told through the queue
                if not self._stop.is_set():
                    self.packets.put(_End(f"GET failed: {exc}"))
                return
            if resp.status != 200:
                self.packets.put(_End(f"GET answered {resp.summary()}"))
                return
            for p in decode_payload(resp.body):
                if p == "2" and self.auto_pong:
                    try:
                        self.post("3")
                    except Exception:
                        pass
                elif p == "1":
                    self.packets.put(_End("close packet 1"))
                    return
                elif p == "6":
                    continue
                else:
                    self.packets.put(p)

    def stop_poller(self, timeout: float) -> bool:
        """Ask the poller to stop after its current GET; True if it stopped within `timeout`."""
        self._stop.set()
        if self._poller is None:
            return True
        self._poller.join(timeout)
        return not self._poller.is_alive()

    def close(self) -> None:
        self._stop.set()
        with self._held_lock:
            held = self._held
        if held is not None:
            held.abort()
        if self._poller is not None:
            self._poller.join(1.0)


class WebSocketSession(Session):
    transport = "websocket"

    def __init__(self, target: Target, path: str):
        super().__init__(target, path)
        self.ws: WsClient | None = None
        self.auto_pong = True
        self.skip_noop = True  # a noop carries nothing; cases that look for one read raw frames

    def _keepalive(self) -> None:
        """For servers with the v3 heartbeat: ping every pingInterval while the session lives."""
        assert self.ws is not None
        stop_at = time.monotonic() + 120.0
        for _ in range(100000):
            if self.ws.frames_ended.wait(self.target.ping_interval) or time.monotonic() > stop_at:
                return
            try:
                self.ws.send_text("2")
            except OSError:
                return

    def _on_frame(self, ws: WsClient, frame: Frame) -> bool:
        if self.target.client_pings and frame.opcode == OP_TEXT and frame.fin and frame.payload == b"3":
            return True
        if self.skip_noop and frame.opcode == OP_TEXT and frame.fin and frame.payload == b"6":
            return True
        if self.auto_pong and frame.opcode == OP_TEXT and frame.fin and frame.payload == b"2":
            try:
                ws.send_text("3")
            except OSError:
                pass
            return True
        return False

    @classmethod
    def connect(
        cls, target: Target, path: str, sid: str | None = None, extra: str = "", auto_pong: bool = True
    ) -> WebSocketSession:
        s = cls(target, path)
        s.auto_pong = auto_pong
        s.ws = WsClient.connect(
            target.host,
            target.port,
            query(path, "websocket", sid, extra=extra),
            timeout=target.reply,
            on_frame=s._on_frame,
        )
        if target.client_pings and auto_pong:
            threading.Thread(target=s._keepalive, daemon=True, name="keepalive").start()
        if sid is None:
            first = s.recv()
            if not isinstance(first, str) or not first.startswith("0"):
                raise AssertionError(f"websocket handshake: first packet is not an open packet: {first!r}")
            s.open = json.loads(first[1:])
            s.sid = s.open["sid"]
        else:
            s.sid = sid
        return s

    def recv(self, timeout: float | None = None) -> Packet:
        if self.ended is not None:
            raise SessionEnded(self.ended)
        assert self.ws is not None
        t = self.target.reply if timeout is None else timeout
        msg = self.ws.recv(t)
        if msg.ended:
            self.ended = repr(msg)
            self.end_message = msg
            raise SessionEnded(self.ended)
        return msg.text if msg.kind == "text" else msg.data

    def send(self, *packets: Packet) -> None:
        assert self.ws is not None
        try:
            for p in packets:
                if isinstance(p, bytes):
                    self.ws.send_binary(p)
                else:
                    self.ws.send_text(p)
        except OSError as exc:
            raise SessionEnded(f"send failed: {exc}") from exc

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


class UpgradedSession(WebSocketSession):
    """A polling session upgraded to WebSocket with the probe exchange (EIO-UP-01..03)."""

    transport = "upgrade"

    def __init__(self, target: Target, path: str):
        super().__init__(target, path)
        self.backlog: list[Packet] = []
        self.polling: PollingSession | None = None

    @classmethod
    def establish(cls, target: Target, path: str) -> UpgradedSession:
        polling = PollingSession.handshake(target, path)
        polling.start_poller()
        s = cls(target, path)
        s.polling = polling
        s.open = polling.open
        s.sid = polling.sid
        s.ws = WsClient.connect(
            target.host, target.port, query(path, "websocket", polling.sid), timeout=target.reply, on_frame=s._on_frame
        )
        s.ws.send_text("2probe")
        reply = s.ws.recv(target.reply)
        if reply.kind != "text" or reply.text != "3probe":
            raise AssertionError(f"upgrade: expected 3probe, got {reply!r}")
        polling._stop.set()
        s.ws.send_text("5")
        if not polling.stop_poller(target.reply + 1.0):
            polling.close()
        for _ in range(10000):
            try:
                item = polling.packets.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, _End):
                s.backlog.append(item)
        return s

    def recv(self, timeout: float | None = None) -> Packet:
        if self.backlog:
            return self.backlog.pop(0)
        return super().recv(timeout)

    def close(self) -> None:
        super().close()
        if self.polling is not None:
            self.polling.close()


def open_session(target: Target, transport: str, path: str | None = None) -> Session:
    """An open Engine.IO session whose pings are answered automatically."""
    p = target.sio_path if path is None else path
    if transport == "polling":
        s = PollingSession.handshake(target, p)
        s.start_poller()
        return s
    if transport == "websocket":
        return WebSocketSession.connect(target, p)
    if transport == "upgrade":
        return UpgradedSession.establish(target, p)
    raise ValueError(transport)


__all__ = [
    "Packet",
    "Session",
    "PollingSession",
    "WebSocketSession",
    "UpgradedSession",
    "SessionEnded",
    "WsRejected",
    "Message",
    "TRANSPORTS",
    "open_session",
    "encode_payload",
    "decode_payload",
    "query",
]
