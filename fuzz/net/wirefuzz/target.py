"""The target under fuzzing: started, watched, restarted and stopped through the conformance
harness's target registry (conformance/harness/targets.py), or attached by URL.

Besides the harness's registry, the fuzzer knows two targets of its own (fuzz/net/targets/):
  socketio-4.6.1-app  socket.io 4.6.1 with engine.io 6.4.1 and socket.io-parser 4.2.2 pinned, under
                      an application written the way a typical one is (no `error` listener): the
                      calibration target (`make fuzz-target-install` installs it)
  planted             a small server that dies, or stops answering, on a marker input (self-test)

Liveness (`health`): the owned process is alive and a fresh Engine.IO handshake on a new connection is
answered within the bound. Memory (`rss_kb`): resident set of the owned process and its children.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from harness import http as rawhttp
from harness import targets as registry

from . import ROOT
from .mutate import Profile

FUZZ_NET = ROOT / "fuzz" / "net"
INSTALL_DIR = ROOT / "build" / "fuzz-target" / "install"
APP_461 = INSTALL_DIR / "socketio-4.6.1-app"
# A fresh handshake must be answered within this bound, or the target is hung.
HEALTH_TIMEOUT_S = 5.0
STDERR_TAIL_LINES = 40
NODE_PACKAGES = ("socket.io", "engine.io", "socket.io-parser", "engine.io-parser", "ws")
PYTHON_PACKAGES = ("python-socketio", "python-engineio", "aiohttp")


def _own_registry() -> dict[str, registry.TargetSpec]:
    return {
        "socketio-4.6.1-app": registry.TargetSpec(
            name="socketio-4.6.1-app",
            command=["node", "app.js"],
            cwd=APP_461,
            description="socket.io 4.6.1 / engine.io 6.4.1 / socket.io-parser 4.2.2 under a typical application",
            profile="node",
            needs=[APP_461 / "node_modules" / "socket.io"],
        ),
        "planted": registry.TargetSpec(
            name="planted",
            command=[sys.executable, str(FUZZ_NET / "targets" / "planted.py")],
            cwd=ROOT,
            description="a purpose-built server that dies or hangs on a marker input",
            profile="generic",
            eio3=False,
        ),
    }


OWN_REGISTRY = _own_registry()


def known_names() -> list[str]:
    return sorted(set(registry.REGISTRY) | set(OWN_REGISTRY))


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.@+-]+", "_", name).strip("_")


@dataclass
class Handle:
    """A running target: the harness's Target plus what the fuzzer needs to judge and restart it."""

    name: str
    target: registry.Target
    spec: registry.TargetSpec | None
    profile: Profile
    version: dict[str, str]
    restarts: int = 0

    @property
    def owned(self) -> bool:
        return self.spec is not None

    @property
    def host(self) -> str:
        return self.target.host

    @property
    def port(self) -> int:
        return self.target.port

    def exit_status(self) -> str | None:
        """None while the owned process runs (or for an URL target), else how it ended."""
        return _exit_status(self.target.process)

    def health(self, timeout: float = HEALTH_TIMEOUT_S) -> str | None:
        """None when the target serves; otherwise "target died (…)" or "target stopped answering (…)"."""
        return health(self.target, 4 if 4 in self.profile.versions else 3, self.profile.path, timeout)

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> list[str]:
        return [ln for ln in self.target.output if not ln.startswith("READY ")][-lines:]

    def rss_kb(self) -> int | None:
        proc = self.target.process
        if proc is None or proc.poll() is not None:
            return None
        return _group_rss_kb(proc.pid)

    def restart(self) -> None:
        assert self.spec is not None, "only an owned target can be restarted"
        registry.stop(self.target)
        self.target = registry.start(self.spec)
        self.restarts += 1

    def stop(self) -> None:
        registry.stop(self.target)


def _exit_status(proc: subprocess.Popen[bytes] | None) -> str | None:
    if proc is None or proc.poll() is None:
        return None
    code = proc.returncode
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _settle(proc: subprocess.Popen[bytes] | None, wait: float = 1.0) -> str | None:
    """The exit status of a process that is about to end (its refused connections come first)."""
    if proc is None:
        return None
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return None
    return _exit_status(proc)


