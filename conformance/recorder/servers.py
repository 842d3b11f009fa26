"""Starts and stops the servers sessions are recorded from or replayed against, on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
REFERENCE = ROOT / "build" / "reference-server"
READY_DEADLINE_S = 20.0
STOP_DEADLINE_S = 3.0


@dataclass
class Settings:
    ping_interval_ms: int = 10000
    ping_timeout_ms: int = 5000
    connect_timeout_ms: int = 5000
    max_payload: int = 1000000

    def flags(self) -> list[str]:
        return [
            "--ping-interval",
            str(self.ping_interval_ms),
            "--ping-timeout",
            str(self.ping_timeout_ms),
            "--connect-timeout",
            str(self.connect_timeout_ms),
            "--max-payload",
            str(self.max_payload),
        ]

    def as_json(self) -> dict:
        return {
            "pingInterval": self.ping_interval_ms,
            "pingTimeout": self.ping_timeout_ms,
            "connectTimeout": self.connect_timeout_ms,
            "maxPayload": self.max_payload,
        }

    @classmethod
    def from_json(cls, d: dict) -> Settings:
        return cls(
            d.get("pingInterval", 10000),
            d.get("pingTimeout", 5000),
            d.get("connectTimeout", 5000),
            d.get("maxPayload", 1000000),
        )


def command(target: str, settings: Settings, deterministic: bool) -> list[str]:
    """The command line of a target: `node` (Node's socket.io 4.8.4 with the shared fixture) or
    `reference` (build/reference-server); both have a deterministic mode with the same id scheme."""
    base = ["--host", "127.0.0.1", "--port", "0"] + settings.flags()
    if target == "node":
        return ["node", str(NODE_DIR / "server.js")] + base + (["--deterministic"] if deterministic else [])
    if target == "reference":
        return [str(REFERENCE)] + base + (["--deterministic"] if deterministic else [])
    raise ValueError(f"unknown target {target!r} (node or reference)")


class Server:
    """A running target; use as a context manager so that it is always stopped."""

    def __init__(self, target: str, settings: Settings, deterministic: bool = True):
        self.target = target
        self.proc = subprocess.Popen(
            command(target, settings, deterministic),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._wait_ready()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_ready(self) -> int:
        for _ in range(10000):
            try:
                line = self.lines.get(timeout=READY_DEADLINE_S)
            except queue.Empty:
                break
            if line is None:
                break
            m = re.match(r"READY (\d+)$", line)
            if m:
                return int(m.group(1))
        self.stop()
        raise RuntimeError(f"{self.target} did not print READY")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_DEADLINE_S)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
