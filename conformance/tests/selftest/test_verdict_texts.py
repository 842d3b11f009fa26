"""Self-test of the verdict texts: every case's verdict names the requirement it judges (and the one
whose level it judges at, or whose defect it follows from), whatever ended it: a failed check, a
check at SHOULD level, an exception, a failed precondition, an absent feature. Runs a small synthetic
module through the plugin; no target is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFORMANCE = Path(__file__).resolve().parents[2]

CASES = '''
def test_EIO_HS_01_must_fails(case):
    case.must(False, "a MUST check", 200, 400)

def test_EIO_HS_07_should_fails(case):
    case.check(False, "a SHOULD check", 400, 200)

def test_ERR_01_judged_as_a_should(case):
    case.judge_as("EIO-HB-05")
    case.check(False, "a client ping ends the session", "closed", "open after 0.5 s")

def test_EIO_CL_03_ends_in_an_exception(case):
    raise TimeoutError("no packet within 0.50 s")

def test_EIO_CL_05_session_ended(case):
    from harness.eio import SessionEnded
    raise SessionEnded("close code=1000 reason=''", what="the CONNECT reply")

def test_EIO_UP_04_precondition(case):
    case.precondition(False, "the upgrade completed", "40{...}", "closed", caused_by="EIO-UP-03")

def test_SIO_CSR_01_absent(case):
    case.unimplemented("no recovery here")

def test_SIO_PKT_08_informational(case):
    case.informational("numeric event name", "open")
'''


def test_every_verdict_text_names_its_requirement(tmp_path):
    module = tmp_path / "test_synthetic.py"
    module.write_text(CASES, encoding="utf-8")
    index = tmp_path / "index.json"
    env = dict(os.environ, PYTHONPATH=str(CONFORMANCE))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "harness.plugin",
            "-p",
            "no:cacheprovider",
            str(module),
            "--rootdir",
            str(tmp_path),
            "--report-json",
            str(index),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    doc = json.loads(index.read_text(encoding="utf-8"))
    by_req = {c["requirement"]: c for c in doc["cases"]}
    assert set(by_req) == {
        "EIO-HS-01",
        "EIO-HS-07",
        "ERR-01",
        "EIO-CL-03",
        "EIO-CL-05",
        "EIO-UP-04",
        "SIO-CSR-01",
        "SIO-PKT-08",
    }
    for rid, c in by_req.items():
        assert c["verdict"] != "pass", c
        assert rid in c["message"], (rid, c["message"])
    assert by_req["EIO-HS-01"]["verdict"] == "fail"
    assert by_req["EIO-HS-07"]["verdict"] == "non-strict"
    assert by_req["ERR-01"]["verdict"] == "non-strict" and "EIO-HB-05" in by_req["ERR-01"]["message"]
    assert by_req["ERR-01"]["judged_as"] == "EIO-HB-05"
    assert by_req["EIO-CL-03"]["verdict"] == "fail" and "TimeoutError" in by_req["EIO-CL-03"]["actual"]
    # A case ended by an exception names the step it was at, as its Expected and in its text.
    line = CASES.splitlines().index('    raise TimeoutError("no packet within 0.50 s")') + 1
    step = f"test_synthetic.py:{line}: raise TimeoutError"
    assert step in by_req["EIO-CL-03"]["expected"] and step in by_req["EIO-CL-03"]["message"], by_req["EIO-CL-03"]
    # An ended session: what was awaited, and how and when (case clock) the session ended.
    ended = by_req["EIO-CL-05"]
    line = (
        CASES.splitlines().index('    raise SessionEnded("close code=1000 reason=\'\'", what="the CONNECT reply")') + 1
    )
    assert ended["verdict"] == "fail" and ended["expected"].startswith(
        f"'the CONNECT reply (at test_synthetic.py:{line}:"
    ), ended
    assert "session ended" in ended["actual"] and "close code=1000" in ended["actual"], ended
    assert "'last received': 'nothing'" in ended["actual"], ended
    assert by_req["EIO-UP-04"]["verdict"] == "precondition-failed" and by_req["EIO-UP-04"]["caused_by"] == "EIO-UP-03"
    assert "EIO-UP-03" in by_req["EIO-UP-04"]["message"]
    assert by_req["SIO-CSR-01"]["verdict"] == "unimplemented"
    assert by_req["SIO-PKT-08"]["verdict"] == "informational"
    # Every reason reaches the terminal too, not only the JSON index.
    for rid in by_req:
        assert rid in proc.stdout, (rid, proc.stdout[-2000:])
