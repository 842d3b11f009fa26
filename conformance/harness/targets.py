"""Target registry: how to start each shipped server with the fixture, and with which settings.

A target is started on a free loopback port (the fixture is given port 0 and prints `READY <port>`),
used for the whole test session, and stopped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS_DIR = ROOT / "conformance" / "targets"
READY_TIMEOUT_S = 20.0
PY_VENV = ROOT / "build" / "conformance" / "pyvenv-socketio"


@dataclass
class TargetSpec:
    name: str
    command: list[str]
    cwd: Path
    description: str
    ping_interval_ms: int = 300
    ping_timeout_ms: int = 200
    connect_timeout_ms: int = 1000
    max_payload: int = 1_000_000
    eio3: bool = False
    # Optional parts of FIXTURE.md the target implements.
    features: frozenset[str] = frozenset(
        {"sio", "extended", "auth", "dynamic", "echo", "log", "refuse", "volatile", "app-error", "initial-packet"}
    )
    # Known behaviours of the implementation that the spec leaves open (see KNOWN-DEVIATIONS.md).
    profile: str = "generic"
    needs: list[Path] = field(default_factory=list)
    # Engine.IO v3 servers wait for the client's pings; the harness then sends them itself.
    client_pings: bool = False
    # FIXTURE.md's UPGRADE_TIMEOUT_MS, passed in the environment; None = the server has no such setting.
    upgrade_timeout_ms: int | None = 1000


# Node socket.io 4.x also has connection-state recovery (FIXTURE.md section 1, RECOVERY).
NODE4_FEATURES = TargetSpec.features | {"recovery"}


def _registry() -> dict[str, TargetSpec]:
    node_dir = TARGETS_DIR / "node-socketio"
    node = ["node", "fixture.js"]
    return {
        "reference": TargetSpec(
            name="reference",
            command=[str(ROOT / "build" / "reference-server")],
            cwd=ROOT,
            description="the project's C reference server (build/reference-server)",
            profile="reference",
            needs=[ROOT / "build" / "reference-server"],
        ),
        "reference-eio3": TargetSpec(
            name="reference-eio3",
            command=[str(ROOT / "build" / "reference-server")],
            cwd=ROOT,
            eio3=True,
            description="the C reference server with --allow-eio3 (Engine.IO v3 / Socket.IO v4 clients too)",
            profile="reference",
            needs=[ROOT / "build" / "reference-server"],
        ),
        "node-socketio": TargetSpec(
            name="node-socketio",
            command=node,
            cwd=node_dir,
            description="Node socket.io 4.8.4 / engine.io 6.6.12 (npm)",
            profile="node",
            features=NODE4_FEATURES,
            needs=[node_dir / "node_modules" / "socket.io"],
        ),
        "node-socketio-v2": TargetSpec(
            name="node-socketio-v2",
            command=node,
            cwd=TARGETS_DIR / "node-socketio-v2",
            eio3=True,
            description="socket.io 2.5.1 / engine.io 3.6.2 (npm): Engine.IO v3 and Socket.IO v4 only",
            profile="node-v2",
            features=frozenset(
                {
                    "sio",
                    "extended",
                    "auth",
                    "dynamic",
                    "echo",
                    "log",
                    "refuse",
                    "volatile",
                    "app-error",
                    "initial-packet",
                }
            ),
            client_pings=True,
            needs=[TARGETS_DIR / "node-socketio-v2" / "node_modules" / "socket.io"],
        ),
        "python-socketio": TargetSpec(
            name="python-socketio",
            command=[str(PY_VENV / "bin" / "python"), "fixture.py"],
            cwd=TARGETS_DIR / "python-socketio",
            ping_interval_ms=1000,
            ping_timeout_ms=200,
            description="python-socketio 5.18.1 / python-engineio 4.15.1 on aiohttp (PyPI)",
            profile="python",
            # No dynamic namespaces in python-socketio, and no Engine.IO-level request refusal.
            # python-engineio advertises pingInterval as
            # int(seconds) * 1000 (0.8 s would be announced as 0), so the interval stays 1 s; the
            # timeout is exact at any value (int(seconds * 1000)), 200 ms as on the other targets.
            features=frozenset({"sio", "extended", "auth", "echo", "log", "app-error"}),
            upgrade_timeout_ms=None,  # python-engineio has no upgrade timeout
            needs=[PY_VENV / "bin" / "python"],
        ),
        "node-socketio-eio3": TargetSpec(
            name="node-socketio-eio3",
            command=node,
            cwd=node_dir,
            eio3=True,
            description="Node socket.io 4.8.4 with allowEIO3",
            profile="node",
            features=NODE4_FEATURES,
            needs=[node_dir / "node_modules" / "socket.io"],
        ),
    }


REGISTRY = _registry()


@dataclass
class Target:
    """A running target as the tests see it."""

    name: str
    host: str
    port: int
    ping_interval_ms: int
    ping_timeout_ms: int
    connect_timeout_ms: int
    max_payload: int
    eio3: bool
    features: frozenset[str]
    profile: str
    description: str
    sio_path: str = "/socket.io/"
    eio_path: str = "/engine.io/"
    process: subprocess.Popen[bytes] | None = None
    output: list[str] = field(default_factory=list)
    client_pings: bool = False
    upgrade_timeout_ms: int | None = None

    # Deadlines derived from the heartbeat settings, in seconds.
    @property
    def ping_interval(self) -> float:
        return self.ping_interval_ms / 1000.0

    @property
    def ping_timeout(self) -> float:
        return self.ping_timeout_ms / 1000.0

    @property
    def heartbeat(self) -> float:
        """Longest a healthy session may stay silent: pingInterval + pingTimeout."""
        return self.ping_interval + self.ping_timeout

    @property
    def slack(self) -> float:
        """Scheduling allowance added to every timing bound."""
        return max(0.25, 0.5 * self.ping_timeout)

    @property
    def reply(self) -> float:
        """Deadline for an answer the server should send at once."""
        return self.heartbeat + self.slack

    @property
    def prompt(self) -> float:
        """Deadline for a reaction the server owes at once (closing on a protocol violation)."""
        return min(self.reply, 0.5)

    @property
    def connect_timeout(self) -> float:
        return self.connect_timeout_ms / 1000.0

    def has(self, feature: str) -> bool:
        return feature in self.features

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None


def _pump(stream, lines: queue.Queue[str | None], sink: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        sink.append(line)
        if len(sink) > 10000:
            del sink[:5000]
        lines.put(line)
    lines.put(None)


def start(spec: TargetSpec, overrides: dict[str, int] | None = None, env: dict[str, str] | None = None) -> Target:
    """Starts the target's fixture; `env` adds optional FIXTURE.md settings (INITIAL_PACKET, …)."""
    for need in spec.needs:
        if not need.exists():
            raise RuntimeError(f"target {spec.name}: {need} is missing (build or install it first)")
    o = overrides or {}
    pi = o.get("ping_interval_ms", spec.ping_interval_ms)
    pt = o.get("ping_timeout_ms", spec.ping_timeout_ms)
    ct = o.get("connect_timeout_ms", spec.connect_timeout_ms)
    mp = o.get("max_payload", spec.max_payload)
    argv = spec.command + [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--ping-interval",
        str(pi),
        "--ping-timeout",
        str(pt),
        "--connect-timeout",
        str(ct),
        "--max-payload",
        str(mp),
    ]
    if spec.eio3:
        argv.append("--eio3")
    full_env = dict(
        os.environ,
        HOST="127.0.0.1",
        PORT="0",
        PING_INTERVAL_MS=str(pi),
        PING_TIMEOUT_MS=str(pt),
        CONNECT_TIMEOUT_MS=str(ct),
        MAX_PAYLOAD=str(mp),
        EIO3="1" if spec.eio3 else "0",
    )
    if spec.upgrade_timeout_ms is not None:
        full_env["UPGRADE_TIMEOUT_MS"] = str(spec.upgrade_timeout_ms)
    full_env.update(env or {})
    proc = subprocess.Popen(
        argv,
        cwd=spec.cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    sink: list[str] = []
    threading.Thread(target=_pump, args=(proc.stdout, lines, sink), daemon=True, name=f"{spec.name} output").start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    port = None
    while port is None:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            stop_process(proc)
            raise RuntimeError(
                f"target {spec.name}: no READY line within {READY_TIMEOUT_S}s; output: {sink[-20:]}"
            ) from None
        if line is None:
            stop_process(proc)
            raise RuntimeError(f"target {spec.name} exited before READY (status {proc.poll()}); output: {sink[-20:]}")
        if line.startswith("READY "):
            port = int(line.split()[1])
    return Target(
        spec.name,
        "127.0.0.1",
        port,
        pi,
        pt,
        ct,
        mp,
        spec.eio3,
        spec.features,
        spec.profile,
        spec.description,
        process=proc,
        output=sink,
        client_pings=spec.client_pings,
        upgrade_timeout_ms=spec.upgrade_timeout_ms,
    )


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=2.0)


