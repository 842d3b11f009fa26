"""Renders the illustrated connection (vectors/sessions/walkthrough.json) and every annotated vector
(vectors/{ws,eio,sio,http,json}/) as static HTML: plain files, readable without JavaScript, with
<details> for progressive disclosure.

    python docs/gen/render.py [--out build/docs] [--check-only]

Fails (exit 1) when a recorded byte is left unexplained, when an annotation has no label or note,
when hand-written prose contains a number (numbers come from the bytes), when the walkthrough does
not touch every REQUIREMENTS.md group A-G, or when the walkthrough recorded against Node's socket.io
(vectors/sessions/walkthrough-node.json) differs from the canonical one anywhere the comparison
(conformance/recorder/compare.py) cannot explain.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ROOT / "vectors" / "sessions"
sys.path.insert(0, str(ROOT / "conformance"))
from recorder import compare as session_compare  # noqa: E402  (standard library only, like this script)

VECTOR_GROUPS = {
    "ws": "WebSocket",
    "eio": "Engine.IO",
    "sio": "Socket.IO",
    "http": "HTTP/1.1 request heads",
    "json": "JSON",
}
VERDICTS = {
    "y": ("accept", "every conforming decoder accepts these bytes"),
    "n": ("reject", "every conforming decoder rejects these bytes"),
    "i": ("implementation-defined", "the specifications leave it open; implementations differ"),
}
CHECKLIST_GROUPS = {
    "A": ("Engine.IO packet and payload encoding", ("EIO-PKT-",)),
    "B": ("Handshake, query validation, HTTP errors, CORS", ("EIO-HS-",)),
    "C": ("Heartbeat, close, polling discipline and limits", ("EIO-HB-", "EIO-CL-", "EIO-POLL-")),
    "D": ("Transport upgrade", ("EIO-UP-",)),
    "E": ("Socket.IO packet encoding", ("SIO-PKT-",)),
    "F": (
        "Namespaces, rooms, broadcast, acks, disconnect",
        ("SIO-NSP-", "SIO-ROOM-", "SIO-BC-", "SIO-ACK-", "SIO-DC-", "SIO-CSR-"),
    ),
    "G": ("Error handling on bad input", ("ERR-",)),
}
MAX_SHOWN_BYTES = 48
NUMBER_WORDS = r"\b(two|three|four|five|six|seven|eight|nine|ten|twice|thrice)\b"


class RenderError(Exception):
    pass


# ---------------------------------------------------------------------- inputs
def chunk_bytes(chunk: dict) -> bytes:
    if "text" in chunk:
        return chunk["text"].encode("utf-8", "surrogatepass")
    if "hex" in chunk:
        return bytes.fromhex(chunk["hex"])
    out = bytearray()
    for part in chunk["parts"]:
        if "text" in part:
            out += part["text"].encode("utf-8", "surrogatepass")
        elif "hex" in part:
            out += bytes.fromhex(part["hex"])
        else:
            out += bytes.fromhex(part["fill"]) * part["count"]
    return bytes(out)


def message_bytes(msg: dict) -> bytes:
    b = msg["bytes"]
    return b["text"].encode("utf-8") if "text" in b else bytes.fromhex(b["hex"])


def requirement_titles() -> dict[str, str]:
    """ID -> one-line statement, from the project's catalogue conformance/REQUIREMENTS.md."""
    path = ROOT / "conformance" / "REQUIREMENTS.md"
    out = {}
    if path.exists():
        for m in re.finditer(
            r"^- \*\*([A-Z0-9-]+)\*\* · [A-Z-]+ · (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE
        ):
            out[m.group(1)] = m.group(2)
    return out


def group_of(req: str) -> str | None:
    for letter, (_, prefixes) in CHECKLIST_GROUPS.items():
        if req.startswith(prefixes):
            return letter
    return None


# ---------------------------------------------------------------------- checks
def partition_problems(where: str, annotations: list[dict], data: bytes) -> list[str]:
    problems, pos = [], 0
    for a in sorted(annotations, key=lambda a: a["offset"]):
        if a["offset"] > pos:
            problems.append(f"{where}: bytes {pos}..{a['offset'] - 1} are not explained")
        elif a["offset"] < pos:
            problems.append(f"{where}: span {a['label']!r} at {a['offset']} overlaps the previous one")
        if not a.get("label", "").strip() or not a.get("note", "").strip():
            problems.append(f"{where}: span at {a['offset']} has no label or no note")
        pos = max(pos, a["offset"] + a["length"])
    if pos != len(data):
        problems.append(f"{where}: annotations end at byte {pos}, the data has {len(data)}")
    return problems


