"""A target that dies or stops answering is charged to the case that did it, with the input and
the target's last words; an owned target is restarted and the rest of the run is unaffected; an URL
target ends the run, the cases not run being `error` (target down), never `fail`.

The target is conformance/targets/node-socketio/crashing-fixture.js (the official-suite fixture plus
an `exit-now` and a `hang-now` event), started through --target-cmd, or by this test for the URL
case. Needs the Node fixture's packages (make conformance-node)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness import targets

CONFORMANCE = Path(__file__).resolve().parents[2]
NODE_DIR = CONFORMANCE / "targets" / "node-socketio"
CASES = "tests/selftest/crashing/crash_cases.py"
FIXTURE = ["node", str(NODE_DIR / "crashing-fixture.js")]

pytestmark = pytest.mark.skipif(
    not (NODE_DIR / "node_modules" / "socket.io").exists(), reason="Node fixture packages not installed"
)


def _run(tmp: Path, target: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict, str]:
    index, junit = tmp / "index.json", tmp / "junit.xml"
    argv = [sys.executable, "-m", "pytest", CASES, "-p", "harness.plugin", "-p", "no:cacheprovider", "-q", "--target", target,
            "--target-features", "none", "--report-json", str(index), "--junitxml", str(junit), *extra]  # fmt: skip
    proc = subprocess.run(argv, cwd=CONFORMANCE, capture_output=True, text=True, timeout=180)
    assert index.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(index.read_text(encoding="utf-8")), junit.read_text(encoding="utf-8")


def _by_name(index: dict) -> dict[str, dict]:
    return {c["case"].split("::")[-1]: c for c in index["cases"]}


def test_owned_target_is_charged_restarted_and_the_run_goes_on(tmp_path):
    # `exec`: the shell becomes the server, so the parent-death signal covers the server itself.
    proc, index, junit = _run(tmp_path, "crashing", "--target-cmd", "exec " + " ".join(FIXTURE))
    cases = _by_name(index)
    verdicts = {name: c["verdict"] for name, c in cases.items()}
    assert verdicts == {
        "test_1_answers_before": "pass",
        "test_2_exit_marker": "fail",
        "test_3_answers_after_exit": "pass",
        "test_4_hang_marker": "fail",
        "test_5_answers_after_hang": "pass",
    }, proc.stdout[-4000:]
    died = cases["test_2_exit_marker"]
    assert died["message"].startswith("target died (exit status 7) during this case; last input sent: #1 ws text")
    assert "marker-exit" in died["message"].splitlines()[0]
    assert "crashing-fixture: exit-now received" in died["message"]  # the target's stderr tail
    assert died["actual"] == "'target died (exit status 7)'"
    hung = cases["test_4_hang_marker"]
    assert hung["message"].startswith(
        "target stopped answering (no handshake answer within 5.0 s; the process is still running)"
    )
    assert "crashing-fixture: hang-now received" in hung["message"]
    # The case's wire transcript, kept with the verdict, holds the marker among what was sent.
    assert any("marker-hang" in m["text"] for m in hung["transcript"] if m["dir"] == ">")
    info = index["target_info"]
    assert info["restarts"] == 2 and [i["case"].split("::")[-1] for i in info["incidents"]] == [
        "test_2_exit_marker",
        "test_4_hang_marker",
    ]
    # The JUnit file and the terminal line carry the same reason.
    assert junit.count("target died (exit status 7)") >= 1 and "target stopped answering" in junit
    out = proc.stdout.splitlines()
    line = next(i for i, text in enumerate(out) if text.split()[:1] == ["fail"] and text.endswith("test_2_exit_marker"))
    assert out[line + 1].strip().startswith("target died (exit status 7) during this case"), out[line : line + 3]


def _start_url_target() -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(targets.dies_with_harness(FIXTURE), cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=dict(os.environ, PORT="0"), start_new_session=True)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    stdout = server.stdout
    assert stdout is not None

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    first = lines.get(timeout=20)
    assert first.startswith("READY "), first
    return server, int(first.split()[1])


def test_url_target_ends_the_run_and_the_rest_is_error_not_fail(tmp_path):
    server, port = _start_url_target()
    try:
        proc, index, _ = _run(tmp_path, f"http://127.0.0.1:{port}", "-k", "not hang_marker")
    finally:
        server.kill()
        server.wait(timeout=5)
    cases = _by_name(index)
    assert {n: c["verdict"] for n, c in cases.items()} == {
        "test_1_answers_before": "pass",
        "test_2_exit_marker": "fail",
        "test_3_answers_after_exit": "error",
        "test_5_answers_after_hang": "error",
    }, proc.stdout[-4000:]
    assert cases["test_2_exit_marker"]["message"].startswith("target died (connection refused on 127.0.0.1:")
    assert "marker-exit" in cases["test_2_exit_marker"]["message"].splitlines()[0]
    assert cases["test_3_answers_after_exit"]["message"].startswith("target down: target died")
    assert index["totals"]["fail"] == 1
    assert proc.stdout.count("the remaining cases are reported as error (target down)") == 1
