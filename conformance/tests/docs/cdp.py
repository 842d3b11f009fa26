"""A minimal Chrome DevTools Protocol client: headless Chromium started with a fresh profile,
driven over a loopback WebSocket (frames from conformance/recorder/wire.py)."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.parse
from pathlib import Path

from recorder import wire

START_DEADLINE_S = 30.0
CALL_DEADLINE_S = 20.0
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
CLIENT_MASK = bytes.fromhex("1f2e3d4c")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium; use as a context manager so that it is always stopped."""

    def __init__(self) -> None:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed (Debian package `chromium`)")
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        url = None
        for _ in range(10000):
            try:
                line = lines.get(timeout=START_DEADLINE_S)
            except queue.Empty:
                break
            if line is None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            self.close()
            raise RuntimeError("chromium did not announce its DevTools endpoint")
        self.sock = _ws_connect(url)
        self.splitter = wire.Splitter(False)
        self.splitter.switch_to_websocket()
        self.next_id = 0
        self.events: list[dict] = []
        self.buffer: list[bytes] = []

    def _drain(self, lines: queue.Queue) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    def _receive(self) -> dict:
        parts = []
        while True:
            while not self.buffer:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise RuntimeError("DevTools connection closed")
                self.buffer += [m.data for m in self.splitter.feed(data)]
            opcode, fin, payload, _, _ = wire.ws_unmask(self.buffer.pop(0))
            parts.append(payload)
            if fin:
                return json.loads(b"".join(parts))

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.sock.sendall(wire.ws_frame(1, json.dumps(msg).encode(), CLIENT_MASK))
        for _ in range(100000):
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise RuntimeError(f"{method}: no reply")

    def wait_event(self, method: str, session: str) -> dict:
        for _ in range(100000):
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._receive())
        raise RuntimeError(f"no {method}")

    def open(self, url: str) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.call("Page.navigate", {"url": url}, session)
        self.wait_event("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "sock", None) is not None:
                try:
                    self.call("Browser.close")
                except (RuntimeError, OSError):
                    pass
                self.sock.close()
        finally:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, 9)
                    self.proc.wait(5)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ws_connect(url: str) -> socket.socket:
    u = urllib.parse.urlsplit(url)
    if u.hostname != "127.0.0.1":
        raise RuntimeError(f"DevTools endpoint {url} is not on 127.0.0.1")
    sock = socket.create_connection((u.hostname, u.port), timeout=CALL_DEADLINE_S)
    key = base64.b64encode(b"docs-browser-tst").decode()
    sock.sendall(
        (
            f"GET {u.path} HTTP/1.1\r\nHost: 127.0.0.1:{u.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise RuntimeError("DevTools refused the WebSocket")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"DevTools answered {head[:40]!r}")
    return sock
