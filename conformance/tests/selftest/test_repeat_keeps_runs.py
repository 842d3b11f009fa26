"""--repeat N: a case whose verdict changed between runs keeps every run's whole result in a file of its
own (runs/<case>/run-<n>.json beside the JSON index), named in the result; a case whose verdict held
keeps none."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import plugin


def _repeat(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    runs: list[int] = []
    logged: list[Any] = []

    def protocol(item: Any, nextitem: Any, log: bool) -> list[Any]:
        outcome = outcomes[len(runs)]
        runs.append(1)
        return [SimpleNamespace(conformance=dict(outcome))]

    monkeypatch.setattr(plugin, "runtestprotocol", protocol)
    options = {"--repeat": len(outcomes), "--report-json": str(tmp_path / "out" / "index.json")}
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    hooks = SimpleNamespace(
        pytest_runtest_logstart=lambda **_: None,
        pytest_runtest_logreport=lambda report: logged.append(report),
        pytest_runtest_logfinish=lambda **_: None,
    )
    item = SimpleNamespace(
        nodeid="tests/t.py::test_X_01[a b]", location=("t.py", 1, "x"), ihook=hooks, config=config, parent=None
    )
    assert plugin.pytest_runtest_protocol(item, None) is True  # type: ignore[arg-type]
    assert len(runs) == len(outcomes)
    return logged[-1].conformance


def _outcome(verdict: str, n: int) -> dict[str, Any]:
    return {"verdict": verdict, "message": f"run {n}", "transcript": [{"dir": ">", "text": f"sent {n}"}]}


def test_every_run_of_a_changed_case_is_kept(monkeypatch, tmp_path):
    verdicts = ["pass", "fail", "pass", "pass", "fail"]
    result = _repeat(monkeypatch, tmp_path, [_outcome(v, n) for n, v in enumerate(verdicts, 1)])
    assert result["repeat"] == verdicts and result["verdict"] == "fail"
    assert [r["run"] for r in result["runs"]] == [1, 2, 3, 4, 5]
    assert [r["verdict"] for r in result["runs"]] == verdicts
    for n, run in enumerate(result["runs"], 1):
        path = Path(run["file"])
        assert path.parent.parent == (tmp_path / "out" / "runs").resolve()
        kept = json.loads(path.read_text())
        assert kept["run"] == n and kept["verdict"] == verdicts[n - 1]
        assert kept["transcript"] == [{"dir": ">", "text": f"sent {n}"}]  # that run's bytes, not another's
    assert [c["run"] for c in result["changed"]] == [1, 2]


def test_a_case_whose_verdict_held_keeps_no_runs(monkeypatch, tmp_path):
    result = _repeat(monkeypatch, tmp_path, [_outcome("pass", n) for n in range(1, 4)])
    assert "runs" not in result and "changed" not in result
    assert not (tmp_path / "out" / "runs").exists()
