"""Targets: which server each name starts, with which fixture and settings; how a running target is
watched, restarted and stopped.

Three kinds of target:
- a registry name (`node-socketio`), optionally at any published version (`node-socketio@4.6.1`,
  with pins: `node-socketio@4.6.1+engine.io@6.4.1`, see packages.py): the suite starts it on a free
  loopback port (the fixture is given port 0 and prints `READY <port>`), restarts it if it dies,
  and stops it at the end;
- a command (`--target-cmd "…"`, make's TARGET_CMD): anyone's server, started, restarted and
  stopped by the suite exactly like a registry target, under the FIXTURE.md section 1 contract;
- an URL (`http://127.0.0.1:PORT`): a server someone else runs; the suite can neither restart it
  nor start a private copy of it.

What the fixture of a target implements (its *parts*, FIXTURE.md) is learnt at start (discovery.py):
from its `fixture-info` answer, from the command line, or by probing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import packages, wire

ROOT = Path(__file__).resolve().parents[2]
TARGETS_DIR = ROOT / "conformance" / "targets"
READY_TIMEOUT_S = 20.0
PY_VENV = ROOT / "build" / "conformance" / "pyvenv-socketio"
# After every case the target must answer a fresh Engine.IO handshake within this bound, or the case
# is charged with "target stopped answering" (health()).
HEALTH_TIMEOUT_S = 5.0
# Lines of a target's standard error kept for crash reports.
STDERR_TAIL_LINES = 40
OUTPUT_KEEP_LINES = 10000
# How long the stderr tail of an exited target waits for its pipe to be drained: the pipe reaches
# end-of-file at once unless a child the target left behind still holds it open.
STDERR_DRAIN_S = 2.0

# The optional parts of the fixture contract: name -> (what it is, where FIXTURE.md defines it).
PARTS: dict[str, tuple[str, str]] = {
    "extended": ("the extended events (join, to, server-ack, disconnect-me, …)", "FIXTURE.md section 3"),
    # Two pieces of the extended part that some servers' APIs cannot express (socketioxide has no
    # call that closes a client's Engine.IO connection, and its CONNECT_ERROR is a message only).
    "close-connection": ("`disconnect-me` with `true`: the server closes the whole connection", "FIXTURE.md section 3"),
    "auth": ("the /auth namespace", "FIXTURE.md section 3"),
    "connect-error-data": ("the /auth refusal carrying `data` (`withData`)", "FIXTURE.md section 3"),
    "dynamic": ("dynamic namespaces /dyn-<digits>", "FIXTURE.md section 3"),
    "refuse": ("handshake refusal with refuse=<reason>", "FIXTURE.md section 3"),
    "volatile": ("the `volatile` event", "FIXTURE.md section 3"),
    "app-error": ("the `app-error` event", "FIXTURE.md section 3"),
    "echo": ("the Engine.IO echo endpoint /engine.io/", "FIXTURE.md section 4"),
    "log": ("the disconnect log and its `log` event", "FIXTURE.md section 5"),
    "initial-packet": ("the INITIAL_PACKET setting", "FIXTURE.md section 1"),
    "recovery": ("the RECOVERY setting (connection-state recovery)", "FIXTURE.md section 1"),
}
FULL_FIXTURE = frozenset(PARTS) - {"recovery"}
# Parts no probe can show on the wire: only fixture-info, the command line or a registry entry tells.
UNPROBEABLE = frozenset({"app-error", "initial-packet", "recovery"})


def describe_part(part: str) -> str:
    what, where = PARTS.get(part, (part, "FIXTURE.md"))
    return f"fixture part `{part}` ({what}, {where})"


# Why a case that needs a private instance cannot run on an URL target: a limit of the suite, not a
# property of the server.
NO_PRIVATE_INSTANCE = (
    "not run: the suite starts a private instance only of a server it starts itself; "
    "give the command that starts this server as TARGET_CMD (FIXTURE.md section 1) to run this case"
)


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
    # The parts of FIXTURE.md this target's fixture implements: checked against its fixture-info
    # answer at start, so a shipped fixture cannot lose a part unnoticed.
    features: frozenset[str] = FULL_FIXTURE
    # Known behaviours of the implementation that the spec leaves open (see KNOWN-DEVIATIONS.md).
    profile: str = "generic"
    needs: list[Path] = field(default_factory=list)
    # Engine.IO v3 servers wait for the client's pings; the harness then sends them itself.
    client_pings: bool = False
    # FIXTURE.md's UPGRADE_TIMEOUT_MS, passed in the environment; None = the server has no such setting.
    upgrade_timeout_ms: int | None = 1000
    # The registry package the target comes from, for `@version` (None: built here, or a command).
    source: packages.Source | None = None
    # The Engine.IO version of the handshake that proves the target still serves.
    health_eio: str = "4"
    # A shell command (TARGET_CMD) rather than an argv: settings go in the environment only.
    shell: bool = False


NODE_PACKAGES = ("socket.io", "engine.io", "socket.io-parser", "engine.io-parser", "ws")
PYTHON_PACKAGES = ("python-socketio", "python-engineio", "aiohttp")


def _node_source(directory: str, entry: str = "fixture.js") -> packages.Source:
    return packages.Source(
        kind="npm",
        package="socket.io",
        fixture_dir=TARGETS_DIR / directory,
        entry=entry,
        protocol_packages=NODE_PACKAGES,
        pinned_root=TARGETS_DIR / directory,
    )


PYTHON_SOURCE = packages.Source(
    kind="pypi",
    package="python-socketio",
    fixture_dir=TARGETS_DIR / "python-socketio",
    entry="fixture.py",
    protocol_packages=PYTHON_PACKAGES,
    pinned_root=PY_VENV,
)


def _registry() -> dict[str, TargetSpec]:
    node_dir = TARGETS_DIR / "node-socketio"
    node = ["node", "fixture.js"]
    node_needs = [node_dir / "node_modules" / "socket.io"]
    v2_dir = TARGETS_DIR / "node-socketio-v2"
    # REFERENCE_SERVER names another build of the reference server to run under the same names and
    # settings: the sanitizer build, or a mutant (conformance/mutants).
    reference = Path(os.environ.get("REFERENCE_SERVER") or ROOT / "build" / "reference-server")
    built = os.path.relpath(reference, ROOT) if reference.is_relative_to(ROOT) else str(reference)
    return {
        "reference": TargetSpec(
            name="reference",
            command=[str(reference)],
            cwd=ROOT,
            description=f"the project's C reference server ({built})",
            profile="reference",
            needs=[reference],
        ),
        "reference-eio3": TargetSpec(
            name="reference-eio3",
            command=[str(reference)],
            cwd=ROOT,
            eio3=True,
            description=f"the C reference server ({built}) with --allow-eio3 (Engine.IO v3 / Socket.IO v4 clients too)",
            profile="reference",
            needs=[reference],
        ),
        "node-socketio": TargetSpec(
            name="node-socketio",
            command=node,
            cwd=node_dir,
            description="Node socket.io (npm)",
            profile="node",
            features=FULL_FIXTURE | {"recovery"},
            needs=node_needs,
            source=_node_source("node-socketio"),
        ),
        "node-socketio-eio3": TargetSpec(
            name="node-socketio-eio3",
            command=node,
            cwd=node_dir,
            eio3=True,
            description="Node socket.io with allowEIO3 (npm)",
            profile="node",
            features=FULL_FIXTURE | {"recovery"},
            needs=node_needs,
            source=_node_source("node-socketio"),
        ),
        # The official-suite part of the fixture only (FIXTURE.md section 2), without fixture-info:
        # every missing part must come out `unimplemented`, found by probing.
        "node-socketio-official": TargetSpec(
            name="node-socketio-official",
            command=["node", "official-fixture.js"],
            cwd=node_dir,
            description="Node socket.io (npm) running only the official-suite fixture",
            profile="node",
            features=frozenset(),
            needs=node_needs,
            source=_node_source("node-socketio", "official-fixture.js"),
        ),
        "node-socketio-v2": TargetSpec(
            name="node-socketio-v2",
            command=node,
            cwd=v2_dir,
            eio3=True,
            description="socket.io 2 (npm): Engine.IO v3 and Socket.IO v4 only",
            profile="node-v2",
            client_pings=True,
            needs=[v2_dir / "node_modules" / "socket.io"],
            source=_node_source("node-socketio-v2"),
            health_eio="3",
        ),
        "python-socketio": TargetSpec(
            name="python-socketio",
            command=[str(PY_VENV / "bin" / "python"), "fixture.py"],
            cwd=TARGETS_DIR / "python-socketio",
            ping_interval_ms=1000,
            ping_timeout_ms=200,
            description="python-socketio on aiohttp (PyPI)",
            profile="python",
            # No dynamic namespaces in python-socketio, no Engine.IO-level request refusal, no
            # volatile emit. python-engineio advertises pingInterval as int(seconds) * 1000 (0.8 s
            # would be announced as 0), so the interval stays 1 s; the timeout is exact at any
            # value (int(seconds * 1000)), 200 ms as on the other targets.
            features=frozenset(
                {"extended", "close-connection", "auth", "connect-error-data", "echo", "log", "app-error"}
            ),
            upgrade_timeout_ms=None,  # python-engineio has no upgrade timeout
            needs=[PY_VENV / "bin" / "python"],
            source=PYTHON_SOURCE,
        ),
        # The suite's own race check (make test): the threaded python-socketio Server behind Werkzeug's
        # threaded WSGI server, with a fixture of its own (targets/python-socketio-threading).
        "python-socketio-threading": TargetSpec(
            name="python-socketio-threading",
            command=[str(PY_VENV / "bin" / "python"), "fixture.py"],
            cwd=TARGETS_DIR / "python-socketio-threading",
            ping_interval_ms=1000,  # python-engineio advertises whole seconds (see python-socketio)
            ping_timeout_ms=200,
            description="python-socketio threaded Server on Werkzeug's threaded WSGI server (PyPI)",
            profile="python",
            features=frozenset(
                {"extended", "close-connection", "auth", "connect-error-data", "echo", "log", "app-error"}
            ),
            upgrade_timeout_ms=None,
            needs=[PY_VENV / "bin" / "python"],
        ),
    } | _third_party()


# ---------------------------------------------------------------- third-party servers (conformance/thirdparty.mk)
# Built from conformance/targets/<name>/ by `make thirdparty` into build/thirdparty/<name>/; another
# version (`socketioxide@0.18.8`) is installed and built under build/targets/ (packages.py).
THIRD_PARTY = ROOT / "build" / "thirdparty"
SOCKETIOXIDE_CRATES = (
    "socketioxide",
    "engineioxide",
    "socketioxide-core",
    "engineioxide-core",
    "socketioxide-parser-common",
)
ZISHANG520 = "github.com/zishang520/socket.io"
ZISHANG520_MODULES = ("servers/socket/v3", "servers/engine/v3", "v3", "parsers/engine/v3", "parsers/socket/v3")


def _third_party() -> dict[str, TargetSpec]:
    """Each entry states what its server advertises in the handshake (heartbeat and its granularity,
    maxPayload) and which optional fixture parts its API cannot express (those cases come out
    `unimplemented`). Each takes `@version` (packages.py: cargo, go, maven, bun)."""
    sx, go = THIRD_PARTY / "socketioxide", THIRD_PARTY / "zishang520-socketio"
    # socketioxide: no allowRequest hook (refuse), no initialPacket, no connection-state recovery;
    # no public call closes a client's Engine.IO connection (close-connection) and a connect
    # middleware's error becomes a CONNECT_ERROR with a message only (connect-error-data).
    sx_features = FULL_FIXTURE - {"refuse", "initial-packet", "close-connection", "connect-error-data"}
    sx_source = packages.Source(
        kind="cargo",
        package="socketioxide",
        fixture_dir=TARGETS_DIR / "socketioxide",
        entry="siotest-fixture-socketioxide",
        protocol_packages=SOCKETIOXIDE_CRATES,
        pinned_root=TARGETS_DIR / "socketioxide",
    )
    go_source = packages.Source(
        kind="go",
        package=f"{ZISHANG520}/servers/socket/v3",
        fixture_dir=TARGETS_DIR / "zishang520-socketio",
        entry="fixture",
        protocol_packages=tuple(f"{ZISHANG520}/{m}" for m in ZISHANG520_MODULES),
        pinned_root=TARGETS_DIR / "zishang520-socketio",
    )
    jv = THIRD_PARTY / "netty-socketio"
    java = [
        "java",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        f"{jv / 'fixture-netty-socketio-1.0.0.jar'}:{jv / 'lib' / '*'}",
        "siotest.Fixture",
    ]
    return {
        "netty-socketio": TargetSpec(
            name="netty-socketio",
            command=java,
            cwd=TARGETS_DIR / "netty-socketio",
            description="netty-socketio 2.0.14 (Maven Central); no maxPayload in its handshake",
            # Engine.IO v3 is netty-socketio's original protocol and cannot be switched off.
            eio3=True,
            # Heartbeats in milliseconds, advertised as configured. maxPayload is not advertised (its
            # handshake has no such field): the fixture sets maxHttpContentLength and
            # maxFramePayloadLength to MAX_PAYLOAD, and that is the bound the cases use.
            max_payload=1_000_000,
            # No bare Engine.IO endpoint, no dynamic namespaces, no volatile emit, no initialPacket, no
            # recovery: the Java API has none of them (conformance/targets/netty-socketio).
            features=frozenset(
                {"extended", "close-connection", "auth", "connect-error-data", "log", "refuse", "app-error"}
            ),
            needs=[jv / "fixture-netty-socketio-1.0.0.jar"],
            source=packages.Source(
                kind="maven",
                package="com.corundumstudio.socketio:netty-socketio",
                fixture_dir=TARGETS_DIR / "netty-socketio",
                entry="siotest.Fixture",
                protocol_packages=("com.corundumstudio.socketio:netty-socketio", "io.netty:netty-codec-http"),
                pinned_root=jv,
            ),
        ),
        "socketio-bun": TargetSpec(
            name="socketio-bun",
            command=[str(TARGETS_DIR / "socketio-bun" / "node_modules" / ".bin" / "bun"), "fixture.js"],
            cwd=TARGETS_DIR / "socketio-bun",
            description="socket.io 4.8.4 on Bun 1.4.5 through @socket.io/bun-engine 0.1.2 (npm)",
            # Heartbeats in milliseconds and maxPayload (maxHttpBufferSize) advertised as configured.
            # bun-engine has no Engine.IO v3 and no initialPacket; the Socket.IO layer is Node's own.
            features=(FULL_FIXTURE | {"recovery"}) - {"initial-packet"},
            needs=[TARGETS_DIR / "socketio-bun" / "node_modules" / ".bin" / "bun"],
            source=packages.Source(
                kind="bun",
                package="socket.io",
                fixture_dir=TARGETS_DIR / "socketio-bun",
                entry="fixture.js",
                protocol_packages=("socket.io", "socket.io-parser", "engine.io-parser", "@socket.io/bun-engine", "bun"),
                pinned_root=TARGETS_DIR / "socketio-bun",
                shared_files=(TARGETS_DIR / "node-socketio" / "app.js",),
            ),
        ),
        "socketioxide": TargetSpec(
            name="socketioxide",
            command=[str(sx / "v5" / "release" / "siotest-fixture-socketioxide")],
            cwd=TARGETS_DIR / "socketioxide",
            description="socketioxide 0.18.9 / engineioxide 0.17.9 on hyper 1 (crates.io)",
            # Heartbeats are Durations set in milliseconds and advertised as configured; maxPayload is
            # advertised. Absent parts: sx_features above.
            features=sx_features,
            needs=[sx / "v5" / "release" / "siotest-fixture-socketioxide"],
            source=sx_source,
        ),
        "socketioxide-v4": TargetSpec(
            name="socketioxide-v4",
            command=[str(sx / "v4" / "release" / "siotest-fixture-socketioxide")],
            cwd=TARGETS_DIR / "socketioxide",
            eio3=True,
            description="socketioxide 0.18.9 built with its `v4` feature (Engine.IO v3 / Socket.IO v4 too)",
            features=sx_features,
            needs=[sx / "v4" / "release" / "siotest-fixture-socketioxide"],
            source=dataclasses.replace(sx_source, variant="-v4", build_args=("--features", "v4")),
        ),
        "zishang520-socketio": TargetSpec(
            name="zishang520-socketio",
            command=[str(go / "fixture")],
            cwd=TARGETS_DIR / "zishang520-socketio",
            description="zishang520/socket.io servers/socket v3.0.6 (Go module proxy)",
            # Heartbeats are time.Durations set in milliseconds and advertised as configured; maxPayload
            # (SetMaxHttpBufferSize) is advertised. Its handshake's keys come sorted (maxPayload first).
            features=FULL_FIXTURE | {"recovery"},  # every optional part of FIXTURE.md
            needs=[go / "fixture"],
            source=go_source,
        ),
        "zishang520-socketio-eio3": TargetSpec(
            name="zishang520-socketio-eio3",
            command=[str(go / "fixture")],
            cwd=TARGETS_DIR / "zishang520-socketio",
            eio3=True,
            description="zishang520/socket.io v3.0.6 with SetAllowEIO3(true)",
            features=FULL_FIXTURE | {"recovery"},
            needs=[go / "fixture"],
            source=go_source,
        ),
    }


REGISTRY = _registry()


def lookup(name: str, install: bool = False) -> TargetSpec:
    """The spec of a registry name, at its pinned version or at `@version` (+ pins). A version is
    installed under build/targets/ when `install` is true; otherwise it must be installed already.
    Raises KeyError for an unknown name and packages.PackageError for a request that cannot be met."""
    request = packages.parse(name)
    if request.base not in REGISTRY:
        raise KeyError(f"unknown target {request.base!r}; known: {', '.join(REGISTRY)}, or an URL")
    spec = REGISTRY[request.base]
    if request.version is None:
        return spec
    source = spec.source
    if source is None:
        raise packages.PackageError(f"{request.base} is built here, not taken from a registry: it has no @version")
    root = packages.installed_root(source, request, install, name, f"make conformance TARGET={name}")
    return dataclasses.replace(
        spec,
        name=name,
        description=f"{source.package} {request.label} ({source.kind}, installed on demand)",
        command=packages.KINDS[source.kind].command(source, root),
        cwd=root,
        needs=[root / ".installed", root / ".built"],  # .built: compiled (or nothing to compile)
        # An old version may lack parts: what its fixture-info answers is taken as it is.
        features=frozenset(),
    )


def resolved_packages(spec: TargetSpec) -> dict[str, str]:
    """The version of each protocol package the target runs, read from its installation; {} when the
    fixture reports them itself (fixture-info), as the compiled ones and Bun's do."""
    source = spec.source
    if source is None or packages.KINDS[source.kind].reports_itself:
        return {}
    root = source.pinned_root if spec.cwd == source.fixture_dir else spec.cwd
    return packages.KINDS[source.kind].resolved(source, root)


