"""Client registry and the fixture process: how each shipped client is started, and what it may do.

A client under test runs as a fixture process (conformance/CLIENT-FIXTURE.md): one process per case,
its configuration as one JSON argument, one JSON line on stdout per thing it saw. The registry says
how to start each shipped client, what it speaks (Engine.IO 4 or 3), and the tolerances of its
timers; what it can do is asked of the fixture itself (`--capabilities`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import packages, tracking

from .journal import Clock, Journal

ROOT = Path(__file__).resolve().parents[2]
CLIENTS_DIR = ROOT / "conformance" / "clients"
CACHE = ROOT / "build" / "clients"
STDERR_TAIL_LINES = 40
# How long an exited fixture's stderr is waited for: its pipe reaches end-of-file at once unless a
# child process it left behind still holds it open.
STDERR_DRAIN_S = 2.0
# Every capability a fixture may declare (CLIENT-FIXTURE.md section 2).
FEATURES = (
    "multiplex",
    "dynamic-join",
    "auth-object",
    "binary",
    "ack-answer",
    "volatile",
    "buffer",
    "recovery",
    "ws-only",
    "polling-only",
    "upgrade",
    "leave",
    "attempts",
    "timeout",
    "restart",
)
# Lines on stderr that mean an exception escaped into a library thread, by language.
CRASH_PATTERNS = [
    r"Traceback \(most recent call last\)",
    r"^panic:",
    r"panicked at",
    r"Exception in thread",
    r"Uncaught",
    r"UnhandledPromiseRejection",
    r"FATAL ERROR",
    r"^Node\.js v\d+",
]


@dataclass(frozen=True)
class Tolerance:
    """How far a client's timers may stray from the scripted values (the client's own registry entry)."""

    gap_abs_ms: float = 30.0  # reconnection gap: + this …
    gap_rel: float = 0.2  # … + this fraction of the expected gap
    gap_jitter: float = 0.0  # a client whose jitter cannot be turned off: ± this fraction
    gap_multiplier: float = 2.0  # the backoff's growth per attempt
    heartbeat_grace_ms: float = 400.0  # ping-timeout close allowed this late (HB-03)
    reconnect_grace_ms: float = 1500.0  # first reconnection attempt after a drop, at most this late
    startup_s: float = 4.0  # from the process start to its first connect (a JVM needs more on a busy machine)


@dataclass(frozen=True)
class ClientSpec:
    name: str
    description: str
    command: tuple[str, ...]
    cwd: Path
    eio: int = 4
    needs: tuple[Path, ...] = ()
    install: str = ""  # the make target that installs it
    tolerance: Tolerance = Tolerance()
    # Where `name@version[+pkg@version…]` comes from (harness/packages.py, shared with the server targets).
    source: packages.Source | None = None
    extra_args: tuple[str, ...] = ()  # after the registry's own command (the Python flavour)
    request: packages.VersionRequest | None = None  # set on a version installed on demand

    def argv(self, config: dict[str, Any]) -> list[str]:
        return [*self.command, json.dumps(config, separators=(",", ":"))]


JS_PROTOCOL = ("socket.io-client", "engine.io-client", "socket.io-parser", "engine.io-parser", "ws")
PY_PROTOCOL = ("python-socketio", "python-engineio")
RUST_PROTOCOL = ("rust_socketio", "rust_engineio")
JAVA_PROTOCOL = (
    "io.socket:socket.io-client",
    "io.socket:engine.io-client",
    "com.squareup.okhttp3:okhttp",
    "org.json:json",
)
ZISHANG520 = "github.com/zishang520/socket.io"
GO_PROTOCOL = tuple(
    f"{ZISHANG520}/{m}/v3" for m in ("clients/socket", "clients/engine", "parsers/socket", "parsers/engine")
)
# The pinned Java client as conformance/client.mk builds it: the fixture's jar beside lib/ (Maven's layout,
# the same as a version installed on demand).
JAVA_JAR = "java-socketio-client-fixture-1.0.jar"
# Its class-data-sharing archive (conformance/client.mk writes it with clientside/warmup.py): each case's JVM
# maps the classes a session loads instead of loading and verifying them again. JVM warnings (an archive
# that no longer matches the class path is ignored with one) go to stderr, never into the fixture's stdout.
JAVA_ARCHIVE = "fixture.jsa"
JAVA_ARCHIVE_FLAGS = ("-Xlog:disable", "-Xlog:all=warning:stderr")
# Every Java fixture's JVM (the pinned one and any version): -Xrs leaves SIGTERM its default action, so the
# JVM ends at once when the suite stops it after a case (its orderly shutdown took 0.1-0.35 s a case,
# measured on this 2-core machine, for nothing: the fixture has nothing to clean up, and the case is judged
# before it is stopped).
JAVA_FIXTURE_FLAGS = ("-Xrs",)


def _registry() -> dict[str, ClientSpec]:
    js4 = CLIENTS_DIR / "js-socketio-client"
    js2 = CLIENTS_DIR / "js-socketio-client-v2"
    py = CLIENTS_DIR / "python-socketio"
    rust = CLIENTS_DIR / "rust-socketio"
    java = CLIENTS_DIR / "java-socketio-client"
    go = CLIENTS_DIR / "go-socketio-client"
    pyvenv = CACHE / "pyvenv"
    rust_bin = CACHE / "rust" / "debug" / "rust-socketio-fixture"
    java_root = CACHE / "java"
    java_cds = (
        (f"-XX:SharedArchiveFile={java_root / JAVA_ARCHIVE}", *JAVA_ARCHIVE_FLAGS)
        if (java_root / JAVA_ARCHIVE).is_file()
        else ()
    )
    go_bin = CACHE / "go" / "go-socketio-fixture"
    ref_bin = CACHE / "reference" / "fixture"
    ref_dir = CLIENTS_DIR / "reference-client"
    specs = [
        ClientSpec(
            "js",
            "socket.io-client 4.8.4 (npm)",
            ("node", "fixture.js"),
            js4,
            needs=(js4 / "node_modules" / "socket.io-client",),
            install="clients-js",
            source=packages.Source("npm", "socket.io-client", js4, "fixture.js", JS_PROTOCOL, js4),
        ),
        ClientSpec(
            "js-v2",
            "socket.io-client 2.5.0 (npm; Engine.IO 3, Socket.IO 4)",
            ("node", "fixture.js"),
            js2,
            eio=3,
            needs=(js2 / "node_modules" / "socket.io-client",),
            install="clients-js",
            source=packages.Source("npm", "socket.io-client", js2, "fixture.js", JS_PROTOCOL, js2),
        ),
        ClientSpec(
            "python-sync",
            "python-socketio 5.18.1 Client (PyPI; requests, websocket-client)",
            (str(pyvenv / "bin" / "python"), "fixture.py", "--sync"),
            py,
            needs=(pyvenv / "bin" / "python",),
            install="clients-python",
            source=packages.Source("pypi", "python-socketio", py, "fixture.py", PY_PROTOCOL, pyvenv),
            extra_args=("--sync",),
            tolerance=Tolerance(heartbeat_grace_ms=5600.0, startup_s=10.0),
        ),
        ClientSpec(
            "python-async",
            "python-socketio 5.18.1 AsyncClient (PyPI; aiohttp)",
            (str(pyvenv / "bin" / "python"), "fixture.py", "--async"),
            py,
            needs=(pyvenv / "bin" / "python",),
            install="clients-python",
            source=packages.Source("pypi", "python-socketio", py, "fixture.py", PY_PROTOCOL, pyvenv),
            extra_args=("--async",),
            # python-engineio gives a silent polling session up when its GET times out, max(pingInterval,
            # pingTimeout) + 5 s after it started (miguelgrinberg/python-engineio#183), and aiohttp rounds a
            # timeout over 5 s up to the next whole second of its loop clock: 5.3-6.3 s here (5.4 and 6.3
            # measured), against 5.3-5.4 for the sync client.
            tolerance=Tolerance(heartbeat_grace_ms=6000.0, startup_s=10.0),
        ),
        ClientSpec(
            "rust",
            "rust_socketio 0.6.0 (crates.io)",
            (str(rust_bin),),
            rust,
            needs=(rust_bin,),
            install="clients-rust",
            # The committed Cargo.lock is the pinned build's lock.
            source=packages.Source("cargo", "rust_socketio", rust, "rust-socketio-fixture", RUST_PROTOCOL, rust),
            # Jitter fixed at ±50 % and a ×1.5 multiplier inside the library (no setting).
            tolerance=Tolerance(gap_jitter=0.5, gap_multiplier=1.5, startup_s=10.0),
        ),
        ClientSpec(
            "java",
            "io.socket:socket.io-client 2.1.2 (Maven Central)",
            (
                "java",
                *java_cds,
                *JAVA_FIXTURE_FLAGS,
                "-XX:TieredStopAtLevel=1",
                "-cp",
                f"{java_root / JAVA_JAR}:{java_root / 'lib' / '*'}",
                "Fixture",
            ),
            java,
            needs=(java_root / JAVA_JAR,),
            install="clients-java",
            source=packages.Source("maven", "io.socket:socket.io-client", java, "Fixture", JAVA_PROTOCOL, java_root),
            tolerance=Tolerance(gap_abs_ms=60.0, startup_s=20.0),
        ),
        ClientSpec(
            "go",
            "zishang520 socket.io clients/socket/v3 v3.0.6 (Go modules)",
            (str(go_bin),),
            go,
            needs=(go_bin,),
            install="clients-go",
            # The committed go.mod lists every module of the build (go.sum pins them).
            source=packages.Source("go", f"{ZISHANG520}/clients/socket/v3", go, "go-socketio-fixture", GO_PROTOCOL, go),
        ),
        ClientSpec(
            "reference",
            "the project's C reference client (reference-client/, on libsiocodec's client sessions)",
            (str(ref_bin),),
            ref_dir,
            needs=(ref_bin,),
            install="clients-reference",
        ),
        ClientSpec(
            "reference-eio3",
            "the C reference client in its Engine.IO 3 / Socket.IO 4 mode (--eio3)",
            (str(ref_bin), "--eio3"),
            ref_dir,
            eio=3,
            needs=(ref_bin,),
            install="clients-reference",
        ),
    ]
    return {s.name: s for s in specs}


REGISTRY = _registry()


def resolve(name: str, install: bool = False) -> ClientSpec:
    """A registry name, `name@version[+package@version…]` (installed on demand by harness/packages.py,
    as for the server targets: npm, PyPI, crates.io, Maven Central or Go modules, whichever the
    client comes from), or the command line of anyone's fixture. A version is installed (and built)
    when `install` is true; otherwise it must be installed already. Raises ValueError with one line
    for the user when the name or the version cannot be met."""
    if name in REGISTRY:
        return REGISTRY[name]
    base = name.partition("@")[0]
    if base in REGISTRY:
        try:
            return _version_spec(REGISTRY[base], packages.parse(name), install)
        except packages.PackageError as err:
            raise ValueError(str(err)) from None
    argv = shlex.split(name)
    if not argv:
        raise ValueError("empty client")
    if len(argv) == 1 and not Path(argv[0]).exists() and "/" not in argv[0]:
        raise ValueError(f"unknown client {name!r}; known: {', '.join(REGISTRY)}, name@version, or a command line")
    return ClientSpec(
        name, f"fixture command {name}", tuple(argv), Path.cwd(), eio=int(os.environ.get("CLIENT_EIO", "4"))
    )


def _version_spec(spec: ClientSpec, request: packages.VersionRequest, install: bool) -> ClientSpec:
    """The registry entry at another version, run from its install root with a copy of the same fixture."""
    source = spec.source
    if source is None:
        raise packages.PackageError(f"{spec.name} is built here, not taken from a registry: it has no @version")
    name = f"{spec.name}@{request.label}"
    root = packages.installed_root(source, request, install, name, f"make conformance-client CLIENT={name}")
    return dataclasses.replace(
        spec,
        name=name,
        description=f"{source.package} {request.label} ({source.kind}, installed on demand)",
        command=(*with_fixture_flags(source, packages.KINDS[source.kind].command(source, root)), *spec.extra_args),
        cwd=root,
        needs=(root / ".installed", root / ".built"),  # .built: compiled (or nothing to compile)
        install="",
        request=request,
    )


def with_fixture_flags(source: packages.Source, command: list[str]) -> list[str]:
    """A Maven client's command with the suite's JVM flags for a fixture (JAVA_FIXTURE_FLAGS)."""
    if source.kind != "maven" or command[:1] != ["java"]:
        return command
    return [command[0], *JAVA_FIXTURE_FLAGS, *command[1:]]


def resolved_packages(spec: ClientSpec) -> dict[str, str]:
    """The version of the client package and of each of its protocol dependencies, as installed: read
    from the lock or the build's metadata (node_modules, the virtual environment's dist-info,
    Cargo.lock, go.mod, the jars in lib/). The project's own client names the codec it is built on.
    {} for anyone's fixture (its `--capabilities` agent line is all the suite knows)."""
    if spec.source is not None:
        root = spec.cwd if spec.request is not None else spec.source.pinned_root
        found = packages.KINDS[spec.source.kind].resolved(spec.source, root)
        return {p: found[p] for p in spec.source.protocol_packages if p in found}
    if spec.install == "clients-reference":
        return {"libsiocodec": codec_version()}
    return {}


