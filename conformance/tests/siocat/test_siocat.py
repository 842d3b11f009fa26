"""siocat against the reference server: scripted runs (--emit, --emitack, --wait-for, --timeout),
each transport and Engine.IO 3, the layered trace (text, --json, --bytes with labelled fields),
exit statuses and the errors people meet (an unreachable host, a refused namespace, a server that
is not Socket.IO), and commands typed on standard input."""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serverkit import Server
from siocatkit import SIOCAT, Result, free_port, siocat


def url(server: Server, nsp: str = "/") -> str:
    return f"http://127.0.0.1:{server.port}{nsp}"


def layers(r: Result, *names: str) -> list[dict[str, Any]]:
    return [j for j in r.json_lines() if j.get("layer") in names]


# ------------------------------------------------------------------ scripted runs


def test_emit_with_ack_over_polling_then_websocket(server: Server) -> None:
    r = siocat("--json", url(server), "--emitack", "message-with-ack", '1 "two" {"k":[3]}', "--timeout", "5000")
    assert r.status == 0, r.err
    acks = r.app("ack")
    assert [a["args"] for a in acks] == [[1, "two", {"k": [3]}]]
    assert r.app("upgrade"), "the session moved to WebSocket"
    requests = [j["request"] for j in layers(r, "http") if "request" in j]
    assert requests[0].startswith("GET /socket.io/?EIO=4&transport=polling&t=")
    assert any("transport=websocket" in q for q in requests)
    sent = [j for j in layers(r, "sio") if j["dir"] == "out"]
    assert [j["type"] for j in sent][:2] == ["CONNECT", "EVENT"]
    assert sent[1]["id"] == 0 and sent[1]["data"] == ["message-with-ack", 1, "two", {"k": [3]}]


def test_binary_both_ways_over_websocket(server: Server) -> None:
    r = siocat(
        "--json", "--transport", "websocket", url(server), "--emit", "message", '{"$bin":"AQID"} "x"',
        "--wait-for", "message-back", "--timeout", "5000",
    )  # fmt: skip
    assert r.status == 0, r.err
    assert not [j for j in layers(r, "http") if "transport=polling" in j.get("request", "")]
    events = r.app("event")
    back = [e for e in events if e["name"] == "message-back"]
    assert back and back[0]["args"] == [{"$bin": "AQID"}, "x"]
    out = [j for j in layers(r, "sio") if j["dir"] == "out"]
    assert any(j["type"] == "BINARY_EVENT" and j["attachments"] == 1 for j in out)
    assert any(j["type"] == "attachment" and j["length"] == 3 for j in out)


def test_polling_only_never_opens_a_websocket(server: Server) -> None:
    r = siocat(
        "--json", "--transport", "polling", url(server), "--emitack", "message-with-ack", "7", "--timeout", "5000"
    )
    assert r.status == 0, r.err
    assert not layers(r, "ws") and not r.app("upgrade")
    assert [a["args"] for a in r.app("ack")] == [[7]]


def test_server_acks_are_answered_with_the_events_own_arguments(server: Server) -> None:
    r = siocat("--json", url(server), "--emit", "server-ack", '"q" 2', "--wait-for", "ack-result", "--timeout", "5000")
    assert r.status == 0, r.err
    need = [e for e in r.app("event") if e["name"] == "need-ack"]
    assert need and need[0]["ack_id"] != ""
    assert [e["args"] for e in r.app("event") if e["name"] == "ack-result"] == [["q", 2]]


def test_engine_io_3(server: Server) -> None:
    r = siocat("--json", "--eio3", url(server, "/custom"), "--emitack", "message-with-ack", '"v3"', "--timeout", "5000")
    assert r.status == 0, r.err
    assert all("EIO=3" in j["request"] for j in layers(r, "http") if "request" in j)
    assert [a["args"] for a in r.app("ack")] == [["v3"]]


