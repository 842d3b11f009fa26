"""The bytes of the stack, without I/O: HTTP/1.1 heads and bodies, WebSocket frames, Engine.IO packets
and payloads (v4 and v3) and the open packet.

Everything here takes bytes and returns values, or takes values and returns bytes; nothing reads a
socket or a clock. The harness's transports (http.py, ws.py, eio.py), the reference server's own tests
(tests/server/serverkit.py) and the recorder (recorder/wire.py) all speak through this module, so the
suite has one reading of the wire. It is written independently of libsiocodec on purpose: the codec is
a target of the suite, never its judge.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNKS = 1 << 20


class WireError(ValueError):
    """Bytes that do not follow the format this module reads (the message says where)."""


# ---------------------------------------------------------------------------- HTTP/1.1


@dataclass
class HttpHead:
    """A request or response head: the start line, the header lines in order, the head's length in bytes
    (blank line included)."""

    start_line: str
    headers: list[tuple[str, str]]  # names exactly as sent, values without surrounding whitespace
    head_length: int

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.strip().lower() == wanted:
                return value
        return None

    @property
    def status(self) -> int:
        """The status code of a response head."""
        parts = self.start_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise WireError(f"not an HTTP status line: {self.start_line!r}")
        return int(parts[1])

    @property
    def reason(self) -> str:
        parts = self.start_line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def method(self) -> str:
        return self.start_line.split(" ", 1)[0]

    @property
    def target(self) -> str:
        parts = self.start_line.split(" ")
        return parts[1] if len(parts) > 1 else ""


def find_head(data: bytes | bytearray, limit: int = MAX_HEAD_BYTES) -> HttpHead | None:
    """The head at the start of `data`, or None while its blank line has not arrived."""
    end = bytes(data[: limit + 4]).find(b"\r\n\r\n")
    if end < 0:
        if len(data) > limit:
            raise WireError(f"HTTP head longer than {limit} bytes")
        return None
    lines = bytes(data[:end]).decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise WireError(f"header line without a colon: {line!r}")
        headers.append((name, value.strip()))
    return HttpHead(lines[0], headers, end + 4)


def build_request(
    method: str,
    target: str,
    host: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    keep_alive: bool = False,
) -> bytes:
    """One request, byte for byte: the caller's headers in order, `Connection: close` unless kept alive,
    and a Content-Length for the body unless the caller framed it already."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    if not keep_alive:
        lines.append("Connection: close")
    names = set()
    for key, value in headers or []:
        lines.append(f"{key}: {value}")
        names.add(key.lower())
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def chunked_length(data: bytes | bytearray, start: int) -> int | None:
    """Length of the complete chunked body that starts at `start`, trailer included; None while incomplete."""
    pos = start
    for _ in range(MAX_CHUNKS):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(data[pos:eol]).split(b";")[0].strip()
        try:
            size = int(size_text or b"0", 16)
        except ValueError:
            raise WireError(f"bad chunk size {size_text!r}") from None
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n\r\n", pos - 2)
            return None if end < 0 else end + 4 - start
        if len(data) < pos + size + 2:
            return None
        pos += size + 2
    raise WireError(f"more than {MAX_CHUNKS} chunks")


