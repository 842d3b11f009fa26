"""The probes that stand in for a missing fixture-info answer agree with the answer itself, on the
reference server and on Node's socket.io (both answer fixture-info and have every probeable part),
and find nothing on the official-suite-only fixture. Needs build/reference-server and the Node
fixture's packages (make server conformance-node)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from harness import discovery, targets


@pytest.fixture(params=["reference", "node-socketio", "node-socketio-official"])
def running(request: pytest.FixtureRequest) -> Iterator[targets.Target]:
    spec = targets.lookup(request.param)
    if any(not need.exists() for need in spec.needs):
        pytest.skip(f"{request.param} is not built or installed")
    t = targets.start(spec)
    try:
        yield t
    finally:
        targets.stop(t)


def test_probes_agree_with_fixture_info(running):
    info, how, answered = discovery.ask_fixture_info(running)
    probed = discovery.probe(running)
    if running.name == "node-socketio-official":
        assert (info, how, answered) == (None, "fixture-info not answered", False)
        assert probed == frozenset()
        return
    assert info is not None and answered, how
    declared = frozenset(info["parts"])
    assert running.spec is not None and declared == running.spec.features
    assert probed == declared - targets.UNPROBEABLE


def test_fixture_info_is_asked_again_while_unanswered(monkeypatch):
    """A fixture that misses a reply deadline (a loaded machine) is asked again, a bounded number of
    times; an answer that came, usable or not, is final; every attempt is named when none answered."""
    answers: list[tuple[Any, str, bool]] = [
        (None, "fixture-info not answered", False),
        ({"parts": []}, "answered", True),
    ]
    asked: list[int] = []

    def ask(target: Any) -> tuple[Any, str, bool]:
        asked.append(1)
        return answers[min(len(asked), len(answers)) - 1]

    monkeypatch.setattr(discovery, "ask_fixture_info", ask)
    assert discovery.ask_fixture_info_patiently(cast(targets.Target, None), 3) == ({"parts": []}, "answered")
    assert len(asked) == 2

    answers[:] = [(None, "fixture-info not answered", False)]
    asked.clear()
    info, how = discovery.ask_fixture_info_patiently(cast(targets.Target, None), 3)
    assert (info, len(asked)) == (None, 3)
    assert how == "3 attempts: " + "; ".join(["fixture-info not answered"] * 3)

    unusable = "fixture-info answer unusable: `parts` is not a list of names: 1"
    answers[:] = [(None, unusable, True)]
    asked.clear()
    assert discovery.ask_fixture_info_patiently(cast(targets.Target, None), 3) == (None, unusable)
    assert len(asked) == 1