def test_auth_and_query(server: Server) -> None:
    r = siocat(
        "--json",
        url(server, "/custom"),
        "--auth",
        '{"token":"abc"}',
        "--query",
        "who=me",
        "--wait-for",
        "auth",
        "--timeout",
        "5000",
    )
    assert r.status == 0, r.err
    assert [e["args"] for e in r.app("event") if e["name"] == "auth"] == [[{"token": "abc"}]]
    assert all("who=me" in j["request"] for j in layers(r, "http") if "request" in j)


def test_server_disconnect_ends_the_run(server: Server) -> None:
    r = siocat(
        "--json", url(server), "--emit", "disconnect-me", "false", "--wait-for", "disconnect", "--timeout", "5000"
    )
    assert r.status == 0, r.err
    assert [d["reason"] for d in r.app("disconnect")] == ["io server disconnect"]


def test_text_trace_names_every_layer(server: Server) -> None:
    r = siocat(url(server), "--emitack", "message-with-ack", '"hello"', "--timeout", "5000")
    assert r.status == 0, r.err
    lines = r.out.splitlines()
    for layer in ("TCP", "HTTP", "WS", "EIO", "SIO"):
        assert any(line[15:].startswith(layer) for line in lines if line[:1] in "<>*"), layer
    assert '= ack / message-with-ack ["hello"]' in lines


LABELS = [
    "request line", "status line", "header content-type", "end of head", "Engine.IO type 0 (open)",
    "open: sid", "open: pingInterval", "Engine.IO type 4 (message)", "Socket.IO type 0 (CONNECT)",
    "namespace", "Socket.IO type 2 (EVENT)", "ack id", "event name", "argument 1", "end of array",
    "Socket.IO type 3 (ACK)", "FIN and opcode", "mask bit and length", "masking key", "probe data",
]  # fmt: skip


def test_bytes_labels_as_the_docs(server: Server) -> None:
    r = siocat("--bytes", url(server, "/custom"), "--emitack", "message-with-ack", '1 "a"', "--timeout", "5000")
    assert r.status == 0, r.err
    for label in LABELS:
        assert any(line.endswith(label) or f"  {label}" in line for line in r.out.splitlines()), label


def test_json_bytes_fields_explain_every_byte(server: Server) -> None:
    r = siocat(
        "--json", "--bytes", url(server), "--emitack", "message-with-ack", '{"$bin":"AQID"} 2', "--timeout", "5000"
    )
    assert r.status == 0, r.err
    units = [j for j in r.json_lines() if "fields" in j]
    assert len(units) > 10
    for j in units:
        pos = 0
        for f in j["fields"]:
            assert f["offset"] == pos and f["length"] > 0, (j["layer"], j["fields"])
            pos += f["length"]
        assert pos == len(j["hex"]) // 2, (j["layer"], pos, len(j["hex"]) // 2)


# ------------------------------------------------------------------ exit statuses and errors


def test_timeout_while_waiting_is_an_error(server: Server) -> None:
    start = time.monotonic()
    r = siocat(url(server), "--wait-for", "never", "--timeout", "400")
    assert r.status == 1
    assert "timeout: after 400 ms still waiting for event never" in r.err
    assert time.monotonic() - start < 5.0


def test_timeout_without_a_script_is_a_duration(server: Server) -> None:
    r = siocat("--quiet", url(server), "--timeout", "300", stdin="")
    assert r.status == 0, r.err


def test_unreachable_host() -> None:
    port = free_port()
    start = time.monotonic()
    r = siocat(f"http://127.0.0.1:{port}/")
    assert r.status == 1
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in r.err
    assert time.monotonic() - start < 5.0, "the first connection is not retried"


def test_refused_namespace(server: Server) -> None:
    r = siocat(url(server, "/nope"), "--timeout", "5000")
    assert r.status == 1
    assert 'namespace /nope refused: {"message":"Invalid namespace"}' in r.err


def test_refused_by_auth(server: Server) -> None:
    r = siocat(url(server, "/auth"), "--auth", '{"token":"no","withData":1}', "--timeout", "5000")
    assert r.status == 1
    assert '"message":"not authorized"' in r.err and '"code":42' in r.err