def health(
    t: registry.Target, eio: int = 4, path: str = "/socket.io/", timeout: float = HEALTH_TIMEOUT_S
) -> str | None:
    """None when a target serves: its process (when owned) is alive and a fresh Engine.IO handshake on
    a new connection is answered within `timeout`. Otherwise what was seen: "target died (…)" or
    "target stopped answering (…)"."""
    status = _exit_status(t.process)
    if status is not None:
        return f"target died ({status})"
    try:
        resp = rawhttp.request(t.host, t.port, "GET", f"{path}?EIO={eio}&transport=polling", timeout=timeout)
    except ConnectionRefusedError:
        return f"target died ({_settle(t.process) or 'connection refused'})"
    except TimeoutError:
        # A dying process refuses or resets; one that lets the bound pass without a word is hung.
        status = _exit_status(t.process)
        if status is not None:
            return f"target died ({status})"
        return f"target stopped answering (no answer to a new handshake within {timeout:.1f} s)"
    except (OSError, rawhttp.HttpConnectionLost) as exc:
        status = _settle(t.process)
        if status is not None:
            return f"target died ({status})"
        return f"target stopped answering ({type(exc).__name__}: {exc})"
    if resp.status != 200 or b'0{"sid"' not in resp.body:
        return f"target stopped answering (handshake answered {resp.summary()})"
    return None


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


def _profile(spec: registry.TargetSpec | None, versions: tuple[int, ...] | None = None) -> Profile:
    if versions is None:
        assert spec is not None
        versions = (3,) if spec.profile == "node-v2" else (4, 3) if spec.eio3 else (4,)
    return Profile(versions, "/socket.io/")


def _node_versions(cwd: Path) -> dict[str, str]:
    out = {}
    for pkg in NODE_PACKAGES:
        manifest = cwd / "node_modules" / pkg / "package.json"
        if manifest.exists():
            out[pkg] = json.loads(manifest.read_text(encoding="utf-8")).get("version", "?")
    return out


def _python_versions(python: str) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    try:
        out = subprocess.run([python, "-c", code, *PYTHON_PACKAGES], capture_output=True, text=True, timeout=20)
        return dict(json.loads(out.stdout))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}


def _git_head() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)  # fmt: skip
        return out.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def version_of(spec: registry.TargetSpec) -> dict[str, str]:
    """The version of each protocol package the target runs, read from its installation."""
    if spec.command and spec.command[0] == "node":
        return _node_versions(spec.cwd)
    if spec.profile == "python":
        return _python_versions(spec.command[0])
    if spec.profile == "reference":
        return {"reference-server": f"commit {_git_head()}"}
    return {spec.name: f"commit {_git_head()}"}


def _url_versions(host: str, port: int, path: str) -> tuple[int, ...]:
    """Which Engine.IO versions a server someone else runs accepts (a handshake of each)."""
    found = []
    for eio in (4, 3):
        try:
            resp = rawhttp.request(host, port, "GET", f"{path}?EIO={eio}&transport=polling", timeout=HEALTH_TIMEOUT_S)
        except (OSError, rawhttp.HttpConnectionLost):
            continue
        if resp.status == 200 and b'0{"sid"' in resp.body:
            found.append(eio)
    return tuple(found) or (4,)


def open_target(name: str) -> Handle:
    """Starts a registry target, or attaches to a server at http://127.0.0.1:PORT."""
    if name.startswith("http://"):
        url = urllib.parse.urlsplit(name)
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("wirefuzz only talks to 127.0.0.1")
        t = registry.attach(name)
        versions = _url_versions(t.host, t.port, "/socket.io/")
        return Handle(name, t, None, Profile(versions, "/socket.io/"), {"server": f"unknown (server at {name})"})
    spec = OWN_REGISTRY.get(name) or registry.REGISTRY.get(name)
    if spec is None:
        raise SystemExit(f"unknown target {name!r}; known: {', '.join(known_names())}, or http://127.0.0.1:PORT")
    t = registry.start(spec)
    return Handle(name, t, spec, _profile(spec), version_of(spec))
