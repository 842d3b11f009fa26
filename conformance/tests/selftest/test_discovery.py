"""The probes that stand in for a missing fixture-info answer agree with the answer itself, on the
reference server and on Node's socket.io (both answer fixture-info and have every probeable part),
and find nothing on the official-suite-only fixture. Needs build/reference-server and the Node
fixture's packages (make server conformance-node)."""

from __future__ import annotations

from collections.abc import Iterator

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
    info, how = discovery.ask_fixture_info(running)
    probed = discovery.probe(running)
    if running.name == "node-socketio-official":
        assert (info, how) == (None, "fixture-info not answered")
        assert probed == frozenset()
        return
    assert info is not None, how
    declared = frozenset(info["parts"])
    assert running.spec is not None and declared == running.spec.features
    assert probed == declared - targets.UNPROBEABLE