def prose_problems(where: str, text: str) -> list[str]:
    """Hand-written prose may not contain numbers: every number shown is computed from the bytes."""
    if re.search(r"(?<![A-Za-z0-9])\d", text) or re.search(NUMBER_WORDS, text, re.IGNORECASE):
        return [f"{where}: hand-written text contains a number: {text!r}"]
    return []


def check_walkthrough(session: dict) -> list[str]:
    problems = []
    for m in session["messages"]:
        where = f"walkthrough message {m['index']}"
        problems += partition_problems(where, m["annotations"], message_bytes(m))
        for key in ("title", "note"):
            problems += prose_problems(f"{where} {key}", m.get(key, ""))
    problems += prose_problems("walkthrough description", session["description"])
    touched = {group_of(r) for m in session["messages"] for r in m["requirements"]}
    for letter in CHECKLIST_GROUPS:
        if letter not in touched:
            problems.append(f"walkthrough touches no requirement of REQUIREMENTS.md group {letter}")
    return problems


def reason_group(d) -> str:
    """The explanation of a difference, with variable field names folded into one group."""
    return "inside fields marked variable" if d.reason.startswith("inside the variable field") else d.reason


def check_comparison(session: dict, other: dict | None) -> list[str]:
    if other is None:
        return []
    result = session_compare.compare(session, other)
    problems = [f"walkthrough against Node: {d.describe(('reference', 'node'))}" for d in result.unexplained]
    for reason in sorted({reason_group(d) for d in result.differences if d.reason}):
        problems += prose_problems("comparison reason", reason)
    return problems


@dataclass
class Vector:
    group: str
    name: str
    data: dict

    @property
    def verdict(self) -> str:
        return self.name[0]


def load_vectors() -> list[Vector]:
    out = []
    for group in VECTOR_GROUPS:
        for path in sorted((ROOT / "vectors" / group).glob("*.json")):
            out.append(Vector(group, path.stem, json.loads(path.read_text(encoding="utf-8"))))
    return out


def check_vectors(vectors: list[Vector]) -> list[str]:
    problems = []
    for v in vectors:
        for i, chunk in enumerate(v.data["input"]):
            problems += partition_problems(f"{v.group}/{v.name} chunk {i}", chunk["annotations"], chunk_bytes(chunk))
    return problems


# ---------------------------------------------------------------------- HTML pieces
E = html.escape


def printable(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "·" for b in data)


def shown(data: bytes) -> tuple[str, str]:
    """(hex, text) of at most MAX_SHOWN_BYTES bytes, with the rest counted."""
    part = data[:MAX_SHOWN_BYTES]
    more = len(data) - len(part)
    tail = f" … {more} more bytes" if more else ""
    return part.hex(" ") + tail, printable(part) + ("…" if more else "")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def req_links(reqs: list[str], titles: dict[str, str]) -> str:
    out = []
    for r in reqs:
        title = titles.get(r, "")
        out.append(f'<a class="req" href="requirements.html#{E(r)}" title="{E(title)}">{E(r)}</a>')
    return " ".join(out)


def field_list(
    annotations: list[dict], data: bytes, titles: dict[str, str], unmasked: bytes | None = None, payload_at: int = 0
) -> str:
    rows = []
    for n, a in enumerate(sorted(annotations, key=lambda a: a["offset"])):
        piece = data[a["offset"] : a["offset"] + a["length"]]
        hx, tx = shown(piece)
        clear = ""
        if unmasked is not None and a["offset"] >= payload_at:
            u = unmasked[a["offset"] - payload_at : a["offset"] - payload_at + a["length"]]
            clear = f'<span class="unmasked" title="unmasked">{E(shown(u)[1])}</span>'
        rows.append(
            f'<li class="field f{n % 6}"><details class="field-details">'
            f'<summary><span class="off">{a["offset"]}+{a["length"]}</span> '
            f'<code class="hex">{E(hx)}</code> <code class="txt">{E(tx)}</code>{clear} '
            f'<span class="label">{E(a["label"])}</span></summary>'
            f'<p class="explain">{E(a["note"])}</p>'
            + (f'<p class="reqs">{req_links(a["requirements"], titles)}</p>' if a.get("requirements") else "")
            + "</details></li>"
        )
    return '<ol class="fields">' + "".join(rows) + "</ol>"


def colored_dump(annotations: list[dict], data: bytes) -> str:
    """The whole message in hex, each field in its own colour (long fields abbreviated)."""
    out = []
    for n, a in enumerate(sorted(annotations, key=lambda a: a["offset"])):
        piece = data[a["offset"] : a["offset"] + a["length"]]
        hx, _ = shown(piece)
        out.append(f'<span class="f{n % 6}" title="{E(a["label"])}">{E(hx)}</span>')
    return '<pre class="dump">' + " ".join(out) + "</pre>"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="style.css">