def command_spec(label: str, command: str, eio3: bool = False) -> TargetSpec:
    """A server started by a shell command (TARGET_CMD) under FIXTURE.md section 1: settings in the
    environment, `READY <port>` on standard output, shutdown on SIGTERM."""
    return TargetSpec(
        name=label,
        command=["/bin/sh", "-c", command],
        cwd=ROOT,  # paths in the command are relative to the repository, where `make` runs
        description=f"server started by `{command}`",
        eio3=eio3,
        features=frozenset(),
        shell=True,
    )


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
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    output: list[str] = field(default_factory=list, repr=False)
    stderr: list[str] = field(default_factory=list, repr=False)
    # Set by the thread that copies the process's stderr into `stderr` once it has read end-of-file.
    stderr_eof: threading.Event = field(default_factory=threading.Event, repr=False)
    client_pings: bool = False
    upgrade_timeout_ms: int | None = None
    # How the target was started, to restart it the same way; None for an URL target.
    spec: TargetSpec | None = field(default=None, repr=False)
    overrides: dict[str, int] = field(default_factory=dict, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # Resolved version of each protocol package, and the implementation's own name and version.
    packages: dict[str, str] = field(default_factory=dict)
    implementation: str = ""
    # Parts and settings the suite could not learn (no fixture-info answer, not probeable): a case
    # that needs one says the suite does not know, rather than blaming the target.
    unknown: frozenset[str] = frozenset()
    # Where `features` came from: "fixture-info", "probe", "command line", "registry".
    parts_from: str = "registry"
    restarts: int = 0

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

    @property
    def owned(self) -> bool:
        """Started by the suite, so it can be restarted and have private instances."""
        return self.spec is not None

    def has(self, feature: str) -> bool:
        return feature in self.features

    def absence(self, part: str) -> str:
        """Why a case needing `part` does not run: the part's name and section, and how the suite knows."""
        how = {
            "fixture-info": "its fixture-info answer does not list it",
            "probe": "probing found it missing (the fixture does not answer fixture-info)",
            "command line": "--target-features does not list it",
            "registry": "the target's registry entry does not list it",
        }.get(self.parts_from, self.parts_from)
        if self.parts_from == "probe" and part in UNPROBEABLE:
            how = (
                "the fixture does not answer fixture-info, no probe can show it and the registry entry does not list it"
            )
        return f"{describe_part(part)} is absent: {how}"

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> list[str]:
        """The last lines the process wrote to stderr. For a process that has exited, its last words
        may still be in the pipe: wait (bounded) until the copying thread has read end-of-file."""
        if self.process is not None and self.process.poll() is not None:
            self.stderr_eof.wait(STDERR_DRAIN_S)
        return list(self.stderr[-lines:])


def need(case, target: Target, part: str) -> None:  # noqa: ANN001 (verdict.Case; no import cycle)
    """Stops a case that needs a fixture part the target lacks: `unimplemented`, naming the part and
    its FIXTURE.md section; when the suite could not learn whether the part is there, `not-applicable`
    with that reason (a limit of the suite, not a property of the target)."""
    if target.has(part):
        return
    if part in target.unknown:
        case.not_applicable(
            f"not run: the suite cannot tell whether {describe_part(part)} is there (no fixture-info "
            f"answer, and probing cannot show it); list it in --target-features if the fixture has it"
        )
    case.unimplemented(target.absence(part))


def _pump(stream: IO[bytes], lines: queue.Queue[str | None] | None, sink: list[str], eof: threading.Event) -> None:
    """Copies a pipe of the process into `sink` (and `lines`), line by line, until end-of-file."""
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            sink.append(line)
            if len(sink) > OUTPUT_KEEP_LINES:
                del sink[: OUTPUT_KEEP_LINES // 2]
            if lines is not None:
                lines.put(line)
    finally:
        eof.set()
        if lines is not None:
            lines.put(None)


class StartError(RuntimeError):
    """The target could not be started; the message is one line."""


def _settings(spec: TargetSpec, overrides: dict[str, int]) -> dict[str, int]:
    return {
        "ping_interval_ms": overrides.get("ping_interval_ms", spec.ping_interval_ms),
        "ping_timeout_ms": overrides.get("ping_timeout_ms", spec.ping_timeout_ms),
        "connect_timeout_ms": overrides.get("connect_timeout_ms", spec.connect_timeout_ms),
        "max_payload": overrides.get("max_payload", spec.max_payload),
    }


def _argv_and_env(spec: TargetSpec, s: dict[str, int], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """FIXTURE.md section 1: every setting as a flag (registry targets) and in the environment."""
    argv = list(spec.command)
    if not spec.shell:
        argv += ["--host", "127.0.0.1", "--port", "0", "--ping-interval", str(s["ping_interval_ms"]),
                 "--ping-timeout", str(s["ping_timeout_ms"]), "--connect-timeout", str(s["connect_timeout_ms"]),
                 "--max-payload", str(s["max_payload"])]  # fmt: skip
        if spec.eio3:
            argv.append("--eio3")
    full_env = dict(
        os.environ,
        HOST="127.0.0.1",
        PORT="0",
        PING_INTERVAL_MS=str(s["ping_interval_ms"]),
        PING_TIMEOUT_MS=str(s["ping_timeout_ms"]),
        CONNECT_TIMEOUT_MS=str(s["connect_timeout_ms"]),
        MAX_PAYLOAD=str(s["max_payload"]),
        EIO3="1" if spec.eio3 else "0",
    )
    if spec.upgrade_timeout_ms is not None:
        full_env["UPGRADE_TIMEOUT_MS"] = str(spec.upgrade_timeout_ms)
    full_env.update(env)
    return argv, full_env


@dataclass
class _Launched:
    """A started fixture process, its port, and what its pipes have delivered so far."""

    process: subprocess.Popen[bytes]
    port: int
    output: list[str]
    stderr: list[str]
    stderr_eof: threading.Event


def _launch(spec: TargetSpec, overrides: dict[str, int], env: dict[str, str]) -> _Launched:
    """Starts the process and waits for its READY line."""
    for need_path in spec.needs:
        if not need_path.exists():
            raise StartError(f"target {spec.name}: {need_path} is missing (build or install it first)")
    argv, full_env = _argv_and_env(spec, _settings(spec, overrides), env)
    proc = subprocess.Popen(dies_with_harness(argv), cwd=spec.cwd, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    out: list[str] = []
    err: list[str] = []
    out_eof, err_eof = threading.Event(), threading.Event()
    threading.Thread(
        target=_pump, args=(proc.stdout, lines, out, out_eof), daemon=True, name=f"{spec.name} stdout"
    ).start()
    threading.Thread(
        target=_pump, args=(proc.stderr, None, err, err_eof), daemon=True, name=f"{spec.name} stderr"
    ).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            stop_process(proc)
            raise StartError(
                f"target {spec.name}: no READY line within {READY_TIMEOUT_S:.0f} s{_last_words(err)}"
            ) from None
        if line is None:
            proc.wait(timeout=5.0)
            err_eof.wait(STDERR_DRAIN_S)
            raise StartError(_exit_message(spec.name, proc.returncode, out, err))
        if line.startswith("READY "):
            return _Launched(proc, int(line.split()[1]), out, err, err_eof)


# util-linux's setpriv (Debian: always installed) starts the fixture with the kernel's parent-death
# signal set, so that a harness killed from outside (SIGKILL, a timeout in a self-test) takes its
# owned targets with it instead of leaving them running in their own sessions. Through `sh -c` only
# the shell is covered: a command that ends with `exec server …` covers the server itself.
SETPRIV = shutil.which("setpriv")


def dies_with_harness(argv: list[str]) -> list[str]:
    return [SETPRIV, "--pdeathsig", "KILL", "--", *argv] if SETPRIV else argv


def _last_words(err: list[str]) -> str:
    lines = [ln.strip() for ln in err if ln.strip()]
    return f"; its stderr ends: {lines[-1][:300]}" if lines else ""


def _exit_message(name: str, status: int | None, out: list[str], err: list[str]) -> str:
    """One line for a fixture that exited before READY. A fixture that cannot drive the installed
    version of its server says so itself with an `UNSUPPORTED <reason>` line (targets' fixtures do)."""
    for line in out + err:
        if line.startswith("UNSUPPORTED "):
            return f"target {name}: the fixture cannot drive this version: {line[len('UNSUPPORTED ') :]}"
    errors = [ln.strip() for ln in err if "Error" in ln or "error" in ln]
    why = errors[0] if errors else (_last_words(err)[len("; its stderr ends: ") :] or "no output")
    return f"target {name} exited before READY ({_status_text(status)}): {why[:300]}"


def _status_text(status: int | None) -> str:
    if status is None:
        return "still running"
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def start(spec: TargetSpec, overrides: dict[str, int] | None = None, env: dict[str, str] | None = None) -> Target:
    """Starts the target's fixture; `env` adds optional FIXTURE.md settings (INITIAL_PACKET, …)."""
    o = dict(overrides or {})
    e = dict(env or {})
    run = _launch(spec, o, e)
    s = _settings(spec, o)
    return Target(spec.name, "127.0.0.1", run.port, s["ping_interval_ms"], s["ping_timeout_ms"],
                  s["connect_timeout_ms"], s["max_payload"], spec.eio3, spec.features, spec.profile,
                  spec.description, process=run.process, output=run.output, stderr=run.stderr,
                  stderr_eof=run.stderr_eof, client_pings=spec.client_pings,
                  upgrade_timeout_ms=spec.upgrade_timeout_ms, spec=spec, overrides=o, env=e,
                  packages=resolved_packages(spec))  # fmt: skip


def restart(target: Target) -> None:
    """Replaces a dead or hung owned target by a fresh process with the same settings; the Target
    object is updated in place (new port, new process), so later cases reach the new one."""
    assert target.spec is not None, "only a target the suite started can be restarted"
    if target.process is not None:
        stop_process(target.process)
    run = _launch(target.spec, target.overrides, target.env)
    target.process, target.port, target.output = run.process, run.port, run.output
    target.stderr, target.stderr_eof = run.stderr, run.stderr_eof
    target.restarts += 1


def stop_process(proc: subprocess.Popen[bytes], grace: float = 2.0) -> None:
    """Stops the target's whole process group: SIGTERM, then SIGKILL for whatever is left after
    `grace` seconds. The group, not the leader, decides: a fixture started through `sh -c` may leave
    the shell's child running after the shell has gone (a server blocked in a busy loop ignores the
    SIGTERM its shutdown handler never gets to run)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=2.0)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(target: Target) -> None:
    if target.process is not None:
        stop_process(target.process)


@contextlib.contextmanager
def private_instance(
    target: Target, env: dict[str, str] | None = None, overrides: dict[str, int] | None = None
) -> Iterator[Target | None]:
    """A second instance of a target the suite started itself, with the same settings plus `env`, and
    `overrides` of its heartbeat or other settings, stopped afterwards; None for an URL target (the
    case then says NO_PRIVATE_INSTANCE)."""
    if target.spec is None:
        yield None
        return
    changed = dict(overrides or {})
    own = start(target.spec, {**target.overrides, **changed}, {**target.env, **(env or {})})
    own.features, own.unknown, own.parts_from = target.features, target.unknown, target.parts_from
    own.upgrade_timeout_ms = target.upgrade_timeout_ms
    if "ping_interval_ms" not in changed:
        own.ping_interval_ms = target.ping_interval_ms
    if "ping_timeout_ms" not in changed:
        own.ping_timeout_ms = target.ping_timeout_ms
    try:
        _warm_websocket(own)
        yield own
    finally:
        stop(own)


def _warm_websocket(target: Target) -> None:
    """One WebSocket session opened and dropped on a fresh instance, with the health check's deadline. The
    shared instance has served many connections before a case needs it, a private one none: a JVM
    (netty-socketio) loads and compiles its WebSocket path on the first upgrade, which on a loaded
    machine took longer than the reply deadline a case allows, and the case then judged the warm-up."""
    eio = target.spec.health_eio if target.spec is not None else "4"
    key = wire.new_ws_key()
    request = (
        f"GET {target.sio_path}?EIO={eio}&transport=websocket HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in wire.upgrade_headers(key))
        + "\r\n"
    ).encode()
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    with contextlib.suppress(OSError), socket.create_connection((target.host, target.port), HEALTH_TIMEOUT_S) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 2:  # the head and a frame
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk


# ---------------------------------------------------------------------------- health
def handshake_eio(target: Target) -> str:
    """The EIO version a plain handshake with the target asks for: 4, or 3 on an Engine.IO v3-only server."""
    return target.spec.health_eio if target.spec is not None else ("3" if target.client_pings else "4")


def health(target: Target, timeout: float = HEALTH_TIMEOUT_S) -> str | None:
    """None when the target still serves: its process (if the suite owns it) is alive and a fresh
    Engine.IO handshake on a new connection is answered within `timeout`. Otherwise what was seen,
    starting with "target died" or "target stopped answering"."""
    if target.process is not None and target.process.poll() is not None:
        return f"target died ({_status_text(target.process.returncode)})"
    eio = handshake_eio(target)
    failure = _handshake_failure(target, eio, timeout)
    if failure is not None and failure[0] == "reset":  # a process dying while it accepts: look once more
        failure = _handshake_failure(target, eio, timeout)
    if failure is None:
        return None
    kind, detail = failure
    if target.process is not None:
        if _wait_exit(target.process, 0.0 if kind == "timeout" else 1.0):
            return f"target died ({_status_text(target.process.returncode)})"
        return f"target stopped answering ({detail}; the process is still running)"
    if kind == "refused":
        return f"target died ({detail})"
    return f"target stopped answering ({detail})"


def _handshake_failure(target: Target, eio: str, timeout: float) -> tuple[str, str] | None:
    """None when a fresh handshake is answered with an open packet, else (kind, what was seen)."""
    started = time.monotonic()
    try:
        status, body = _handshake(target.host, target.port, eio, timeout)
    except ConnectionRefusedError:
        return "refused", f"connection refused on {target.host}:{target.port}"
    except TimeoutError:
        return "timeout", f"no handshake answer within {timeout:.1f} s"
    except OSError as err:
        kind = "reset" if isinstance(err, ConnectionResetError) else "error"
        return kind, f"{type(err).__name__}: {err} after {time.monotonic() - started:.2f} s"
    # The open packet is JSON: its keys may come in any order (Go's encoder sorts them).
    handshake = wire.open_packet_of_body(body, 3 if eio == "3" else 4) if status == 200 else None
    sid = handshake.get("sid") if handshake is not None else None
    if not isinstance(sid, str):
        return "bad", f"handshake answered HTTP {status} {body[:120]!r}"
    _close_probe_session(target, eio, sid)
    return None


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _http(host: str, port: int, request: bytes, timeout: float) -> tuple[int, bytes]:
    """One request on a fresh connection of the suite's own (not a case's wire traffic)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP response: {data[:80]!r}")
    if b"transfer-encoding: chunked" in head.lower():
        try:
            body = wire.dechunk(body)
        except ValueError:
            pass  # shown as it came
    return int(parts[1]), body


def _handshake(host: str, port: int, eio: str, timeout: float) -> tuple[int, bytes]:
    path = f"/socket.io/?EIO={eio}&transport=polling"
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    return _http(host, port, request, timeout)


def _close_probe_session(target: Target, eio: str, sid: str) -> None:
    """Ends the probe's session at once (a close packet), so probes never pile up on the server."""
    try:
        packet = b"1:1" if eio == "3" else b"1"
        path = f"/socket.io/?EIO={eio}&transport=polling&sid={urllib.parse.quote(sid)}"
        request = (f"POST {path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\nConnection: close\r\n"
                   f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(packet)}\r\n\r\n").encode() + packet  # fmt: skip
        _http(target.host, target.port, request, HEALTH_TIMEOUT_S)
    except OSError:
        pass  # the session then ends by itself at its ping timeout


# ---------------------------------------------------------------------------- URL targets
def attach(url: str, overrides: dict[str, int] | None = None, eio3: bool = False) -> Target:
    """A server someone else runs: heartbeat and maxPayload are read from its handshake unless given."""
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost"):
        raise StartError("the suite only talks to 127.0.0.1")
    port = parsed.port or 80
    t = Target(url, "127.0.0.1", port, 300, 200, 1000, 1_000_000, eio3, frozenset(), "generic",
               f"server at {url}", upgrade_timeout_ms=None)  # fmt: skip
    read_handshake_settings(t, overrides or {})
    return t


def read_handshake_settings(t: Target, overrides: dict[str, int]) -> None:
    """pingInterval, pingTimeout and maxPayload as the server announces them (unless overridden)."""
    try:
        status, body = _handshake(t.host, t.port, "4", HEALTH_TIMEOUT_S)
    except OSError as err:
        raise StartError(f"{t.name}: no answer on 127.0.0.1:{t.port} ({type(err).__name__}: {err})") from None
    info = wire.open_packet_of_body(body) if status == 200 else None
    if info is None or not isinstance(info.get("sid"), str):
        text = body.decode("utf-8", "replace")
        raise StartError(f"{t.name}: no Engine.IO handshake on /socket.io/: HTTP {status} {text[:120]!r}")
    _close_probe_session(t, "4", info["sid"])
    t.ping_interval_ms = overrides.get("ping_interval_ms", int(info.get("pingInterval", t.ping_interval_ms)))
    t.ping_timeout_ms = overrides.get("ping_timeout_ms", int(info.get("pingTimeout", t.ping_timeout_ms)))
    t.connect_timeout_ms = overrides.get("connect_timeout_ms", t.connect_timeout_ms)
    t.max_payload = overrides.get("max_payload", int(info.get("maxPayload", t.max_payload)))


def describe(target: Target) -> str:
    """One line naming the target, its implementation and the protocol packages it runs."""
    versions = ", ".join(f"{p} {v}" for p, v in target.packages.items())
    impl = f"; fixture-info: {target.implementation}" if target.implementation else ""
    return f"{target.name}: {target.description}" + (f" [{versions}]" if versions else "") + impl