def codec_version() -> str:
    """libsiocodec's version, as its pkg-config template states it."""
    for line in (ROOT / "codec" / "siocodec.pc.in").read_text(encoding="utf-8").splitlines():
        if line.startswith("Version:"):
            return line.partition(":")[2].strip()
    return "unknown"


def fixture_env(spec: ClientSpec) -> dict[str, str]:
    # A JavaScript fixture copied for another version still finds the shared program body.
    return dict(os.environ, SIOTEST_JS_FIXTURE_CORE=str(CLIENTS_DIR / "js-socketio-client" / "fixture-core.js"))


_CAPS: dict[str, dict[str, Any]] = {}


def capabilities(spec: ClientSpec) -> dict[str, Any]:
    """The fixture's own declaration (`--capabilities`), asked once per run."""
    if spec.name not in _CAPS:
        out = subprocess.run(
            [*spec.command, "--capabilities"],
            cwd=spec.cwd,
            env=fixture_env(spec),
            capture_output=True,
            text=True,
            timeout=60,
        )
        try:
            caps = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(
                f"client {spec.name}: `--capabilities` printed no JSON line "
                f"(exit {out.returncode}): {out.stdout[-400:]!r} {out.stderr[-800:]!r}"
            ) from None
        unknown = set(caps.get("features", [])) - set(FEATURES)
        if unknown:
            raise RuntimeError(f"client {spec.name}: unknown capabilities {sorted(unknown)}; known: {FEATURES}")
        _CAPS[spec.name] = caps
    return _CAPS[spec.name]


