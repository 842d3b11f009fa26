"""Every socket the harness opens goes through here: so that each case can close what it left open, and
so that every byte sent and received lands, with its time, in the wire transcript of the case that is
running (shown with every verdict that is not a pass, and kept in the JSON report)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field

from . import wire

MAX_EVENTS = 2000  # per case; later events are counted, not kept (the heartbeat cases stay far below)
SHOWN_BYTES = 2048  # of one message, in the JSON report
LINE_CHARS = 220  # of one message, in the terminal


def show_bytes(data: bytes, limit: int = SHOWN_BYTES, compact: bool = False) -> str:
    """Bytes as readable text: UTF-8 where it decodes, every control or undecodable byte escaped. With
    `compact`, each run (RUN_MIN or more identical bytes, or of ascending consecutive numbers separated by
    commas, as padding is) is named instead of shown (`⟪x × 5000⟫`, `⟪2000 numbers 0..1999, comma-separated⟫`),
    so that what follows a run is shown too, and a message with a run ends with its length and SHA-256."""
    runs = _runs(data) if compact else []
    if not runs:
        more = f" … ({len(data)} bytes)" if len(data) > limit else ""
        return _escape(data[:limit]) + more
    out: list[str] = []
    pos = shown = 0
    cut = False
    for start, end, name in [*runs, (len(data), len(data), "")]:
        plain = data[pos:start]
        if shown + len(plain) > limit:
            out.append(_escape(plain[: limit - shown]))
            cut = True
            break
        out.append(_escape(plain) + name)
        shown += len(plain) + len(name)
        pos = end
    digest = hashlib.sha256(data).hexdigest()[:16]
    return "".join(out) + f"{' …' if cut else ''} ({len(data)} bytes, sha256 {digest}…)"


RUN_MIN = 32  # the shortest run `show_bytes(compact=True)` names
_NUMBER_LIST = re.compile(rb"(?:0|[1-9][0-9]*)(?:,(?:0|[1-9][0-9]*)){%d,}" % (RUN_MIN - 1))
_SAME_BYTES = re.compile(rb"(.)\1{%d,}" % (RUN_MIN - 1), re.S)


def _runs(data: bytes) -> list[tuple[int, int, str]]:
    """(start, end, name) of each run in `data`, in order: consecutive ascending numbers first, then runs
    of one byte in what lies between them."""
    numbers: list[tuple[int, int, str]] = []
    for m in _NUMBER_LIST.finditer(data):
        pos, first, lo, prev, count = m.start(), m.start(), None, None, 0
        for token in m.group().split(b",") + [b""]:
            value = int(token) if token else None
            if value is not None and prev is not None and value == prev + 1:
                count += 1
            else:
                if count >= RUN_MIN:
                    numbers.append((first, pos - 1, f"⟪{count} numbers {lo}..{prev}, comma-separated⟫"))
                first, lo, count = pos, value, 1
            prev = value
            pos += len(token) + 1
    out: list[tuple[int, int, str]] = []
    gaps = [0, *[x for start, end, _ in numbers for x in (start, end)], len(data)]
    for a, b in zip(gaps[::2], gaps[1::2]):
        for m in _SAME_BYTES.finditer(data, a, b):
            out.append((m.start(), m.end(), f"⟪{_escape(m.group(1))} × {m.end() - m.start()}⟫"))
    return sorted(out + numbers)


def _escape(data: bytes) -> str:
    text = data.decode("utf-8", errors="backslashreplace")
    out = []
    for ch in text:
        if ch == "\\" or ch.isprintable():
            out.append(ch)
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


@dataclass
class Event:
    t: float  # seconds since the case started
    conn: int
    direction: str  # ">" sent by the suite, "<" received from the target, "!" what happened to the connection
    data: bytes = b""
    note: str = ""


@dataclass
class Transcript:
    """What one case sent and received, per connection, in time order."""

    t0: float = field(default_factory=time.monotonic)
    events: list[Event] = field(default_factory=list)
    dropped: int = 0
    next_conn: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)
    stall_ms: float = 0.0  # the longest time the suite's process did not run during the case
    # Each time the suite's process did not run, as (from, to) in monotonic seconds.
    stalls: list[tuple[float, float]] = field(default_factory=list)

    def add(self, conn: int, direction: str, data: bytes = b"", note: str = "", at: float | None = None) -> None:
        """Records an event at monotonic time `at` (default: now)."""
        with self.lock:
            if len(self.events) >= MAX_EVENTS:
                self.dropped += 1
                return
            when = time.monotonic() if at is None else at
            self.events.append(Event(round(when - self.t0, 4), conn, direction, data, note))

    def messages(self) -> list[dict]:
        """The events with each connection's bytes cut into HTTP messages and WebSocket frames (frames
        shown unmasked, with their opcode), as the JSON report keeps them."""
        with self.lock:
            events = sorted(self.events, key=lambda e: e.t)  # received bytes carry their arrival time
        splitters: dict[tuple[int, str], wire.Splitter] = {}
        out: list[dict] = []
        for ev in events:
            if ev.direction == "!":
                out.append({"t": ev.t, "conn": ev.conn, "dir": "!", "text": ev.note})
                continue
            key = (ev.conn, ev.direction)
            sp = splitters.setdefault(key, wire.Splitter(ev.direction == ">"))
            try:
                pieces = sp.feed(ev.data)
            except (wire.WireError, ValueError):
                pieces, sp.buffer = [wire.StreamMessage("bytes", bytes(sp.buffer))], bytearray()
            for p in pieces:
                text = _describe(p, ev.direction == ">")
                out.append({"t": ev.t, "conn": ev.conn, "dir": ev.direction, "text": text, "bytes": len(p.data)})
        for (conn, direction), sp in splitters.items():
            if sp.buffer:
                left = bytes(sp.buffer)
                text = f"incomplete, {len(left)} bytes: {show_bytes(left)}"
                out.append({"t": None, "conn": conn, "dir": direction, "text": text, "bytes": len(left)})
        if self.dropped:
            out.append({"t": None, "conn": 0, "dir": "!", "text": f"{self.dropped} later events not kept"})
        return out

    def lines(self, limit: int = 40) -> list[str]:
        """The transcript for a terminal: one line per message, the last `limit` of them."""
        msgs = self.messages()
        shown = msgs[-limit:]
        out = [f"  ({len(msgs) - len(shown)} earlier messages in the JSON report)"] if len(shown) < len(msgs) else []
        for m in shown:
            t = "       " if m["t"] is None else f"{m['t']:7.3f}"
            text = m["text"] if len(m["text"]) <= LINE_CHARS else m["text"][:LINE_CHARS] + " …"
            out.append(f"  {t} #{m['conn']} {m['dir']} {text}")
        return out


def _describe(piece: wire.StreamMessage, from_client: bool, compact: bool = False) -> str:
    if piece.kind != "ws-frame":
        return show_bytes(piece.data, compact=compact)
    f = wire.decode_frame(piece.data)
    name = wire.OPCODE_NAMES.get(f.opcode, f"opcode {f.opcode:#x}")
    masking = "" if f.masked == from_client else (" masked" if f.masked else " unmasked")  # only when unusual
    flags = ("" if f.fin else " fin=0") + (f" rsv={f.rsv}" if f.rsv else "") + masking
    if f.opcode == wire.OP_CLOSE:
        code, reason = wire.parse_close(f.payload)
        return f"ws {wire.close_text(code, reason)}{flags}"
    return f"ws {name}{flags} [{len(f.payload)}] {show_bytes(f.payload, compact=compact)}"


@dataclass
class _Conn:
    id: int
    transcript: Transcript | None


_lock = threading.Lock()
_open: dict[socket.socket, _Conn] = {}
_current: Transcript | None = None


def begin_case() -> Transcript:
    """Starts the transcript of the case about to run; sockets opened from now on write into it."""
    global _current
    with _lock:
        _current = Transcript()
        return _current


def current_stalls() -> list[tuple[float, float]]:
    """The suite's own stalls so far in the running case, as (from, to) in monotonic seconds."""
    with _lock:
        return list(_current.stalls) if _current is not None else []