</head><body>
<nav><a href="index.html">Overview</a> · <a href="walkthrough.html">The illustrated connection</a> ·
<a href="vectors.html">Vectors</a> · <a href="requirements.html">Requirements</a></nav>
<main>
{body}
</main>
<footer>Generated by docs/gen/render.py from vectors/; regenerate with <code>make docs</code>.</footer>
</body></html>
"""


def page(title: str, body: str) -> str:
    return PAGE.format(title=E(title), body=body)


# ---------------------------------------------------------------------- walkthrough
def render_comparison(session: dict, other: dict) -> tuple[str, dict[int, str]]:
    """The section on the same client against the other server, and a line for every message box."""
    result = session_compare.compare(session, other)
    msgs = session["messages"]
    by_msg: dict[int, list] = {}
    for d in result.differences:
        by_msg.setdefault(d.message, []).append(d)
    groups = Counter(reason_group(d) for d in result.differences)
    group_msgs = {g: len({d.message for d in result.differences if reason_group(d) == g}) for g in groups}
    names = sorted(
        {
            d.field.split("(")[-1].rstrip(")")
            for d in result.differences
            if reason_group(d) == "inside fields marked variable"
        }
    )
    other_server = other["recorded"]["server"]
    short_name = other_server.split(" running ")[0]  # the boxes name the server without its fixture
    section = (
        f'<details class="comparison" id="node"><summary>The same client against {E(other_server)}: '
        f"{result.identical} of {plural(result.messages, 'message')} byte-identical</summary>"
        f"<p>The walkthrough client was also run"
        + (", with the server in its deterministic mode," if other["recorded"].get("deterministic_ids") else "")
        + f" against {E(other_server)} (<code>vectors/sessions/walkthrough-node.json</code>). The two recordings were compared byte by "
        f"byte ({result.bytes_compared} bytes): {plural(result.messages - result.identical, 'message')} "
        f"differ, in {plural(len(result.differences), 'place')}, none of them unexplained.</p><ul>"
        + "".join(
            f"<li>{E(g)}"
            + (
                " (" + ", ".join(f"<code>{E(n)}</code>" for n in names) + ")"
                if g == "inside fields marked variable"
                else ""
            )
            + f": {plural(n, 'difference')} in {plural(group_msgs[g], 'message')}</li>"
            for g, n in sorted(groups.items())
        )
        + "</ul><p>Each message box says what the other server sent differently.</p></details>"
    )
    lines: dict[int, str] = {}
    for m in msgs:
        ds = by_msg.get(m["index"], [])
        if m["kind"] == "close":
            continue
        if not ds:
            lines[m["index"]] = f'<p class="other same">{E(short_name)} sent the same bytes.</p>'
            continue
        items = "".join(
            f"<li><code>{E(d.field)}</code>: "
            + (f"here <code>{E(printable(d.first_bytes))}</code>" if d.first[1] else "absent here")
            + ", there "
            + (f"<code>{E(printable(d.second_bytes))}</code>" if d.second[1] else "absent")
            + f". {E(d.reason[0].upper() + d.reason[1:])}.</li>"
            for d in ds
        )
        lines[m["index"]] = (
            f'<details class="other differs"><summary>{E(short_name)} differs in '
            f"{plural(len(ds), 'place')}</summary><ul>{items}</ul></details>"
        )
    return section, lines


def render_walkthrough(session: dict, titles: dict[str, str], other: dict | None = None) -> str:
    msgs = list(session["messages"])
    data = [message_bytes(m) for m in msgs]
    c2s = sum(len(d) for d, m in zip(data, msgs) if m["direction"] == "client-to-server")
    s2c = sum(len(d) for d, m in zip(data, msgs) if m["direction"] == "server-to-client")
    conns = len({m["connection"] for m in msgs})
    frames = sum(1 for m in msgs if m["kind"] == "ws-frame")
    https = sum(1 for m in msgs if m["kind"].startswith("http"))
    fields = sum(len(m["annotations"]) for m in msgs)
    reqs = sorted({r for m in msgs for r in m["requirements"]})
    groups = sorted(g for g in {group_of(r) for r in reqs} if g is not None)
    rec = session["recorded"]
    variables = sorted({v["name"] for m in msgs for v in m["variable"]})
    intro = (
        f"<h1>The illustrated Socket.IO connection</h1>"
        f"<p>{E(session['description'])}</p>"
        f"<p>Recorded on 127.0.0.1 from {E(rec['server'])} by {E(rec['client'])}: "
        f"{plural(len(msgs), 'message')} on {plural(conns, 'TCP connection')} "
        f"({plural(https, 'HTTP message')}, {plural(frames, 'WebSocket frame')}), "
        f"{c2s} bytes from the clients and {s2c} bytes from the server, every one of them explained in "
        f"{plural(fields, 'labelled field')}. The messages illustrate {plural(len(reqs), 'requirement')} "
        f"of REQUIREMENTS.md groups {', '.join(groups)}.</p>"
        + (
            "<p>The server ran in its deterministic mode (session and socket ids from counters, no Date "
            "header) and the client fixes its own bytes, its WebSocket key and its masking keys, so "
            "recording again gives a byte-identical file.</p>"
            if rec.get("deterministic_ids")
            else ""
        )
        + "<p>Server settings: "
        + ", ".join(f"{E(k)} {E(str(v))}" for k, v in rec["settings"].items())
        + ". Fields that change between runs or servers are <mark>highlighted</mark>: "
        + ", ".join(f"<code>{E(v)}</code>" for v in variables)
        + ".</p>"
        "<p class=\"legend\"><span class=\"who client\">client → server</span> "
        "<span class=\"who server\">server → client</span> Expand a message to see its fields; expand a "
        "field for its explanation and the requirements it illustrates.</p>"
    )
    comparison, other_lines = render_comparison(session, other) if other else ("", {})
    boxes = []
    for m, d in zip(msgs, data):
        who = "client" if m["direction"] == "client-to-server" else "server"
        arrow = "client → server" if who == "client" else "server → client"
        transport = {
            "polling-get": "polling GET",
            "polling-post": "polling POST",
            "websocket": "WebSocket",
            "tcp": "TCP",
        }[m["transport"]]
        head = (
            f'<header><span class="num">#{m["index"]}</span> <span class="who {who}">{arrow}</span> '
            f'<span class="transport">{transport}</span> <span class="conn">connection {m["connection"]}'
            f'</span> <span class="size">{plural(len(d), "byte")}</span></header>'
        )
        title = f'<h2>{E(m.get("title") or m["summary"])}</h2>'
        note = f'<p class="note">{E(m["note"])}</p>' if m.get("note") else ""
        summary = f'<p class="summary">{E(m["summary"])}</p>'
        if m["kind"] == "close":
            boxes.append(
                f'<article class="msg {who} close" id="m{m["index"]}" data-index="{m["index"]}">'
                f"{head}{title}{note}{summary}</article>"
            )
            continue
        unmasked, payload_at = None, 0
        if "unmasked" in m:
            u = m["unmasked"]
            unmasked = u["text"].encode() if "text" in u else bytes.fromhex(u["hex"])
            payload_at = len(d) - len(unmasked)
        text_view = ""
        if m["kind"].startswith("http"):
            text_view = f'<pre class="text">{mark_variables(d, m["variable"])}</pre>'
        elif unmasked is not None:
            text_view = f'<p class="unmasked-line">Payload after unmasking: <code>{E(shown(unmasked)[1])}</code></p>'
        else:
            payload = d[payload_of(d) :]
            text_view = f'<p class="unmasked-line">Payload: <code>{E(printable(payload))}</code></p>'
        reqline = f'<p class="reqs">Illustrates {req_links(m["requirements"], titles)}</p>' if m["requirements"] else ""
        boxes.append(
            f'<article class="msg {who}" id="m{m["index"]}" data-index="{m["index"]}">{head}{title}{note}'
            f"{summary}{text_view}{colored_dump(m['annotations'], d)}"
            f'<details class="msg-fields"><summary>{plural(len(m["annotations"]), "field")}</summary>'
            f"{field_list(m['annotations'], d, titles, unmasked, payload_at)}</details>{reqline}"
            f"{other_lines.get(m['index'], '')}</article>"
        )
    steps: list = []
    for m in msgs:
        if m.get("title") and (not steps or steps[-1][1] != m["title"]):
            steps.append((m["index"], m["title"], m["direction"]))
    contents = (
        '<details class="contents"><summary>Contents: '
        + plural(len(steps), "step")
        + "</summary><ol>"
        + "".join(
            f'<li class="{"client" if d == "client-to-server" else "server"}"><a href="#m{i}">{E(t)}</a></li>'
            for i, t, d in steps
        )
        + "</ol></details>"
    )
    touched = "".join(
        f"<li>{letter}. {E(label)}: "
        + " ".join(req_links([r for r in reqs if group_of(r) == letter], titles))
        + "</li>"
        for letter, (label, _) in CHECKLIST_GROUPS.items()
    )
    coverage = f'<details class="coverage"><summary>Checklist groups illustrated</summary><ul>{touched}</ul></details>'
    return page(
        "The illustrated Socket.IO connection",
        intro + contents + coverage + comparison + '<div class="flow">' + "".join(boxes) + "</div>",
    )


def payload_of(frame: bytes) -> int:
    n = frame[1] & 0x7F
    return 2 + (2 if n == 126 else 8 if n == 127 else 0) + (4 if frame[1] & 0x80 else 0)


def mark_variables(data: bytes, variables: list[dict]) -> str:
    text = data.decode("utf-8", "replace")
    if len(text.encode("utf-8")) != len(data):
        return E(text)
    out, pos = [], 0
    for v in sorted(variables, key=lambda v: v["offset"]):
        if v["offset"] < pos:
            continue
        out.append(E(data[pos : v["offset"]].decode("utf-8", "replace")))
        out.append(
            f'<mark title="{E(v["name"])}">'
            f'{E(data[v["offset"] : v["offset"] + v["length"]].decode("utf-8", "replace"))}</mark>'
        )
        pos = v["offset"] + v["length"]
    out.append(E(data[pos:].decode("utf-8", "replace")))
    return (
        "".join(out)
        .replace("\r\n", '<span class="ctl">\\r\\n</span>\n')
        .replace("\x1e", '<span class="ctl">\\x1e</span>')
    )


# ---------------------------------------------------------------------- vectors
def outcome_html(v: Vector) -> str:
    d = v.data
    parts = []
    if "decoded" in d:
        parts.append(f"<p>Decodes to:</p><pre>{E(json.dumps(d['decoded'], indent=1, ensure_ascii=False)[:4000])}</pre>")
    if "error" in d:
        parts.append(f"<p>Rejected with <code>{E(d['error'])}</code>.</p>")
    for mode in ("strict", "compat"):
        if mode in d:
            parts.append(f"<p>{mode}: <code>{E(json.dumps(d[mode], ensure_ascii=False)[:2000])}</code></p>")
    if d.get("behaviours"):
        parts.append("<ul>" + "".join(f"<li>{E(b['who'])}: {E(b['does'])}</li>" for b in d["behaviours"]) + "</ul>")
    return "".join(parts)


def render_vector(v: Vector, titles: dict[str, str]) -> str:
    d = v.data
    verdict, _ = VERDICTS[v.verdict]
    chunks = []
    total = 0
    for i, chunk in enumerate(d["input"]):
        data = chunk_bytes(chunk)
        total += len(data)
        kind = chunk.get("kind", "binary" if "hex" in chunk else "text")
        chunks.append(
            f'<div class="chunk"><p>Chunk {i + 1} of {len(d["input"])}, {kind}, '
            f'{plural(len(data), "byte")}:</p>{colored_dump(chunk["annotations"], data)}'
            f'<details class="msg-fields"><summary>{plural(len(chunk["annotations"]), "field")}</summary>'
            f"{field_list(chunk['annotations'], data, titles)}</details></div>"
        )
    anchor = f"{v.group}-{v.name}"
    return (
        f'<details class="vector {verdict}" id="{E(anchor)}"><summary><span class="verdict {verdict}">'
        f'{verdict}</span> <code>{E(v.group)}/{E(v.name)}</code> {E(d["description"])} '
        f'<span class="size">{plural(total, "byte")}</span></summary>'
        f'<p>Layer <code>{E(d["layer"])}</code>, protocol {d["protocol"]}'
        + (f', source: {E(d["source"])}' if d.get("source") else "")
        + "</p>"
        + (f'<p class="reqs">{req_links(d["requirements"], titles)}</p>' if d["requirements"] else "")
        + "".join(chunks)
        + outcome_html(v)
        + "</details>"
    )


def render_vectors(vectors: list[Vector], titles: dict[str, str]) -> dict[str, str]:
    pages = {}
    counts = Counter((v.group, v.verdict) for v in vectors)
    rows = []
    for group, label in VECTOR_GROUPS.items():
        n = sum(counts[(group, x)] for x in VERDICTS)
        cells = "".join(
            f'<td><a href="vectors-{group}.html#{VERDICTS[x][0]}">{counts[(group, x)]}</a></td>' for x in VERDICTS
        )
        rows.append(
            f'<tr><th><a href="vectors-{group}.html">{E(label)}</a> (<code>{group}/</code>)</th>{cells}'
            f"<td>{n}</td></tr>"
        )
        body = [
            f"<h1>{E(label)} vectors</h1><p>{plural(n, 'vector')} from <code>vectors/{group}/</code>. "
            "Expand a vector for its bytes, its fields and its outcome.</p>"
        ]
        for x, (verdict, meaning) in VERDICTS.items():
            mine = [v for v in vectors if v.group == group and v.verdict == x]
            body.append(f'<h2 id="{verdict}">{verdict.capitalize()} ({len(mine)}): {E(meaning)}</h2>')
            body += [render_vector(v, titles) for v in mine]
        pages[f"vectors-{group}.html"] = page(f"{label} vectors", "".join(body))
    totals = "".join(f"<td>{sum(counts[(g, x)] for g in VECTOR_GROUPS)}</td>" for x in VERDICTS)
    index = (
        f"<h1>Annotated byte vectors</h1><p>{plural(len(vectors), 'vector')}, every byte explained. "
        "The first letter of a vector's name is its verdict.</p>"
        "<table class=\"counts\"><tr><th>folder</th>"
        + "".join(f"<th>{E(VERDICTS[x][0])}</th>" for x in VERDICTS)
        + "<th>total</th></tr>"
        + "".join(rows)
        + f"<tr><th>all</th>{totals}<td>{len(vectors)}</td></tr></table>"
        "<dl>" + "".join(f"<dt>{E(a)}</dt><dd>{E(b)}</dd>" for a, b in VERDICTS.values()) + "</dl>"
    )
    pages["vectors.html"] = page("Annotated byte vectors", index)
    return pages


def render_requirements(titles: dict[str, str], session: dict, vectors: list[Vector]) -> str:
    in_walk = Counter(r for m in session["messages"] for r in m["requirements"])
    in_vec = Counter(r for v in vectors for r in v.data["requirements"])
    body = [
        "<h1>Requirements</h1><p>The requirement IDs used on these pages, with the project's wording "
        "from <code>conformance/REQUIREMENTS.md</code>, and where each is illustrated.</p>"
    ]
    for letter, (label, prefixes) in CHECKLIST_GROUPS.items():
        ids = sorted(r for r in set(titles) | set(in_walk) | set(in_vec) if r.startswith(prefixes))
        body.append(f"<h2>{letter}. {E(label)}</h2><dl>")
        for r in ids:
            first = next((m["index"] for m in session["messages"] if r in m["requirements"]), None)
            where = []
            if first is not None:
                where.append(f'<a href="walkthrough.html#m{first}">walkthrough</a> ({plural(in_walk[r], "message")})')
            if in_vec[r]:
                where.append(plural(in_vec[r], "vector"))
            body.append(
                f'<dt id="{E(r)}">{E(r)}</dt><dd>{E(titles.get(r, ""))} '
                f'<span class="where">{" · ".join(where)}</span></dd>'
            )
        body.append("</dl>")
    others = sorted(r for r in set(in_walk) | set(in_vec) if group_of(r) is None)
    body.append(
        "<h2>RFC sections</h2><dl>"
        + "".join(
            f'<dt id="{E(r)}">{E(r)}</dt><dd>{plural(in_walk[r], "walkthrough message")}, '
            f'{plural(in_vec[r], "vector")}</dd>'
            for r in others
        )
        + "</dl>"
    )
    return page("Requirements", "".join(body))


# What the index says of each page under docs/, by section. A page under docs/ that is not named here is
# linked all the same, under "More pages": the index leaves no page out (test_generator checks it).
INDEX_SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Judging implementations",
        [
            ("matrix.html", "Compatibility matrix: every shipped server target, requirement by requirement"),
            ("client-matrix.html", "Client matrix: every shipped client, requirement by requirement"),
            ("cluster-matrix.html", "Cluster matrix: whole clusters of servers joined through Redis"),
            ("interop.md", "Interop: the reference client against every shipped server"),
            ("advisories.md", "Advisories: every published advisory, with the case that reproduces it"),
            ("mutants.md", "Mutants: the suite against deliberately broken builds of the reference server"),
            ("findings/wire-fuzzing.md", "Wire fuzzing: what the network fuzzer found on each server it ran against"),
        ],
    ),
    ("About these pages", [("README.md", "How the pages are made and checked")]),
]
# Folders whose pages are listed by file name, one line per folder (a folder inside another first).
INDEX_FOLDERS = {
    "findings/clients": "Findings per client, with the bytes of each case",
    "findings": "Findings per server, with the bytes of each case",
}
DOCS = ROOT / "docs"


def docs_pages(extra: list[str]) -> list[str]:
    """Every page under docs/ (HTML and Markdown, the generator's folder and the index left out) plus
    `extra` (the pages this run writes), as paths relative to docs/."""
    found = {
        f.relative_to(DOCS).as_posix()
        for f in DOCS.rglob("*")
        if f.is_file() and f.suffix in (".html", ".md") and f.relative_to(DOCS).parts[0] != "gen"
    }
    return sorted((found | {e for e in extra if e.endswith((".html", ".md"))}) - {"index.html"})


def render_index(session: dict, vectors: list[Vector], written: list[str]) -> str:
    pages = docs_pages(written)
    linked: set[str] = set()

    def link(name: str, text: str) -> str:
        linked.add(name)
        return f'<a href="{E(name)}">{E(text)}</a>'

    def twin(name: str) -> str:
        """The Markdown twin of an HTML page, when there is one."""
        md = name.removesuffix(".html") + ".md"
        return f" ({link(md, 'Markdown')})" if name.endswith(".html") and md in pages else ""

    groups = ", ".join(link(f"vectors-{g}.html", title) for g, title in VECTOR_GROUPS.items())
    parts = [
        "<h1>Socket.IO byte by byte</h1><h2>Learning the protocol</h2><ul>",
        f"<li>{link('walkthrough.html', 'The illustrated connection')}: one recorded connection, "
        f"{plural(len(session['messages']), 'message')}, every byte explained.</li>",
        f"<li>{link('vectors.html', 'Annotated byte vectors')}: {plural(len(vectors), 'vector')} "
        f"(accept, reject, implementation-defined); by folder: {groups}.</li>",
        f"<li>{link('requirements.html', 'Requirements')} illustrated by both.</li>",
        f"<li>{link('cluster-walkthrough.html', 'One broadcast across a cluster')}: two servers joined "
        "through Redis, every byte they exchange with it labelled.</li></ul>",
    ]
    sections = [(title, [f"<li>{link(n, text)}{twin(n)}</li>" for n, text in entries if n in pages])
                for title, entries in INDEX_SECTIONS]  # fmt: skip
    findings = []
    for folder, text in INDEX_FOLDERS.items():
        inside = [p for p in pages if p.startswith(folder + "/") and p not in linked]
        if inside:
            names = ", ".join(link(p, p[len(folder) + 1 :].rsplit(".", 1)[0]) for p in inside)
            findings.append(f"<li>{E(text)}: {names}.</li>")
    sections.insert(1, ("Findings", findings))
    parts += [f"<h2>{E(title)}</h2><ul>{''.join(items)}</ul>" for title, items in sections if items]
    rest = [p for p in pages if p not in linked]
    if rest:
        parts.append("<h2>More pages</h2><ul>" + "".join(f"<li>{link(p, p)}</li>" for p in rest) + "</ul>")
    return page("Socket.IO byte by byte", "".join(parts))


# ---------------------------------------------------------------------- the cluster walkthrough
CLUSTER_STAGES = {
    "subscribe": (
        "Node B joins",
        "Before it prints READY, a node subscribes everything the adapter needs, for each namespace of "
        "the application: the request channel (the other nodes count this node by it), the shared and "
        "its own response channels, and a pattern for every broadcast channel of the namespace. Redis "
        "confirms each subscription with the count the connection now holds. Node A did the same.",
    ),
    "broadcast": (
        "One broadcast crosses",
        "Alice, a client of node A, emits nsp-emit; node A delivers nsp to its own clients at once, "
        "then publishes the broadcast. Redis answers with the number of subscribers that got it and "
        "pushes it to the subscribing connection of each node: node A recognises its own uid and drops "
        "the copy, node B delivers the packet to Bob.",
    ),
}


def check_cluster_walk(rec: dict) -> list[str]:
    problems = []
    for i, m in enumerate(rec["messages"]):
        problems += partition_problems(
            f"vectors/cluster/broadcast.json message {i}", m["annotations"], bytes.fromhex(m["hex"])
        )
    for title, text in CLUSTER_STAGES.values():
        problems += prose_problems("cluster walkthrough", title + " " + text)
    return problems


def render_cluster_walk(rec: dict) -> str:
    parts = [
        "<h1>One broadcast across a cluster</h1>",
        "<p>Two reference servers joined through Redis, each by a publishing and a subscribing connection "
        "(reference-server/cluster/README.md describes the protocol, the Redis adapter of Node's socket.io). "
        f"Node uids: {E(', '.join(f'{k} = {v}' for k, v in rec['uids'].items()))}; Redis {E(rec['redis'])}. "
        f"Recorded by <code>make cluster-walkthrough</code>: {plural(len(rec['messages']), 'message')}, "
        "every byte labelled.</p>",
    ]
    stage = None
    for i, m in enumerate(rec["messages"]):
        if m["stage"] != stage:
            stage = m["stage"]
            title, text = CLUSTER_STAGES[stage]
            parts.append(f"<h2>{E(title)}</h2><p>{E(text)}</p>")
            if stage == "broadcast":
                e = rec["emitted"]
                parts.append(f"<p>Client of node {E(e['node'])} sends <code>{E(e['packet'])}</code>; "
                             f"each node's client receives <code>{E(rec['delivered']['B'])}</code>.</p>")  # fmt: skip
        data = bytes.fromhex(m["hex"])
        side = "client" if m["direction"] == "to Redis" else "server"
        who = f"node {m['node']}, {m['connection']} connection, {m['direction']}"
        parts.append(
            f'<div class="msg {side}" id="c{i}"><header><span class="who {side}">{E(who)}</span>'
            f'<span class="size">{plural(len(data), "byte")}</span></header>'
            f"{colored_dump(m['annotations'], data)}{field_list(m['annotations'], data, {})}</div>"
        )
    return page("One broadcast across a cluster", '<div class="flow">' + "".join(parts) + "</div>")


STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#fbfbf9}
nav,footer{padding:.6em 1.2em;background:#24313d;color:#dde}nav a,footer a{color:#fff}
main{max-width:70em;margin:0 auto;padding:1em}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
pre{white-space:pre-wrap;word-break:break-all;background:#f1f1ec;padding:.5em;border-radius:4px}
.flow{display:flex;flex-direction:column;gap:.8em}
.msg{border:1px solid #c9ccd1;border-radius:8px;padding:.6em .9em;max-width:82%;background:#fff}
.msg.client{align-self:flex-start;border-left:6px solid #2f6fb3}
.msg.server{align-self:flex-end;border-left:6px solid #2e8b57}
.msg.close{opacity:.8}
.msg h2{font-size:1.05em;margin:.2em 0}
.msg header{font-size:12px;color:#555;display:flex;gap:.8em;flex-wrap:wrap}
.who.client{color:#2f6fb3;font-weight:600}.who.server{color:#2e8b57;font-weight:600}
.transport{background:#eef;padding:0 .4em;border-radius:3px}
.note{margin:.2em 0}.summary{color:#555;margin:.2em 0;font-size:13px}
ol.fields{list-style:none;padding:0;margin:.3em 0}
li.field summary{cursor:pointer}
.off{color:#888;font-size:12px;display:inline-block;min-width:4.5em}
.label{font-weight:600}.explain{margin:.2em 0 .2em 5em}
.txt{color:#555}.unmasked{color:#8a4b00;margin-left:.4em}
.reqs a.req{font-size:12px;background:#f4efe2;border:1px solid #ddd2b0;border-radius:3px;padding:0 .3em;
 text-decoration:none;color:#5a4700;margin-right:.2em}
.f0{background:#e3f0ff}.f1{background:#fff1d6}.f2{background:#e4f7e4}.f3{background:#f7e4f3}
.f4{background:#ececec}.f5{background:#fde2e2}
.dump span{padding:0 .1em;border-radius:2px}
mark{background:#ffe27a}
.ctl{color:#999;font-size:11px}
.verdict{font-size:12px;padding:0 .4em;border-radius:3px;color:#fff}
.verdict.accept{background:#2e8b57}.verdict.reject{background:#b33a3a}
.verdict.implementation-defined{background:#8a6d00}
details.vector{border-bottom:1px solid #ddd;padding:.3em 0}
.size{color:#777;font-size:12px}
table.counts td,table.counts th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
.where{color:#666;font-size:13px}
details.contents,details.coverage,details.comparison{margin:.4em 0}
.other{font-size:13px;color:#555;margin:.2em 0}.other.differs summary{cursor:pointer;color:#8a4b00}
details.contents li.client a{color:#2f6fb3}details.contents li.server a{color:#2e8b57}
"""


def generate(out: Path, check_only: bool = False) -> list[str]:
    session = json.loads((SESSIONS / "walkthrough.json").read_text(encoding="utf-8"))
    other_path = SESSIONS / "walkthrough-node.json"
    other = json.loads(other_path.read_text(encoding="utf-8")) if other_path.exists() else None
    vectors = load_vectors()
    cluster_walk = json.loads((SESSIONS.parent / "cluster" / "broadcast.json").read_text(encoding="utf-8"))
    problems = check_walkthrough(session) + check_comparison(session, other) + check_vectors(vectors)
    problems += check_cluster_walk(cluster_walk)
    if problems or check_only:
        return problems
    titles = requirement_titles()
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "walkthrough.html": render_walkthrough(session, titles, other),
        "requirements.html": render_requirements(titles, session, vectors),
        "cluster-walkthrough.html": render_cluster_walk(cluster_walk),
        "style.css": STYLE.lstrip(),
    }
    files.update(render_vectors(vectors, titles))
    files["index.html"] = render_index(session, vectors, sorted(files))
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "docs")
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args(argv)
    problems = generate(args.out, args.check_only)
    for p in problems:
        print(f"docs: {p}", file=sys.stderr)
    if problems:
        print(f"docs: {plural(len(problems), 'problem')}; nothing written", file=sys.stderr)
        return 1
    if not args.check_only:
        print(f"docs: pages written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
