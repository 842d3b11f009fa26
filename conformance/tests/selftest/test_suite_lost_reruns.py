"""A case that did not pass because its session ended outside the case (the suite itself lost it, or the
target's heartbeat ended it although the pong was in time) is run again, SUITE_LOST_RUNS runs at most:
the bound, and what the report says at it and before it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness import plugin


def _run(monkeypatch: pytest.MonkeyPatch, outcomes: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Runs _run_while_the_suite_lost on an item whose runs give `outcomes` in turn (the last repeated):
    how many runs were made, and the result logged."""
    runs: list[int] = []
    logged: list[Any] = []

    def protocol(item: Any, nextitem: Any, log: bool) -> list[Any]:
        outcome = outcomes[min(len(runs), len(outcomes) - 1)]
        runs.append(1)
        return [SimpleNamespace(conformance=dict(outcome))]

    monkeypatch.setattr(plugin, "runtestprotocol", protocol)
    hooks = SimpleNamespace(
        pytest_runtest_logstart=lambda **_: None,
        pytest_runtest_logreport=lambda report: logged.append(report),
        pytest_runtest_logfinish=lambda **_: None,
    )
    item = SimpleNamespace(nodeid="case", location=("case.py", 1, "case"), ihook=hooks)
    assert plugin._run_while_the_suite_lost(item, None) is True  # type: ignore[arg-type]
    return len(runs), logged[-1].conformance


LOST = {"verdict": "fail", "message": "m", "suite_lost": "the target's ping was not answered"}


def test_a_case_lost_in_every_run_stops_at_the_bound(monkeypatch):
    runs, result = _run(monkeypatch, [LOST])
    assert runs == plugin.SUITE_LOST_RUNS  # never one more
    assert f"the suite lost the session in each of {runs} runs" in result["message"]
    assert [r["run"] for r in result["earlier_runs"]] == list(range(1, runs))


def test_a_case_lost_up_to_the_last_run_takes_that_runs_verdict(monkeypatch):
    passed = {"verdict": "pass", "message": "m"}
    runs, result = _run(monkeypatch, [LOST] * (plugin.SUITE_LOST_RUNS - 1) + [passed])
    assert runs == plugin.SUITE_LOST_RUNS
    assert result["verdict"] == "pass" and "each of" not in result["message"]
    assert len(result["earlier_runs"]) == plugin.SUITE_LOST_RUNS - 1


def test_a_failure_the_suite_did_not_cause_is_not_run_again(monkeypatch):
    failed = {"verdict": "fail", "message": "m"}
    runs, result = _run(monkeypatch, [failed])
    assert runs == 1 and "earlier_runs" not in result
    runs, result = _run(monkeypatch, [LOST, failed])
    assert runs == 2 and result["verdict"] == "fail" and len(result["earlier_runs"]) == 1


LAPSE = {
    "verdict": "fail",
    "message": "m",
    "heartbeat_lapse": "answered 0.001 s after it arrived, yet the session ended",
}


def test_a_heartbeat_end_after_a_pong_in_time_is_run_again(monkeypatch):
    """The target's heartbeat fired though the suite's pong was in time: not the case's input, so the case
    runs again; in every run, the verdict stays and its text says so, each earlier run listed."""
    runs, result = _run(monkeypatch, [LAPSE, {"verdict": "pass", "message": "m"}])
    assert runs == 2 and result["verdict"] == "pass"
    assert result["earlier_runs"] == [
        {"verdict": "fail", "message": "m", "heartbeat_lapse": LAPSE["heartbeat_lapse"], "run": 1}
    ]
    runs, result = _run(monkeypatch, [LAPSE])
    assert runs == plugin.SUITE_LOST_RUNS and result["verdict"] == "fail"
    assert "ended the session although the suite's pong was in time in each of 3 runs" in result["message"]
