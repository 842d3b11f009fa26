"""Helpers for testing build/reference-server directly: start it on a free port, talk raw HTTP and
raw WebSocket to it. Standard library only. Nothing here sleeps to synchronise: every wait is a
socket read or a process read with a deadline."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

from harness import wire

# A received WebSocket message: str for a text frame, bytes for a binary one. Typed loosely because the
# tests compare it with literals of the kind they expect; a message of the other kind fails that check.
WsMessage = Any

ROOT = Path(__file__).resolve().parents[3]
SERVER = Path(os.environ.get("REFERENCE_SERVER", ROOT / "build" / "reference-server"))
DEADLINE = 5.0  # seconds any single expected event may take
# REFERENCE_SERVER picks another binary (e.g. build/san/reference-server); REFERENCE_SERVER_WRAPPER
# runs it under a tool ("valgrind --error-exitcode=99 ..."): the exit status is checked at the end.


class Server:
    def __init__(self, *args: str):
        if not SERVER.exists():
            pytest.fail(f"{SERVER} not built: run make server")
        # Kept open for the server's lifetime (its stderr is read at stop()), closed in stop().
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        wrapper = os.environ.get("REFERENCE_SERVER_WRAPPER", "").split()
        self.proc = subprocess.Popen(
            [*wrapper, str(SERVER), "--port", "0", *args], stdout=subprocess.PIPE, stderr=self.stderr
        )
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout
        line = self._read_ready()
        self.port = int(line.split()[1])

    def _read_ready(self) -> str:
        end = time.monotonic() + DEADLINE
        data = b""
        while b"\n" not in data:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.stdout], [], [], left)[0]:
                raise TimeoutError("no READY line")
            chunk = os.read(self.stdout.fileno(), 256)
            if not chunk:
                raise RuntimeError("server exited: " + self.errors())
            data += chunk
        line = data.split(b"\n")[0].decode()
        assert re.fullmatch(r"READY \d+", line), line
        return line

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM; the server must exit 0 (clean shutdown; under sanitizers: no leak, no error)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=DEADLINE)
        finally:
            self.stdout.close()
        text = self.errors()
        self.stderr.close()
        assert rc == 0, f"exit status {rc}; stderr:\n{text[-4000:]}"


# ---------------------------------------------------------------- raw HTTP


class Response:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode()


_unread: weakref.WeakKeyDictionary[socket.socket, bytes] = weakref.WeakKeyDictionary()


def read_response(sock: socket.socket, timeout: float = DEADLINE, to_head: bool = False) -> Response:
    """The next response on `sock` (a body needs a Content-Length: the server always sends one); bytes of
    later (pipelined) responses are kept for the next call. An answer to HEAD (`to_head`) ends with its
    head whatever its Content-Length says (RFC 9110 section 9.3.2)."""
    sock.settimeout(timeout)
    data = _unread.pop(sock, b"")
    head = wire.find_head(data)
    while head is None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        data += chunk
        head = wire.find_head(data)
    headers = {k.strip().lower(): v for k, v in head.headers}
    length = 0 if to_head else int(headers.get("content-length", "0"))
    end = head.head_length + length
    while len(data) < end:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a response body")
        data += chunk
    if len(data) > end:
        _unread[sock] = data[end:]
    return Response(head.status, headers, data[head.head_length : end])


def read_until_closed(sock: socket.socket, timeout: float = DEADLINE) -> bytes:
    """Every byte after the responses read so far, until the server closes the connection."""
    sock.settimeout(timeout)
    data = _unread.pop(sock, b"")
    while chunk := sock.recv(65536):
        data += chunk
    return data


def http(
    port: int, method: str, target: str, body: bytes = b"", headers: dict | None = None, timeout: float = DEADLINE
) -> Response:
    """One request on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_bytes(method, target, body, headers))
        return read_response(sock, timeout)


def request_bytes(method: str, target: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    """A keep-alive request; a Content-Length for a body (or any POST) unless the caller framed it."""
    return wire.build_request(
        method, target, "127.0.0.1", list((headers or {}).items()), body if body or method == "POST" else None, True
    )


def start_request(port: int, method: str, target: str, body: bytes = b"") -> socket.socket:
    """Sends a request and returns the socket, so the response can be awaited later."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.sendall(request_bytes(method, target, body))
    return sock


def eio_url(path: str = "/socket.io/", sid: str | None = None, transport: str = "polling") -> str:
    url = f"{path}?EIO=4&transport={transport}"
    return url + (f"&sid={sid}" if sid else "")


def polling_open(port: int, path: str = "/socket.io/") -> tuple[str, dict]:
    r = http(port, "GET", eio_url(path))
    info = wire.open_packet_of_body(r.body)
    assert r.status == 200 and info is not None, r.body
    return info["sid"], info


# ---------------------------------------------------------------- raw WebSocket


class WebSocket:
    """A minimal RFC 6455 client: masked frames out, whole messages in (frame formats from harness.wire)."""

    def __init__(self, port: int, target: str, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # a small receive window makes the server's writes block early
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(request_bytes("GET", target, headers=dict(wire.upgrade_headers(wire.new_ws_key()))))
        self.buffer = b""
        self.status, self.headers = self._read_head()
        self.close_code: int | None = None
        self.closed = False

    def _read_head(self) -> tuple[int, dict[str, str]]:
        head = wire.find_head(self.buffer)
        while head is None:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
            head = wire.find_head(self.buffer)
        self.buffer = self.buffer[head.head_length :]
        return head.status, {k.strip().lower(): v for k, v in head.headers}

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        self.sock.sendall(wire.encode_frame(opcode, payload, fin=fin))

    def send(self, msg: str | bytes) -> None:
        if isinstance(msg, str):
            self.send_frame(wire.OP_TEXT, msg.encode())
        else:
            self.send_frame(wire.OP_BINARY, msg)

    def _frame(self, deadline: float) -> wire.Frame:
        n = wire.frame_length(self.buffer)
        while n is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame before the deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
            n = wire.frame_length(self.buffer)
        frame, self.buffer = wire.decode_frame(self.buffer[:n]), self.buffer[n:]
        return frame

    def recv(self, timeout: float = DEADLINE) -> WsMessage:
        """The next data message (str for text, bytes for binary); raises ConnectionError on close."""
        deadline = time.monotonic() + timeout
        while True:
            f = self._frame(deadline)
            if f.opcode == wire.OP_TEXT:
                return f.payload.decode()
            if f.opcode == wire.OP_BINARY:
                return f.payload
            if f.opcode == wire.OP_CLOSE:
                self.closed = True
                self.close_code = wire.parse_close(f.payload)[0]
                raise ConnectionError(f"close frame {self.close_code}")

    def recv_skip_pings(self, timeout: float = DEADLINE) -> WsMessage:
        """The next message that is not an Engine.IO ping (each ping is answered)."""
        while True:
            m = self.recv(timeout)
            if m == wire.PING:
                self.send(wire.PONG)
                continue
            return m

    def wait_closed(self, timeout: float = DEADLINE) -> bool:
        """True if the server closes (close frame or TCP close) before the deadline; data and pings
        arriving meanwhile are discarded unanswered."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.recv(max(0.0, deadline - time.monotonic()))
        except ConnectionError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def ws_open(port: int, path: str = "/socket.io/") -> tuple[WebSocket, dict]:
    ws = WebSocket(port, eio_url(path, transport="websocket"))
    assert ws.status == 101
    first = ws.recv()
    info = wire.open_packet(first)
    assert info is not None, first
    return ws, info
