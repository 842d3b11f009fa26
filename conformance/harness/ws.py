"""A raw WebSocket client (RFC 6455) that can send any frame and queues everything it receives.

A reader thread parses frames (wire.py) as soon as bytes arrive and puts them on a per-connection
queue, so a frame can never be lost between two waits (the failure mode of socketio/socket.io-protocol#32).
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable

from . import tracking, wire
from .http import HttpConnectionLost, HttpResponse, _Reader, build_request, open_connection
from .wire import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    Message,
    accept_key,
)

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "Message",
    "WsClient",
    "WsRejected",
    "accept_key",
    "encode_frame",
]

MAX_FRAME = wire.MAX_FRAME


class WsRejected(Exception):
    """The server answered the upgrade request with something other than 101."""

    def __init__(self, response: HttpResponse | None, detail: str = ""):
        self.response = response
        super().__init__(detail or (response.summary() if response else "connection closed before a response"))


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
    """One frame; every field can be set to an illegal value on purpose (wire.encode_frame)."""
    return wire.encode_frame(
        opcode, payload, fin=fin, rsv=rsv, masked=mask, mask_key=mask_key, declared_length=declared_length
    )


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
        self.end_reason = ""  # how the stream ended: "end of stream", "connection reset", "frame too large"
        self._write_lock = threading.Lock()
        # A message the suite is sending in fragments is unfinished (its first frame out, its last not yet):
        # the client's own messages (Engine.IO pongs) are held back meanwhile, as RFC 6455 section 5.4 forbids
        # a data frame between the fragments of another message.
        self._message_unfinished = False
        # A frame the suite writes in pieces (one byte per write, or a header whose body comes later) is
        # unfinished too until its last byte is out: a pong written meanwhile would land inside it.
        self._frame_head = b""  # the header bytes written so far of a frame whose header is incomplete
        self._frame_left = 0  # payload bytes of the frame being written still to come
        self._held_back: list[bytes] = []
        self._on_held_sent: list[Callable[[float], None]] = []  # told when the held-back messages went out
        # When the bytes of the frame being handed on reached the machine, when the connection's end (close
        # frame or end of stream) did, and when the case last wrote: a verifier tells by these whether a
        # close followed the case's input or the target's own ping (verify.heartbeat_end).
        self.arrival = time.monotonic()
        self.end_arrival: float | None = None
        self.case_wrote_at = 0.0
        self._reader = _Reader(sock, leftover)
        self._ended = False
        self.close_sent = False
        self._assembler = wire.MessageAssembler()
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
        key = wire.new_ws_key()
        data = build_request(
            "GET", target, port, wire.upgrade_headers(key) + list(headers or []), None, keep_alive=True
        )
        sock = open_connection(host, port, timeout)
        reader = _Reader(sock)
        try:
            tracking.send(sock, data)
            head = reader.read_head()
        except (HttpConnectionLost, OSError) as exc:
            tracking.close(sock)
            raise WsRejected(None, f"no upgrade response: {exc}") from exc
        try:
            status = head.status
        except wire.WireError as exc:
            tracking.close(sock)
            raise WsRejected(None, f"not an HTTP response: {exc}") from exc
        resp = HttpResponse(status, head.reason, head.headers, b"", bytes(reader.buf[: head.head_length]))
        del reader.buf[: head.head_length]
        if status != 101:
            try:
                cl = resp.header("content-length")
                if cl is not None:
                    resp.body = reader.read_exact(int(cl))
                else:
                    while reader.fill():
                        pass
                    resp.body = bytes(reader.buf)
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
        parser = wire.FrameParser(MAX_FRAME)
        pending = list(parser.feed(bytes(self._reader.buf)))
        self._reader.buf.clear()
        try:
            for _ in range(10_000_000):
                if not pending:
                    try:
                        chunk, self.arrival = tracking.recv_timed(self.sock)
                    except OSError as exc:
                        self.end_reason = "connection reset" if isinstance(exc, ConnectionResetError) else str(exc)
                        break
                    if not chunk:
                        self.end_reason = "end of stream"
                        break
                    pending = parser.feed(chunk)
                    continue
                frame = pending.pop(0)
                if frame.opcode == OP_CLOSE and self.end_arrival is None:
                    self.end_arrival = self.arrival
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
        except wire.WireError as exc:
            self.end_reason = f"unreadable frame: {exc}"
        finally:
            if self.end_arrival is None:
                self.end_arrival = time.monotonic()
            self.frames.put(None)
            self.frames_ended.set()

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
                return Message("eof", reason=self.end_reason)
            msg = self._assembler.add(frame)
            if msg is not None:
                return msg
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
    def send_bytes(self, data: bytes, *, own: bool = False) -> None:
        """Writes bytes of the case's (or, with `own`, of the client's own: a pong, a close echo)."""
        with self._write_lock:
            writing = time.monotonic()
            tracking.send(self.sock, data)
            # Only a write that went out is input: one that found the connection already closed by the
            # target (a broken pipe) cannot have caused that end.
            if not own:
                self.case_wrote_at = writing
            self._track_fragments(data)
            if not self._writing_unfinished() and self._held_back:
                held, self._held_back = b"".join(self._held_back), []
                told, self._on_held_sent = self._on_held_sent, []
                tracking.send(self.sock, held)
                for sent in told:
                    sent(time.monotonic())

    def send_own_text(self, text: str, on_sent: Callable[[float], None] | None = None) -> bool:
        """A message the client sends by itself, not the case (an Engine.IO pong or keepalive ping): sent
        at once, or right after the last frame of a fragmented message the case is in the middle of.
        `on_sent` is given the time it went out. False when it was held back: the case chose to leave a
        message or a frame unfinished, so whatever the target does for want of it follows from the case's
        own scenario."""
        frame = encode_frame(OP_TEXT, text.encode("utf-8"))
        with self._write_lock:
            if self._writing_unfinished():
                self._held_back.append(frame)
                if on_sent is not None:
                    self._on_held_sent.append(on_sent)
                return False
            tracking.send(self.sock, frame)
        if on_sent is not None:
            on_sent(time.monotonic())
        return True

    def _writing_unfinished(self) -> bool:
        return self._message_unfinished or bool(self._frame_head) or self._frame_left > 0

    def _track_fragments(self, data: bytes) -> None:
        """Follows the frames written, across writes, to know whether one is cut off (its header or body
        not all out yet) or a data message is left unfinished: a text or binary frame without FIN starts
        one, a continuation with FIN ends it."""
        pos = 0
        for _ in range(len(data) + 1):
            if pos >= len(data):
                return
            if self._frame_left:
                step = min(self._frame_left, len(data) - pos)
                self._frame_left -= step
                pos += step
                continue
            head = self._frame_head + data[pos : pos + wire.MAX_FRAME_HEADER]
            sizes = wire.frame_header_sizes(head)
            if sizes is None:  # the header itself is cut off: the rest of `data` is part of it
                self._frame_head = head
                return
            header, payload = sizes
            fin, opcode = bool(head[0] & 0x80), head[0] & 0x0F
            if opcode in (OP_TEXT, OP_BINARY):
                self._message_unfinished = not fin
            elif opcode == OP_CONT and fin:
                self._message_unfinished = False
            pos += header - len(self._frame_head)
            self._frame_head = b""
            self._frame_left = payload

    def _send_quiet(self, data: bytes, own: bool = True) -> None:
        try:
            self.send_bytes(data, own=own)
        except OSError:
            pass

    def send_frame(
        self,
        opcode: int,
        payload: bytes,
        *,
        fin: bool = True,
        rsv: int = 0,
        mask: bool = True,
        mask_key: bytes | None = None,
        declared_length: int | None = None,
    ) -> None:
        self.send_bytes(
            encode_frame(
                opcode, payload, fin=fin, rsv=rsv, mask=mask, mask_key=mask_key, declared_length=declared_length
            )
        )

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OP_BINARY, data)

    def send_close(self, code: int | None = 1000) -> None:
        self.close_sent = True
        self._send_quiet(encode_frame(OP_CLOSE, wire.close_payload(code)), own=False)

    def close(self) -> None:
        tracking.close(self.sock)
        self._thread.join(timeout=1.0)
