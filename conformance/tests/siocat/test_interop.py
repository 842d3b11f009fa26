"""The interop driver (conformance/interop.py, `make interop`) against the reference server in
one client mode: every scenario runs and passes, so the driver and its checks stay sound."""

from __future__ import annotations

import interop


def test_interop_against_the_reference_server() -> None:
    col = interop.run_target("reference", interop.MODES[:1])
    verdicts = {s: v.verdict for (m, s), v in col.cells.items()}
    assert verdicts == {s.name: "pass" for s in interop.SCENARIOS}, {
        s: v.detail for (m, s), v in col.cells.items() if v.verdict != "pass"
    }
    page = interop.render([col], interop.MODES[:1])
    assert "| polling+websocket | 7/7 |" in page
