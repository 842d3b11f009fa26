"""The generated pages in a real headless browser (Debian's chromium): they render, every message
of the walkthrough has its box, and a field's explanation appears when it is expanded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cdp import Browser
from .conftest import ROOT, render_module

SCREENSHOT = ROOT / "build" / "docs-screenshots"


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    assert render_module().generate(out) == []
    return out


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def test_walkthrough_renders_every_message_box(pages: Path, browser: Browser) -> None:
    session = json.loads((ROOT / "vectors" / "sessions" / "walkthrough.json").read_text())
    tab = browser.open((pages / "walkthrough.html").as_uri())
    assert browser.evaluate(tab, "document.querySelector('h1').textContent") == "The illustrated Socket.IO connection"
    shown = browser.evaluate(tab, "[...document.querySelectorAll('article.msg')].map(a => +a.dataset.index)")
    assert shown == [m["index"] for m in session["messages"]]
    sides = browser.evaluate(
        tab,
        "[...document.querySelectorAll('article.msg')].map(a => "
        "a.classList.contains('client') ? 'client-to-server' : 'server-to-client')",
    )
    assert sides == [m["direction"] for m in session["messages"]]
    # Client boxes sit on the left, server boxes on the right: the stylesheet was applied.
    lefts = browser.evaluate(
        tab,
        "['article.msg.client', 'article.msg.server'].map(s => document.querySelector(s).getBoundingClientRect().left)",
    )
    assert lefts[0] < lefts[1]
    browser.screenshot(tab, SCREENSHOT / "walkthrough.png")
    assert (SCREENSHOT / "walkthrough.png").stat().st_size > 10000


def test_field_explanation_appears_on_expanding(pages: Path, browser: Browser) -> None:
    session = json.loads((ROOT / "vectors" / "sessions" / "walkthrough.json").read_text())
    msg = next(m for m in session["messages"] if m["kind"] == "ws-frame" and len(m["annotations"]) > 3)
    note = sorted(msg["annotations"], key=lambda a: a["offset"])[-1]["note"]
    tab = browser.open((pages / "walkthrough.html").as_uri())
    sel = f"#m{msg['index']}"
    visible = (
        f"(() => {{ const p = [...document.querySelectorAll('{sel} p.explain')].pop(); "
        "const r = p.getBoundingClientRect(); "
        "return [p.textContent, p.checkVisibility() && r.height > 0 && r.width > 0]; })()"
    )
    text, seen = browser.evaluate(tab, visible)
    assert text == note and not seen, "an explanation is visible before anything is expanded"
    browser.evaluate(tab, f"document.querySelector('{sel} details.msg-fields').open = true")
    browser.evaluate(tab, f"[...document.querySelectorAll('{sel} details.field-details')].pop().open = true")
    text, seen = browser.evaluate(tab, visible)
    assert seen and text == note
    browser.evaluate(tab, f"document.querySelector('{sel}').scrollIntoView()")
    browser.screenshot(tab, SCREENSHOT / "walkthrough-expanded.png")


def test_node_comparison_is_shown_in_every_box(pages: Path, browser: Browser) -> None:
    session = json.loads((ROOT / "vectors" / "sessions" / "walkthrough.json").read_text())
    node = json.loads((ROOT / "vectors" / "sessions" / "walkthrough-node.json").read_text())
    result = render_module().session_compare.compare(session, node)
    tab = browser.open((pages / "walkthrough.html").as_uri())
    summary = browser.evaluate(tab, "document.querySelector('details.comparison summary').textContent")
    assert summary.endswith(f"{result.identical} of {result.messages} messages byte-identical")
    # Every box that has bytes says whether Node sent the same ones.
    boxes = browser.evaluate(
        tab,
        "[...document.querySelectorAll('article.msg:not(.close)')].map(a => "
        "a.querySelectorAll(':scope > .other').length)",
    )
    assert boxes == [1] * sum(m["kind"] != "close" for m in session["messages"])
    differing = sorted({d.message for d in result.differences})
    shown = browser.evaluate(
        tab, "[...document.querySelectorAll('details.other.differs')].map(d => +d.closest('article').dataset.index)"
    )
    assert shown == differing


def test_vector_pages_render_every_vector(pages: Path, browser: Browser) -> None:
    mod = render_module()
    vectors = mod.load_vectors()
    total = 0
    for group in mod.VECTOR_GROUPS:
        tab = browser.open((pages / f"vectors-{group}.html").as_uri())
        ids = browser.evaluate(tab, "[...document.querySelectorAll('details.vector')].map(d => d.id)")
        assert sorted(ids) == sorted(f"{v.group}-{v.name}" for v in vectors if v.group == group)
        total += len(ids)
        if group == "eio":
            browser.evaluate(
                tab,
                "const d = document.querySelector('details.vector'); d.open = true; "
                "d.querySelector('details.msg-fields').open = true; "
                "d.querySelector('details.field-details').open = true",
            )
            seen = browser.evaluate(
                tab,
                "(() => { const p = document.querySelector('details.vector p.explain'); "
                "return p.checkVisibility() && p.getBoundingClientRect().height > 0; })()",
            )
            assert seen
            browser.screenshot(tab, SCREENSHOT / "vectors-eio.png")
    assert total == len(vectors)
    tab = browser.open((pages / "vectors.html").as_uri())
    assert browser.evaluate(tab, "document.querySelectorAll('table.counts tr').length") == len(mod.VECTOR_GROUPS) + 2
