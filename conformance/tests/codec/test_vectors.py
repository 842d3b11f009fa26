"""Replays every annotated vector under vectors/ through libsiocodec.

For each vector: the file passes the JSON Schema and the naming rules, every byte is explained,
the decode gives the stated structure or error, and accepted inputs re-encode to the same bytes.
Decoding and re-encoding run once on each codec path the library and CPU offer (sio/simd.h:
scalar, and the SSE2, AVX2 or NEON scanners).
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from siocodec import CodecError, simd_paths, simd_select, simd_selected
from siocodec.vectors import VECTOR_DIR, adapters, annotation_problems, chunk_bytes, load_vectors

VECTORS = load_vectors()
ADAPTERS = adapters()
SCHEMA = json.loads((VECTOR_DIR / "schema.json").read_text())
IDS = [v.name for v in VECTORS]
PATHS = simd_paths()


@pytest.fixture(params=PATHS)
def codec_path(request):
    """Runs the test on one codec path, then puts the path in use before back."""
    before = simd_selected()
    simd_select(request.param)
    yield request.param
    simd_select(before)


def outcome(vector, options):
    adapter = ADAPTERS[vector.data["layer"]]
    try:
        return {"decoded": adapter.decode(vector.chunks, vector.kinds, options)}
    except CodecError as exc:
        return {"error": exc.name}


def expected_outcome(block):
    return {"decoded": block["decoded"]} if "decoded" in block else {"error": block["error"]}


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_schema_and_naming(vector):
    jsonschema.validate(vector.data, SCHEMA)
    v = vector.data
    assert vector.path.name[:2] in ("y_", "n_", "i_"), "file name must start with y_, n_ or i_"
    assert vector.data["layer"] in ADAPTERS, f"no codec adapter for layer {v['layer']}"
    if vector.verdict == "y":
        assert "decoded" in v and "error" not in v and "strict" not in v
    elif vector.verdict == "n":
        assert "error" in v and "decoded" not in v and "strict" not in v
    else:
        assert "strict" in v and "compat" in v and v.get("behaviours"), (
            "i_ vectors state the strict and compat outcomes and who does what"
        )
    if v.get("reencode") is False:
        assert v.get("why"), "a vector that is not re-encoded says why"


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_every_byte_explained(vector):
    problems = []
    for i, chunk in enumerate(vector.data["input"]):
        problems += [f"chunk {i}: {p}" for p in annotation_problems(chunk, chunk_bytes(chunk))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_decode(vector, codec_path):
    v = vector.data
    options = v.get("options", {})
    if vector.verdict in ("y", "n"):
        assert outcome(vector, options) == expected_outcome(v)
    else:
        for mode in ("strict", "compat"):
            block = v[mode]
            opts = {**options, **block.get("options", {})}
            assert outcome(vector, opts) == expected_outcome(block), f"{mode} outcome differs"


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v.verdict == "y" and v.data.get("reencode", True)],
    ids=[v.name for v in VECTORS if v.verdict == "y" and v.data.get("reencode", True)],
)
def test_reencode(vector, codec_path):
    v = vector.data
    adapter = ADAPTERS[v["layer"]]
    expected = [chunk_bytes(c) for c in v["encoded"]] if "encoded" in v else vector.chunks
    assert adapter.encode(v["decoded"], v.get("options", {})) == expected
