"""Runs one program against a server on 127.0.0.1 and judges what came back.

Each numbered connection of the program is a real TCP connection. Steps are sent in order; a step
that needs an answer (a handshake, an upgrade request, a POST) waits for it up to `REPLY_S`, a
long-poll GET up to `POLL_WAIT_S`, frames not at all; at the end the executor reads until the
target has been quiet for `QUIET_S` (at most `DRAIN_S`). Everything the target sends is parsed:
HTTP responses (paired with requests in order), then WebSocket frames through the codec's client-side
parser, Engine.IO payloads and packets through the codec's decoders.

Protocol oracles, which need no knowledge of the application behind the server:
  invalid-http       a response that is not HTTP/1.1 (status line, header lines, body framing)
  bad-accept         a 101 whose Sec-WebSocket-Accept is not the one RFC 6455 computes from the key, or a 101
                     to a handshake whose key is not one field of 16 bytes in base64 (a 400 is due)
  invalid-ws         a server frame the codec's parser rejects (masked, reserved bits or opcodes,
                     bad close payload, invalid UTF-8 text)
  invalid-eio        a polling body or a WebSocket message that is not a valid Engine.IO payload or
                     packet of the session's version; a handshake whose first packet is not a
                     valid open packet
  closed-answers     a session the target closed (it sent the close packet `1`, or ended the
                     WebSocket of a WebSocket-only session) that still gets 200 or 101 on a later
                     request carrying its sid
  frame-after-close  a data frame after the target's own close frame on the same connection
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import re
import select
import socket
import struct
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field

from harness import wire
from siocodec import CodecError
from siocodec import eio as codec_eio
from siocodec import ws as codec_ws

from .program import CloseStep, Context, HttpStep, Program, Step, WsStep, render

CONNECT_TIMEOUT_S = 1.0
SEND_TIMEOUT_S = 0.5
REPLY_S = 1.0
POLL_WAIT_S = 0.05
QUIET_S = 0.02
DRAIN_S = 0.3
# Bytes kept of each received item in a transcript (a reproducer shows what the target answered).
KEEP_BYTES = 512
# RFC 9112 section 4: HTTP-version SP 3DIGIT SP [reason-phrase].
STATUS_LINE = re.compile(r"HTTP/\d\.\d \d{3}( |$)")


@dataclass
class Problem:
    oracle: str
    detail: str
    step: int


@dataclass
class Received:
    conn: int
    at: float
    kind: str  # http, ws-text, ws-binary, ws-close, ws-ping, ws-pong, eof, reset
    data: bytes = b""
    status: int | None = None

    def describe(self) -> str:
        if self.kind == "http":
            return f"conn {self.conn}: HTTP {self.status} {self.data[:KEEP_BYTES]!r}"
        return f"conn {self.conn}: {self.kind} {self.data[:KEEP_BYTES]!r}"


@dataclass
class Transcript:
    received: list[Received] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sids: list[bytes] = field(default_factory=list)
    refused: bool = False
    unanswered: int = 0
    connections: int = 0
    # The run was stopped before its end (the campaign paused to triage a finding).
    cancelled: bool = False
    # When the first connection was attempted (monotonic), 0.0 if none was.
    first_connect_at: float = 0.0

    @property
    def reached(self) -> bool:
        """Whether any of the program's bytes reached the target (a dead one refuses the first connection)."""
        return self.connections > 0

    signature: set[str] = field(default_factory=set)

    def add_problem(self, oracle: str, detail: str, step: int) -> None:
        self.problems.append(Problem(oracle, detail, step))
        self.signature.add(f"problem:{oracle}")


