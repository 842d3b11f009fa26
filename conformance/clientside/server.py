"""The scripted server: a raw Engine.IO / Socket.IO server on 127.0.0.1 that a case steers.

It behaves as a correct server by default (handshake, long-polling, the WebSocket upgrade, pings,
CONNECT replies), records every byte in both directions with the time it crossed, and lets a case
replace any step: refuse a handshake, hold a GET, answer a probe wrongly, stop pinging, reset a
connection, send any bytes. Byte formats come from `wire` (sans-I/O); this module owns sockets,
threads and timers only.
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import tracking
from harness import wire as hw

from . import wire
from .journal import Clock, Journal
from .wire import Packet, SioPacket

MAX_TRANSCRIPT_BYTES = 256 * 1024
FORGET_JOIN_S = 1.0  # how long `forget()` waits for each thread of a closed connection or session to end


@dataclass
class Profile:
    """What the server speaks: Engine.IO 4 / Socket.IO 5, or Engine.IO 3 / Socket.IO 4."""

    eio: int = 4
    ping_interval: int = 300
    ping_timeout: int = 200
    max_payload: int | None = 1_000_000
    upgrades: list[str] = field(default_factory=lambda: ["websocket"])
    # Seconds the answer to a session's first POST waits, at most, until the upgrade probe was answered:
    # a POST still in flight when the client may switch transports (0: answered at once).
    first_post_waits_for_probe_s: float = 0.0

    @property
    def sio(self) -> int:
        return 5 if self.eio == 4 else 4


@dataclass
class WireRecord:
    """One crossing of bytes (or a connection event) on the case's clock."""

    t: float
    conn: int
    direction: str  # "in" (client to server), "out", "open", "close"
    data: bytes = b""
    note: str = ""


@dataclass
class HttpSeen:
    conn: int
    request: wire.Request
    sid: str | None


@dataclass
class EioSeen:
    """An Engine.IO packet the client sent: its session, transport, and the packet."""

    sid: str
    transport: str
    packet: Packet
    conn: int


@dataclass
class SioSeen:
    sid: str
    transport: str
    packet: SioPacket


class Conn:
    """One accepted TCP connection; writes are serialised, every byte recorded."""

    def __init__(self, server: ScriptedServer, sock: socket.socket, cid: int):
        self.server, self.sock, self.id = server, sock, cid
        self.thread: threading.Thread | None = None  # the thread serving it
        self.lock = threading.Lock()
        self.closed = False
        self.arrived_ms = server.clock.ms()  # when the bytes read last reached the machine (case clock)

    def send(self, data: bytes, note: str = "") -> bool:
        with self.lock:
            if self.closed:
                return False
            self.server.record(self.id, "out", data, note)
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False

    def close(self, reset: bool = False, note: str = "") -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.server.record(
                self.id, "close", b"", note or ("reset by the server" if reset else "closed by the server")
            )
            # The reader thread may be blocked in recv(): shutting the read side down wakes it, so that
            # close() really releases the socket (with linger 0: an RST instead of a FIN).
            try:
                if reset:
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.sock.shutdown(socket.SHUT_RD)
                else:
                    self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()


GetAction = Callable[[Conn, "Session"], bool]  # returns True when the connection stays usable


