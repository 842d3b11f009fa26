"""The page generator: its byte-coverage and prose checks, the walkthrough's reach over the checklist
groups, numbers computed from the bytes, and the committed pages being current."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from .conftest import ROOT, render_module

WALKTHROUGH = ROOT / "vectors" / "sessions" / "walkthrough.json"


@pytest.fixture(scope="module")
def session() -> dict:
    return json.loads(WALKTHROUGH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    assert render_module().generate(out) == []
    return out


def test_repository_passes_every_check() -> None:
    assert render_module().generate(ROOT / "build" / "unused", check_only=True) == []


def test_unexplained_byte_is_reported(session: dict) -> None:
    broken = copy.deepcopy(session)
    msg = next(m for m in broken["messages"] if len(m["annotations"]) > 2)
    gone = msg["annotations"].pop(1)
    problems = render_module().check_walkthrough(broken)
    assert any(f"bytes {gone['offset']}..{gone['offset'] + gone['length'] - 1} are not explained" in p
               for p in problems), problems


def test_unexplained_vector_byte_is_reported() -> None:
    mod = render_module()
    vector = next(v for v in mod.load_vectors() if len(mod.chunk_bytes(v.data["input"][0])) > 4)
    broken = copy.deepcopy(vector)
    broken.data["input"][0]["annotations"][-1]["length"] -= 1
    assert any("annotations end at byte" in p for p in mod.check_vectors([broken]))


def test_typed_numbers_in_prose_are_refused(session: dict) -> None:
    broken = copy.deepcopy(session)
    broken["messages"][0]["note"] = "The server answers with 3 packets."
    broken["messages"][1]["title"] = "Two packets"
    problems = render_module().check_walkthrough(broken)
    assert sum("contains a number" in p for p in problems) == 2


def test_walkthrough_touches_every_checklist_group(session: dict) -> None:
    mod = render_module()
    groups = {mod.group_of(r) for m in session["messages"] for r in m["requirements"]}
    assert set(mod.CHECKLIST_GROUPS) <= groups
    without_g = copy.deepcopy(session)
    for m in without_g["messages"]:
        m["requirements"] = [r for r in m["requirements"] if not r.startswith("ERR-")]
    assert "walkthrough touches no requirement of checklist group G" in mod.check_walkthrough(without_g)


def test_intro_numbers_are_computed_from_the_bytes(session: dict, pages: Path) -> None:
    page = (pages / "walkthrough.html").read_text(encoding="utf-8")
    msgs = session["messages"]
    sizes = [len(render_module().message_bytes(m)) for m in msgs]
    c2s = sum(s for s, m in zip(sizes, msgs) if m["direction"] == "client-to-server")
    s2c = sum(s for s, m in zip(sizes, msgs) if m["direction"] == "server-to-client")
    assert f"{len(msgs)} messages on {len({m['connection'] for m in msgs})} TCP connections" in page
    assert f"{c2s} bytes from the clients and {s2c} bytes from the server" in page
    assert f"{sum(len(m['annotations']) for m in msgs)} labelled fields" in page
    # Every box states its own size, computed from its bytes.
    shown = [int(n) for n in re.findall(r'<span class="size">(\d+) bytes?</span>', page)]
    assert shown == sizes


def test_every_message_has_a_box_and_every_field_its_explanation(session: dict, pages: Path) -> None:
    page = (pages / "walkthrough.html").read_text(encoding="utf-8")
    assert re.findall(r'<article class="msg [^"]*" id="m(\d+)"', page) == [str(m["index"]) for m in session["messages"]]
    explained = page.count('<p class="explain">')
    assert explained == sum(len(m["annotations"]) for m in session["messages"])


def test_vector_index_counts(pages: Path) -> None:
    mod = render_module()
    vectors = mod.load_vectors()
    index = (pages / "vectors.html").read_text(encoding="utf-8")
    assert f"{len(vectors)} vectors, every byte explained" in index
    for group in mod.VECTOR_GROUPS:
        page = (pages / f"vectors-{group}.html").read_text(encoding="utf-8")
        assert page.count('<details class="vector ') == sum(v.group == group for v in vectors)


def test_committed_pages_are_current(pages: Path) -> None:
    stale = [p.name for p in sorted(pages.iterdir())
             if not (ROOT / "docs" / p.name).exists()
             or (ROOT / "docs" / p.name).read_bytes() != p.read_bytes()]
    assert stale == [], f"docs/ is out of date, run `make docs`: {stale}"
