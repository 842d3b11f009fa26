"""Recorded sessions: schema, byte coverage, the recorder's splitting, replays against Node's
socket.io and the reference server, and the deterministic walkthrough."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from recorder import annotate, replay, session, walkthrough, wire

SESSIONS = sorted(p for p in session.SESSIONS_DIR.glob("*.json") if p.name != "schema.json")
NODE_SESSIONS = [p for p in SESSIONS if p.name.startswith("node-")]
SCHEMA = json.loads((session.SESSIONS_DIR / "schema.json").read_text())
NODE_READY = (Path(__file__).resolve().parents[2] / "recorder" / "node" / "node_modules" / "socket.io").exists()
needs_node = pytest.mark.skipif(not NODE_READY, reason="run `make recorder-node` (npm ci) first")


def test_enough_node_sessions_covering_the_topics() -> None:
    assert len(NODE_SESSIONS) >= 15
    reqs = set().union(*(session.load(p)["requirements"] for p in NODE_SESSIONS))
    for needed in ("EIO-HS-01", "EIO-HS-02", "EIO-UP-01", "EIO-UP-03", "SIO-NSP-03", "SIO-NSP-11",
                   "SIO-ACK-01", "SIO-ACK-03", "SIO-PKT-10", "SIO-PKT-12", "SIO-ROOM-01", "SIO-PKT-14"):
        assert needed in reqs, needed


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.stem)
def test_session_is_valid_and_fully_explained(path: Path) -> None:
    data = session.load(path)
    jsonschema.validate(data, SCHEMA)
    for m in data["messages"]:
        raw = session.message_bytes(m)
        spans = [annotate.Span(a["offset"], a["length"], a["label"], a["note"]) for a in m["annotations"]]
        annotate.check_partition(spans, len(raw))
        for v in m["variable"]:
            assert v["offset"] + v["length"] <= len(raw)


def test_splitter_handles_pieces_chunked_bodies_and_frames() -> None:
    s = wire.Splitter(False)
    resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    frame = wire.ws_frame(1, b"x" * 300, None)
    stream = resp + upgrade + frame
    got = []
    for i in range(0, len(stream), 7):
        got += s.feed(stream[i:i + 7])
    assert [(m.kind, m.data) for m in got] == [("http-response", resp), ("http-response", upgrade),
                                               ("ws-frame", frame)]
    op, fin, payload, key, _ = wire.ws_unmask(wire.ws_frame(2, b"\x01\x02", b"abcd"))
    assert (op, fin, payload, key) == (2, True, b"\x01\x02", b"abcd")


def test_variable_fields_match_other_values_of_any_length() -> None:
    recorded = b'40{"sid":"AAAA"}'
    variables = [{"offset": 10, "length": 4, "name": "socket-id-1"}]
    assert session.compare_packet(recorded, variables, b'40{"sid":"xyz-123456"}') == {"socket_id_1": b"xyz-123456"}
    assert session.compare_packet(recorded, variables, b'41{"sid":"AAAA"}') is None


@needs_node
@pytest.mark.parametrize("path", NODE_SESSIONS + [session.SESSIONS_DIR / "walkthrough.json"], ids=lambda p: p.stem)
@pytest.mark.parametrize("target", ["node", "reference"])
def test_replay(path: Path, target: str) -> None:
    result = replay.replay(session.load(path), target)
    assert result.ok, "\n".join(result.problems)
    assert result.checked > 0


@needs_node
def test_recorder_writes_a_replayable_session(tmp_path: Path) -> None:
    from recorder import record
    path = record.record("ack-client-to-server", tmp_path)
    data = session.load(path)
    jsonschema.validate(data, SCHEMA)
    kinds = {(m["direction"], m["kind"]) for m in data["messages"]}
    assert ("client-to-server", "ws-frame") in kinds and ("server-to-client", "ws-frame") in kinds
    assert replay.replay(data, "node").ok


@needs_node
def test_walkthrough_is_byte_identical_when_recorded_again() -> None:
    first = walkthrough.record("node")
    second = walkthrough.record("node")
    assert first == second
    committed = session.load(walkthrough.OUT)
    assert first == committed, "vectors/sessions/walkthrough.json is stale: run `make walkthrough`"


@needs_node
def test_walkthrough_gives_the_same_bytes_on_node_and_reference() -> None:
    node = walkthrough.record("node")
    reference = walkthrough.record("reference")
    problems, header_notes = session.diff_sessions(node, reference)
    assert problems == []
    # What differs is marked variable (ids) or is an HTTP header outside the protocol.
    assert all(" header " in n for n in header_notes)
