"""Splits one direction of a TCP stream into protocol messages: HTTP/1.1 requests or responses,
then, once a connection has switched protocols, WebSocket frames.

Only as much HTTP as Socket.IO traffic needs: Content-Length and chunked bodies, no pipelining
assumptions beyond FIFO pairing of responses with requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HEAD_BYTES = 64 * 1024


class WireError(Exception):
    """The stream is not HTTP/1.1 or WebSocket as far as this splitter understands it."""


@dataclass
class Message:
    kind: str  # "http-request", "http-response", "ws-frame" or "close"
    data: bytes


@dataclass
class HttpHead:
    start_line: str
    headers: list[tuple[str, str]]
    head_length: int

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def parse_head(data: bytes) -> HttpHead | None:
    """The head of an HTTP message at the start of `data`, or None while it is incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) > MAX_HEAD_BYTES:
            raise WireError("HTTP head too long")
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise WireError(f"malformed header line {line!r}")
        headers.append((name, value.strip()))
    return HttpHead(lines[0], headers, end + 4)


def _chunked_length(data: bytes, start: int) -> int | None:
    """Length of a complete chunked body starting at `start`, or None when more bytes are needed."""
    pos = start
    for _ in range(1 << 20):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n\r\n", pos - 2)
            return None if end < 0 else end + 4 - start
        if len(data) < pos + size + 2:
            return None
        pos += size + 2
    raise WireError("too many chunks")


def ws_frame_length(data: bytes) -> int | None:
    """Total length of the WebSocket frame at the start of `data`, or None while incomplete."""
    if len(data) < 2:
        return None
    masked = data[1] & 0x80
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
    total = pos + (4 if masked else 0) + n
    return total if len(data) >= total else None


def ws_unmask(frame: bytes) -> tuple[int, bool, bytes, bytes | None, int]:
    """(opcode, fin, unmasked payload, mask key or None, payload offset) of one complete frame."""
    n = frame[1] & 0x7F
    pos = 2 + (2 if n == 126 else 8 if n == 127 else 0)
    key = None
    if frame[1] & 0x80:
        key = frame[pos : pos + 4]
        pos += 4
    payload = frame[pos:]
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return frame[0] & 0x0F, bool(frame[0] & 0x80), payload, key, pos


def ws_frame(opcode: int, payload: bytes, mask: bytes | None, fin: bool = True) -> bytes:
    """Encodes one frame (masked when `mask` is given)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mbit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if mask:
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


@dataclass
class Splitter:
    """One direction of one connection. `request_side` is True for client-to-server bytes."""

    request_side: bool
    buffer: bytearray = field(default_factory=bytearray)
    websocket: bool = False
    pending_methods: list[str] = field(default_factory=list)

    def switch_to_websocket(self) -> None:
        self.websocket = True

    def feed(self, data: bytes) -> list[Message]:
        self.buffer += data
        out: list[Message] = []
        for _ in range(100000):
            msg = self._next()
            if msg is None:
                break
            out.append(msg)
        return out

    def _take(self, n: int) -> bytes:
        chunk = bytes(self.buffer[:n])
        del self.buffer[:n]
        return chunk

    def _next(self) -> Message | None:
        if not self.buffer:
            return None
        if self.websocket:
            n = ws_frame_length(bytes(self.buffer))
            return None if n is None else Message("ws-frame", self._take(n))
        head = parse_head(bytes(self.buffer))
        if head is None:
            return None
        body_len = self._body_length(head)
        if body_len is None:
            return None
        kind = "http-request" if self.request_side else "http-response"
        msg = Message(kind, self._take(head.head_length + body_len))
        if self.request_side and (head.header("upgrade") or "").lower() == "websocket":
            # Bytes after an upgrade request are frames, but only once the 101 arrives; a client
            # sends none before that, so switching now is safe.
            self.websocket = True
        return msg

    def _body_length(self, head: HttpHead) -> int | None:
        if not self.request_side:
            status = int(head.start_line.split(" ")[1])
            if status == 101:
                self.websocket = True
                return 0
            if status in (204, 304) or 100 <= status < 200:
                return 0
        te = head.header("transfer-encoding")
        if te and "chunked" in te.lower():
            return _chunked_length(bytes(self.buffer), head.head_length)
        cl = head.header("content-length")
        length = int(cl) if cl is not None else 0
        if len(self.buffer) < head.head_length + length:
            return None
        return length
