"""Helpers for testing build/reference-server directly: start it on a free port, talk raw HTTP and
raw WebSocket to it. Standard library only. Nothing here sleeps to synchronise: every wait is a
socket read or a process read with a deadline."""

from __future__ import annotations

import base64
import os
import re
import select
import socket
import struct
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

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


def read_response(sock: socket.socket, timeout: float = DEADLINE) -> Response:
    """The next response on `sock`; bytes of later (pipelined) responses are kept for the next call."""
    sock.settimeout(timeout)
    data = _unread.pop(sock, b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a response body")
        rest += chunk
    if len(rest) > length:
        _unread[sock] = rest[length:]
    return Response(status, headers, rest[:length])


def http(
    port: int, method: str, target: str, body: bytes = b"", headers: dict | None = None, timeout: float = DEADLINE
) -> Response:
    """One request on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_bytes(method, target, body, headers))
        return read_response(sock, timeout)


def request_bytes(method: str, target: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    h = {"Host": "127.0.0.1", **(headers or {})}
    if (body or method == "POST") and "Transfer-Encoding" not in h:
        h.setdefault("Content-Length", str(len(body)))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return head.encode() + b"\r\n" + body


def start_request(port: int, method: str, target: str, body: bytes = b"") -> socket.socket:
    """Sends a request and returns the socket, so the response can be awaited later."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.sendall(request_bytes(method, target, body))
    return sock


def eio_url(path: str = "/socket.io/", sid: str | None = None, transport: str = "polling") -> str:
    url = f"{path}?EIO=4&transport={transport}"
    return url + (f"&sid={sid}" if sid else "")


def polling_open(port: int, path: str = "/socket.io/") -> tuple[str, dict]:
    import json

    r = http(port, "GET", eio_url(path))
    assert r.status == 200 and r.body.startswith(b"0"), r.body
    info = json.loads(r.body[1:])
    return info["sid"], info


# ---------------------------------------------------------------- raw WebSocket


class WebSocket:
    """A minimal RFC 6455 client: masked frames out, a queue of whole messages in."""

    def __init__(self, port: int, target: str, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # a small receive window makes the server's writes block early
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            request_bytes(
                "GET",
                target,
                headers={
                    "Upgrade": "websocket",
                    "Connection": "Upgrade",
                    "Sec-WebSocket-Key": key,
                    "Sec-WebSocket-Version": "13",
                },
            )
        )
        self.buffer = b""
        self.status, self.headers = self._read_head()
        self.close_code: int | None = None
        self.closed = False

    def _read_head(self):
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = (
            bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if n < 4096
            else (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        )
        self.sock.sendall(head + mask + masked)

    def send(self, msg: str | bytes) -> None:
        if isinstance(msg, str):
            self.send_frame(1, msg.encode())
        else:
            self.send_frame(2, msg)

    def _need(self, n: int, deadline: float) -> None:
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame before the deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk

    def _frame(self, deadline: float):
        self._need(2, deadline)
        b0, b1 = self.buffer[0], self.buffer[1]
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, pos = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, pos = struct.unpack("!Q", self.buffer[2:10])[0], 10
        self._need(pos + n, deadline)
        payload = self.buffer[pos : pos + n]
        self.buffer = self.buffer[pos + n :]
        return b0 & 0x0F, payload

    def recv(self, timeout: float = DEADLINE) -> WsMessage:
        """The next data message (str for text, bytes for binary); raises ConnectionError on close."""
        deadline = time.monotonic() + timeout
        while True:
            opcode, payload = self._frame(deadline)
            if opcode == 1:
                return payload.decode()
            if opcode == 2:
                return payload
            if opcode == 8:
                self.closed = True
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionError(f"close frame {self.close_code}")

    def recv_skip_pings(self, timeout: float = DEADLINE) -> WsMessage:
        """The next message that is not an Engine.IO ping (each ping is answered)."""
        while True:
            m = self.recv(timeout)
            if m == "2":
                self.send("3")
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
    import json

    ws = WebSocket(port, eio_url(path, transport="websocket"))
    assert ws.status == 101
    first = ws.recv()
    assert isinstance(first, str) and first.startswith("0{")
    return ws, json.loads(first[1:])
