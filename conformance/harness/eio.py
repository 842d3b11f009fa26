"""Engine.IO v4 sessions over the raw transports: polling, WebSocket, and polling upgraded to WebSocket.

All three expose the same small interface (send packets, receive the next packet from a queue, wait
for the session to end), so Socket.IO tests run unchanged over each of them.
Packets are `str` for text packets ("4hello", "2") and `bytes` for binary messages.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import http as rawhttp
from . import wire
from .targets import Target
from .verdict import SetupFailed
from .wire import Packet, decode_payload, encode_payload, query
from .ws import OP_TEXT, Frame, Message, WsClient, WsRejected

RS = wire.RS
TRANSPORTS = ("polling", "websocket", "upgrade")


@dataclass
class End:
    """How and when a session ended, as the suite saw it."""

    how: str  # "close packet 1", "close code=1000 reason=''", "eof (end of stream)", "GET answered HTTP 400 …"
    at: float  # time.monotonic() when the suite saw it


@dataclass
class Ping:
    """A ping the target sent: when it reached the machine, when the suite's pong went out (None: not
    answered), and whether the pong was held back behind a message or frame the case left unfinished on
    purpose (WebSocket: no data frame may go out inside another message)."""

    arrived: float
    answered: float | None = None
    held_by_case: bool = False

    def answer(self, at: float) -> None:
        self.answered = at


class SessionEnded(Exception):
    """The session ended (400 on polling, close/eof on WebSocket) while a packet was awaited or one was
    being sent. `pending` holds the packets that had arrived and were not taken, `what` what the case
    was waiting for or sending (a verdict's Expected), `at` when the suite saw the end (monotonic)."""

    def __init__(self, how: str, pending: list | None = None, what: str | None = None, at: float | None = None):
        self.how = how
        self.pending = list(pending or [])
        self.what = what
        self.at = time.monotonic() if at is None else at
        super().__init__(how + (f"; received and not taken: {self.pending}" if self.pending else ""))


class NotReceived(TimeoutError):
    """No packet matching an expectation arrived in time. `seen` holds what arrived instead (not taken)."""

    def __init__(self, what: str, waited: float, seen: list):
        self.what = what
        self.waited = waited
        self.seen = list(seen)
        super().__init__(f"no {what} within {waited:.2f} s; received instead: {self.seen}")


class Session:
    """An Engine.IO session. Every packet received goes into an inbox; `take` finds the first one that
    matches an expectation and leaves the others queued for later expectations, so arrival order
    matters only where a case asks for it (`recv` takes the oldest)."""

    transport = ""

    def __init__(self, target: Target, path: str):
        self.target = target
        self.path = path
        self.sid = ""
        self.open: dict = {}
        self.packets: queue.Queue[Packet | End] = queue.Queue()  # filled by the transport's reader
        self.inbox: list[Packet] = []
        self.received: list[Packet] = []  # every packet, in arrival order, taken or not
        self.end: End | None = None
        self.pings: list[Ping] = []  # the target's pings, filled by the transport's reader
        self.case_sent_at = 0.0  # when the case last sent something (monotonic); pongs do not count

    @property
    def last_input(self) -> float:
        """When the case last sent the target anything (monotonic; 0.0 if never)."""
        return self.case_sent_at

    @property
    def ended(self) -> str | None:
        return self.end.how if self.end is not None else None

    def _next_item(self, timeout: float) -> Packet | End | None:
        """The next packet or end from the transport; None at the deadline."""
        try:
            return self.packets.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def _pull(self, timeout: float) -> bool:
        """Moves one more packet into the inbox; False at the deadline or once the session has ended."""
        if self.end is not None:
            return False
        item = self._next_item(timeout)
        if item is None:
            return False
        if isinstance(item, End):
            self.end = item
            return False
        self.inbox.append(item)
        self.received.append(item)
        return True

    def take(self, match: Callable[[Packet], bool], timeout: float | None = None, what: str = "packet") -> Packet:
        """The first packet (queued or still to come) for which `match` holds; the others stay queued."""
        t = self.target.reply if timeout is None else timeout
        deadline = time.monotonic() + t
        for _ in range(1_000_000):
            for i, p in enumerate(self.inbox):
                if match(p):
                    return self.inbox.pop(i)
            if self.end is not None:
                raise SessionEnded(self.end.how, self.inbox, what, self.end.at)
            if not self._pull(deadline - time.monotonic()) and self.end is None:
                raise NotReceived(what, t, self.inbox)
        raise NotReceived(what, t, self.inbox)

    def recv(self, timeout: float | None = None) -> Packet:
        """The oldest packet not yet taken, waiting at most `timeout` (default: the target's reply deadline)."""
        return self.take(lambda p: True, timeout, "next packet")

    def recv_all(self, timeout: float) -> list[Packet]:
        """Every packet not yet taken plus everything that arrives within `timeout`; stops early if the
        session ends."""
        deadline = time.monotonic() + timeout
        for _ in range(1_000_000):
            if not self._pull(deadline - time.monotonic()):
                break
        out, self.inbox = self.inbox, []
        return out

    def wait_ended(self, timeout: float) -> str | None:
        """Waits for the session to end; how it ended, or None at the deadline. Packets arriving meanwhile
        stay in the inbox."""
        deadline = time.monotonic() + timeout
        for _ in range(1_000_000):
            if not self._pull(deadline - time.monotonic()):
                break
        return self.ended

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
            raise SetupFailed(
                "EIO-HS-01", "the polling handshake is answered", "200 with an open packet", resp.summary()
            )
        packets = decode_payload(resp.body)
        info = wire.open_packet(packets[0])
        if info is None or not isinstance(info.get("sid"), str):
            raise SetupFailed("EIO-HS-01", "the polling handshake's first packet is an open packet with a sid",
                              '0{"sid":…}', packets[0])  # fmt: skip
        s.open = info
        s.sid = info["sid"]
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
        own: bool = False,
    ) -> rawhttp.HttpResponse:
        data = body.encode("utf-8") if isinstance(body, str) else body
        if not own:
            self.case_sent_at = time.monotonic()
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
            raise SessionEnded(
                f"the POST of {list(packets)} was answered {resp.summary()}",
                what=f"the POST of {list(packets)} taken (200)",
            )

    def poll(
        self, timeout: float | None = None, answer_pings: bool = True
    ) -> tuple[rawhttp.HttpResponse, list[Packet]]:
        """One GET, as a client would make it: its response and the packets of its body. Pings in the
        body are answered with a pong unless `answer_pings` is off (the heartbeat cases)."""
        resp = self.get(timeout)
        packets = decode_payload(resp.body) if resp.status == 200 and resp.body else []
        if answer_pings:
            for _ in range(packets.count(wire.PING)):
                self.post(wire.PONG, own=True)
        return resp, packets

    def poll_until(
        self, done: Callable[[list[Packet]], bool], timeout: float | None = None
    ) -> tuple[list[Packet], rawhttp.HttpResponse]:
        """GETs (pings answered) until the packets gathered, pings left out, satisfy `done` or the deadline
        passes or a GET fails: those packets, and the last response."""
        t = self.target.reply if timeout is None else timeout
        deadline = time.monotonic() + t
        gathered: list[Packet] = []
        for _ in range(1000):
            resp, packets = self.poll(max(0.1, deadline - time.monotonic()) + 1.0)
            gathered += [p for p in packets if p != wire.PING]
            if resp.status != 200 or done(gathered) or time.monotonic() >= deadline:
                return gathered, resp
        return gathered, resp

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
                    self.packets.put(End(f"GET failed: {exc}", time.monotonic()))
                return
            answered_at = time.monotonic()
            if resp.status != 200:
                self.packets.put(End(f"GET answered {resp.summary()}", answered_at))
                return
            packets = decode_payload(resp.body)
            if packets and all(p == wire.NOOP for p in packets):
                # Only noops (a server draining polling for an upgrade answers every GET at once with
                # one): the next GET waits a little instead of spinning on the server.
                self._stop.wait(min(0.05, self.target.ping_interval / 10))
            # What the body carries is handed over before the pongs are posted: a pong's round trip
            # does not delay the packets that came with the ping.
            pings: list[Ping] = []
            for p in packets:
                if p == "2" and self.auto_pong:
                    pings.append(Ping(answered_at))
                elif p == "1":
                    self.packets.put(End("close packet 1", answered_at))
                    return
                elif p != "6":
                    self.packets.put(p)
            self.pings += pings
            for ping in pings:
                try:
                    self.post("3", own=True)
                    ping.answered = time.monotonic()
                except Exception:
                    pass

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
        self.end_message: Message | None = None

    def _keepalive(self) -> None:
        """For servers with the v3 heartbeat: ping every pingInterval while the session lives."""
        assert self.ws is not None
        stop_at = time.monotonic() + 120.0
        for _ in range(100000):
            if self.ws.frames_ended.wait(self.target.ping_interval) or time.monotonic() > stop_at:
                return
            try:
                self.ws.send_own_text(wire.PING)
            except OSError:
                return

    def _on_frame(self, ws: WsClient, frame: Frame) -> bool:
        """Engine.IO traffic a real client handles by itself: pings answered, noops and v3 pongs dropped."""
        text = frame.payload if frame.opcode == OP_TEXT and frame.fin else None
        if self.target.client_pings and text == b"3":
            return True
        if self.skip_noop and text == b"6":
            return True
        if text == b"2":
            ping = Ping(ws.arrival)
            self.pings.append(ping)
            if self.auto_pong:
                try:
                    ping.held_by_case = not ws.send_own_text(wire.PONG, on_sent=ping.answer)
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
            info = wire.open_packet(first)
            if info is None or not isinstance(info.get("sid"), str):
                raise SetupFailed("EIO-HS-02", "the WebSocket's first packet is an open packet with a sid",
                                  '0{"sid":…}', first)  # fmt: skip
            s.open = info
            s.sid = info["sid"]
        else:
            s.sid = sid
        return s

    def _next_item(self, timeout: float) -> Packet | End | None:
        assert self.ws is not None
        try:
            msg = self.ws.recv(max(0.0, timeout))
        except TimeoutError:
            return None
        if msg.ended:
            self.end_message = msg
            return End(repr(msg), self.ws.end_arrival or time.monotonic())
        return msg.text if msg.kind == "text" else msg.data

    @property
    def last_input(self) -> float:
        return self.ws.case_wrote_at if self.ws is not None else 0.0

    def send(self, *packets: Packet) -> None:
        assert self.ws is not None
        for p in packets:
            try:
                if isinstance(p, bytes):
                    self.ws.send_binary(p)
                else:
                    self.ws.send_text(p)
            except OSError as exc:
                raise SessionEnded(
                    f"sending {p!r} failed: {exc} (the target had closed the connection)",
                    what=f"the connection open to send {p!r}",
                ) from exc

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


class UpgradedSession(WebSocketSession):
    """A polling session upgraded to WebSocket with the probe exchange (EIO-UP-01..03)."""

    transport = "upgrade"

    def __init__(self, target: Target, path: str):
        super().__init__(target, path)
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
            raise SetupFailed("EIO-UP-01", "the upgrade probe `2probe` is answered with `3probe`", "3probe", reply)
        # As a real client does: polling is paused (its held GET released, with a noop) before `5` is
        # sent. A server that never releases the GET is EIO-UP-02's business; `5` goes out regardless.
        if not polling.stop_poller(target.reply):
            polling.close()
        s.ws.send_text(wire.UPGRADE)
        # What polling delivered before the switch comes first, in order.
        for p in polling.recv_all(0.0):
            s.inbox.append(p)
            s.received.append(p)
        return s

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
    "End",
    "Ping",
    "NotReceived",
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
