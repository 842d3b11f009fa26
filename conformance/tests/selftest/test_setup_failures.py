"""Self-test: when the step that opens a case fails (a handshake, joining a namespace), the case reports
precondition-failed caused by that step's requirement, with what the target sent, not a verdict on its
own requirement; a case that judges that very requirement judges the failed step at its own level.

A small synthetic module runs through the plugin against the reference server, which refuses an unknown
namespace and an unknown path for real; the late reply is made by stopping the server (SIGSTOP) while
the CONNECT is on its way and letting it run again after the reply deadline, as a starved target does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[2]
SERVER = CONFORMANCE.parent / "build" / "reference-server"

CASES = '''
import os
import signal
import threading

from harness.sio import SioClient


def test_SIO_NSP_10_join_refused(case, opener):
    opener.sio("websocket", "/nowhere")
    case.must(False, "not reached", "", "")


def test_SIO_PKT_13_join_refused(case, opener):
    opener.sio("websocket", "/nowhere")
    case.must(False, "not reached", "", "")


def test_EIO_HS_08_handshake_refused(case, opener):
    opener.eio("polling", "/nowhere/")
    case.must(False, "not reached", "", "")


def test_SIO_NSP_03_join_answered_late(case, opener, target):
    c = SioClient(opener.eio("websocket"))
    pid = target.process.pid
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(target.reply + 0.25, os.kill, (pid, signal.SIGCONT))
    resume.start()
    try:
        opener.join(c, "/")
    finally:
        resume.join()
    case.must(False, "not reached", "", "")
'''


@pytest.mark.skipif(not SERVER.exists(), reason="build/reference-server not built (make server)")
def test_a_failed_opening_step_is_a_precondition_of_the_case(tmp_path: Path) -> None:
    module = tmp_path / "test_synthetic_setup.py"
    module.write_text(CASES, encoding="utf-8")
    index = tmp_path / "index.json"
    env = dict(os.environ, PYTHONPATH=str(CONFORMANCE))
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "harness.plugin", "-p", "no:cacheprovider", str(module),
            "--rootdir", str(tmp_path), "--target", "reference", "--report-json", str(index)]  # fmt: skip
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert index.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    by_req = {c["requirement"]: c for c in json.loads(index.read_text(encoding="utf-8"))["cases"]}

    refused = by_req["SIO-NSP-10"]
    assert (refused["verdict"], refused["caused_by"]) == ("precondition-failed", "SIO-PKT-13"), refused
    assert "44/nowhere," in refused["actual"], refused["actual"]  # the bytes the server answered
    assert "SIO-NSP-10" in refused["message"] and "follows from SIO-PKT-13" in refused["message"]

    own = by_req["SIO-PKT-13"]
    assert (own["verdict"], own["caused_by"]) == ("fail", None), own
    assert "44/nowhere," in own["actual"]

    handshake = by_req["EIO-HS-08"]
    assert (handshake["verdict"], handshake["caused_by"]) == ("precondition-failed", "EIO-HS-01"), handshake
    assert "HTTP 404" in handshake["actual"], handshake["actual"]  # what the server answered

    late = by_req["SIO-NSP-03"]
    assert (late["verdict"], late["caused_by"]) == ("precondition-failed", "SIO-PKT-13"), late
    assert "'late reply': '40{\"sid\"" in late["actual"], late["actual"]
    assert "s after the CONNECT" in late["actual"]