class Session:
    """One Engine.IO session (sid) and its transport state."""

    def __init__(self, server: ScriptedServer, sid: str, transport: str):
        self.server, self.sid, self.transport = server, sid, transport
        self.cond = threading.Condition()
        self.outbox: list[Packet] = []
        self.closed: str | None = None
        self.closed_ms: float | None = None  # when it ended (ms on the case's clock)
        self.ws: Conn | None = None
        self.upgrading = False
        self.hold_gets = False
        self.hold_after_flush = False
        self.get_actions: list[GetAction] = []
        self.post_actions: list[GetAction] = []
        self.gets_active = self.posts_active = 0
        self.posts = 0  # POSTs received on this session
        self.max_gets_active = self.max_posts_active = 0
        self.pinging = server.auto_ping
        self.answer_client_pings = True
        self.assembler = wire.Assembler()
        self.probe_reply: str | None = "3probe"
        self.probe_delay = 0.0
        self.probe_close = False  # the probe's connection is closed when `2probe` arrives, unanswered
        self.pinger: threading.Thread | None = None
        self.conns: set[Conn] = set()  # every connection that carried a request of this session
        self.pings: list[float] = []  # when each server ping was sent (ms on the case's clock)
        # When each ping reached the wire: over polling, the answer to the client's next GET (a ping waits
        # in the queue while the client has no GET open); over WebSocket, at once.
        self.pings_delivered: list[float] = []
        self.pongs = 0  # pongs received from the client (Engine.IO 4)
        self.pongs_sent: list[float] = []  # when each pong to a client ping went out (Engine.IO 3; ms)
        self.opened_ms = server.clock.ms()
        self.dropped = False  # the scenario dropped the transport: no answer goes out any more

    # -- sending
    def send(self, *packets: Packet) -> None:
        """Queues Engine.IO packets: on WebSocket at once, on polling for the next GET."""
        with self.cond:
            if self.transport == "websocket" and self.ws is not None:
                for p in packets:
                    self.server.ws_send(self.ws, p)
                self._note_sent(packets)
                return
            self.outbox.extend(packets)
            self.cond.notify_all()

    def _note_sent(self, packets: list[Packet] | tuple[Packet, ...]) -> None:
        """The time a ping (Engine.IO 4) or a pong (Engine.IO 3: the client's next ping is timed from
        there) went out to the client."""
        if self.server.profile.eio == 3 and any(isinstance(p, str) and p.startswith("3") for p in packets):
            self.pongs_sent.append(self.server.clock.ms())
        if self.server.profile.eio == 4 and "2" in packets:
            with self.cond:
                self.pings_delivered.append(self.server.clock.ms())
                self.cond.notify_all()

    def delivered_pings(self, n: int, timeout: float) -> list[float]:
        """When each of the first `n` pings reached the wire, waiting up to `timeout` s for them to be
        noted: the thread that sent a ping notes it after the write, so its pong can be journaled first."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.pings_delivered) >= n or self.closed is not None, timeout)
            return list(self.pings_delivered[:n])

    def send_sio(
        self, ptype: int, nsp: str = "/", data: Any = None, ack_id: int | None = None, has_data: bool | None = None
    ) -> None:
        self.send(*wire.sio_encode(ptype, nsp, data, ack_id, has_data=has_data))

    def emit(self, nsp: str, event: str, *args: Any, ack_id: int | None = None) -> None:
        self.send_sio(wire.EVENT, nsp, [event, *args], ack_id)

    def command(self, nsp: str, name: str, arg: dict[str, Any] | None = None) -> None:
        """A CLIENT-FIXTURE.md command, as an event the fixture handles."""
        self.emit(nsp, name, arg or {})

    def send_then_hold(self, *packets: Packet) -> None:
        """Queues packets for the next GET, then holds every GET after it (until `release`)."""
        with self.cond:
            self.outbox.extend(packets)
            self.hold_after_flush = True
            self.cond.notify_all()

    def release(self) -> None:
        with self.cond:
            self.hold_gets = False
            self.cond.notify_all()

    def end(self, reason: str) -> None:
        with self.cond:
            if self.closed is None:
                self.closed = reason
                self.closed_ms = self.server.clock.ms()
            self.cond.notify_all()

    def kill_transport(self, reset: bool = True) -> None:
        """The transport goes away without an Engine.IO close: every connection of the session (the
        WebSocket, a parked GET, a kept-alive polling connection) is reset; later requests naming
        this sid are answered 400 (unknown session), as a server that lost the session would."""
        with self.cond:
            # A parked GET that end() wakes must not answer (it answered `1`, a close packet, before its
            # connection was reset: python-socketio then saw a server disconnect, one run in five).
            self.dropped = True
        self.end("killed by the scenario")
        with self.server.lock:
            self.server.sessions.pop(self.sid, None)
        for conn in list(self.conns):
            conn.close(reset=reset, note="transport killed by the scenario")

    def close_websocket(self) -> None:
        """The server ends the WebSocket cleanly (close frame 1000, then TCP close)."""
        self.end("websocket closed by the scenario")
        if self.ws is not None:
            self.ws.send(wire.close_frame(1000), "close frame from the scenario")
            self.ws.close(note="websocket closed by the scenario")


class ScriptedServer:
    def __init__(self, profile: Profile, clock: Clock | None = None):
        self.profile = profile
        self.clock = clock or Clock()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self._blank_record()
        self.auto_ping = True
        self.auto_connect = True
        # Scenario hooks: each returns raw response bytes to send instead of the default, or None.
        self.on_handshake: Callable[[wire.Request, int], bytes | None] | None = None
        self.on_connect_packet: Callable[[Session, SioPacket], list[Packet] | None] | None = None
        # Runs on each new session before its open packet goes out: what a scenario sets on a
        # session it cannot wait for (a fast client probes within a millisecond of the handshake).
        self.session_setup: Callable[[Session], None] | None = None
        self.open_extra: dict[str, Any] = {}
        self.open_override: Callable[[str], str] | None = None
        self.ws_refuse: Callable[[wire.Request], bytes | None] | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        # Asked on the listener too: bytes that arrive before a thread got to accept their connection
        # are stamped as well (accepted sockets inherit the setting).
        tracking.ask_arrival_times(self.listener)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept_loop, daemon=True, name="scripted-server accept").start()

    def _blank_record(self) -> None:
        """What the server has seen: nothing yet."""
        self.transcript: list[WireRecord] = []
        self.transcript_bytes = 0
        self.http: Journal[HttpSeen] = Journal(self.clock, "http requests")
        self.eio: Journal[EioSeen] = Journal(self.clock, "engine.io packets")
        self.sio: Journal[SioSeen] = Journal(self.clock, "socket.io packets")
        self.events: Journal[str] = Journal(self.clock, "server notes")
        self.opened: Journal[Session] = Journal(self.clock, "sessions opened")
        self.sessions: dict[str, Session] = {}
        self.session_order: list[Session] = []
        self.parked: dict[str, list[Conn]] = {}
        self.conns: list[Conn] = []
        self.sid_counter = itertools.count(1)
        self.handshakes = 0

    def forget(self) -> None:
        """Ends every session and connection and forgets all it saw, keeping its port and the scenario's
        hooks: a case starts its client again on a clean slate (the client's old process is stopped
        first). Connection ids keep counting, so that none is reused."""
        with self.lock:
            sessions, conns = list(self.sessions.values()), list(self.conns)
        for s in sessions:
            s.end("forgotten: the case starts its client again")
        for c in conns:
            c.close(reset=True, note="forgotten: the case starts its client again")
        for c in conns:  # no request of the old process is recorded after this
            if c.thread is not None:
                c.thread.join(FORGET_JOIN_S)
        for s in sessions:
            if s.pinger is not None:
                s.pinger.join(FORGET_JOIN_S)
        with self.lock:
            self._blank_record()

    # ------------------------------------------------------------------ recording
    def record(self, cid: int, direction: str, data: bytes = b"", note: str = "", t: float | None = None) -> None:
        with self.lock:
            if self.transcript_bytes + len(data) > MAX_TRANSCRIPT_BYTES:
                data = data[:64]
                note = (note + " " if note else "") + "(cut: transcript limit)"
            self.transcript_bytes += len(data)
            self.transcript.append(WireRecord(self.clock.ms() if t is None else t, cid, direction, data, note))

    def note(self, text: str) -> None:
        self.events.add(text)
        self.record(0, "note", b"", text)

    def transcript_json(self) -> list[dict[str, Any]]:
        """The case's bytes as the server-side reports keep them (harness/tracking.py's message format):
        each connection cut into HTTP messages and WebSocket frames; `>` the suite (the server) sent,
        `<` the client sent, `!` what happened to a connection; times in seconds."""
        with self.lock:
            records = list(self.transcript)
        splitters: dict[tuple[int, str], hw.Splitter] = {}
        out: list[dict[str, Any]] = []
        for r in records:
            t = round(r.t / 1000.0, 4)
            if r.direction not in ("in", "out"):
                out.append({"t": t, "conn": r.conn, "dir": "!", "text": r.note or r.direction})
                continue
            sp = splitters.setdefault((r.conn, r.direction), hw.Splitter(request_side=r.direction == "in"))
            try:
                pieces = sp.feed(r.data)
            except (hw.WireError, ValueError):
                pieces, sp.buffer = [hw.StreamMessage("bytes", bytes(sp.buffer))], bytearray()
            for piece in pieces:
                text = tracking._describe(piece, r.direction == "in", compact=True)
                out.append(
                    {
                        "t": t,
                        "conn": r.conn,
                        "dir": "<" if r.direction == "in" else ">",
                        "text": text,
                        "bytes": len(piece.data),
                    }
                )
        for (conn, direction), sp in splitters.items():
            if sp.buffer:
                left = bytes(sp.buffer)
                out.append(
                    {
                        "t": None,
                        "conn": conn,
                        "dir": "<" if direction == "in" else ">",
                        "text": f"incomplete, {len(left)} bytes: {tracking.show_bytes(left, compact=True)}",
                        "bytes": len(left),
                    }
                )
        return out

    def bytes_from_client(self, last: int = 2000) -> bytes:
        with self.lock:
            data = b"".join(r.data for r in self.transcript if r.direction == "in")
        return data[-last:]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ sessions
    def new_sid(self) -> str:
        return f"sid{next(self.sid_counter):03d}AAAAAAAAAAAAA"

    def session(self, index: int = -1) -> Session | None:
        with self.lock:
            return self.session_order[index] if self.session_order else None

    def ordinal(self, s: Session) -> int:
        """The 1-based number of session `s` in the order the server accepted them."""
        with self.lock:
            return self.session_order.index(s) + 1

    def wait_session(self, n: int, timeout: float, interrupt: Callable[[], bool] | None = None) -> Session | None:
        """The n-th session (1-based) the server accepted, once the client has opened it (None if it
        did not within `timeout`, or `interrupt()` became true first)."""
        got = self.opened.wait_count(lambda _: True, n, timeout, 0, interrupt)
        return got[n - 1].item if len(got) >= n else None

    def stop(self) -> None:
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            sessions = list(self.sessions.values())
            conns = list(self.conns)
        for s in sessions:
            s.end("server stopped")
        for c in conns:
            c.close(note="server stopped")

    # ------------------------------------------------------------------ connections
    def _accept_loop(self) -> None:
        while not self.stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tracking.ask_arrival_times(sock)
            conn = Conn(self, sock, next(self.ids))
            with self.lock:
                self.conns.append(conn)
            self.record(conn.id, "open")
            conn.thread = threading.Thread(target=self._serve, args=(conn,), daemon=True, name=f"conn {conn.id}")
            conn.thread.start()

    def _recv(self, conn: Conn) -> bytes:
        """The next bytes from the client. Their time is when they reached the machine (the kernel's
        receive timestamp), not when a thread of this server got to read them: on a loaded machine
        the two differ by the suite's own scheduling delays, which are no part of the client's timing."""
        try:
            data, ancillary, _, _ = conn.sock.recvmsg(65536, tracking.ARRIVAL_CMSG_SPACE)
        except OSError:
            data, ancillary = b"", []
        if data:
            conn.arrived_ms = self._arrival_ms(ancillary)
            self.record(conn.id, "in", data, t=conn.arrived_ms)
        elif not conn.closed:
            self.record(conn.id, "close", b"", "closed by the client")
        return data

    def _serve(self, conn: Conn) -> None:
        parser = wire.RequestParser()
        try:
            while not conn.closed:
                req = parser.next_request()
                if req is None:
                    data = self._recv(conn)
                    if not data:
                        return
                    parser.feed(data)
                    continue
                if req.is_websocket:
                    self._websocket(conn, req, parser.rest())
                    return
                if not self._http(conn, req):
                    return
        except wire.WireError as exc:
            self.note(f"conn {conn.id}: {exc}")
            conn.send(wire.response(400, str(exc).encode()))
        finally:
            conn.close(note="connection finished")

    # ------------------------------------------------------------------ HTTP long-polling
    def _arrival_ms(self, ancillary: list[tuple[int, int, bytes]]) -> float:
        """Case-clock time of the kernel's receive timestamp in `ancillary` (now when there is none)."""
        return self.clock.ms() - tracking.arrival_age(ancillary) * 1000.0

    def _http(self, conn: Conn, req: wire.Request) -> bool:
        sid = req.param("sid")
        self.http.add(HttpSeen(conn.id, req, sid if sid is not None else "new"), t=conn.arrived_ms)
        if sid is None:
            return self._handshake(conn, req)
        with self.lock:
            s = self.sessions.get(sid)
        if s is None:
            return conn.send(wire.response(400, b'{"code":1,"message":"Session ID unknown"}', "application/json"))
        s.conns.add(conn)
        if req.method == "GET":
            return self._poll_get(conn, s)
        if req.method == "POST":
            return self._poll_post(conn, s, req)
        return conn.send(wire.response(400, b"bad method"))

    def _handshake(self, conn: Conn, req: wire.Request) -> bool:
        self.handshakes += 1
        if self.on_handshake is not None:
            raw = self.on_handshake(req, self.handshakes)
            if raw is not None:
                if raw == b"":
                    return self._hold(conn)
                return conn.send(raw)
        s = self._new_session("polling")
        s.conns.add(conn)
        packets: list[Packet] = [self._open_packet(s)]
        if self.profile.eio == 3 and self.auto_connect:
            packets.append("40")  # Socket.IO v4 servers join `/` implicitly
        return conn.send(wire.response(200, self._payload(packets)))

    def _hold(self, conn: Conn) -> bool:
        """The request is never answered: the connection stays open until the client gives up."""
        self.record(conn.id, "note", b"", "request held without an answer")
        while self._recv(conn):
            pass
        return False

    def _open_packet(self, s: Session) -> str:
        if self.open_override is not None:
            return self.open_override(s.sid)
        p = self.profile
        return wire.open_packet(
            s.sid,
            p.upgrades if s.transport == "polling" else [],
            p.ping_interval,
            p.ping_timeout,
            p.max_payload if p.eio == 4 else None,
            self.open_extra,
        )

    def _new_session(self, transport: str) -> Session:
        s = Session(self, self.new_sid(), transport)
        if self.session_setup is not None:
            self.session_setup(s)
        with self.lock:
            self.sessions[s.sid] = s
            self.session_order.append(s)
        self.opened.add(s)
        if self.profile.eio == 4:
            s.pinger = threading.Thread(target=self._ping_loop, args=(s,), daemon=True, name=f"pinger {s.sid}")
            s.pinger.start()
        return s

    def _payload(self, packets: list[Packet]) -> bytes:
        return wire.payload_v4_encode(packets) if self.profile.eio == 4 else wire.payload_v3_encode(packets)

    def _poll_get(self, conn: Conn, s: Session) -> bool:
        with s.cond:
            s.gets_active += 1
            s.max_gets_active = max(s.max_gets_active, s.gets_active)
            action = s.get_actions.pop(0) if s.get_actions else None
        answered = False
        try:
            if action is not None:
                return action(conn, s)
            with self.lock:
                self.parked.setdefault(s.sid, []).append(conn)
            with s.cond:
                while not conn.closed and s.closed is None and (s.hold_gets or not s.outbox) and not self._upgraded(s):
                    s.cond.wait(0.05)
                if conn.closed or s.dropped:
                    return False
                if self._upgraded(s) and not s.outbox:
                    packets: list[Packet] = ["6"]
                elif s.closed is not None and not s.outbox:
                    packets = ["1"]
                else:
                    packets, s.outbox = s.outbox, []
                    if s.closed is None and self.profile.max_payload is not None:
                        packets, s.outbox = _fit(packets, self.profile.max_payload, self.profile.eio)
                    if s.hold_after_flush and not s.outbox:
                        s.hold_gets, s.hold_after_flush = True, False
                s.gets_active -= 1  # done once its answer goes out (as a POST: see _poll_post)
                answered = True
            sent = conn.send(wire.response(200, self._payload(packets)))
            s._note_sent(packets)
            return sent
        finally:
            with self.lock:
                if conn in self.parked.get(s.sid, []):
                    self.parked[s.sid].remove(conn)
            if not answered:
                with s.cond:
                    s.gets_active -= 1

    def _answer_after_probe(self, conn: Conn, s: Session) -> bool:
        """Answers a POST once the upgrade probe was answered (or the session moved on, or the profile's
        bound passed), not at once."""
        with s.cond:
            s.cond.wait_for(
                lambda: s.upgrading or s.transport == "websocket" or s.closed is not None or self.stopped,
                timeout=self.profile.first_post_waits_for_probe_s,
            )
        return conn.send(wire.response(200, b"ok"))

    @staticmethod
    def _upgraded(s: Session) -> bool:
        return s.transport == "websocket" or s.upgrading

    def _poll_post(self, conn: Conn, s: Session, req: wire.Request) -> bool:
        with s.cond:
            s.posts += 1
            s.posts_active += 1
            s.max_posts_active = max(s.max_posts_active, s.posts_active)
            action = s.post_actions.pop(0) if s.post_actions else None
            if action is None and s.posts == 1 and self.profile.first_post_waits_for_probe_s:
                action = self._answer_after_probe
        answered = False
        try:
            try:
                packets = (
                    wire.payload_v4_decode(req.body)
                    if self.profile.eio == 4
                    else wire.payload_v3_decode(req.body, req.header("content-type") or "")
                )
            except (wire.WireError, UnicodeDecodeError, ValueError) as exc:
                self.note(f"undecodable POST body: {exc}")
                packets = []
            for p in packets:
                self._from_client(s, "polling", p, conn)
            if action is not None:
                return action(conn, s)
            # No longer in flight once its answer goes out: the client may send its next POST as soon as
            # it reads the answer, before this thread would get to count this one done.
            with s.cond:
                s.posts_active -= 1
                answered = True
            return conn.send(wire.response(200, b"ok"))
        finally:
            if not answered:
                with s.cond:
                    s.posts_active -= 1

    # ------------------------------------------------------------------ WebSocket
    def _websocket(self, conn: Conn, req: wire.Request, rest: bytes) -> None:
        sid = req.param("sid")
        self.http.add(HttpSeen(conn.id, req, sid if sid is not None else "new"), t=conn.arrived_ms)
        if self.ws_refuse is not None:
            raw = self.ws_refuse(req)
            if raw is not None:
                conn.send(raw)
                return
        with self.lock:
            s = self.sessions.get(sid) if sid is not None else None
        if sid is not None and s is None:
            conn.send(wire.response(400, b'{"code":1,"message":"Session ID unknown"}', "application/json"))
            return
        if sid is None:
            self.handshakes += 1
            if self.on_handshake is not None:
                raw = self.on_handshake(req, self.handshakes)
                if raw is not None:
                    if raw:
                        conn.send(raw)
                    return
        if not conn.send(wire.upgrade_response(req)):
            return
        if s is not None:
            s.conns.add(conn)
        else:
            s = self._new_session("websocket")
            s.conns.add(conn)
            s.ws = conn
            self.ws_send(conn, self._open_packet(s))
            if self.profile.eio == 3 and self.auto_connect:
                self.ws_send(conn, "40")
        probing = s.transport == "polling"
        parser = wire.FrameParser()
        parser.feed(rest)
        while not conn.closed:
            try:
                msg = parser.next_message()
            except wire.WireError as exc:
                self.note(f"conn {conn.id}: {exc}")
                conn.close(note=str(exc))
                return
            if msg is None:
                data = self._recv(conn)
                if not data:
                    if s.ws is conn:
                        s.end("websocket closed by the client")
                    return
                parser.feed(data)
                continue
            if not msg.masked:
                self.note(f"conn {conn.id}: unmasked client frame")
            if msg.opcode == wire.OP_CLOSE:
                conn.send(wire.close_frame(1000), "close reply")
                if s.ws is conn:
                    s.end("websocket close frame")
                conn.close(note="after the client's close frame")
                return
            if msg.opcode == wire.OP_PING:
                conn.send(wire.encode_frame(wire.OP_PONG, msg.data))
                continue
            if msg.opcode == wire.OP_PONG:
                continue
            packet: Packet = msg.text if msg.opcode == wire.OP_TEXT else msg.data
            if self.profile.eio == 3 and isinstance(packet, bytes):
                packet = packet[1:]  # v3 binary frames carry the Engine.IO type byte first
            if probing:
                probing = self._probe_step(conn, s, packet)
                continue
            self._from_client(s, "websocket", packet, conn)

    def _probe_step(self, conn: Conn, s: Session, packet: Packet) -> bool:
        """The upgrade: `2probe` answered, then `5` moves the session. Returns True while still probing."""
        self.eio.add(EioSeen(s.sid, "websocket", packet, conn.id), t=conn.arrived_ms)
        if packet == "2probe":
            if s.probe_delay:
                threading.Event().wait(s.probe_delay)  # the scenario's delay, not synchronisation
            if s.probe_close:
                conn.close(note="probe connection closed by the scenario")
                return True
            if s.probe_reply is not None:
                self.ws_send(conn, s.probe_reply)
                if s.probe_reply == "3probe":
                    # The parked GET is answered (with `6` when nothing is queued) so the client can pause polling.
                    with s.cond:
                        s.upgrading = True
                        s.cond.notify_all()
            return True
        if packet == "5":
            # From now on packets go on the WebSocket.
            with s.cond:
                s.ws = conn
                pending, s.outbox = s.outbox, []
                s.transport = "websocket"
                s.cond.notify_all()
            for p in pending:
                self.ws_send(conn, p)
            s._note_sent(pending)
            return False
        self.note(f"packet {packet!r} on the probing WebSocket before the upgrade")
        return True

    def ws_send(self, conn: Conn, packet: Packet) -> None:
        if isinstance(packet, bytes):
            data = packet if self.profile.eio == 4 else b"\x04" + packet
            conn.send(wire.encode_frame(wire.OP_BINARY, data))
        else:
            conn.send(wire.encode_frame(wire.OP_TEXT, packet.encode("utf-8")))

    # ------------------------------------------------------------------ packets from the client
    def _from_client(self, s: Session, transport: str, packet: Packet, conn: Conn) -> None:
        self.eio.add(EioSeen(s.sid, transport, packet, conn.id), t=conn.arrived_ms)
        if isinstance(packet, str):
            kind = packet[:1]
            if kind == "2" and self.profile.eio == 3 and s.answer_client_pings:
                s.send("3" + packet[1:])
                return
            if kind == "1":
                s.end("close packet from the client")
                return
            if kind == "3" and self.profile.eio == 4:
                with s.cond:
                    s.pongs += 1
                    s.cond.notify_all()
                return
            if kind != "4":
                return
            body: Packet = packet[1:]
        else:
            body = packet
        try:
            sp = s.assembler.feed(body)
        except wire.WireError as exc:
            self.note(f"socket.io packet rejected: {exc}")
            s.assembler = wire.Assembler()
            return
        if sp is not None:
            self.sio.add(SioSeen(s.sid, transport, sp), t=conn.arrived_ms)
            if sp.type == wire.CONNECT:
                self._connect_reply(s, sp)

    def _connect_reply(self, s: Session, sp: SioPacket) -> None:
        if self.on_connect_packet is not None:
            custom = self.on_connect_packet(s, sp)
            if custom is not None:
                s.send(*custom)
                return
        if not self.auto_connect:
            return
        if self.profile.eio == 3:
            s.send("40" + ("" if sp.nsp == "/" else sp.nsp + ","))
            return
        s.send_sio(wire.CONNECT, sp.nsp, {"sid": sio_sid(s, sp.nsp)})

    # ------------------------------------------------------------------ heartbeat
    def _ping_loop(self, s: Session) -> None:
        """Engine.IO 4: a ping pingInterval after the open packet, then pingInterval after each pong, as
        the reference server schedules them. A ping is not repeated while its pong is outstanding: over
        polling, a second ping would wait in the queue for the client's next GET while its time ran."""
        interval = self.profile.ping_interval / 1000.0
        while True:
            with s.cond:
                s.cond.wait_for(lambda: s.closed is not None, timeout=interval)
                if s.closed is not None or self.stopped:
                    return
                pinging = s.pinging
            if not pinging:
                continue
            with s.cond:
                answered = s.pongs + 1
                s.pings.append(self.clock.ms())
            s.send("2")
            if not self._await_pong(s, answered):
                return

    def _await_pong(self, s: Session, count: int) -> bool:
        """Waits until the client has sent `count` pongs; False once the session or the server ended."""
        with s.cond:
            s.cond.wait_for(lambda: s.pongs >= count or s.closed is not None or self.stopped)
            return s.closed is None and not self.stopped


