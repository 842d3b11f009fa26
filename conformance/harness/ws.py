"""A raw WebSocket client (RFC 6455) that can send any frame and queues everything it receives.

A reader thread parses frames as soon as bytes arrive and puts them on a per-connection queue, so a
frame can never be lost between two waits (the failure mode of socketio/socket.io-protocol#32).
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import tracking
from .http import HttpConnectionLost, HttpResponse, _Reader, build_request, open_connection

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 256 * 1024 * 1024


class WsRejected(Exception):
    """The server answered the upgrade request with something other than 101."""

    def __init__(self, response: HttpResponse | None, detail: str = ""):
        self.response = response
        super().__init__(detail or (response.summary() if response else "connection closed before a response"))


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes
    masked: bool


@dataclass
class Message:
    """An assembled message, or the end of the connection.

    kind is "text", "binary", "close" (a close frame; code/reason filled) or "eof" (TCP closed without,
    or after, a close frame).
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
            return f"close code={self.code} reason={self.reason!r}"
        return "eof"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    mask_key: bytes | None = None,
    declared_length: int | None = None,
) -> bytes:
    """Encode one frame; every field can be set to an illegal value on purpose."""
    length = len(payload) if declared_length is None else declared_length
    head = bytearray([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)])
    mbit = 0x80 if mask else 0
    if length < 126:
        head.append(mbit | length)
    elif length < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", length)
    if mask:
        key = mask_key if mask_key is not None else os.urandom(4)
        head += key
        payload = (
            bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if len(payload) < 4096 else _mask_fast(payload, key)
        )
    return bytes(head) + payload


def _mask_fast(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    keystream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")


class WsClient:
    def __init__(
        self,
        sock: socket.socket,
        leftover: bytes,
        response: HttpResponse,
        on_frame: Callable[[WsClient, Frame], bool] | None = None,
    ):
        self.sock = sock
        self.response = response
        self.frames: queue.Queue[Frame | None] = queue.Queue()
        self.on_frame = on_frame
        self._write_lock = threading.Lock()
        self._reader = _Reader(sock, leftover)
        self._ended = False
        self.close_sent = False
        self._partial: list[Frame] = []
        self.frames_ended = threading.Event()
        sock.settimeout(None)
        self._thread = threading.Thread(target=self._read_loop, daemon=True, name="ws reader")
        self._thread.start()

    # ------------------------------------------------------------------ opening
    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        target: str,
        *,
        timeout: float = 5.0,
        headers: list[tuple[str, str]] | None = None,
        on_frame: Callable[[WsClient, Frame], bool] | None = None,
    ) -> WsClient:
        key = base64.b64encode(os.urandom(16)).decode()
        all_headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ] + list(headers or [])
        data = build_request("GET", target, port, all_headers, None, keep_alive=True)
        sock = open_connection(host, port, timeout)
        reader = _Reader(sock)
        try:
            sock.sendall(data)
            head = reader.read_until(b"\r\n\r\n", 65536)
        except (HttpConnectionLost, OSError) as exc:
            tracking.close(sock)
            raise WsRejected(None, f"no upgrade response: {exc}") from exc
        from .http import parse_head

        status, reason, hdrs = parse_head(head)
        resp = HttpResponse(status, reason, hdrs, b"", head)
        if status != 101:
            reader.buf[:0] = b""
            try:
                cl = resp.header("content-length")
                resp.body = reader.read_exact(int(cl)) if cl is not None else reader.read_to_eof()
            except (HttpConnectionLost, OSError, ValueError):
                resp.body = bytes(reader.buf)
            tracking.close(sock)
            raise WsRejected(resp)
        if resp.header("sec-websocket-accept") != accept_key(key):
            tracking.close(sock)
            raise WsRejected(resp, f"bad Sec-WebSocket-Accept {resp.header('sec-websocket-accept')!r}")
        return cls(sock, bytes(reader.buf), resp, on_frame)

    # ------------------------------------------------------------------ reading
    def _read_loop(self) -> None:
        try:
            for _ in range(10_000_000):
                frame = self._read_frame()
                if frame is None:
                    break
                if frame.opcode == OP_PING:
                    self._send_quiet(encode_frame(OP_PONG, frame.payload))
                    continue
                if frame.opcode == OP_CLOSE and not self.close_sent:
                    # Echo the status code, as RFC 6455 section 5.5.1 asks.
                    self._send_quiet(encode_frame(OP_CLOSE, frame.payload[:2]))
                    self.close_sent = True
                if self.on_frame is not None and self.on_frame(self, frame):
                    continue
                self.frames.put(frame)
        except (OSError, HttpConnectionLost, ValueError):
            pass
        finally:
            self.frames.put(None)
            self.frames_ended.set()

    def _read_frame(self) -> Frame | None:
        r = self._reader
        try:
            b0, b1 = r.read_exact(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", r.read_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", r.read_exact(8))
            if length > MAX_FRAME:
                raise ValueError("frame too large for the harness")
            key = r.read_exact(4) if b1 & 0x80 else b""
            payload = r.read_exact(length)
        except HttpConnectionLost:
            return None
        if key:
            payload = _mask_fast(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, bool(key))

    def recv_frame(self, timeout: float) -> Frame | None:
        """Next raw frame; None when the connection has ended. Raises TimeoutError."""
        if self._ended:
            return None
        try:
            frame = self.frames.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise TimeoutError(f"no WebSocket frame within {timeout:.2f}s") from None
        if frame is None:
            self._ended = True
        return frame

    def recv(self, timeout: float) -> Message:
        """Next complete message (continuations joined) or the close/eof that ended the connection."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            frame = self.recv_frame(deadline - time.monotonic())
            if frame is None:
                return Message("eof")
            if frame.opcode == OP_CLOSE:
                code = struct.unpack("!H", frame.payload[:2])[0] if len(frame.payload) >= 2 else None
                return Message("close", frame.payload, code, frame.payload[2:].decode("utf-8", "replace"))
            if frame.opcode == OP_PONG:
                continue
            self._partial.append(frame)
            if frame.fin:
                first = self._partial[0]
                data = b"".join(f.payload for f in self._partial)
                self._partial = []
                return Message("text" if first.opcode == OP_TEXT else "binary", data)
        raise TimeoutError("too many frames")

    def wait_closed(self, timeout: float) -> Message | None:
        """Drain messages until the connection ends; the ending message, or None at the deadline."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            try:
                msg = self.recv(deadline - time.monotonic())
            except TimeoutError:
                return None
            if msg.ended:
                return msg
        return None

    # ------------------------------------------------------------------ writing
    def send_bytes(self, data: bytes) -> None:
        with self._write_lock:
            self.sock.sendall(data)

    def _send_quiet(self, data: bytes) -> None:
        try:
            self.send_bytes(data)
        except OSError:
            pass

    def send_frame(self, opcode: int, payload: bytes, **kw: object) -> None:
        self.send_bytes(encode_frame(opcode, payload, **kw))  # type: ignore[arg-type]

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OP_BINARY, data)

    def send_close(self, code: int | None = 1000) -> None:
        self.close_sent = True
        self._send_quiet(encode_frame(OP_CLOSE, b"" if code is None else struct.pack("!H", code)))

    def close(self) -> None:
        tracking.close(self.sock)
        self._thread.join(timeout=1.0)