@dataclass
class Fixture:
    """One running fixture process: its lines as a journal, its stderr kept, its end observed."""

    spec: ClientSpec
    config: dict[str, Any]
    clock: Clock
    lines: Journal[dict[str, Any]] = field(init=False)
    stderr: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    exit_ms: float | None = None
    stopping: bool = False
    expect_exit: bool = False
    # Set once the stderr pipe reached end-of-file (every line the process wrote is in `stderr`).
    stderr_eof: threading.Event = field(default_factory=threading.Event)
    # The first stderr line that shows an uncaught exception (the case fails by the crash rule).
    crash_line: str | None = None

    def __post_init__(self) -> None:
        self.lines = Journal(self.clock, "fixture output")

    def start(self) -> None:
        reader, writer = _stamped_stream()
        try:
            self.proc = subprocess.Popen(
                self.spec.argv(self.config),
                cwd=self.spec.cwd,
                env=fixture_env(self.spec),
                stdin=subprocess.DEVNULL,
                stdout=writer.fileno(),
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except BaseException:
            reader.close()
            raise
        finally:
            writer.close()
        threading.Thread(target=self._read_stdout, args=(reader,), daemon=True, name="fixture stdout").start()
        threading.Thread(target=self._read_stderr, daemon=True, name="fixture stderr").start()

    def _read_stdout(self, reader: socket.socket) -> None:
        """Each line stamped when its bytes reached the machine (the kernel's receive time of the
        segment that completed it), not when this thread got to read them: on a loaded machine that was
        5-15 ms later, and cases time the client by its lines (a `disconnect` line starts a backoff)."""
        assert self.proc is not None
        pending = b""
        with reader:
            while True:
                try:
                    data, ancillary, _, _ = reader.recvmsg(65536, tracking.ARRIVAL_CMSG_SPACE)
                except OSError:
                    data = b""
                if not data:
                    break
                stamp = self.clock.ms() - tracking.arrival_age(ancillary) * 1000.0
                *complete, pending = (pending + data).split(b"\n")
                for raw in complete:
                    self.lines.add(_fixture_line(raw), t=stamp)
        if pending:
            self.lines.add(_fixture_line(pending))
        code = self.proc.wait()
        self.exit_code, self.exit_ms = code, self.clock.ms()
        self.lines.close(f"fixture exited with status {code}")

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        try:
            for raw in iter(self.proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stderr.append(line)
                if self.crash_line is None and any(re.search(pat, line) for pat in CRASH_PATTERNS):
                    self.crash_line = line
                if len(self.stderr) > 4000:
                    del self.stderr[:2000]
        finally:
            self.stderr_eof.set()

    def _drained_stderr(self) -> list[str]:
        """`stderr`, after waiting (bounded) for the pipe of an exited process to be read to its end:
        a fixture's last words may still be in the pipe when its exit is seen."""
        if self.proc is not None and self.proc.poll() is not None:
            self.stderr_eof.wait(STDERR_DRAIN_S)
        return self.stderr

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self) -> str:
        return "\n".join(self._drained_stderr()[-STDERR_TAIL_LINES:])

    def crash(self) -> str | None:
        """Why the fixture counts as crashed, or None: it died before it was told to, or an exception
        escaped into one of its threads (printed on stderr)."""
        if self.proc is not None and not self.stopping:
            code = self.proc.poll()
            if code is not None and not (self.expect_exit and code == 0):
                return f"the fixture exited with status {code} before the case ended"
        for line in self._drained_stderr():
            for pat in CRASH_PATTERNS:
                if re.search(pat, line):
                    return f"an uncaught exception was printed on stderr ({line.strip()[:160]!r})"
        return None

    def signal_stop(self) -> None:
        """SIGTERM without waiting for the end (`stop()` waits, and kills what did not end)."""
        self.stopping = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        self.stopping = True
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=1.5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=3)
        except ProcessLookupError:
            pass


def _stamped_stream() -> tuple[socket.socket, socket.socket]:
    """A loopback TCP connection for a fixture's stdout (the writer end) whose reader end gets the
    kernel's receive stamps: a pipe has none."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        writer = socket.create_connection(listener.getsockname())
        reader, _ = listener.accept()
    tracking.ask_arrival_times(reader)
    return reader, writer


def _fixture_line(raw: bytes) -> dict[str, Any]:
    """One stdout line of a fixture: its JSON object, or the text when it is not one."""
    text = raw.decode("utf-8", "replace").rstrip("\r")
    try:
        item = json.loads(text)
        if isinstance(item, dict) and "ev" in item:
            return item
    except ValueError:
        pass
    return {"ev": "_text", "line": text[:2000]}
