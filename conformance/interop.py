"""The reference client against every shipped server target: emit, acks both ways, binary both
ways, rooms, broadcast and a server disconnect, in each of the client's modes, through siocat
(build/siocat --json). Writes the client x server table to docs/interop.md.

    python interop.py [--targets a,b] [--modes m,n] [--out ../docs/interop.md] [--check]

Verdicts per cell: `pass`; `fail` with what was seen; `n/a` when the server does not speak the
mode's protocol (Engine.IO 3 only, or not at all) or its fixture lacks the part a scenario needs
(conformance/FIXTURE.md); `not built` for a target whose build is not on this machine (the
third-party targets are built on demand, never faked); `did not start` with the reason.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import targets

ROOT = Path(__file__).resolve().parents[1]
SIOCAT = ROOT / "build" / "siocat"
RUN_TIMEOUT_MS = 8000  # siocat's own --timeout for one run
PROCESS_DEADLINE_S = 20.0  # the backstop around one run


@dataclass(frozen=True)
class Mode:
    name: str
    title: str
    args: tuple[str, ...]
    eio: int


MODES = [
    Mode("polling+websocket", "Engine.IO 4, polling then the upgrade to WebSocket", (), 4),
    Mode("websocket", "Engine.IO 4, WebSocket only", ("--transport", "websocket"), 4),
    Mode("polling", "Engine.IO 4, long-polling only", ("--transport", "polling"), 4),
    Mode("eio3", "Engine.IO 3 / Socket.IO 4, polling then WebSocket", ("--eio3",), 3),
]


@dataclass
class Verdict:
    verdict: str  # pass, fail, n/a, not built, did not start
    detail: str = ""


@dataclass
class Run:
    status: int
    lines: list[dict[str, Any]]
    err: str

    def app_lines(self) -> list[dict[str, Any]]:
        return [j for j in self.lines if j.get("layer") == "app" and j.get("event") not in ("open", "upgrade")]

    def app(self, event: str, name: str | None = None) -> list[dict[str, Any]]:
        return [
            j
            for j in self.lines
            if j.get("layer") == "app" and j.get("event") == event and (name is None or j.get("name") == name)
        ]


def siocat(url: str, mode: Mode, *script: str) -> Run:
    proc = subprocess.run(
        [str(SIOCAT), "--json", "--quiet", *mode.args, url, *script, "--timeout", str(RUN_TIMEOUT_MS)],
        capture_output=True,
        text=True,
        timeout=PROCESS_DEADLINE_S,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return Run(proc.returncode, lines, proc.stderr.strip())


def seen(run: Run) -> str:
    """What a failed run saw, shortly."""
    what = [f"{j['event']} {j.get('name', '')} {json.dumps(j.get('args', ''))}".strip() for j in run.app_lines()]
    return f"exit {run.status}; {run.err[-200:]}; saw: {'; '.join(what)[:300]}"


def expect(run: Run, ok: bool) -> Verdict:
    return Verdict("pass") if run.status == 0 and ok else Verdict("fail", seen(run))


# ------------------------------------------------------------------ scenarios


def emit(url: str, mode: Mode) -> Verdict:
    r = siocat(url, mode, "--emit", "message", '"hello" 1 {"k":[true,null]}', "--wait-for", "message-back")
    return expect(r, [e["args"] for e in r.app("event", "message-back")] == [["hello", 1, {"k": [True, None]}]])


def ack_from_server(url: str, mode: Mode) -> Verdict:
    """The client asks, the server answers (message-with-ack)."""
    r = siocat(url, mode, "--emitack", "message-with-ack", '"x" 2')
    return expect(r, [a["args"] for a in r.app("ack")] == [["x", 2]])


def ack_from_client(url: str, mode: Mode) -> Verdict:
    """The server asks (server-ack: need-ack with an id), siocat answers with the event's own
    arguments, the server reports the answer (ack-result)."""
    r = siocat(url, mode, "--emit", "server-ack", '"q" 3', "--wait-for", "ack-result")
    asked = [e for e in r.app("event", "need-ack") if e.get("ack_id") != ""]
    return expect(r, bool(asked) and [e["args"] for e in r.app("event", "ack-result")] == [["q", 3]])


def binary(url: str, mode: Mode, extended: bool) -> Verdict:
    """Bytes both ways: an echo of two attachments, nested; with the extended fixture, the
    server's own binary event too (server-bin)."""
    args = '{"$bin":"AQID"} {"n":[{"$bin":"BAU="}]}'
    r = siocat(url, mode, "--emit", "message", args, "--wait-for", "message-back")
    echoed = [e["args"] for e in r.app("event", "message-back")]
    if r.status != 0 or echoed != [[{"$bin": "AQID"}, {"n": [{"$bin": "BAU="}]}]]:
        return Verdict("fail", seen(r))
    if not extended:
        return Verdict("pass", "echo only (no server-bin in this fixture)")
    r = siocat(url, mode, "--emit", "server-bin", "", "--wait-for", "bin")
    return expect(r, [e["args"] for e in r.app("event", "bin")] == [[{"$bin": "AQI="}, {"x": [{"$bin": "Aw=="}]}]])


