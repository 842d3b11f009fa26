"""Self-test of conformance/matrix.py: a report that holds fewer cases than its run collected (pytest
interrupted, a worker lost) is named on the matrix pages with the end of its run's output, and the
matrix exits non-zero, so it cannot pass for a whole run. No target is needed."""

from __future__ import annotations

import json
from pathlib import Path

import matrix

CASES = [f"tests/protocol/test_x.py::test_EIO_PKT_0{n}_case" for n in range(1, 4)]


def _index(folder: Path, reported: int, output: str | None) -> Path:
    """A report of CASES' first `reported` cases (all pass), beside the run's output when given."""
    folder.mkdir(parents=True)
    cases = [{"case": c, "requirement": "EIO-PKT-01", "verdict": "pass"} for c in CASES[:reported]]
    doc = {
        "target": folder.name,
        "requirements": {"EIO-PKT-01": {"level": "MUST", "verdict": "pass", "cases": reported}},
        "cases_collected": len(CASES),
        "cases_missing": CASES[reported:],
        "exit_status": 2 if reported < len(CASES) else 0,
        "cases": cases,
    }
    (folder / "index.json").write_text(json.dumps(doc), encoding="utf-8")
    if output is not None:
        (folder / "output.log").write_text(output, encoding="utf-8")
    return folder / "index.json"


def test_a_report_cut_short_is_named_with_its_output(tmp_path, capsys):
    whole = _index(tmp_path / "whole", 3, "3 passed\n")
    short = _index(tmp_path / "short", 1, "".join(f"line {n}\n" for n in range(100)) + "worker crashed\n")
    assert matrix.main(["--out", str(tmp_path / "pages"), str(whole), str(short)]) == 1
    page = (tmp_path / "pages" / "matrix.md").read_text(encoding="utf-8")
    section = page.split("## Reports cut short", 1)[1].split("## Targets", 1)[0]
    assert "**short**: 1 of 3 collected cases reported (pytest exit status 2); 2 missing" in section
    assert CASES[1] in section and "worker crashed" in section and "line 99" in section
    assert "line 60\n" not in section  # only the end of the output
    assert "**whole**" not in section
    assert "Reports cut short" in (tmp_path / "pages" / "matrix.html").read_text(encoding="utf-8")
    assert "REPORT CUT SHORT short" in capsys.readouterr().err


def test_whole_reports_leave_no_such_section(tmp_path):
    whole = _index(tmp_path / "whole", 3, None)
    assert matrix.main(["--out", str(tmp_path / "pages"), str(whole)]) == 0
    assert "cut short" not in (tmp_path / "pages" / "matrix.md").read_text(encoding="utf-8")