def end_case() -> Transcript | None:
    global _current
    with _lock:
        out, _current = _current, None
        return out


# The suite's own scheduling: a thread that should wake every STALL_TICK_S notes each time it woke
# STALL_NOTE_S or more late. The whole process was then not running (a loaded machine): no reply
# could be read, no pong sent, no deadline checked in that gap, so a timing verdict across it says as
# much about the machine as about the target. The gap goes into the transcript of the running case.
STALL_TICK_S = 0.02
STALL_NOTE_S = 0.1
_stall_watch: threading.Thread | None = None


def watch_stalls() -> None:
    """Starts the stall watch (once per process)."""
    global _stall_watch
    with _lock:
        if _stall_watch is not None:
            return
        _stall_watch = threading.Thread(target=_watch_stalls, daemon=True, name="stall watch")
    _stall_watch.start()


def _watch_stalls() -> None:
    tick = threading.Event()  # never set: its timed wait is the watch's clock
    last = time.monotonic()
    for _ in iter(int, 1):  # for the life of the process
        tick.wait(STALL_TICK_S)
        now = time.monotonic()
        late = now - last - STALL_TICK_S
        last = now
        if late < STALL_NOTE_S:
            continue
        with _lock:
            t = _current
        if t is not None:
            t.stall_ms = max(t.stall_ms, round(late * 1000))
            t.stalls.append((now - late, now))
            t.add(0, "!", note=f"the suite itself did not run for {late * 1000:.0f} ms (machine load)")