def stop(target: Target) -> None:
    if target.process is not None:
        stop_process(target.process)


@contextlib.contextmanager
def private_instance(target: Target, env: dict[str, str] | None = None) -> Iterator[Target | None]:
    """A second instance of a target the suite started itself, with the same heartbeat settings plus
    `env`, stopped afterwards; None for a server someone else runs (the suite cannot restart it)."""
    spec = REGISTRY.get(target.name)
    if target.process is None or spec is None:
        yield None
        return
    own = start(
        spec,
        {
            "ping_interval_ms": target.ping_interval_ms,
            "ping_timeout_ms": target.ping_timeout_ms,
            "connect_timeout_ms": target.connect_timeout_ms,
            "max_payload": target.max_payload,
        },
        env,
    )
    try:
        yield own
    finally:
        stop(own)


def attach(url: str, overrides: dict[str, int] | None = None, eio3: bool = False) -> Target:
    """A server someone else runs: settings are read from its handshake unless given explicitly."""
    from . import http as rawhttp

    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost"):
        raise RuntimeError("the suite only talks to 127.0.0.1")
    port = parsed.port or 80
    resp = rawhttp.request("127.0.0.1", port, "GET", "/socket.io/?EIO=4&transport=polling", timeout=5.0)
    import json

    text = resp.text()
    if resp.status != 200 or not text.startswith("0{"):
        raise RuntimeError(f"{url}: no Engine.IO handshake on /socket.io/: {resp.summary()}")
    info = json.loads(text[1:].split("\x1e")[0])
    o = overrides or {}
    return Target(
        url,
        "127.0.0.1",
        port,
        o.get("ping_interval_ms", int(info.get("pingInterval", 300))),
        o.get("ping_timeout_ms", int(info.get("pingTimeout", 200))),
        o.get("connect_timeout_ms", 1000),
        o.get("max_payload", int(info.get("maxPayload", 1_000_000))),
        eio3,
        frozenset({"sio", "extended", "auth", "dynamic", "echo", "log"}),
        "generic",
        f"server at {url}",
    )
