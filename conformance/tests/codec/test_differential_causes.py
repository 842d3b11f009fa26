"""The causes that fuzz/differential/classify.py accepts as known compat disagreements with
Node are each recorded by i_ vectors: every vector a cause cites exists, is an i_ vector whose
compat outcome is the cause's codec error, and is itself recognised by that cause; plain packets
are recognised by none."""

from __future__ import annotations

import importlib.util
import json

import pytest

from siocodec import ROOT
from siocodec.vectors import chunk_bytes, chunk_kind

_spec = importlib.util.spec_from_file_location("classify", ROOT / "fuzz" / "differential" / "classify.py")
assert _spec is not None and _spec.loader is not None
classify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(classify)

CITED = [(cause[0], ref) for cause in classify.CAUSES for ref in cause[5]]


def as_driver_input(layer: str, vector: dict) -> bytes:
    """The vector's input as diffgen.c writes it: a sio-packet is its text; a sio-message is
    each message behind a kind byte (00 text, 01 binary), joined by the separator."""
    chunks = vector["input"]
    if layer == "sio-packet":
        return chunk_bytes(chunks[0])
    return classify.SEP.join(bytes([chunk_kind(c) == "binary"]) + chunk_bytes(c) for c in chunks)


@pytest.mark.parametrize("name,ref", CITED, ids=[ref.rsplit("/", 1)[1] for _, ref in CITED])
def test_cited_vector_is_recognised_by_its_cause(name, ref):
    path = ROOT / ref
    assert path.is_file(), f"{ref} does not exist"
    assert path.name.startswith("i_")
    vector = json.loads(path.read_text(encoding="utf-8"))
    cause = next(c for c in classify.CAUSES if c[0] == name)
    outcome = "accepts" if "decoded" in vector["compat"] else vector["compat"].get("error")
    assert outcome == cause[3], "the vector's compat outcome is not the cause's"
    assert vector["layer"] in cause[1]
    for layer in cause[1]:
        if layer == "sio-message" or vector["layer"] == "sio-packet":
            got = classify.explain(layer, cause[2], cause[3], as_driver_input(layer, vector))
            assert got is not None and got[0] == name, f"{layer}: not recognised ({got and got[0]})"


@pytest.mark.parametrize(
    "text",
    ['2["a"]', '0{"token":"x"}', '51-["a",{"_placeholder":true,"num":0}]', '2/admin,12["a"]', '2["\\ud83d\\ude00"]'],
)
def test_plain_packets_match_no_cause(text):
    data = text.encode()
    for cause in classify.CAUSES:
        for layer in cause[1]:
            probe = data if layer == "sio-packet" else b"\x00" + data
            assert classify.explain(layer, cause[2], cause[3], probe) is None, cause[0]


def test_one_unexplained_input_makes_the_category_new():
    key = "sio-packet|compat|node:accepts|compat:SIO_ERR_PKT_TYPE"
    explained, odd = b"\t{}", b"7[]"
    cat = {
        "count": 2,
        "examples": [{"input_hex": explained.hex(), "input_text": "\t{}"}],
        "inputs": [explained.hex(), odd.hex()],
    }
    verdict, note, examples = classify.classify(key, cat, [])
    assert verdict == "new" and note.startswith("1 unexplained, 1 explained")
    assert [e["input_hex"] for e in examples] == [odd.hex()]
    cat["inputs"] = [explained.hex()]
    verdict, note, examples = classify.classify(key, cat, [])
    assert verdict == "known" and "i_packet_type_space.json" in note and examples == []