def sio_sid(s: Session, nsp: str) -> str:
    """The Socket.IO id the server hands out: distinct from the Engine.IO sid on purpose (NSP-03)."""
    return "io-" + s.sid[:6] + "-" + nsp.strip("/").replace("/", "-")


def _fit(packets: list[Packet], max_payload: int, eio: int) -> tuple[list[Packet], list[Packet]]:
    """As many packets as fit in maxPayload (at least one), the rest for the next GET."""
    out: list[Packet] = []
    size = 0
    for i, p in enumerate(packets):
        n = len(p) * 4 // 3 + 2 if isinstance(p, bytes) else len(p.encode("utf-8")) + 1
        if out and size + n > max_payload:
            return out, packets[i:]
        out.append(p)
        size += n
    return out, []


# -------------------------------------------------------------------- canned answers for scenarios
def answer(status: int, body: bytes = b"", content_type: str = "text/plain; charset=UTF-8") -> GetAction:
    """A GET/POST answered with this status and body (POLL-06, CERR-06)."""

    def act(conn: Conn, s: Session) -> bool:
        return conn.send(wire.response(status, body, content_type))

    return act


def cut_off(declared: int, body: bytes) -> GetAction:
    """A response whose body stops before its Content-Length, then the connection closes (CERR-06)."""

    def act(conn: Conn, s: Session) -> bool:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {declared}\r\n\r\n"
        ).encode()
        conn.send(head + body, "response cut off")
        conn.close(note="connection closed mid-body")
        return False

    return act


def reset() -> GetAction:
    def act(conn: Conn, s: Session) -> bool:
        conn.close(reset=True, note="request answered with a TCP reset")
        return False

    return act


def raw_payload(text: str) -> GetAction:
    """The GET's body is exactly these characters (already in the payload format)."""
    return answer(200, text.encode("utf-8"))


def jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
