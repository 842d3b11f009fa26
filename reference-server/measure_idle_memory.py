#!/usr/bin/env python3
"""Idle memory per WebSocket connection of build/reference-server.

Starts the server, records its resident set size (VmRSS), opens N WebSocket connections that each
complete the Engine.IO handshake and join the Socket.IO namespace "/" (CONNECT, reply, the fixture's
`auth` event), records VmRSS again and prints the difference divided by N. The default ping interval
(25 s) keeps the connections idle while they are counted.

    python3 reference-server/measure_idle_memory.py --count 1000 --count 10000
    python3 reference-server/measure_idle_memory.py --command "node conformance/targets/node-socketio/fixture.js"

Any server that follows conformance/FIXTURE.md section 1 (`--port 0`, a `READY <port>` line) can be
measured the same way with --command; its own process (not a wrapper) must be the one started.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDSHAKE_DEADLINE_S = 10.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def masked_text_frame(text: bytes) -> bytes:
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(text)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(text))


def read_until(sock: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    deadline = time.monotonic() + HANDSHAKE_DEADLINE_S
    poller = select.poll()  # select() cannot watch descriptors above 1023
    poller.register(sock, select.POLLIN)
    while marker not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise TimeoutError(f"waiting for {marker!r}")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def open_connection(port: int, join: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    data = read_until(sock, b'"maxPayload"')
    if join:
        sock.sendall(masked_text_frame(b"40"))
        read_until(sock, b'["auth",', data)
    return sock


def read_ready(proc: subprocess.Popen) -> int:
    """The port of the first `READY <port>` line (earlier lines are ignored, as FIXTURE.md allows)."""
    assert proc.stdout is not None
    for _ in range(100):
        words = proc.stdout.readline().split()
        if len(words) == 2 and words[0] == b"READY":
            return int(words[1])
    raise RuntimeError("no READY line")


def measure(command: list[str], count: int, join: bool) -> tuple[int, int]:
    proc = subprocess.Popen(command + ["--port", "0"], stdout=subprocess.PIPE)
    try:
        port = read_ready(proc)
        socks = [open_connection(port, join)]  # warm-up: first-use allocations are not per connection
        before = rss_kib(proc.pid)
        socks += [open_connection(port, join) for _ in range(count)]
        after = rss_kib(proc.pid)
        for s in socks:
            s.close()
        return before, after
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, action="append", help="connections (repeatable; default 1000)")
    ap.add_argument("--engineio-only", action="store_true", help="do not join a Socket.IO namespace")
    ap.add_argument("--server", default=str(ROOT / "build" / "reference-server"))
    ap.add_argument("--command", help="another server command line (split on spaces) instead of --server")
    args = ap.parse_args()
    counts = args.count or [1000]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for n in counts:
        if n + 64 > hard:
            print(f"{n}: skipped, descriptor limit is {hard}", file=sys.stderr)
            continue
        command = args.command.split() if args.command else [args.server]
        before, after = measure(command, n, not args.engineio_only)
        per = (after - before) * 1024 / n
        print(f"connections={n} rss_before_kib={before} rss_after_kib={after} bytes_per_connection={per:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