def test_engine_io_endpoint_is_not_socket_io(server: Server) -> None:
    r = siocat("--path", "/engine.io/", url(server), "--timeout", "5000")
    assert r.status == 1
    assert "the CONNECT reply has no sid" in r.err


class _Canned(socketserver.BaseRequestHandler):
    answer = b""

    def handle(self) -> None:
        self.request.recv(4096)
        self.request.sendall(self.answer)


@pytest.fixture
def plain_http() -> Iterator[socketserver.TCPServer]:
    """An HTTP server that is not Socket.IO: a fixed answer to every request."""
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Canned)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def test_http_404_server(plain_http: socketserver.TCPServer) -> None:
    _Canned.answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"
    r = siocat(f"http://127.0.0.1:{plain_http.server_address[1]}/")
    assert r.status == 1
    assert "HTTP 404 Not Found answering a GET of /socket.io/ (the handshake): Not Found" in r.err
    assert "is this a Socket.IO server" in r.err


def test_html_server(plain_http: socketserver.TCPServer) -> None:
    _Canned.answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
    r = siocat(f"http://127.0.0.1:{plain_http.server_address[1]}/")
    assert r.status == 1
    assert (
        'not a Socket.IO server: the answer to the handshake is not an Engine.IO open packet ("<html></html>")' in r.err
    )