def rooms(url: str, mode: Mode) -> Verdict:
    r = siocat(url, mode, "--emitack", "join", '"r1"', "--emitack", "leave", '"r1"')
    joined = [a["args"] for a in r.app("ack") if a.get("name") == "join"]
    left = [a["args"] for a in r.app("ack") if a.get("name") == "leave"]
    ok = len(joined) == 1 and len(left) == 1 and "r1" in joined[0][0] and "r1" not in left[0][0]
    return expect(r, ok)


def broadcast(url: str, mode: Mode) -> Verdict:
    """Two clients: A joins a room and waits; B sends to the room and to everyone else."""
    a = subprocess.Popen(
        [str(SIOCAT), "--json", "--quiet", *mode.args, url, "--emitack", "join", '"room-b"']
        + ["--wait-for", "to", "--wait-for", "bc", "--timeout", str(RUN_TIMEOUT_MS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict[str, Any]] = []
    joined = threading.Event()

    def read() -> None:
        assert a.stdout is not None
        for raw in a.stdout:
            if raw.startswith("{"):
                j = json.loads(raw)
                lines.append(j)
                if j.get("layer") == "app" and j.get("event") == "ack":
                    joined.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not joined.wait(RUN_TIMEOUT_MS / 1000):
            return Verdict("fail", "client A never joined the room")
        # B waits for an ack before it leaves: Node's socket.io drops events still queued behind
        # its middleware when the DISCONNECT that came in the same batch is handled first.
        b_script = ("--emitack", "message-with-ack", '"sent"')
        b = siocat(url, mode, "--emit", "to", '"room-b" "hi"', "--emit", "broadcast", '"all"', *b_script)
        status = a.wait(timeout=PROCESS_DEADLINE_S)
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
    reader.join(timeout=5)
    err = a.stderr.read().strip() if a.stderr else ""
    got = Run(status, lines, err)
    ok = [e["args"] for e in got.app("event", "to")] == [["hi"]] and [e["args"] for e in got.app("event", "bc")] == [
        ["all"]
    ]
    if b.status != 0:
        return Verdict("fail", "client B: " + seen(b))
    return expect(got, ok)


def disconnect(url: str, mode: Mode) -> Verdict:
    r = siocat(url, mode, "--emit", "disconnect-me", "false", "--wait-for", "disconnect")
    return expect(r, [d.get("reason") for d in r.app("disconnect")] == ["io server disconnect"])


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    run: Callable[[str, Mode, bool], Verdict]
    needs_extended: bool = False


SCENARIOS = [
    Scenario("emit", "emit, and the server's event back", lambda u, m, x: emit(u, m)),
    Scenario("ack (server answers)", "emit with ack, answered", lambda u, m, x: ack_from_server(u, m)),
    Scenario(
        "ack (client answers)", "the server's emit with ack, answered", lambda u, m, x: ack_from_client(u, m), True
    ),
    Scenario("binary", "attachments both ways", binary),
    Scenario("rooms", "join and leave a room", lambda u, m, x: rooms(u, m), True),
    Scenario("broadcast", "to a room and to everyone, two clients", lambda u, m, x: broadcast(u, m), True),
    Scenario("disconnect", "the server disconnects the client", lambda u, m, x: disconnect(u, m), True),
]


# ------------------------------------------------------------------ targets


@dataclass
class Column:
    target: str
    description: str
    cells: dict[tuple[str, str], Verdict] = field(default_factory=dict)
    note: str = ""
    packages: dict[str, str] = field(default_factory=dict)


def modes_of(spec: targets.TargetSpec) -> dict[str, str]:
    """Per mode: '' when the server speaks it, else why not."""
    eio3_only = spec.health_eio == "3"
    return {
        m.name: ("the server speaks Engine.IO 3 only" if eio3_only and m.eio == 4 else "")
        or ("the server does not accept Engine.IO 3" if m.eio == 3 and not spec.eio3 else "")
        for m in MODES
    }


def run_target(name: str, modes: list[Mode]) -> Column:
    spec = targets.REGISTRY[name]
    col = Column(name, spec.description)
    missing = [str(p) for p in spec.needs if not Path(p).exists()]
    if missing:
        col.note = "not built"
        for m in modes:
            for s in SCENARIOS:
                col.cells[(m.name, s.name)] = Verdict("not built", f"missing {missing[0]}")
        return col
    try:
        t = targets.start(spec)
    except Exception as err:  # a target that cannot start is a result of its own, not a crash here
        col.note = "did not start"
        for m in modes:
            for s in SCENARIOS:
                col.cells[(m.name, s.name)] = Verdict("did not start", str(err)[:200])
        return col
    col.packages = dict(t.packages)
    try:
        url = f"http://127.0.0.1:{t.port}/"
        extended = "extended" in spec.features
        speaks = modes_of(spec)
        for m in modes:
            for s in SCENARIOS:
                if speaks[m.name]:
                    col.cells[(m.name, s.name)] = Verdict("n/a", speaks[m.name])
                elif s.needs_extended and not extended:
                    col.cells[(m.name, s.name)] = Verdict("n/a", "the fixture has no extended part")
                else:
                    col.cells[(m.name, s.name)] = s.run(url, m, extended)
    finally:
        targets.stop(t)
    return col


# ------------------------------------------------------------------ the page


# What the failures of a target come from, where the bytes show it (read from the runs' traces;
# a note is printed only when the target has failures).
FAILURE_NOTES = {
    "netty-socketio": [
        "Engine.IO 3: the polling GET is answered with binary records separated by 0x1E "
        "(`00 02 ff 34 30 1e 00 01 03 ff 34 32 ...`), which is not the v3 binary payload format (a "
        "record marker is 0 or 1): the client stops with SIO_ERR_EIO_XHR2_MARKER, a parse error.",
        "rooms: the fixture acknowledges `join` and `leave` with the rooms as separate arguments "
        '(`["", "r1"]`: netty-socketio\'s `AckRequest.sendAckData(List)` spreads the list, and every '
        "client is in the room `\"\"`), where conformance/FIXTURE.md asks for one array.",
        "binary: over WebSocket the attachments come back as base64 strings (`\"AQID\"`), not as "
        "attachments; over polling the two attachments of one POST come back as one, holding both "
        "records' text with the separator between them (`bAQID\\x1ebBAU=`).",
    ],
}


def cell_text(v: Verdict) -> str:
    return {"pass": "pass", "fail": "**FAIL**"}.get(v.verdict, v.verdict)


def summary(col: Column, mode: Mode) -> str:
    cells = [col.cells[(mode.name, s.name)] for s in SCENARIOS]
    if col.note:
        return col.note
    if all(c.verdict == "n/a" for c in cells):
        return "n/a"
    judged = [c for c in cells if c.verdict in ("pass", "fail")]
    passed = sum(c.verdict == "pass" for c in judged)
    text = f"{passed}/{len(judged)}"
    return f"**{text}**" if passed < len(judged) else text


def render(columns: list[Column], modes: list[Mode]) -> str:
    head = "| client mode | " + " | ".join(c.target for c in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    out = [
        "# Interop: the reference client against every shipped server",
        "",
        "The C reference client (reference-client/, through `build/siocat`) against each server target",
        "of the conformance suite, running its fixture (conformance/FIXTURE.md): one table cell per",
        "client mode and server, counting the scenarios that passed among those the server can be asked",
        "(a scenario needs the fixture's extended part, or the server does not speak the mode's",
        "protocol: `n/a`). `not built`: the target's cached build is absent on the machine that made",
        "this page (`make thirdparty` builds the third-party ones); nothing is assumed about it.",
        "Made by `make interop` (conformance/interop.py); the self-test in `make test` runs the",
        "reference server in one mode. In **broadcast** the sending client waits for an ack before it",
        "leaves: Node's socket.io drops events still queued behind its middleware once the DISCONNECT",
        "that came in the same batch has been handled.",
        "",
        "Scenarios: " + "; ".join(f"**{s.name}**: {s.title}" for s in SCENARIOS) + ".",
        "",
        head,
        rule,
    ]
    for m in modes:
        out.append(f"| {m.name} | " + " | ".join(summary(c, m) for c in columns) + " |")
    out += ["", "Modes: " + "; ".join(f"**{m.name}**: {m.title}" for m in modes) + ".", ""]
    out += ["## Servers", ""]
    for c in columns:
        versions = ", ".join(f"{k} {v}" for k, v in c.packages.items())
        out.append(f"- **{c.target}**: {c.description}" + (f" ({versions})" if versions else ""))
    for m in modes:
        out += ["", f"## {m.name}", "", "| scenario | " + " | ".join(c.target for c in columns) + " |", rule]
        for s in SCENARIOS:
            out.append(f"| {s.name} | " + " | ".join(cell_text(c.cells[(m.name, s.name)]) for c in columns) + " |")
    details = [
        f"- {c.target}, {m.name}, {s.name}: {c.cells[(m.name, s.name)].detail}"
        for c in columns
        for m in modes
        for s in SCENARIOS
        if c.cells[(m.name, s.name)].verdict == "fail"
    ]
    notes = [
        f"- {c.target}: {note}"
        for c in columns
        if any(v.verdict == "fail" for v in c.cells.values())
        for note in FAILURE_NOTES.get(c.target, [])
    ]
    if notes:
        out += ["", "## What the failures come from", "", *notes]
    out += ["", "## Failures", "", *(details or ["None."]), ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default="", help="comma list (default: every registered server target)")
    ap.add_argument("--modes", default="", help="comma list of " + ", ".join(m.name for m in MODES))
    ap.add_argument("--out", type=Path, help="write the page here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a judged scenario failed")
    args = ap.parse_args()
    names = [n for n in args.targets.split(",") if n] or list(targets.REGISTRY)
    modes = [m for m in MODES if not args.modes or m.name in args.modes.split(",")]
    if not SIOCAT.exists():
        print(f"interop: {SIOCAT} not built (make siocat)", file=sys.stderr)
        return 2
    start = time.monotonic()
    columns = []
    for name in names:
        col = run_target(name, modes)
        print(f"{name:28} " + "  ".join(f"{m.name}: {summary(col, m)}" for m in modes), flush=True)
        columns.append(col)
    page = render(columns, modes)
    print(f"interop: {len(columns)} targets in {time.monotonic() - start:.0f} s", flush=True)
    if args.out:
        args.out.write_text(page)
    failed = [v for c in columns for v in c.cells.values() if v.verdict == "fail"]
    for c in columns:
        for (m, s), v in c.cells.items():
            if v.verdict == "fail":
                print(f"FAIL {c.target} {m} {s}: {v.detail}", file=sys.stderr)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
