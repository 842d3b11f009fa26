"""Self-test of the network fuzzer: deterministic generation, the oracles on scripted answers, the
minimiser, and a short campaign that must find the planted crash and hang, minimise them, save them,
replay them and turn one into a conformance case."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FUZZ_NET = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(FUZZ_NET))


from wirefuzz.campaign import Campaign, Settings, problem_key  # noqa: E402
from wirefuzz.execute import run_program  # noqa: E402
from wirefuzz.findings import write_page  # noqa: E402
from wirefuzz.minimise import Budget, ddmin, minimise  # noqa: E402
from wirefuzz.mutate import (  # noqa: E402
    MAX_BYTES,
    MAX_OPERATORS,
    MAX_STEPS,
    OPERATORS,
    Env,
    Profile,
    generate,
    program_size,
    split_sio,
)
from wirefuzz.program import (  # noqa: E402
    Context,
    HttpStep,
    Program,
    RawStep,
    Record,
    WsStep,
    program_bytes,
    program_from_json,
    program_to_json,
    render,
)
from wirefuzz.repro import load, to_case  # noqa: E402
from wirefuzz.seeds import load_pools, load_sessions, polling_get, polling_post, ws_frames, ws_upgrade  # noqa: E402

from harness import targets as registry  # noqa: E402


@pytest.fixture(scope="module")
def env() -> Env:
    return Env(load_pools(), load_sessions(), Profile((4, 3), "/socket.io/"))


# ---------------------------------------------------------------------------- generation
def test_same_seed_same_inputs(env: Env) -> None:
    first = [program_bytes(generate(7, i, env)[0]) for i in range(300)]
    again = [program_bytes(generate(7, i, env)[0]) for i in range(300)]
    other = [program_bytes(generate(8, i, env)[0]) for i in range(300)]
    assert first == again
    assert sum(a != b for a, b in zip(first, other)) > 290


def test_every_operator_is_applied(env: Env) -> None:
    applied: set[str] = set()
    for i in range(3000):
        applied.update(generate(3, i, env)[1])
    assert applied == {op.name for op in OPERATORS}


def test_programs_survive_their_json_form(env: Env) -> None:
    ctx = Context("127.0.0.1", 9, [b"sid-one", b"sid-two"])
    for i in range(200):
        p, _ = generate(11, i, env)
        back = program_from_json(json.loads(json.dumps(program_to_json(p))))
        assert [render(s, ctx) for s in back.steps] == [render(s, ctx) for s in p.steps]


def test_sio_split_is_exact() -> None:
    rng = random.Random(5)
    pieces = [b"0", b"2", b"5", b"12-", b"/custom,", b"/x", b"42", b'["a",1]', b"-", b",", b"/", b"7", b""]
    for _ in range(2000):
        text = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        assert split_sio(text).join() == text


def test_framing_is_rendered_around_a_mutated_field() -> None:
    ctx = Context("127.0.0.1", 9, [b"abc"])
    post = polling_post(2, "/socket.io/", 3, [Record(b"4\xe2\x82\xac"), Record(b"\x01\x02", True)])
    assert render(post, ctx).endswith(b"Content-Length: 14\r\n\r\n2:4\xe2\x82\xac6:b4AQI=")
    frame = render(WsStep(1, b"42[]", mask=b"\x00\x00\x00\x00"), ctx)
    assert frame == b"\x81\x84\x00\x00\x00\x0042[]"


# ---------------------------------------------------------------------------- minimiser
def test_ddmin_finds_a_one_minimal_subset() -> None:
    items = list(range(100))
    kept = ddmin(items, lambda xs: 17 in xs and 64 in xs, Budget(1000, 60.0))
    assert kept == [17, 64]


def test_minimise_shrinks_steps_and_bytes() -> None:
    steps = [polling_get(1, "/socket.io/", 4, False)] + [
        WsStep(1, b"x" * 50 + (b"MARK" if k == 3 else b"") + b"y" * 50) for k in range(6)
    ]

    def still(p: Program) -> bool:
        return any(isinstance(s, WsStep) and b"MARK" in s.payload for s in p.steps)

    small = minimise(Program(steps), still, Budget(2000, 60.0))
    assert len(small.steps) == 1 and isinstance(small.steps[0], WsStep)
    assert small.steps[0].payload == b"MARK"


# ---------------------------------------------------------------------------- protocol oracles
RAW = b"RAW:"  # an answer sent as it is, without a head


class ScriptedServer:
    """Answers each HTTP request with `answer(method, target)`: a whole response when it starts with
    `HTTP/`, the bytes after RAW as they are, otherwise the body of a 200. Several requests may share
    a connection."""

    def __init__(self, answer: Callable[[str, str], bytes]):
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                method, target = head.split(b"\r\n", 1)[0].decode().split(" ")[:2]
                out = self.answer(method, target)
                if out.startswith(RAW):
                    out = out[len(RAW) :]
                elif not out.startswith(b"HTTP/"):
                    out = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: "
                           + str(len(out)).encode() + b"\r\n\r\n" + out)  # fmt: skip
                conn.sendall(out)

    def close(self) -> None:
        self.sock.close()


OPEN = b'0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}'


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[str, str], bytes]], ScriptedServer]]:
    made: list[ScriptedServer] = []

    def make(answer: Callable[[str, str], bytes]) -> ScriptedServer:
        made.append(ScriptedServer(answer))
        return made[-1]

    yield make
    for s in made:
        s.close()


def session_program() -> Program:
    return Program([polling_get(1, "/socket.io/", 4, False), polling_get(2, "/socket.io/", 4, True),
                    polling_get(3, "/socket.io/", 4, True)])  # fmt: skip


def test_invalid_engine_io_answer_is_found(scripted) -> None:
    srv = scripted(lambda m, t: OPEN if "sid=" not in t else b"4a\x1e\x1e4b")
    t = run_program("127.0.0.1", srv.port, session_program())
    assert [p.oracle for p in t.problems] == ["invalid-eio", "invalid-eio"]
    assert t.sids == [b"s1"]


def test_valid_answers_raise_nothing(scripted) -> None:
    srv = scripted(lambda m, t: OPEN if "sid=" not in t else b"4a\x1e6")
    t = run_program("127.0.0.1", srv.port, session_program())
    assert t.problems == []


def test_closed_session_that_still_answers_is_found(scripted) -> None:
    answers = iter([OPEN, b"1", b"4still here"])
    srv = scripted(lambda m, t: next(answers))
    t = run_program("127.0.0.1", srv.port, session_program())
    assert [p.oracle for p in t.problems] == ["closed-answers"]


def test_sid_placeholder_takes_the_announced_id(scripted) -> None:
    seen: list[str] = []

    def answer(method: str, target: str) -> bytes:
        seen.append(target)
        return OPEN if "sid=" not in target else b"6"

    srv = scripted(answer)
    run_program("127.0.0.1", srv.port, session_program())
    assert seen[1].endswith("&sid=s1")


def test_an_answer_to_head_has_no_body(scripted) -> None:
    def answer(method: str, target: str) -> bytes:
        if method == "HEAD":
            return b"HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 23\r\n\r\n"
        return OPEN if "sid=" not in target else b"6"

    srv = scripted(answer)
    head = HttpStep(1, "HEAD", "/socket.io/?EIO=4&transport=polling", [("Host", "HOST!")], length="none")
    t = run_program("127.0.0.1", srv.port, Program([head, polling_get(1, "/socket.io/", 4, False)]))
    assert t.problems == []
    assert [r.status for r in t.received if r.kind == "http"] == [405, 200]
    assert t.sids == [b"s1"]


def test_content_in_an_answer_to_head_is_found(scripted) -> None:
    def answer(method: str, target: str) -> bytes:
        if method == "HEAD":
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found"
        return OPEN

    srv = scripted(answer)
    head = HttpStep(1, "HEAD", "/socket.io/x", [("Host", "HOST!")], length="none")
    t = run_program("127.0.0.1", srv.port, Program([head, polling_get(1, "/socket.io/", 4, False)]))
    assert [(p.oracle, p.detail) for p in t.problems] == [
        ("invalid-http", "conn 1: the answer to HEAD carries content: b'Not Found'")
    ]
    assert t.sids == [b"s1"]  # the next answer on the connection is still read


def test_a_version_the_request_leaves_open_is_read_either_way(scripted) -> None:
    v3_open = b'0{"sid":"s3","upgrades":[],"pingInterval":300,"pingTimeout":200}'
    srv = scripted(lambda m, t: b"%d:%s" % (len(v3_open), v3_open) if "sid=" not in t else b"1:6")
    no_eio = HttpStep(1, "GET", "/socket.io/?transport=polling", [("Host", "HOST!")], length="none")
    then = HttpStep(2, "GET", "/socket.io/?transport=polling&sid=SID!", [("Host", "HOST!")], length="none")
    t = run_program("127.0.0.1", srv.port, Program([no_eio, then]))
    assert t.problems == []
    assert t.sids == [b"s3"]


def test_a_status_line_is_judged_by_its_syntax(scripted) -> None:
    srv = scripted(lambda m, t: b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
    t = run_program("127.0.0.1", srv.port, Program([polling_get(1, "/socket.io/", 4, False)]))
    assert [p.oracle for p in t.problems] == ["invalid-http"]


RFC_KEY, RFC_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3


@pytest.mark.parametrize(
    ("keys", "found"),
    [
        ([RFC_KEY], None),
        ([RFC_KEY, "x"], "101 to a handshake with 2 Sec-WebSocket-Key fields"),
        ([], "101 to a handshake with 0 Sec-WebSocket-Key fields"),
        (["dGhlIHNhbXBsZSBub25jZQ"], "101 to a Sec-WebSocket-Key that is not 16 bytes in base64: b'dGhlIHNhbXBsZSBub25jZQ'"),
        (["AQIDBAUGBwgJCgsMDQ4PEA=="], "Sec-WebSocket-Accept is not the key's: b's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', "
         "expected b'C/0nmHhBztSRGR1CwL6Tf4ZjwpY='"),
    ],
)  # fmt: skip
def test_a_101_is_due_only_to_one_nonce_and_carries_its_accept(scripted, keys: list[str], found: str | None) -> None:
    srv = scripted(lambda m, t: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Accept: " + RFC_ACCEPT + b"\r\n\r\n")  # fmt: skip
    headers = [("Host", "HOST!"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")]
    step = HttpStep(1, "GET", "/socket.io/?EIO=4&transport=websocket", headers + [("Sec-WebSocket-Key", k) for k in keys],
                    length="none")  # fmt: skip
    t = run_program("127.0.0.1", srv.port, Program([step]))
    assert [p.detail for p in t.problems if p.oracle == "bad-accept"] == ([found] if found else [])


def test_accept_findings_differ_by_kind_not_by_value() -> None:
    one = problem_key("bad-accept", "conn 1: Sec-WebSocket-Accept is not the key's: b'AAAA', expected b'BBBB'")
    two = problem_key("bad-accept", "conn 2: Sec-WebSocket-Accept is not the key's: b'CCCC', expected b'DDDD'")
    assert one == two
    assert problem_key("bad-accept", "conn 1: 101 to a handshake with 2 Sec-WebSocket-Key fields") != one


def test_what_answers_a_request_that_is_not_http_1_is_not_judged(scripted) -> None:
    # An HTTP/0.9 request (no version) gets the bare body from an HTTP/0.9 server (Python's http.server).
    srv = scripted(lambda m, t: RAW + b'"Invalid transport"')
    t = run_program("127.0.0.1", srv.port, Program([RawStep(1, b"GET /socket.io/?transport=e\r\n\r\n")]))
    assert t.problems == []
    assert [r.kind for r in t.received][:1] == ["unjudged"]


def test_what_answers_websocket_frames_on_a_fresh_connection_is_not_judged(scripted) -> None:
    srv = scripted(lambda m, t: b"unused")
    close = WsStep(1, b"", opcode=0x8)

    def serve_garbage(conn: socket.socket) -> None:
        with conn:
            conn.recv(64)
            conn.sendall(b"<html>Bad request</html>")

    srv._connection = serve_garbage
    t = run_program("127.0.0.1", srv.port, Program([close]))
    assert t.problems == []


def test_a_bare_body_to_an_http_1_request_is_found(scripted) -> None:
    srv = scripted(lambda m, t: RAW + b'"Invalid transport"\r\n\r\n')
    t = run_program("127.0.0.1", srv.port, Program([polling_get(1, "/socket.io/", 4, False)]))
    assert [p.oracle for p in t.problems] == ["invalid-http"]


def test_base64_frames_asked_for_are_valid() -> None:
    """The reference server honours b64 on WebSocket (EIO-PKT-10): its `b…` text frames then pass."""
    rng = random.Random(1)
    upgrade = ws_upgrade(1, "/socket.io/", 4, False)
    upgrade.target += "&b64=1"
    message = [Record(b'451-["message",{"_placeholder":true,"num":0}]'), Record(b"\x01\x02", True)]
    program = Program([upgrade, *ws_frames(1, [Record(b"40")], 4, rng), *ws_frames(1, message, 4, rng)])
    spec = registry.REGISTRY["reference"]
    t = registry.start(spec)
    try:
        transcript = run_program(t.host, t.port, program)
    finally:
        registry.stop(t)
    assert b"bAQI=" in [r.data for r in transcript.received], transcript.received
    assert transcript.problems == []


# ---------------------------------------------------------------------------- a campaign
def _campaign(
    out: Path, bug: str, minimise_tests: int, hang_s: float = 1.0, rss_mb: int = 2048
) -> tuple[Campaign, dict]:
    """A short run on the planted server with one bug armed; it ends at the first finding. The seed's
    inputs hold the crash marker at input 131 and the hang marker at input 34 (of several thousand
    the bound allows), so the bound is the time, never the luck of the draw."""
    os.environ["PLANTED_BUGS"] = bug
    try:
        settings = Settings("planted", seconds=60.0, seed=5, max_inputs=3000, workers=3, out=out, hang_s=hang_s,
                            minimise_tests=minimise_tests, minimise_seconds=30.0, max_findings=1, verbose=False,
                            rss_limit_mb=rss_mb)  # fmt: skip
        c = Campaign(settings)
        c.run()
    finally:
        del os.environ["PLANTED_BUGS"]
    return c, c.summary()


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Campaign, dict]:
    return _campaign(tmp_path_factory.mktemp("fuzz-crash"), "crash", 80)


@pytest.fixture(scope="module")
def hang_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Campaign, dict]:
    # The planted server answers a handshake in milliseconds: half a second without one is a hang.
    return _campaign(tmp_path_factory.mktemp("fuzz-hang"), "hang", 30, hang_s=0.5)


def test_campaign_finds_the_planted_memory_growth(tmp_path: Path) -> None:
    c, summary = _campaign(tmp_path, "leak", 0, rss_mb=300)
    assert [f["oracle"] for f in summary["findings"]] == ["rss"], summary["findings"]
    assert re.fullmatch(r"resident memory \d+ MiB, past the bound of 300 MiB", summary["findings"][0]["summary"])
    assert summary["peak_rss_mib"] > 300


def _reproducer(c: Campaign, oracle: str) -> Path:
    found = [f for f in c.stats.findings if f.oracle == oracle]
    assert found and found[0].path is not None, c.summary()["findings"]
    return found[0].path


def test_campaign_finds_and_minimises_the_planted_crash(crash_run) -> None:
    c, summary = crash_run
    assert [f["oracle"] for f in summary["findings"]] == ["crash"], summary["findings"]
    assert summary["findings"][0]["minimised"], load(Path(summary["findings"][0]["file"]))["found"]
    crash = load(_reproducer(c, "crash"))
    assert crash["output_tail"][-1] == "planted crash: a CONNECT with a null payload"
    assert crash["finding"]["summary"] == "target died (exit status 70)"
    steps = crash["program"]["steps"]
    assert len(steps) <= 3, steps
    assert any("null" in json.dumps(s) for s in steps)


def test_campaign_finds_and_minimises_the_planted_hang(hang_run) -> None:
    c, summary = hang_run
    assert [f["oracle"] for f in summary["findings"]] == ["hang"], summary["findings"]
    assert summary["findings"][0]["minimised"], load(Path(summary["findings"][0]["file"]))["found"]
    hang = load(_reproducer(c, "hang"))
    assert hang["output_tail"][-1] == "planted hang: a CONNECT to /admin"
    assert len(hang["program"]["steps"]) <= 3, hang["program"]["steps"]
    assert any("/admin" in json.dumps(s) for s in hang["program"]["steps"])


def _replay(path: Path, target: str | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "wirefuzz", "replay", str(path)] + (["--target", target] if target else [])
    return subprocess.run(argv, cwd=FUZZ_NET, capture_output=True, text=True, timeout=120)


def test_replay_reproduces_on_the_target_and_not_on_the_reference(crash_run) -> None:
    c, _ = crash_run
    path = _reproducer(c, "crash")
    again = _replay(path)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "reproduced: target died (exit status 70)" in again.stdout
    reference = _replay(path, "reference")
    assert reference.returncode == 0, reference.stdout + reference.stderr
    assert "not reproduced" in reference.stdout


def test_reproducer_becomes_a_case(crash_run, tmp_path: Path) -> None:
    c, _ = crash_run
    case_path = to_case(_reproducer(c, "crash"), "planted-null-connect", tmp_path)
    case = json.loads(case_path.read_text())
    assert case["format"] == "wire-regression/1" and case["requirement"] == "ERR-06"
    assert case["judged_by"] == "survival"
    assert case["program"] == load(_reproducer(c, "crash"))["program"]


def test_readme_lists_every_operator() -> None:
    text = (FUZZ_NET / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z]+\.[a-z0-9-]+)` \| ", text, re.M)
    assert [op.name for op in OPERATORS] == listed


def test_programs_stay_within_their_bounds(env: Env) -> None:
    for i in range(1500):
        p, ops = generate(13, i, env)
        assert 1 <= len(ops) <= MAX_OPERATORS
        assert len(p.steps) <= MAX_STEPS and program_size(p) <= MAX_BYTES


def test_a_run_stops_at_its_input_count(tmp_path: Path) -> None:
    settings = Settings("reference", seconds=60.0, seed=3, max_inputs=25, workers=2, out=tmp_path, verbose=False)
    c = Campaign(settings)
    c.run()
    summary = c.summary()
    assert summary["inputs"] + summary["undelivered"] == 25
    assert summary["findings"] == [], summary["findings"]


def test_the_findings_page_is_what_the_committed_records_give() -> None:
    # docs/findings/wire-fuzzing.md is generated from fuzz/net/findings/ (`make fuzz-target-findings`).
    assert write_page(check=True), "the findings page differs from its records: run `make fuzz-target-findings`"