@dataclass
class Request:
    """A request as the target will read it: what its answer is judged against."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    sent_at: float
    step: int
    # Query keys given more than once: which value a server takes is its own choice.
    repeated: frozenset[str] = frozenset()
    # The request line is well formed (an HTTP/1.x version): only then is the method's meaning sure.
    well_formed: bool = True
    # Every Sec-WebSocket-Key field, in order (the dict above keeps the last one only).
    ws_keys: tuple[str, ...] = ()

    @property
    def sid(self) -> str | None:
        return None if "sid" in self.repeated else self.query.get("sid")


def parse_request(data: bytes, sent_at: float, step: int) -> Request | None:
    head = wire.find_head(data)
    if head is None:
        return None
    parts = head.start_line.split(" ")
    if len(parts) != 3:
        return None
    target = urllib.parse.urlsplit(parts[1])
    values = urllib.parse.parse_qs(target.query, keep_blank_values=True)
    query = {k: v[-1] for k, v in values.items()}
    headers = {k.lower(): v for k, v in head.headers}
    repeated = frozenset(k for k, v in values.items() if len(v) > 1)
    well_formed = parts[2] in ("HTTP/1.1", "HTTP/1.0")
    ws_keys = tuple(v for k, v in head.headers if k.lower() == "sec-websocket-key")
    return Request(parts[0], target.path, query, headers, sent_at, step, repeated, well_formed, ws_keys)


def is_websocket_nonce(key: str) -> bool:
    """RFC 6455 section 4.2.1: the key is 16 bytes in base64 (24 characters, padding included)."""
    try:
        return len(key) == 24 and len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


class Conn:
    """One TCP connection: the requests sent on it and the target's bytes, parsed as they come."""

    def __init__(self, n: int, sock: socket.socket):
        self.n = n
        self.sock = sock
        self.out = wire.Splitter(request_side=True)
        self.pending: deque[Request | None] = deque()
        self.inbuf = bytearray()
        self.ws: codec_ws.StreamReader | None = None
        self.ws_request: Request | None = None
        self.ws_close_seen = False
        self.ws_extension: wire.FrameParser | None = None
        self.eof = False
        self.untracked = False  # our own bytes could not be split into requests: no pairing
        # An answer was due to a request that is not HTTP/1.x (no version, garbage, WebSocket frames on a
        # fresh connection): HTTP/1.1 says nothing of what it gets (an HTTP/0.9 server answers with the
        # bare body), so from there on the connection's bytes are kept but not judged.
        self.unjudged = False
        self.sent_http = False  # an HTTP request was sent on this connection
        # Content-Length of the last answer to a HEAD request: content that follows it is a finding.
        self.after_head = 0
        self.answered = 0


