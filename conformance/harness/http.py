"""A raw HTTP/1.1 client: exact request bytes out, exact response bytes in (formats in wire.py).

Each request opens a fresh TCP connection (``Connection: close``) unless the caller drives a
connection itself, so one rejected request can never poison the next one. Every byte goes through
tracking.py, so it appears in the case's wire transcript.
"""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass, field

from . import tracking, wire
from .wire import HttpResponse

__all__ = [
    "HttpConnectionLost",
    "HttpResponse",
    "PendingRequest",
    "build_request",
    "open_connection",
    "read_response",
    "request",
    "send_raw",
    "start_request",
]

MAX_HEAD_BYTES = wire.MAX_HEAD_BYTES
MAX_BODY_BYTES = 64 * 1024 * 1024


class HttpConnectionLost(Exception):
    """The server closed or reset the connection before a complete response arrived."""


def build_request(
    method: str,
    target: str,
    port: int,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    host: str = "127.0.0.1",
    keep_alive: bool = False,
) -> bytes:
    return wire.build_request(method, target, f"{host}:{port}", headers, body, keep_alive)


class _Reader:
    """Buffered reads from a socket (each read recorded in the transcript)."""

    def __init__(self, sock: socket.socket, initial: bytes = b""):
        self.sock = sock
        self.buf = bytearray(initial)

    def fill(self) -> bool:
        """One more read into the buffer; False at the end of the stream or on a reset."""
        try:
            chunk = tracking.recv(self.sock)
        except TimeoutError:
            raise
        except OSError:
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise HttpConnectionLost(f"connection closed with {n - len(self.buf)} of {n} bytes missing")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_head(self) -> wire.HttpHead:
        """The next head, its bytes left in the buffer."""
        for _ in range(100_000):
            try:
                head = wire.find_head(self.buf)
            except wire.WireError as exc:
                raise HttpConnectionLost(str(exc)) from None
            if head is not None:
                return head
            if not self.fill():
                break
        raise HttpConnectionLost(f"connection closed after {len(self.buf)} bytes, before a complete head")


def read_response(reader: _Reader, method: str = "GET") -> HttpResponse:
    """The next response on the reader's connection; bytes of a later (pipelined) response stay buffered."""
    parser = wire.ResponseParser(method, MAX_BODY_BYTES)
    parser.buffer = reader.buf  # consumed in place
    for _ in range(10_000_000):
        try:
            resp = parser.next()
            if resp is not None:
                return resp
            if not reader.fill():
                resp = parser.next(eof=True)
                if resp is not None:
                    return resp
                raise HttpConnectionLost(f"connection closed after {len(reader.buf)} bytes of a response")
        except wire.WireError as exc:
            raise HttpConnectionLost(f"unreadable response: {exc}") from None
    raise HttpConnectionLost("response never completed")


def open_connection(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    tracking.register(sock, f"{host}:{port}")
    return sock


def send_raw(host: str, port: int, data: bytes, timeout: float, method: str = "GET") -> HttpResponse:
    """Send exact bytes on a fresh connection and read one response."""
    sock = open_connection(host, port, timeout)
    send_error: OSError | None = None
    try:
        try:
            tracking.send(sock, data)
        except (ConnectionResetError, BrokenPipeError) as exc:
            # The server stopped reading (a 413 for a body too large, say): the answer it wrote before
            # closing may still be waiting to be read.
            send_error = exc
        try:
            return read_response(_Reader(sock), method)
        except HttpConnectionLost as exc:
            if send_error is not None:
                raise HttpConnectionLost(f"{send_error} while sending, and no response: {exc}") from send_error
            raise
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise HttpConnectionLost(str(exc)) from exc
    finally:
        tracking.close(sock)


def request(
    host: str,
    port: int,
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    timeout: float = 5.0,
) -> HttpResponse:
    if body is None and method in ("POST", "PUT"):
        body = b""
    return send_raw(host, port, build_request(method, target, port, headers, body), timeout, method)


@dataclass
class PendingRequest:
    """A request running on its own thread (a held long-poll GET, a slow POST)."""

    thread: threading.Thread
    results: queue.Queue[HttpResponse | BaseException] = field(default_factory=queue.Queue)
    sock: socket.socket | None = None

    def result(self, timeout: float) -> HttpResponse:
        try:
            out = self.results.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no HTTP response within {timeout:.2f}s") from None
        if isinstance(out, BaseException):
            raise out
        return out

    def abort(self) -> None:
        if self.sock is not None:
            tracking.close(self.sock)


def start_request(
    host: str,
    port: int,
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    timeout: float = 5.0,
) -> PendingRequest:
    """Send a request now, from the calling thread, and collect the response on another."""
    if body is None and method in ("POST", "PUT"):
        body = b""
    sock = open_connection(host, port, timeout)
    tracking.send(sock, build_request(method, target, port, headers, body))
    pending = PendingRequest(thread=threading.Thread(daemon=True), sock=sock)

    def run() -> None:
        try:
            pending.results.put(read_response(_Reader(sock), method))
        except BaseException as exc:  # handed to the waiting test thread
            pending.results.put(HttpConnectionLost(str(exc)) if isinstance(exc, OSError) else exc)
        finally:
            tracking.close(sock)

    pending.thread = threading.Thread(target=run, daemon=True, name=f"http {method} {target[:40]}")
    pending.thread.start()
    return pending
