"""A raw HTTP/1.1 client: exact request bytes out, exact response bytes in.

Each request opens a fresh TCP connection (``Connection: close``) unless the caller drives a
connection itself, so one rejected request can never poison the next one.
"""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass, field

from . import tracking

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class HttpConnectionLost(Exception):
    """The server closed or reset the connection before a complete response arrived."""


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def summary(self) -> str:
        return f"HTTP {self.status} {self.body[:200]!r}"


def build_request(
    method: str,
    target: str,
    port: int,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    host: str = "127.0.0.1",
    keep_alive: bool = False,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}"]
    if not keep_alive:
        lines.append("Connection: close")
    names = set()
    for key, value in headers or []:
        lines.append(f"{key}: {value}")
        names.add(key.lower())
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def parse_head(head: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    text = head.decode("latin-1")
    status_line, _, rest = text.partition("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HttpConnectionLost(f"not an HTTP status line: {status_line!r}")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in rest.split("\r\n"):
        if not line:
            continue
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    return status, reason, headers


class _Reader:
    """Buffered reads from a socket with a per-call deadline."""

    def __init__(self, sock: socket.socket, initial: bytes = b""):
        self.sock = sock
        self.buf = bytearray(initial)

    def fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, OSError) as exc:
            if isinstance(exc, socket.timeout):
                raise
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_until(self, marker: bytes, limit: int) -> bytes:
        while True:
            idx = self.buf.find(marker)
            if idx >= 0:
                out = bytes(self.buf[: idx + len(marker)])
                del self.buf[: idx + len(marker)]
                return out
            if len(self.buf) > limit:
                raise HttpConnectionLost("response head too large")
            if not self.fill():
                raise HttpConnectionLost(f"connection closed after {len(self.buf)} bytes")

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise HttpConnectionLost(f"connection closed with {n - len(self.buf)} body bytes missing")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_to_eof(self) -> bytes:
        while len(self.buf) <= MAX_BODY_BYTES and self.fill():
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def read_response(reader: _Reader, method: str = "GET") -> HttpResponse:
    head = reader.read_until(b"\r\n\r\n", MAX_HEAD_BYTES)
    status, reason, headers = parse_head(head)
    resp = HttpResponse(status, reason, headers, b"", head)
    if method == "HEAD" or status in (101, 204, 304) or 100 <= status < 200:
        return resp
    te = (resp.header("transfer-encoding") or "").lower()
    cl = resp.header("content-length")
    if "chunked" in te:
        body = bytearray()
        for _ in range(100000):
            size_line = reader.read_until(b"\r\n", 1024)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                reader.read_until(b"\r\n", MAX_HEAD_BYTES)
                break
            body += reader.read_exact(size)
            reader.read_exact(2)
        resp.body = bytes(body)
    elif cl is not None:
        resp.body = reader.read_exact(int(cl))
    else:
        resp.body = reader.read_to_eof()
    return resp


def open_connection(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    tracking.register(sock)
    return sock


def send_raw(host: str, port: int, data: bytes, timeout: float, method: str = "GET") -> HttpResponse:
    """Send exact bytes on a fresh connection and read one response."""
    sock = open_connection(host, port, timeout)
    try:
        sock.sendall(data)
        return read_response(_Reader(sock), method)
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
    data = build_request(method, target, port, headers, body)
    sock.sendall(data)
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