# Received bytes are timed when they reached the machine (the kernel's receive timestamp, asked with
# SO_TIMESTAMPNS on Linux; Python's socket module does not name it), not when a thread of the suite got
# to read them: on a loaded machine a transcript then shows whether the target or the suite was late.
SO_TIMESTAMPNS = 35
ARRIVAL_CMSG_SPACE = socket.CMSG_SPACE(16)  # recvmsg's ancillary size for the stamp
_arrival_lock = threading.Lock()


def ask_arrival_times(sock: socket.socket) -> None:
    """Asks the kernel to stamp what `sock` receives (Linux; elsewhere, or when refused, nothing)."""
    if sys.platform.startswith("linux"):
        arrival_times_on()
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


# Linux turns its receive timestamps on for the whole machine only when a socket first asks for them,
# and later than the asking (from a work queue): until then a segment is stamped when it is read, which
# is the very error the stamps are there to avoid. The first socket that asks is therefore a datagram
# socket of the suite's own, kept open for the life of the process so that the stamps stay on, and the
# suite waits (ARRIVAL_PROBE_S at most) until a datagram it sends to itself comes back stamped before
# it was read.
ARRIVAL_PROBE_S = 2.0
_arrival_keeper: socket.socket | None = None
_arrival_on: bool | None = None


def arrival_times_on() -> bool:
    """True once received bytes are stamped when they arrived (Linux); False where they are not, and
    then the time a suite thread read them stands in. Waits for the kernel the first time only."""
    global _arrival_keeper, _arrival_on
    with _arrival_lock:
        if _arrival_on is not None:
            return _arrival_on
        _arrival_on = False
        if not sys.platform.startswith("linux"):
            return False
        try:
            keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            keeper.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            keeper.bind(("127.0.0.1", 0))
            keeper.settimeout(1.0)
        except OSError:
            return False
        _arrival_keeper = keeper
        give_up = time.monotonic() + ARRIVAL_PROBE_S
        while time.monotonic() < give_up:
            try:
                keeper.sendto(b"?", keeper.getsockname())
                time.sleep(0.02)
                _, ancillary, _, _ = keeper.recvmsg(16, ARRIVAL_CMSG_SPACE)
            except OSError:
                return False
            if arrival_age(ancillary) >= 0.01:  # stamped when it came, not when it was read
                _arrival_on = True
                return True
        return False


