"""Helpers for testing build/siocat: one run to its end, a free port. Every wait has a deadline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SIOCAT = Path(os.environ.get("SIOCAT", ROOT / "build" / "siocat"))
RUN_DEADLINE_S = 15.0  # a whole siocat run, with --timeout well inside it


@dataclass
class Result:
    status: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]

    def app(self, event: str) -> list[dict[str, Any]]:
        return [j for j in self.json_lines() if j.get("layer") == "app" and j.get("event") == event]


def siocat(*args: str, stdin: str = "") -> Result:
    """One run of siocat to its end (siocat's own --timeout bounds it; this deadline is the
    backstop, and a run that needs it fails the test)."""
    proc = subprocess.run([str(SIOCAT), *args], input=stdin, capture_output=True, text=True, timeout=RUN_DEADLINE_S)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