def test_not_http_at_all(plain_http: socketserver.TCPServer) -> None:
    _Canned.answer = b"SSH-2.0-OpenSSH_9.2\r\n"
    r = siocat(f"http://127.0.0.1:{plain_http.server_address[1]}/")
    assert r.status == 1
    assert "the server's answer is not HTTP/1.1 (SIO_ERR_HTTP_STATUS_LINE" in r.err


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "no URL given"),
        (["https://127.0.0.1:1/"], "TLS is not supported"),
        (["127.0.0.1:3000"], "the URL must start with http://"),
        (["http://127.0.0.1:99999/"], "bad port in the URL"),
        (["--bogus", "http://127.0.0.1:1/"], "unknown option --bogus"),
        (["--transport", "carrier-pigeon", "http://127.0.0.1:1/"], "--transport is polling or websocket"),
        (["--auth", "[1]", "http://127.0.0.1:1/"], "--auth takes a JSON object"),
        (["--emit", "x", "{nope", "http://127.0.0.1:1/"], "--emit x: not JSON"),
        (["--timeout", "soon", "http://127.0.0.1:1/"], "not a number of milliseconds"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    r = siocat(*args)
    assert r.status == 2
    assert message in r.err


def test_help() -> None:
    r = siocat("--help")
    assert r.status == 0 and r.out.startswith("usage: siocat")


# ------------------------------------------------------------------ commands on standard input


class Driven:
    """siocat with a pipe on standard input; its output read line by line, each wait bounded."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [str(SIOCAT), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.seen: list[str] = []
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def expect(self, text: str, timeout: float = 5.0) -> str:
        with self.cond:
            found = self.cond.wait_for(lambda: any(text in ln for ln in self.lines), timeout)
            assert found, f"no line with {text!r}; seen: {self.lines[-15:]}"
            return next(ln for ln in self.lines if text in ln)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 5.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def test_commands_on_stdin(server: Server) -> None:
    d = Driven("--quiet", url(server))
    d.expect("= connect / sid=")
    d.send('emit message "hi" {"$bin":"AQID"}')
    d.expect('= event / message-back ["hi",{"$bin":"AQID"}]')
    d.send("emitack /custom message-with-ack 1")  # not joined yet: refused, and said so
    d.send("join /custom [1]")  # an auth the encoder refuses: said so, and /custom may be joined after
    d.send("join /a,b")  # a name the encoder refuses
    d.send("join /custom")
    d.expect("= connect /custom")
    d.send("emitack /custom message-with-ack 1 2")
    d.expect("= ack /custom message-with-ack [1,2]")
    d.send("emit join-room")  # an unknown command would be reported, this is an event of the fixture
    d.send("leave /custom")
    d.expect("= disconnect /custom reason=io client disconnect")
    d.send("frobnicate")
    d.send("close")
    assert d.finish() == 0
    assert d.proc.stderr is not None
    err = d.proc.stderr.read()
    assert "emit message-with-ack:" in err  # the emit on a namespace not joined
    assert "payload has the wrong JSON kind" in err and "namespace contains ','" in err  # the joins refused
    assert "commands: emit" in err  # the unknown command


@pytest.fixture(scope="module")
def node_recovery() -> Iterator[Any]:
    """Node's socket.io running the suite's fixture with connection-state recovery on (FIXTURE.md
    RECOVERY); the reference server has no recovery."""
    from harness import targets

    spec = targets.REGISTRY["node-socketio"]
    missing = [str(p) for p in spec.needs if not Path(p).exists()]
    assert not missing, f"the Node fixture is not installed ({missing}): make conformance-node"
    t = targets.start(spec, env={"RECOVERY": "1"})
    yield t
    targets.stop(t)


@pytest.mark.parametrize("mode", ["--quiet", "--json"])
def test_a_recovered_namespace_is_shown(node_recovery: Any, mode: str) -> None:
    """The server stops running (SIGSTOP) until siocat gives the connection up (no ping in time); when it
    runs again it sees the connection closed under the namespace and keeps its state, and siocat's next
    attempt joins with the pid and the last offset: the server recovers the namespace, `connect` says so."""
    d = Driven(mode, f"http://127.0.0.1:{node_recovery.port}/")
    first = d.expect('"event":"connect"' if mode == "--json" else "= connect / sid=")
    d.send('emit message "before"')
    d.expect("message-back")
    os.kill(node_recovery.process.pid, signal.SIGSTOP)
    try:
        d.expect("ping timeout")
    finally:
        os.kill(node_recovery.process.pid, signal.SIGCONT)
    again = d.expect('"recovered":true' if mode == "--json" else " recovered", timeout=8.0)
    d.send("close")
    assert d.finish() == 0
    assert "recovered" not in first
    if mode == "--json":
        assert json.loads(again)["event"] == "connect" and json.loads(again)["nsp"] == "/"
    else:
        assert again.startswith("= connect / sid=") and again.endswith(" recovered")


def test_end_of_stdin_closes(server: Server) -> None:
    r = siocat("--quiet", url(server), stdin="emit message 5\n")
    assert r.status == 0, r.err
    assert "= closed" in r.out


# ------------------------------------------------------------------ bounds, at the bound and one past


@pytest.mark.parametrize("bound, delivered", [(521, True), (520, False)])
def test_max_message(server: Server, bound: int, delivered: bool) -> None:
    """The echo comes back as one WebSocket message of 521 bytes: 42["message-back","x…x"]."""
    x = "x" * 500
    r = siocat(
        "--json", "--no-reconnect", "--transport", "websocket", "--max-message", str(bound), url(server),
        "--emit", "message", f'"{x}"', "--wait-for", "message-back", "--timeout", "5000",
    )  # fmt: skip
    assert (r.status == 0) == delivered, r.err
    if not delivered:
        assert "SIO_ERR_WS_MESSAGE_TOO_BIG" in r.err


@pytest.mark.parametrize("length, reported", [((1 << 20) - 1, False), (1 << 20, True)])
def test_longest_command_line(server: Server, length: int, reported: bool) -> None:
    r = siocat("--quiet", url(server), stdin="#" + "x" * (length - 1) + "\nemit message 1\n")
    assert r.status == 0, r.err
    assert ("a command line longer than 1 MiB: ignored" in r.err) == reported


@pytest.mark.parametrize("count, status", [(64, 1), (65, 2)])
def test_most_scripted_emits(count: int, status: int) -> None:
    emits = [a for _ in range(count) for a in ("--emit", "e", "1")]
    r = siocat(*emits, f"http://127.0.0.1:{free_port()}/")
    assert r.status == status, r.err  # 1: got as far as connecting; 2: refused as usage
    if status == 2:
        assert "at most 64 --emit and --emitack" in r.err
