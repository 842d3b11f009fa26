"""The recording proxy: a TCP relay on 127.0.0.1 between a real client and a real server that splits
both directions of every connection into HTTP messages and WebSocket frames, in the order it saw them.
"""

from __future__ import annotations

import functools
import queue
import socket
import threading

from . import wire
from .session import C2S, S2C, Raw

READ_SIZE = 65536


class RecordingProxy:
    """Listens on an ephemeral loopback port and relays each connection to `upstream_port`."""

    def __init__(self, upstream_port: int, host: str = "127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.raws: list[Raw] = []
        self.errors: list[str] = []
        self.finished: queue.Queue[int] = queue.Queue()
        self.active = 0
        self.next_conn = 1
        self.threads: list[threading.Thread] = []
        self.stopping = False
        self._start(self._accept_loop)

    def _start(self, fn, *args) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept_loop(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError as e:
                self.errors.append(f"upstream connect failed: {e}")
                client.close()
                continue
            with self.lock:
                conn = self.next_conn
                self.next_conn += 1
                self.active += 1
            c2s, s2c = wire.Splitter(True), wire.Splitter(False)
            done = threading.Barrier(2, action=functools.partial(self._closed, conn, client, server))
            self._start(self._pump, conn, C2S, client, server, c2s, s2c, done)
            self._start(self._pump, conn, S2C, server, client, s2c, c2s, done)

    def _closed(self, conn: int, a: socket.socket, b: socket.socket) -> None:
        a.close()
        b.close()
        with self.lock:
            self.active -= 1
        self.finished.put(conn)

    def _pump(
        self,
        conn: int,
        direction: str,
        src: socket.socket,
        dst: socket.socket,
        mine: wire.Splitter,
        other: wire.Splitter,
        done: threading.Barrier,
    ) -> None:
        try:
            while True:
                try:
                    data = src.recv(READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    break
                with self.lock:
                    try:
                        for msg in mine.feed(data):
                            self.raws.append(Raw(conn, direction, msg.kind, msg.data))
                            if msg.kind == "http-response" and msg.data.startswith(b"HTTP/1.1 101"):
                                other.switch_to_websocket()
                    except (wire.WireError, ValueError) as e:
                        self.errors.append(f"connection {conn} {direction}: {e}")
                try:
                    dst.sendall(data)
                except OSError:
                    break
            with self.lock:
                if mine.buffer:
                    self.errors.append(f"connection {conn} {direction}: {len(mine.buffer)} bytes left unsplit at close")
                self.raws.append(Raw(conn, direction, "close", b""))
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        finally:
            done.wait()

    def wait_idle(self, deadline_s: float) -> bool:
        """Waits until every relayed connection has closed on both sides."""
        import time

        end = time.monotonic() + deadline_s
        while True:
            with self.lock:
                if self.active == 0 and self.next_conn > 1:
                    return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                self.finished.get(timeout=left)
            except queue.Empty:
                return False

    def close(self) -> None:
        self.stopping = True
        self.listener.close()
