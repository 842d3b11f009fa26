"""The target under fuzzing, through the conformance harness's targets (conformance/harness/targets.py):
a registry name at its pinned version or at any `@version` (+ pins), a command, or an URL; started,
watched (`health`), restarted and stopped by the harness's own code.

The fuzzer adds two targets of its own to that registry (fuzz/net/targets/):
  socketio-app  a chat application written the way a typical one is (no `error` listener, no process
                handlers) on socket.io, pinned at 4.6.1 with engine.io 6.4.1 and socket.io-parser 4.2.2
                (`make fuzz-target-install`); any other version with `socketio-app@4.8.4`
  planted       a small server that dies, or stops answering, on a marker input (the self-test's target)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass

from harness import http as rawhttp
from harness import packages
from harness import targets as registry

from . import ROOT
from .mutate import Profile

FUZZ_NET = ROOT / "fuzz" / "net"
APP_DIR = FUZZ_NET / "targets" / "socketio-app"
APP_PINNED = ROOT / "build" / "fuzz-target" / "install" / "socketio-app"
# A fresh handshake must be answered within this bound, or the target is hung (the harness's bound).
HEALTH_TIMEOUT_S = registry.HEALTH_TIMEOUT_S
STDERR_TAIL_LINES = registry.STDERR_TAIL_LINES


def _own_targets() -> dict[str, registry.TargetSpec]:
    return {
        "socketio-app": registry.TargetSpec(
            name="socketio-app",
            command=["node", "app.js"],
            cwd=APP_PINNED,
            description="a typical chat application on socket.io (npm), no `error` listener",
            profile="node",
            features=frozenset(),
            needs=[APP_PINNED / "node_modules" / "socket.io"],
            source=packages.Source(
                kind="npm",
                package="socket.io",
                fixture_dir=APP_DIR,
                entry="app.js",
                protocol_packages=registry.NODE_PACKAGES,
                pinned_root=APP_PINNED,
            ),
        ),
        "planted": registry.TargetSpec(
            name="planted",
            command=[sys.executable, str(FUZZ_NET / "targets" / "planted.py")],
            cwd=ROOT,
            description="a purpose-built server that dies or hangs on a marker input",
            features=frozenset(),
        ),
    }


OWN_TARGETS = _own_targets()
for _name, _spec in OWN_TARGETS.items():
    registry.REGISTRY.setdefault(_name, _spec)


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.@+-]+", "_", name).strip("_")


@dataclass
class Handle:
    """A running target: the harness's Target plus what the fuzzer needs to judge and restart it."""

    name: str
    target: registry.Target
    profile: Profile
    version: dict[str, str]

    @property
    def owned(self) -> bool:
        return self.target.owned

    @property
    def host(self) -> str:
        return self.target.host

    @property
    def port(self) -> int:
        return self.target.port

    @property
    def restarts(self) -> int:
        return self.target.restarts

    def exit_status(self) -> str | None:
        """None while the owned process runs (or for an URL target), else how it ended."""
        proc = self.target.process
        if proc is None or proc.poll() is None:
            return None
        code = proc.returncode
        return f"killed by signal {-code}" if code < 0 else f"exit status {code}"

    def health(self, timeout: float = HEALTH_TIMEOUT_S) -> str | None:
        """None when the target serves; otherwise "target died (…)" or "target stopped answering (…)"."""
        return registry.health(self.target, timeout)

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> list[str]:
        return self.target.stderr_tail(lines)

    def rss_kb(self) -> int | None:
        proc = self.target.process
        if proc is None or proc.poll() is not None:
            return None
        return _group_rss_kb(proc.pid)

    def restart(self) -> None:
        registry.restart(self.target)

    def stop(self) -> None:
        registry.stop(self.target)


def _group_rss_kb(pgid: int) -> int:
    """Resident memory of every process in the target's process group (it runs in its own session)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            with open(f"/proc/{entry}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def git_head() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)  # fmt: skip
        return out.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def _versions_accepted(t: registry.Target, path: str) -> tuple[int, ...]:
    """Which Engine.IO versions a server someone else runs accepts (a handshake of each)."""
    found = []
    for eio in (4, 3):
        try:
            resp = rawhttp.request(
                t.host, t.port, "GET", f"{path}?EIO={eio}&transport=polling", timeout=HEALTH_TIMEOUT_S
            )
        except (OSError, rawhttp.HttpConnectionLost):
            continue
        if resp.status == 200 and b'0{"sid"' in resp.body:
            found.append(eio)
    return tuple(found) or (4,)


def open_target(name: str, command: str | None = None) -> Handle:
    """Starts a registry target (any `@version` is installed first), a server from a shell command
    (`command`, labelled `name`), or attaches to a server at http://127.0.0.1:PORT."""
    if command is None and name.startswith("http://"):
        url = urllib.parse.urlsplit(name)
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("wirefuzz only talks to 127.0.0.1")
        t = registry.attach(name)
        versions = _versions_accepted(t, "/socket.io/")
        t.eio3 = 3 in versions
        t.client_pings = versions == (3,)  # the harness probes an EIO3-only server with EIO=3
        return Handle(name, t, Profile(versions, "/socket.io/"), {"server": f"unknown (server at {name})"})
    try:
        spec = registry.command_spec(name, command) if command else registry.lookup(name, install=True)
    except (KeyError, packages.PackageError) as err:
        raise SystemExit(f"{name}: {err}") from None
    t = registry.start(spec)
    versions = (3,) if spec.profile == "node-v2" or spec.health_eio == "3" else (4, 3) if spec.eio3 else (4,)
    version = dict(t.packages) or {spec.name: f"commit {git_head()}"}
    return Handle(name, t, Profile(versions, "/socket.io/"), version)