def dechunk(data: bytes) -> bytes:
    """The payload of a complete chunked body."""
    out = bytearray()
    pos = 0
    for _ in range(MAX_CHUNKS):
        eol = data.find(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    raise WireError(f"more than {MAX_CHUNKS} chunks")


def response_has_body(status: int, method: str = "GET") -> bool:
    return method != "HEAD" and status not in (204, 304) and not 100 <= status < 200


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.strip().lower() == wanted:
                return value
        return None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def summary(self) -> str:
        return f"HTTP {self.status} {self.body[:200]!r}"

    def __repr__(self) -> str:
        return self.summary()


class ResponseParser:
    """Responses out of a byte stream, in order: feed bytes, take complete responses. A body without
    Content-Length or chunking runs to the end of the stream (`end()`)."""

    def __init__(self, method: str = "GET", max_body: int = 64 * 1024 * 1024):
        self.method = method
        self.max_body = max_body
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[HttpResponse]:
        self.buffer += data
        out: list[HttpResponse] = []
        for _ in range(1000):
            resp = self.next()
            if resp is None:
                break
            out.append(resp)
        return out

    def next(self, eof: bool = False) -> HttpResponse | None:
        """The first complete response in the buffer, taken out of it; None while it is incomplete. At the
        end of the stream (`eof`), a body without length runs to it."""
        head = find_head(self.buffer)
        if head is None:
            return None
        status = head.status
        resp = HttpResponse(status, head.reason, head.headers, b"", bytes(self.buffer[: head.head_length]))
        if not response_has_body(status, self.method):
            del self.buffer[: head.head_length]
            return resp
        te = (head.header("transfer-encoding") or "").lower()
        cl = head.header("content-length")
        if "chunked" in te:
            n = chunked_length(self.buffer, head.head_length)
            if n is None:
                return None
            resp.body = dechunk(bytes(self.buffer[head.head_length : head.head_length + n]))
        elif cl is not None:
            if not cl.strip().isdigit():
                raise WireError(f"bad Content-Length {cl!r}")
            n = int(cl)
            if n > self.max_body:
                raise WireError(f"Content-Length {n} above the harness's {self.max_body}")
            if len(self.buffer) < head.head_length + n:
                return None
            resp.body = bytes(self.buffer[head.head_length : head.head_length + n])
        else:
            if not eof:
                return None
            n = len(self.buffer) - head.head_length
            resp.body = bytes(self.buffer[head.head_length :])
        del self.buffer[: head.head_length + n]
        return resp


@dataclass
class StreamMessage:
    """One message cut out of a TCP stream: kind "http-request", "http-response" or "ws-frame"."""

    kind: str
    data: bytes


@dataclass
class Splitter:
    """One direction of one connection cut into messages: HTTP/1.1 requests or responses, then, once
    the connection has switched protocols, WebSocket frames. `request_side` is True for the bytes a
    client sends. Responses pair with requests first in, first out."""

    request_side: bool
    buffer: bytearray = field(default_factory=bytearray)
    websocket: bool = False

    def switch_to_websocket(self) -> None:
        self.websocket = True

    def feed(self, data: bytes) -> list[StreamMessage]:
        self.buffer += data
        out: list[StreamMessage] = []
        for _ in range(100_000):
            msg = self._next()
            if msg is None:
                break
            out.append(msg)
        return out

    def _take(self, n: int) -> bytes:
        chunk = bytes(self.buffer[:n])
        del self.buffer[:n]
        return chunk

    def _next(self) -> StreamMessage | None:
        if not self.buffer:
            return None
        if self.websocket:
            n = frame_length(self.buffer)
            return None if n is None else StreamMessage("ws-frame", self._take(n))
        head = find_head(self.buffer)
        if head is None:
            return None
        body_len = self._body_length(head)
        if body_len is None:
            return None
        kind = "http-request" if self.request_side else "http-response"
        msg = StreamMessage(kind, self._take(head.head_length + body_len))
        if self.request_side and (head.header("upgrade") or "").lower() == "websocket":
            # Bytes after an upgrade request are frames once the 101 arrives; a client sends none
            # before that, so switching now is safe.
            self.websocket = True
        return msg

    def _body_length(self, head: HttpHead) -> int | None:
        if not self.request_side:
            status = head.status
            if status == 101:
                self.websocket = True
                return 0
            if not response_has_body(status):
                return 0
        te = head.header("transfer-encoding")
        if te and "chunked" in te.lower():
            return chunked_length(self.buffer, head.head_length)
        cl = head.header("content-length")
        length = int(cl) if cl is not None else 0
        if len(self.buffer) < head.head_length + length:
            return None
        return length


# ---------------------------------------------------------------------------- WebSocket (RFC 6455)

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 256 * 1024 * 1024
OPCODE_NAMES = {
    OP_CONT: "cont",
    OP_TEXT: "text",
    OP_BINARY: "binary",
    OP_CLOSE: "close",
    OP_PING: "ping",
    OP_PONG: "pong",
}


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def new_ws_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_headers(key: str) -> list[tuple[str, str]]:
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key (masking and unmasking are the same operation)."""
    n = len(payload)
    if n < 64:
        return bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    keystream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    mask_key: bytes | None = None,
    declared_length: int | None = None,
) -> bytes:
    """One frame; every field can be set to an illegal value on purpose (a lying length, reserved bits)."""
    length = len(payload) if declared_length is None else declared_length
    head = bytearray([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)])
    mbit = 0x80 if masked else 0
    if length < 126:
        head.append(mbit | length)
    elif length < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", length)
    if masked:
        key = mask_key if mask_key is not None else os.urandom(4)
        head += key
        payload = mask(payload, key)
    return bytes(head) + payload


def close_payload(code: int | None, reason: str = "") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason.encode("utf-8")


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes
    masked: bool
    mask_key: bytes | None = None

    def __repr__(self) -> str:
        name = OPCODE_NAMES.get(self.opcode, f"opcode {self.opcode:#x}")
        return f"{name}{'' if self.fin else ' (not fin)'} {self.payload[:120]!r}"


MAX_FRAME_HEADER = 14  # 2 bytes, an 8-byte extended length, a 4-byte mask key


def frame_header_sizes(data: bytes | bytearray) -> tuple[int, int] | None:
    """(header length, payload length) of the frame at the start of `data`, or None while its header is
    incomplete."""
    if len(data) < 2:
        return None
    n = data[1] & 0x7F
    pos = 2
    if n == 126:
        if len(data) < 4:
            return None
        n, pos = int.from_bytes(data[2:4], "big"), 4
    elif n == 127:
        if len(data) < 10:
            return None
        n, pos = int.from_bytes(data[2:10], "big"), 10
    header = pos + (4 if data[1] & 0x80 else 0)
    return (header, n) if len(data) >= header else None


def frame_length(data: bytes | bytearray) -> int | None:
    """Total length of the frame at the start of `data`, or None while its header or payload is incomplete."""
    sizes = frame_header_sizes(data)
    if sizes is None:
        return None
    total = sizes[0] + sizes[1]
    return total if len(data) >= total else None


def decode_frame(frame: bytes) -> Frame:
    """One complete frame (as delimited by frame_length), payload unmasked."""
    b0, b1 = frame[0], frame[1]
    n = b1 & 0x7F
    pos = 2 + (2 if n == 126 else 8 if n == 127 else 0)
    key = None
    if b1 & 0x80:
        key = frame[pos : pos + 4]
        pos += 4
    payload = frame[pos:]
    if key:
        payload = mask(payload, key)
    return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, key is not None, key)


class FrameParser:
    """Frames out of a byte stream: feed bytes, take complete frames."""

    def __init__(self, max_frame: int = MAX_FRAME):
        self.max_frame = max_frame
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        out: list[Frame] = []
        for _ in range(100_000):
            if len(self.buffer) >= 10 and self.buffer[1] & 0x7F == 127:
                declared = int.from_bytes(self.buffer[2:10], "big")
                if declared > self.max_frame:
                    raise WireError(f"frame of {declared} bytes, above the harness's {self.max_frame}")
            n = frame_length(self.buffer)
            if n is None:
                break
            out.append(decode_frame(bytes(self.buffer[:n])))
            del self.buffer[:n]
        return out


def close_text(code: int | None, reason: str) -> str:
    """A close frame as reports show it; one without a status code (an empty payload) says so."""
    return f"close code={code} reason={reason!r}" if code is not None else "close frame without a status code"


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """Status code and reason of a close frame's payload."""
    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    return code, payload[2:].decode("utf-8", "replace")


@dataclass
class Message:
    """An assembled WebSocket message, or the end of the connection.

    kind is "text", "binary", "close" (a close frame; code/reason filled) or "eof" (the TCP stream ended,
    without or after a close frame; `reason` then says how, e.g. "reset").
    """

    kind: str
    data: bytes = b""
    code: int | None = None
    reason: str = ""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    @property
    def ended(self) -> bool:
        return self.kind in ("close", "eof")

    def __repr__(self) -> str:
        if self.kind == "text":
            return f"text {self.text[:200]!r}"
        if self.kind == "binary":
            return f"binary {self.data[:64].hex(' ')}"
        if self.kind == "close":
            return close_text(self.code, self.reason)
        return f"eof ({self.reason})" if self.reason else "eof"


class MessageAssembler:
    """Data frames joined into messages (RFC 6455 section 5.4); control frames pass through as messages of
    their own kind ("close"; pings and pongs are left to the caller)."""

    def __init__(self) -> None:
        self.partial: list[Frame] = []

    def add(self, frame: Frame) -> Message | None:
        if frame.opcode == OP_CLOSE:
            code, reason = parse_close(frame.payload)
            return Message("close", frame.payload, code, reason)
        if frame.opcode in (OP_PING, OP_PONG):
            return None
        self.partial.append(frame)
        if not frame.fin:
            return None
        first = self.partial[0]
        data = b"".join(f.payload for f in self.partial)
        self.partial = []
        return Message("text" if first.opcode == OP_TEXT else "binary", data)


# ---------------------------------------------------------------------------- Engine.IO

Packet = str | bytes  # a text packet ("4hello", "2") or a binary message
RS = "\x1e"
OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = "0123456"


def query(path: str, transport: str, sid: str | None = None, eio: str = "4", extra: str = "") -> str:
    """The request target of an Engine.IO request."""
    q = f"{path}?EIO={eio}&transport={transport}"
    if sid is not None:
        q += f"&sid={sid}"
    return q + extra


def encode_payload(packets: list[Packet]) -> bytes:
    """A v4 polling payload: records joined by 0x1E, binary as `b` + base64."""
    parts = ["b" + base64.b64encode(p).decode() if isinstance(p, bytes) else p for p in packets]
    return RS.join(parts).encode("utf-8")


def decode_payload(body: bytes) -> list[Packet]:
    """The records of a v4 polling payload; `b…` records decoded (padding may be missing)."""
    text = body.decode("utf-8", errors="surrogateescape")
    out: list[Packet] = []
    for rec in text.split(RS):
        if rec.startswith("b"):
            out.append(base64.b64decode(rec[1:] + "=" * (-len(rec[1:]) % 4)))
        else:
            out.append(rec)
    return out


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of v3 record lengths."""
    return len(text.encode("utf-16-le")) // 2


def encode_payload_v3(packets: list[Packet]) -> bytes:
    """A v3 text payload: `<length>:<packet>` records; binary as `b<type>` + base64 (type 4, message)."""
    out = []
    for p in packets:
        rec = "b4" + base64.b64encode(p).decode() if isinstance(p, bytes) else p
        out.append(f"{utf16_length(rec)}:{rec}")
    return "".join(out).encode("utf-8")


def decode_payload_v3(body: bytes) -> list[Packet]:
    """The records of a v3 payload, text form (`<length>:<packet>`) or binary form (XHR2: a marker byte 0
    for text or 1 for binary, decimal length digits as bytes, 0xFF, then the packet)."""
    if body[:1] in (b"\x00", b"\x01"):
        return _decode_binary_payload_v3(body)
    text = body.decode("utf-8", errors="surrogateescape")
    out: list[Packet] = []
    pos = 0
    for _ in range(len(text) + 1):
        if pos >= len(text):
            return out
        colon = text.find(":", pos)
        if colon < 0 or not text[pos:colon].isdigit():
            raise WireError(f"v3 record without a numeric length at {pos}: {text[pos : pos + 20]!r}")
        units = int(text[pos:colon])
        rec, pos = _take_utf16_units(text, colon + 1, units)
        if rec.startswith("b") and len(rec) > 1:
            out.append(base64.b64decode(rec[2:] + "=" * (-len(rec[2:]) % 4)))
        else:
            out.append(rec)
    return out


def _take_utf16_units(text: str, start: int, units: int) -> tuple[str, int]:
    pos, taken = start, 0
    while taken < units:
        if pos >= len(text):
            raise WireError(f"v3 record shorter than its length {units}")
        taken += 2 if ord(text[pos]) > 0xFFFF else 1
        pos += 1
    return text[start:pos], pos


def _decode_binary_payload_v3(body: bytes) -> list[Packet]:
    out: list[Packet] = []
    pos = 0
    for _ in range(len(body) + 1):
        if pos >= len(body):
            return out
        marker = body[pos]
        end = body.find(b"\xff", pos + 1)
        if marker not in (0, 1) or end < 0:
            raise WireError(f"bad v3 binary record header at {pos}")
        length = int("".join(str(d) for d in body[pos + 1 : end]))
        data = body[end + 1 : end + 1 + length]
        pos = end + 1 + length
        out.append(data.decode("utf-8", errors="surrogateescape") if marker == 0 else data)
    return out


def open_packet(packet: Packet | None) -> dict[str, Any] | None:
    """The handshake object of an open packet (`0{…}`), or None when `packet` is not one."""
    if not isinstance(packet, str) or not packet.startswith(OPEN):
        return None
    try:
        value = json.loads(packet[1:])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def open_packet_of_body(body: bytes, eio: int = 4) -> dict[str, Any] | None:
    """The handshake object of a polling handshake response body (v4 payload, or any v3 form)."""
    try:
        packets = decode_payload(body) if eio == 4 else decode_payload_v3(body)
    except (WireError, ValueError):
        return None
    return open_packet(packets[0]) if packets else None
