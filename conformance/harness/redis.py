"""Redis for the cluster section: a private `redis-server` process, and a small RESP2 client of the
suite's own (raw socket, no library) to watch the adapter's traffic and ask Redis what it knows.

The server: one `redis-server` (Debian package) on a free port of 127.0.0.1, with an empty data
directory of its own and persistence off, stopped with its process group at the end (SIGTERM, then
SIGKILL after a bound). It can be stopped and started again on the same port, for the cases that
take Redis away in the middle of a run.

The client speaks RESP2 as Redis 7 answers it: simple strings, errors, integers, bulk strings and
arrays. An observer connection PSUBSCRIBEs and queues every message with its arrival time, so a
case can wait on it with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# How long redis-server may take to accept connections after start (a loaded machine).
START_TIMEOUT_S = 10.0
# How long a stopped redis-server gets to exit after SIGTERM before SIGKILL.
STOP_GRACE_S = 3.0
# Longest reply line or bulk string the client reads (adapter messages are far smaller).
MAX_BULK = 64 * 1024 * 1024


class RedisError(RuntimeError):
    """An error reply (`-ERR …`) or a broken connection."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private redis-server on 127.0.0.1. `start()` picks a free port the first time and keeps it
    across restarts, so the nodes reconnect to the same address."""

    def __init__(self) -> None:
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix="siotest-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.log: list[str] = []
        self.version = ""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError("redis-server is not installed (Debian package redis-server; `make deps`)")
        for _attempt in range(5):
            if not self.port:
                self.port = free_port()
            argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                    "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
                    "--protected-mode", "yes", "--loglevel", "notice"]  # fmt: skip
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(
                target=self._pump, args=(self.process, lines), daemon=True, name="redis-server log"
            ).start()
            if self._wait_ready(lines):
                self.version = self.info_field("redis_version")
                return
            self._kill()
            self.port = 0  # the port was taken between the probe and the bind: another one
        raise RuntimeError(f"redis-server did not start; its log ends: {self.log[-5:]}")

    def _pump(self, proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.log.append(line)
            lines.put(line)
            if len(self.log) > 2000:
                del self.log[:1000]
        lines.put(None)

    def _wait_ready(self, lines: queue.Queue[str | None]) -> bool:
        """Waits for redis-server's own "Ready to accept connections" line, then checks with a PING."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                return False
            if "Ready to accept connections" in line:
                break
        with contextlib.suppress(OSError, RedisError), RedisClient(self.port, timeout=START_TIMEOUT_S) as c:
            return c.command("PING") == "PONG"
        return False

    def info_field(self, name: str) -> str:
        with RedisClient(self.port) as c:
            text = c.command("INFO", "server")
        for line in str(text).splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
        return ""

    def begin_stop(self) -> None:
        """SIGTERM to the process group, without waiting (stop() finishes the job)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after STOP_GRACE_S; the port is kept for start()."""
        if self.process is None:
            return
        self.begin_stop()
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        self._kill()

    def _kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_S)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# ---------------------------------------------------------------------------------------- RESP
def encode_command(*args: str | bytes | int) -> bytes:
    """A command as a RESP array of bulk strings (what every client sends)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


Reply = str | bytes | int | list | None | RedisError


class RespReader:
    """Incremental RESP2 reply parser over a buffered socket file."""

    def __init__(self, sock: socket.socket):
        self.file = sock.makefile("rb")

    def _line(self) -> bytes:
        line = self.file.readline(MAX_BULK)
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed by Redis" if not line else f"bad reply line {line[:80]!r}")
        return line[:-2]

    def read(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            if len(data) != n + 2:
                raise RedisError("connection closed inside a bulk string")
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisError(f"unknown reply type {line[:80]!r}")


class RedisClient:
    """One connection for commands (PING, PUBLISH, PUBSUB NUMSUB, …)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = RespReader(self.sock)

    def __enter__(self) -> RedisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, *args: str | bytes | int) -> Reply:
        self.sock.sendall(encode_command(*args))
        reply = self.reader.read()
        if isinstance(reply, RedisError):
            raise reply
        if isinstance(reply, bytes) and args and str(args[0]).upper() in ("INFO", "PING"):
            return reply.decode()
        return reply

    def numsub(self, channel: str) -> int:
        reply = self.command("PUBSUB", "NUMSUB", channel)
        assert isinstance(reply, list) and len(reply) == 2
        return int(reply[1])

    def publish(self, channel: str, payload: bytes) -> int:
        return int(self.command("PUBLISH", channel, payload))  # type: ignore[arg-type]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass
class Published:
    """One message seen by the observer: the channel, the payload bytes, when it arrived."""

    channel: str
    data: bytes
    at: float

    def __repr__(self) -> str:
        shown = self.data[:80].hex() + ("…" if len(self.data) > 80 else "")
        return f"<{self.channel} {len(self.data)} bytes {shown}>"


class Observer:
    """A PSUBSCRIBE connection that queues every message matching `pattern` (a reader thread), so
    a case can wait for a publication with a deadline and see everything that went over Redis."""

    def __init__(self, port: int, pattern: str = "*"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5.0)
        self.reader = RespReader(self.sock)
        self.sock.sendall(encode_command("PSUBSCRIBE", pattern))
        confirm = self.reader.read()
        if not (isinstance(confirm, list) and confirm and confirm[0] == b"psubscribe"):
            raise RedisError(f"PSUBSCRIBE not confirmed: {confirm!r}")
        self.sock.settimeout(None)
        self.messages: queue.Queue[Published | None] = queue.Queue()
        self.seen: list[Published] = []
        self._thread = threading.Thread(target=self._run, daemon=True, name="redis observer")
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                item = self.reader.read()
                if isinstance(item, list) and len(item) == 4 and item[0] == b"pmessage":
                    chan, data = item[2], item[3]
                    assert isinstance(chan, bytes) and isinstance(data, bytes)
                    p = Published(chan.decode("utf-8", "replace"), data, time.monotonic())
                    self.seen.append(p)
                    self.messages.put(p)
        except (OSError, RedisError, ValueError):
            self.messages.put(None)

    def take(self, match, timeout: float, what: str = "publication") -> Published:  # noqa: ANN001
        """The first publication from now on for which `match(p)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                p = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {what} on Redis within {timeout:.2f} s") from None
            if p is None:
                raise RedisError("the observer's connection to Redis closed")
            if match(p):
                return p

    def drain(self) -> list[Published]:
        """Every publication queued so far (they are taken)."""
        out: list[Published] = []
        while True:
            try:
                p = self.messages.get_nowait()
            except queue.Empty:
                return out
            if p is not None:
                out.append(p)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