def arrival_age(ancillary: list[tuple[int, int, bytes]]) -> float:
    """Seconds since the kernel stamped the bytes whose recvmsg gave `ancillary`; 0 when there is no
    stamp (the bytes are then taken to have arrived when they were read)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return max(0.0, time.time() - (sec + nsec / 1e9))
    return 0.0


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """Monotonic time of the kernel's receive timestamp in `ancillary`; now when there is none."""
    return time.monotonic() - arrival_age(ancillary)


def register(sock: socket.socket, peer: str = "") -> None:
    ask_arrival_times(sock)
    with _lock:
        t = _current
        if t is None:
            _open[sock] = _Conn(0, None)
            return
        conn = _Conn(t.next_conn, t)
        t.next_conn += 1
        _open[sock] = conn
    t.add(conn.id, "!", note=f"connected to {peer}" if peer else "connected")


def _conn(sock: socket.socket) -> _Conn | None:
    with _lock:
        return _open.get(sock)


def note(sock: socket.socket, text: str) -> None:
    c = _conn(sock)
    if c is not None and c.transcript is not None:
        c.transcript.add(c.id, "!", note=text)


def send(sock: socket.socket, data: bytes) -> None:
    """sendall, recorded. A reset or broken pipe is recorded with its time (and how much had gone out)
    before it is raised: the target closed the connection while the suite was still sending."""
    c = _conn(sock)
    sent = 0
    view = memoryview(data)
    try:
        while sent < len(data):
            sent += sock.send(view[sent:])
    except OSError as exc:
        if c is not None and c.transcript is not None:
            if sent:
                c.transcript.add(c.id, ">", bytes(data[:sent]))
            c.transcript.add(c.id, "!", note=f"{_os_error(exc)} while sending, after {sent} of {len(data)} bytes")
        raise
    if c is not None and c.transcript is not None:
        c.transcript.add(c.id, ">", bytes(data))


def recv(sock: socket.socket, size: int = 65536) -> bytes:
    """recv, recorded; b"" at the end of the stream. A reset is recorded and raised."""
    return recv_timed(sock, size)[0]


def recv_timed(sock: socket.socket, size: int = 65536) -> tuple[bytes, float]:
    """recv, recorded, with the monotonic time the bytes reached the machine (for b"", the time it was
    read)."""
    try:
        data, ancillary, _, _ = sock.recvmsg(size, ARRIVAL_CMSG_SPACE)
    except TimeoutError:
        c = _conn(sock)
        if c is not None and c.transcript is not None:
            c.transcript.add(c.id, "!", note=f"nothing received within {sock.gettimeout()} s: the suite gives up")
        raise
    except OSError as exc:
        c = _conn(sock)  # None once the suite has closed the socket itself
        if c is not None and c.transcript is not None:
            c.transcript.add(c.id, "!", note=f"{_os_error(exc)} while receiving")
        raise
    arrived = _arrival(ancillary)
    c = _conn(sock)
    if c is not None and c.transcript is not None:
        if data:
            c.transcript.add(c.id, "<", data, at=arrived)
        else:
            c.transcript.add(c.id, "!", note="end of stream from the target")
    return data, arrived


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the target"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe (the target closed the connection)"
    return f"{type(exc).__name__}: {exc}"


def forget(sock: socket.socket) -> None:
    """The caller closes this socket itself (for example with a reset)."""
    with _lock:
        c = _open.pop(sock, None)
    if c is not None and c.transcript is not None:
        c.transcript.add(c.id, "!", note="closed by the suite, its own way")


def close(sock: socket.socket) -> None:
    with _lock:
        c = _open.pop(sock, None)
    if c is not None and c.transcript is not None and sock.fileno() >= 0:
        c.transcript.add(c.id, "!", note="closed by the suite")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def close_all() -> int:
    with _lock:
        socks = list(_open)
    for sock in socks:
        close(sock)
    return len(socks)
