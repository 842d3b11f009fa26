"""Self-tests of the target machinery that need no server: version requests, the npm resolution of
protocol packages, fixture-info validation, part names, the health check's verdicts."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from harness import discovery, packages, targets


def test_version_requests_parse():
    assert packages.parse("node-socketio") == packages.VersionRequest("node-socketio", None)
    req = packages.parse("node-socketio@4.6.1+engine.io@6.4.1+socket.io-parser@4.2.2")
    assert (req.base, req.version) == ("node-socketio", "4.6.1")
    assert req.pins == (("engine.io", "6.4.1"), ("socket.io-parser", "4.2.2"))
    assert req.label == "4.6.1+engine.io@6.4.1+socket.io-parser@4.2.2"
    assert packages.parse("x@1.0.0+@scope/pkg@2.0.0").pins == (("@scope/pkg", "2.0.0"),)


@pytest.mark.parametrize(
    "name",
    ["node-socketio+engine.io@6.4.1", "node-socketio@^4.6", "node-socketio@", "node-socketio@4.6.1+engine.io"],
    ids=["pin-without-version", "range", "empty-version", "pin-without-its-version"],
)
def test_malformed_version_requests_are_refused(name):
    with pytest.raises(packages.PackageError):
        packages.parse(name)


def test_lookup_refuses_what_it_cannot_install():
    with pytest.raises(KeyError):
        targets.lookup("no-such-target@1.0.0")
    with pytest.raises(packages.PackageError, match="built here"):
        targets.lookup("reference@1.0.0")
    with pytest.raises(packages.PackageError, match="not installed"):
        targets.lookup("node-socketio@0.0.1-never")


def _package(root: Path, where: str, name: str, version: str, deps: dict[str, str] | None = None) -> None:
    d = root / where
    d.mkdir(parents=True)
    (d / "package.json").write_text(json.dumps({"name": name, "version": version, "dependencies": deps or {}}))


def test_npm_resolution_follows_the_dependency_chain_and_nested_copies(tmp_path):
    """socket.io loads its nested engine.io 6.4.1, not the hoisted 6.6.0; engine.io's ws is its own
    nested copy, while socket.io-adapter's ws (not a protocol dependency) is never looked at."""
    nm = "node_modules"
    _package(tmp_path, f"{nm}/socket.io", "socket.io", "4.6.1", {"engine.io": "~6.4.1", "socket.io-parser": "~4.2.1"})
    _package(
        tmp_path, f"{nm}/socket.io/{nm}/engine.io", "engine.io", "6.4.1", {"ws": "~8.11.0", "engine.io-parser": "*"}
    )
    _package(tmp_path, f"{nm}/socket.io/{nm}/engine.io/{nm}/ws", "ws", "8.11.0")
    _package(tmp_path, f"{nm}/engine.io", "engine.io", "6.6.0")
    _package(tmp_path, f"{nm}/engine.io-parser", "engine.io-parser", "5.0.7")
    _package(tmp_path, f"{nm}/socket.io-parser", "socket.io-parser", "4.2.2")
    _package(tmp_path, f"{nm}/ws", "ws", "8.17.1")
    source = targets.REGISTRY["node-socketio"].source
    assert source is not None
    assert packages.Npm().resolved(source, tmp_path) == {
        "socket.io": "4.6.1",
        "engine.io": "6.4.1",
        "socket.io-parser": "4.2.2",
        "engine.io-parser": "5.0.7",
        "ws": "8.11.0",
    }


def test_fixture_info_shape_and_part_names():
    assert discovery.info_problem({"parts": ["echo"], "packages": {}, "settings": {"upgradeTimeoutMs": None}}) is None
    assert "not a JSON object" in (discovery.info_problem(["echo"]) or "")
    assert "`parts`" in (discovery.info_problem({"parts": "echo"}) or "")
    assert discovery.parse_features("extended, echo") == {"extended", "echo"}
    assert discovery.parse_features("all") == targets.FULL_FIXTURE
    with pytest.raises(ValueError, match="unknown fixture part"):
        discovery.parse_features("echo,teleport")
    # Every part the suite names has a FIXTURE.md section, and every section named exists.
    text = (Path(targets.ROOT) / "conformance" / "FIXTURE.md").read_text(encoding="utf-8")
    for part, (_, where) in targets.PARTS.items():
        assert f"`{part}`" in text, part
        assert f"## {where.split()[-1]}." in text, where


def _silent_server() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts (in the kernel) and never answers
    return srv, srv.getsockname()[1]


def _url_target(port: int) -> targets.Target:
    return targets.Target(f"http://127.0.0.1:{port}", "127.0.0.1", port, 300, 200, 1000, 1_000_000, False,
                          frozenset(), "generic", "test")  # fmt: skip


def test_health_names_a_silent_server_and_a_closed_port():
    srv, port = _silent_server()
    try:
        assert (
            targets.health(_url_target(port), timeout=0.3)
            == "target stopped answering (no handshake answer within 0.3 s)"
        )
    finally:
        srv.close()
    assert targets.health(_url_target(port), timeout=0.3) == f"target died (connection refused on 127.0.0.1:{port})"


def test_health_accepts_an_engine_io_handshake():
    srv, port = _silent_server()
    body = b'0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}'

    def answer_twice() -> None:  # the handshake, then the close packet that ends the probe's session
        for _ in range(2):
            conn, _ = srv.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)

    t = threading.Thread(target=answer_twice, daemon=True)
    t.start()
    try:
        assert targets.health(_url_target(port), timeout=2.0) is None
        t.join(timeout=2.0)
        assert not t.is_alive(), "the probe's session was not closed"
    finally:
        srv.close()


# A fixture that writes its last words to stderr and exits, its output small enough to stay in the
# pipe until read.
_EXITS_TALKING = (
    'echo "READY 1"; i=0; while [ $i -lt 1000 ]; do echo "filler line $i of the stderr output" >&2; '
    'i=$((i+1)); done; echo "last words before exit" >&2; exit 7'
)


def test_stderr_tail_of_an_exited_target_holds_its_last_words(monkeypatch):
    """The thread copying stderr may run late (a loaded machine): it is held until the process has
    exited, and released just before the tail is read, which must still end with the last words."""
    release = threading.Event()
    pump = targets._pump

    def late_stderr_pump(stream, lines, sink, eof):  # noqa: ANN001, ANN202 (same signature as _pump)
        if lines is None:  # the stderr pipe
            release.wait(20)
        pump(stream, lines, sink, eof)

    monkeypatch.setattr(targets, "_pump", late_stderr_pump)
    t = targets.start(targets.command_spec("exits-talking", _EXITS_TALKING))
    try:
        assert t.process is not None
        assert t.process.wait(timeout=20) == 7
        release.set()
        assert t.stderr_tail(3)[-1:] == ["last words before exit"]
        assert t.stderr_eof.is_set()
    finally:
        release.set()
        targets.stop(t)