class Executor:
    """Runs one program. `eio_path` is the Socket.IO endpoint whose answers are judged."""

    def __init__(self, host: str, port: int, program: Program, cancel: threading.Event | None = None,
                 reply_s: float = REPLY_S):  # fmt: skip
        self.host, self.port = host, port
        self.cancel = cancel
        self.reply_s = reply_s
        self.program = program
        self.ctx = Context(host, port)
        self.conns: dict[int, Conn] = {}
        self.t = Transcript()
        self.sid_version: dict[str, int] = {}
        self.closed_sids: dict[str, float] = {}
        self.b64_sids: set[str] = set()
        self.ws_only_sid: dict[int, str] = {}
        self.step_index = -1

    # ------------------------------------------------------------------ running
    def run(self) -> Transcript:
        try:
            for i, step in enumerate(self.program.steps):
                self.step_index = i
                if self._cancelled() or not self._do(step):
                    break
            self._pump(time.monotonic() + DRAIN_S, quiet=QUIET_S)
        finally:
            for c in self.conns.values():
                _reset(c.sock)
        self.t.sids = list(self.ctx.sids)
        self.t.connections = len(self.conns)
        return self.t

    def _cancelled(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            self.t.cancelled = True
        return self.t.cancelled

    def _do(self, step: Step) -> bool:
        conn = self._conn(step.conn)
        if conn is None:
            return not self.t.refused
        if isinstance(step, CloseStep):
            if step.how == "reset":
                _reset(conn.sock)
                conn.eof = True
            else:
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            return True
        data = render(step, self.ctx)
        self._track_sent(conn, data)
        before = conn.answered
        try:
            conn.sock.settimeout(SEND_TIMEOUT_S)
            conn.sock.sendall(data)
        except TimeoutError:
            self.t.signature.add("send-stalled")
        except OSError:
            self.t.signature.add("send-failed")
        wait = self._wait_for(step)
        if wait > 0 and not conn.eof:
            got = self._pump(time.monotonic() + wait, until=lambda: conn.answered > before or conn.eof)
            if not got and wait >= self.reply_s:
                self.t.unanswered += 1
                self.t.signature.add("unanswered")
        else:
            self._pump(time.monotonic())
        return True

    def _wait_for(self, step: Step) -> float:
        if isinstance(step, WsStep):
            return 0.0
        if not isinstance(step, HttpStep):
            return POLL_WAIT_S
        target = step.target
        upgrade = any(k.lower() == "upgrade" for k, _ in step.headers)
        if step.method == "POST" or upgrade or "sid=" not in target:
            return self.reply_s
        return min(POLL_WAIT_S, self.reply_s)

    def _conn(self, n: int) -> Conn | None:
        c = self.conns.get(n)
        if c is not None:
            return c
        if not self.t.first_connect_at:
            self.t.first_connect_at = time.monotonic()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        except ConnectionRefusedError:
            self.t.refused = True
            self.t.signature.add("refused")
            return None
        except OSError as exc:
            self.t.signature.add(f"connect-{errno.errorcode.get(exc.errno or 0, 'error')}")
            return None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(n, sock)
        self.conns[n] = c
        return c

    def _track_sent(self, conn: Conn, data: bytes) -> None:
        """Splits our own bytes into requests, so answers can be paired with them."""
        if conn.untracked or conn.out.websocket:
            return
        now = time.monotonic()
        try:
            for msg in conn.out.feed(data):
                if msg.kind == "http-request":
                    req = parse_request(msg.data, now, self.step_index)
                    conn.pending.append(req)
                    conn.sent_http = True
                    if req is not None and "upgrade" in req.headers:
                        conn.ws_request = req
        except (wire.WireError, ValueError):
            conn.untracked = True
            conn.pending.clear()

    # ------------------------------------------------------------------ reading
    def _pump(self, deadline: float, until=None, quiet: float | None = None) -> bool:
        """Reads from every open connection until `until()` holds, the deadline passes, or (with
        `quiet`) nothing has arrived for that long. Returns whether `until()` held."""
        last = time.monotonic()
        while True:
            if until is not None and until():
                return True
            if self._cancelled():
                return False
            live = [c for c in self.conns.values() if not c.eof]
            if not live:
                return until is not None and until()
            now = time.monotonic()
            end = deadline if quiet is None else min(deadline, last + quiet)
            timeout = max(0.0, end - now)
            ready = _readable([c.sock for c in live], timeout)
            if not ready:
                if time.monotonic() >= end:
                    return until is not None and until()
                continue
            for c in live:
                if c.sock.fileno() in ready:
                    self._read(c)
            last = time.monotonic()

    def _read(self, c: Conn) -> None:
        try:
            chunk = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            c.eof = True
            self._event(c, "reset", b"")
            return
        if not chunk:
            c.eof = True
            self._parse(c, final=True)
            self._event(c, "eof", b"")
            return
        c.inbuf += chunk
        self._parse(c, final=False)

    def _parse(self, c: Conn, final: bool) -> None:
        for _ in range(100000):
            if c.ws is not None:
                if c.inbuf:
                    self._frames(c, bytes(c.inbuf))
                    c.inbuf.clear()
                return
            if not c.inbuf or not self._response(c, final):
                return

    def _content_after_head(self, c: Conn, final: bool) -> bool | None:
        """RFC 9110 section 9.3.2: an answer to HEAD has no content. Content that follows one (as long
        as the Content-Length it announced, and followed by nothing or by the next response) is
        reported and skipped. None while it cannot be told yet; True when bytes were skipped."""
        n, c.after_head = c.after_head, 0
        if c.inbuf[:5] == b"HTTP/"[: len(c.inbuf)]:
            return False
        if len(c.inbuf) < n and not final:
            c.after_head = n
            return None
        rest = bytes(c.inbuf[n:])
        if len(c.inbuf) >= n and (not rest or rest.startswith(b"HTTP/")):
            self.t.add_problem("invalid-http", f"conn {c.n}: the answer to HEAD carries content: {bytes(c.inbuf[:n])[:80]!r}",
                               self.step_index)  # fmt: skip
            del c.inbuf[:n]
            return True
        return False

    def _response(self, c: Conn, final: bool) -> bool:
        """Takes one complete HTTP response off the buffer; False while it is incomplete."""
        not_http = not c.sent_http or (c.pending and (c.pending[0] is None or not c.pending[0].well_formed))
        if c.unjudged or c.untracked or not_http:
            c.unjudged = True
            self._event(c, "unjudged", bytes(c.inbuf))
            c.inbuf.clear()
            return False
        if c.after_head:
            skipped = self._content_after_head(c, final)
            if skipped is None:
                return False
            if skipped and not c.inbuf:
                return False
        try:
            head = wire.find_head(bytes(c.inbuf))
        except wire.WireError as exc:
            self._bad_http(c, str(exc))
            return False
        if head is None:
            if final:
                self._bad_http(c, f"connection ended inside a response head ({len(c.inbuf)} bytes)")
            return False
        if not STATUS_LINE.match(head.start_line):
            self._bad_http(c, f"status line {head.start_line[:80]!r}")
            return False
        status = int(head.start_line[9:12])
        # An interim answer (100 Continue) comes before the real one, which then still answers the request.
        interim = 100 <= status < 200 and status != 101
        first = c.pending[0] if c.pending else None
        method = first.method if first is not None and first.well_formed else "GET"
        body_len = self._body_length(c, head, status, final, method)
        if body_len is None:
            return False
        end = head.head_length + body_len
        raw = bytes(c.inbuf[:end])
        del c.inbuf[:end]
        body = raw[head.head_length :]
        if head.header("transfer-encoding") and "chunked" in (head.header("transfer-encoding") or "").lower():
            body = wire.dechunk(body)
        req = None
        if not interim:
            req = c.pending.popleft() if c.pending else None
            c.answered += 1
        if method == "HEAD" and head.header("content-length") is not None and wire.response_has_body(status):
            cl = head.header("content-length") or ""
            c.after_head = int(cl) if cl.strip().isdigit() else 0
        self._event(c, "http", body, status)
        self._judge_response(c, req, status, head, body)
        if status == 101:
            if head.header("sec-websocket-extensions"):
                # Frames of a negotiated extension (permessage-deflate) carry RSV1 and compressed
                # payloads: they are split and their close frames followed, not judged.
                c.ws_extension = wire.FrameParser()
            c.ws = codec_ws.StreamReader(codec_ws.ROLE_CLIENT, 1 << 30)
        return True

    def _body_length(self, c: Conn, head: wire.HttpHead, status: int, final: bool, method: str) -> int | None:
        if not wire.response_has_body(status, method):
            return 0
        te = (head.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            try:
                return wire.chunked_length(bytes(c.inbuf), head.head_length)
            except (ValueError, wire.WireError) as exc:
                self._bad_http(c, f"chunked body: {exc}")
                return None
        cl = head.header("content-length")
        if cl is not None:
            if not cl.strip().isdigit():
                self._bad_http(c, f"Content-Length {cl!r}")
                return None
            n = int(cl)
            return n if len(c.inbuf) >= head.head_length + n else None
        # No length: the body runs to the end of the connection.
        return len(c.inbuf) - head.head_length if final else None

    def _bad_http(self, c: Conn, detail: str) -> None:
        self.t.add_problem("invalid-http", f"conn {c.n}: {detail}", self.step_index)
        c.inbuf.clear()
        c.eof = True
        _reset(c.sock)

    def _frames(self, c: Conn, data: bytes) -> None:
        assert c.ws is not None
        if c.ws_extension is not None:
            self._extension_frames(c, data)
            return
        try:
            messages = c.ws.feed(data)
        except CodecError as exc:
            self.t.add_problem("invalid-ws", f"conn {c.n}: {exc.name} at byte {c.ws.consumed}", self.step_index)
            c.ws = codec_ws.StreamReader(codec_ws.ROLE_CLIENT, 1 << 30)
            c.eof = True
            _reset(c.sock)
            return
        for m in messages:
            kind = m["type"]
            if kind in ("text", "binary"):
                payload = _payload_bytes(m["data"])
                if c.ws_close_seen:
                    self.t.add_problem("frame-after-close", f"conn {c.n}: {kind} {payload[:80]!r}", self.step_index)
                self._event(c, f"ws-{kind}", payload)
                self._judge_ws_message(c, kind, payload)
            elif kind == "close":
                c.ws_close_seen = True
                self._event(c, "ws-close", struct.pack("!H", m["code"]) if m["code"] else b"")
                self.t.signature.add(f"close:{m['code']}")
                self._ws_session_ended(c)
            else:
                self._event(c, f"ws-{kind}", _payload_bytes(m["data"]))

    def _extension_frames(self, c: Conn, data: bytes) -> None:
        assert c.ws_extension is not None
        try:
            frames = c.ws_extension.feed(data)
        except wire.WireError:
            return
        for f in frames:
            if f.opcode == wire.OP_CLOSE:
                c.ws_close_seen = True
                self._event(c, "ws-close", f.payload[:2])
                self._ws_session_ended(c)
            elif f.opcode in (wire.OP_TEXT, wire.OP_BINARY, wire.OP_CONT):
                self._event(c, "ws-extension-data", f.payload)

    def _event(self, c: Conn, kind: str, data: bytes, status: int | None = None) -> None:
        self.t.received.append(Received(c.n, time.monotonic(), kind, data[:KEEP_BYTES], status))
        self.t.signature.add(f"http:{status}" if kind == "http" else kind)
        if kind in ("eof", "reset"):
            self._ws_session_ended(c)

    # ------------------------------------------------------------------ judging
    def _endpoint(self, req: Request) -> bool:
        return req.path == self.program.path

    def _version(self, req: Request) -> int | None:
        sid = req.sid
        if sid is not None and sid in self.sid_version:
            return self.sid_version[sid]
        if "EIO" in req.repeated:
            return None
        return {"3": 3, "4": 4}.get(req.query.get("EIO", ""))

    def _judge_accept(self, req: Request, head: wire.HttpHead) -> None:
        """A 101 is due only to one Sec-WebSocket-Key field holding a nonce (RFC 6455 section 4.2.1: any
        other handshake gets an error such as 400), and its accept is computed from that nonce. Values
        are shown as bytes so that the finding's key leaves them out (one finding, not one per key)."""
        keys = req.ws_keys
        if len(keys) != 1:
            self.t.add_problem("bad-accept", f"101 to a handshake with {len(keys)} Sec-WebSocket-Key fields", req.step)
            return
        if not is_websocket_nonce(keys[0]):
            self.t.add_problem("bad-accept", f"101 to a Sec-WebSocket-Key that is not 16 bytes in base64: "
                               f"{keys[0].encode()!r}", req.step)  # fmt: skip
            return
        want = codec_ws.accept_for(keys[0].encode())
        got = head.header("sec-websocket-accept")
        if got != want:
            shown = (got or "").encode()
            self.t.add_problem("bad-accept", f"Sec-WebSocket-Accept is not the key's: {shown!r}, expected "
                               f"{want.encode()!r}", req.step)  # fmt: skip

    def _judge_response(self, c: Conn, req: Request | None, status: int, head: wire.HttpHead, body: bytes) -> None:
        if req is None or not self._endpoint(req):
            return
        sid = req.sid
        if sid is not None and sid in self.closed_sids and req.sent_at > self.closed_sids[sid] and status in (200, 101):
            self.t.add_problem("closed-answers", f"{req.method} with the closed session's sid got {status}", req.step)
        if status == 101:
            self._judge_accept(req, head)
            return
        if status != 200 or req.method != "GET" or req.query.get("transport") != "polling" or "j" in req.query:
            return
        fixed = self._version(req)
        ctype = (head.header("content-type") or "").lower()
        v3 = codec_eio.PAYLOAD_V3_BINARY if "octet-stream" in ctype else codec_eio.PAYLOAD_V3_TEXT
        handshake = "sid" not in req.query
        # With the version not fixed by the request (absent, repeated, unknown), either one will do; a
        # handshake must then begin with an open packet in the version it is read in.
        decoded: list[tuple[int, list[dict]]] = []
        errors = []
        for version, fmt in [(4, codec_eio.PAYLOAD_V4), (3, v3)]:
            if fixed is not None and version != fixed:
                continue
            try:
                decoded.append((version, codec_eio.decode_payload_format(fmt, body, {})["packets"]))
            except CodecError as exc:
                errors.append(exc.name)
        if handshake and fixed is None:
            decoded = [d for d in decoded if d[1] and d[1][0]["type"] == "open"] or decoded
        if not decoded:
            which = fixed or "3 or 4"
            self.t.add_problem(
                "invalid-eio", f"polling body (EIO {which}): {'/'.join(errors)}: {body[:120]!r}", req.step
            )
            return
        version, packets = decoded[0]
        for p in packets:
            self.t.signature.add(f"eio:{p['type']}")
        if handshake:
            self._learn_open(packets, [version] if fixed else [v for v, _ in decoded], req)
        elif sid is not None and any(p["type"] == "close" for p in packets):
            self.closed_sids.setdefault(sid, time.monotonic())

    def _learn_open(self, packets: list[dict], versions: list[int], req: Request) -> None:
        if not packets or packets[0]["type"] != "open":
            self.t.add_problem("invalid-eio", f"handshake answered without an open packet: {packets[:2]}", req.step)
            return
        text = b"0" + str(packets[0].get("text", "")).encode("utf-8")
        found = self._open_sid(text, versions, req.step)
        if found is not None:
            sid, version = found
            self.ctx.sids.append(sid.encode())
            self.sid_version[sid] = version
            if req.query.get("b64"):
                self.b64_sids.add(sid)

    def _open_sid(self, data: bytes, versions: list[int], step: int) -> tuple[str, int] | None:
        """The session id of an open packet and the version it is valid in (the first of `versions`
        that accepts it); an open packet no version accepts is a finding, and its sid is still used."""
        error = ""
        for version in versions:
            try:
                return str(codec_eio.decode_open(data, version)["sid"]), version
            except (CodecError, UnicodeDecodeError) as exc:
                error = str(exc)
        self.t.add_problem(
            "invalid-eio", f"open packet {data[:120]!r} (EIO {'/'.join(map(str, versions))}): {error}", step
        )
        try:
            sid = json.loads(data[1:]).get("sid")
        except (ValueError, AttributeError):
            return None
        return (sid, versions[0]) if isinstance(sid, str) else None

    def _judge_ws_message(self, c: Conn, kind: str, payload: bytes) -> None:
        req = c.ws_request
        if req is None or not self._endpoint(req):
            return
        fixed = self._version(req)
        pkt = None
        error = ""
        # With the version not fixed by the request, a packet of either version will do.
        for version in [fixed] if fixed else [4, 3]:
            options = {"protocol": version, "transport": "websocket", "b64": self._b64(req)}
            try:
                pkt = codec_eio.decode_packet([payload], [kind], options)
                break
            except (CodecError, UnicodeDecodeError) as exc:
                error = str(exc)
        if pkt is None:
            which = fixed or "3 or 4"
            self.t.add_problem(
                "invalid-eio", f"conn {c.n}: WebSocket {kind} message (EIO {which}): {error}: {payload[:120]!r}",
                self.step_index,
            )  # fmt: skip
            return
        self.t.signature.add(f"eio:{pkt['type']}")
        if pkt["type"] == "open" and "sid" not in req.query and c.n not in self.ws_only_sid:
            found = self._open_sid(payload, [fixed] if fixed else [4, 3], self.step_index)
            if found is not None:
                sid, version = found
                self.ctx.sids.append(sid.encode())
                self.sid_version[sid] = version
                self.ws_only_sid[c.n] = sid
        elif pkt["type"] == "close":
            closed = req.sid or self.ws_only_sid.get(c.n)
            if closed is not None:
                self.closed_sids.setdefault(closed, time.monotonic())

    def _b64(self, req: Request) -> bool:
        """Binary as base64 text frames was asked for (`b64` with any value, on this request or on the
        handshake of its session), which a server may honour (EIO-PKT-10)."""
        return bool(req.query.get("b64")) or (req.sid is not None and req.sid in self.b64_sids)

    def _ws_session_ended(self, c: Conn) -> None:
        sid = self.ws_only_sid.get(c.n)
        if sid is not None:
            self.closed_sids.setdefault(sid, time.monotonic())


# ---------------------------------------------------------------------------- helpers


def _payload_bytes(obj: dict) -> bytes:
    if "text" in obj:
        return obj["text"].encode("utf-8")
    if "hex" in obj:
        return bytes.fromhex(obj["hex"])
    return b"".join(bytes.fromhex(p["fill"]) * p["count"] for p in obj["parts"])


def _readable(socks: list[socket.socket], timeout: float) -> set[int]:
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
    return {fd for fd, _ in poller.poll(int(timeout * 1000) if timeout > 0 else 0)}


def _reset(sock: socket.socket) -> None:
    """Closes with a reset (SO_LINGER 0): thousands of connections a minute leave no TIME_WAIT."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def run_program(host: str, port: int, program: Program, cancel: threading.Event | None = None,
                reply_s: float = REPLY_S) -> Transcript:  # fmt: skip
    return Executor(host, port, program, cancel, reply_s).run()
