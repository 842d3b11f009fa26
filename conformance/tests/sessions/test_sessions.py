"""Recorded sessions: schema, byte coverage, the recorder's splitting, replays against Node's
socket.io and the reference server, and the deterministic walkthrough (recorded twice against the
reference server, and compared byte by byte with the same client against Node's socket.io)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from recorder import annotate, compare, replay, servers, session, walkthrough, wire

SESSIONS = sorted(p for p in session.SESSIONS_DIR.glob("*.json") if p.name != "schema.json")
NODE_SESSIONS = [p for p in SESSIONS if p.name.startswith("node-")]
SCHEMA = json.loads((session.SESSIONS_DIR / "schema.json").read_text())
NODE_READY = (Path(__file__).resolve().parents[2] / "recorder" / "node" / "node_modules" / "socket.io").exists()
needs_node = pytest.mark.skipif(not NODE_READY, reason="run `make recorder-node` (npm ci) first")


def test_enough_node_sessions_covering_the_topics() -> None:
    assert len(NODE_SESSIONS) >= 15
    reqs = set().union(*(session.load(p)["requirements"] for p in NODE_SESSIONS))
    for needed in (
        "EIO-HS-01",
        "EIO-HS-02",
        "EIO-UP-01",
        "EIO-UP-03",
        "SIO-NSP-03",
        "SIO-NSP-11",
        "SIO-ACK-01",
        "SIO-ACK-03",
        "SIO-PKT-10",
        "SIO-PKT-12",
        "SIO-ROOM-01",
        "SIO-PKT-14",
    ):
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
        got += s.feed(stream[i : i + 7])
    assert [(m.kind, m.data) for m in got] == [("http-response", resp), ("http-response", upgrade), ("ws-frame", frame)]
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


# ---------------------------------------------------------------------- the deterministic walkthrough
MIN_MESSAGES = 60  # the walkthrough has one message per step; fewer means steps went missing
MIN_BYTES_COMPARED = 5000


@pytest.fixture(scope="module")
def reference_walkthrough() -> dict:
    assert servers.REFERENCE.exists(), "build/reference-server is missing: run `make server`"
    return walkthrough.record("reference")


def test_walkthrough_is_byte_identical_when_recorded_again(reference_walkthrough: dict) -> None:
    first = session.dumps(reference_walkthrough).encode("utf-8")
    second = session.dumps(walkthrough.record("reference")).encode("utf-8")
    assert len(reference_walkthrough["messages"]) >= MIN_MESSAGES
    assert reference_walkthrough["recorded"]["deterministic_ids"] is True
    assert first == second, f"two recordings differ from byte {next_difference(first, second)}"
    committed = walkthrough.OUTS["reference"].read_bytes()
    assert first == committed, (
        f"vectors/sessions/walkthrough.json differs from a new recording from byte "
        f"{next_difference(first, committed)}: run `make walkthrough` (and `make docs`)"
    )


@needs_node
def test_walkthrough_on_node_gives_the_same_bytes_apart_from_variable_fields(reference_walkthrough: dict) -> None:
    node = walkthrough.record("node")
    committed = walkthrough.OUTS["node"].read_bytes()
    assert session.dumps(node).encode("utf-8") == committed, (
        "vectors/sessions/walkthrough-node.json is stale: run `make walkthrough`"
    )
    result = compare.compare(reference_walkthrough, node)
    assert result.ok, "\n".join(d.describe(("reference", "node")) for d in result.unexplained)
    total = sum(len(session.message_bytes(m)) for m in reference_walkthrough["messages"])
    assert result.messages == len(reference_walkthrough["messages"]) >= MIN_MESSAGES
    assert result.bytes_compared >= max(MIN_BYTES_COMPARED, 0.9 * total), (result.bytes_compared, total)
    # Frames and requests are compared whole: they may only differ inside variable fields. With both
    # servers in deterministic mode even those are equal: only HTTP response heads differ.
    both = reference_walkthrough["recorded"]["deterministic_ids"] and node["recorded"]["deterministic_ids"]
    for d in result.differences:
        kind = reference_walkthrough["messages"][d.message]["kind"]
        assert kind == "http-response" or (d.reason or "").startswith("inside the variable field"), d.describe()
        if both:
            assert d.reason in set(compare.SERVER_HEADERS.values()) | set(compare.LAYOUT.values()), d.describe()


def next_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


# ---------------------------------------------------------------------- the comparison itself
@pytest.fixture(scope="module")
def committed_pair() -> tuple[dict, dict]:
    return session.load(walkthrough.OUTS["reference"]), session.load(walkthrough.OUTS["node"])


def set_bytes(msg: dict, data: bytes) -> None:
    msg["bytes"] = {"text": data.decode("utf-8")} if "text" in msg["bytes"] else {"hex": data.hex()}


def flip(msg: dict, offset: int) -> None:
    data = bytearray(session.message_bytes(msg))
    data[offset] = ord("X") if data[offset] != ord("X") else ord("Y")
    set_bytes(msg, bytes(data))


def test_committed_recordings_differ_only_where_explained(committed_pair: tuple[dict, dict]) -> None:
    ref, node = committed_pair
    result = compare.compare(ref, node)
    assert result.ok, "\n".join(d.describe(("reference", "node")) for d in result.unexplained)
    assert result.messages >= MIN_MESSAGES and result.bytes_compared >= MIN_BYTES_COMPARED
    assert compare.compare(ref, ref).differences == []


def test_a_difference_outside_variable_fields_is_named_and_fails(committed_pair: tuple[dict, dict]) -> None:
    ref, node = committed_pair
    broken = copy.deepcopy(node)
    # A server frame (an ack, say): the last byte of its payload is outside every variable field.
    msg = next(
        m
        for m in broken["messages"]
        if m["kind"] == "ws-frame"
        and m["direction"] == session.S2C
        and not m["variable"]
        and len(session.message_bytes(m)) > 4
    )
    at = len(session.message_bytes(msg)) - 2
    flip(msg, at)
    result = compare.compare(ref, broken)
    assert not result.ok
    [d] = result.unexplained
    assert (d.message, d.first, d.second) == (msg["index"], (at, 1), (at, 1))
    assert f"message {msg['index']}" in d.describe() and "UNEXPLAINED" in d.describe()


def test_a_difference_inside_a_variable_field_is_explained(committed_pair: tuple[dict, dict]) -> None:
    ref, node = committed_pair
    broken = copy.deepcopy(node)
    msg = next(m for m in broken["messages"] if m["kind"] == "http-request" and m["variable"])
    v = msg["variable"][0]
    flip(msg, v["offset"] + v["length"] - 1)
    before = compare.compare(ref, node).differences
    result = compare.compare(ref, broken)
    assert result.ok
    [new] = [d for d in result.differences if d not in before]
    assert new.first == (v["offset"], v["length"]) and new.reason == f"inside the variable field {v['name']}"


def test_header_differences_outside_the_allowed_list_fail(committed_pair: tuple[dict, dict]) -> None:
    ref, node = committed_pair
    index = next(
        m["index"]
        for m in node["messages"]
        if m["kind"] == "http-response" and session.message_bytes(m).endswith(b"\r\n\r\n6")
    )  # the noop answer of a GET

    def changed(old: bytes, new: bytes) -> list[compare.Difference]:
        broken = copy.deepcopy(node)
        msg = broken["messages"][index]
        data = session.message_bytes(msg)
        assert old in data
        set_bytes(msg, data.replace(old, new, 1))
        return compare.compare(ref, broken).unexplained

    # A protocol header's value, a protocol header missing, cache-control missing on a GET answer.
    [d] = changed(b"text/plain; charset=UTF-8", b"text/plain; charset=UTF-9")
    assert d.field == "header content-type"
    [d] = changed(b"Content-Type: text/plain; charset=UTF-8\r\n", b"")
    assert d.field == "header content-type" and d.second == (0, 0)
    [d] = changed(b"cache-control: no-store\r\n", b"")
    assert d.field == "header cache-control"
    # Moving a header is explained (order), changing the body is not.
    assert (
        changed(
            b"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n",
            b"Keep-Alive: timeout=5\r\nConnection: keep-alive\r\n",
        )
        == []
    )
    [d] = changed(b"\r\n\r\n6", b"\r\n\r\n5")
    assert d.field.startswith("Engine.IO type")


def test_missing_or_reordered_messages_fail(committed_pair: tuple[dict, dict]) -> None:
    ref, node = committed_pair
    shorter = copy.deepcopy(node)
    shorter["messages"].pop()
    assert not compare.compare(ref, shorter).ok
    swapped = copy.deepcopy(node)
    ms = swapped["messages"]
    i = next(i for i in range(len(ms) - 1) if ms[i]["direction"] != ms[i + 1]["direction"])
    ms[i], ms[i + 1] = ms[i + 1], ms[i]
    assert not compare.compare(ref, swapped).ok
