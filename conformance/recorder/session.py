"""The session file format (vectors/sessions/README.md, vectors/sessions/schema.json): building a
session from raw messages, reading it back, and comparing observed bytes with recorded ones while
ignoring the fields marked variable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import wire
from .annotate import Annotator

FORMAT = "sio-session/1"
ROOT = Path(__file__).resolve().parents[2]
SESSIONS_DIR = ROOT / "vectors" / "sessions"
C2S, S2C = "client-to-server", "server-to-client"
# Header lines whose presence or value is not part of the protocol and differs between servers.
VOLATILE_HEADERS = {"date", "keep-alive", "connection", "server", "x-powered-by", "vary", "etag", "transfer-encoding"}


@dataclass
class Raw:
    """One message as seen on the wire, before annotation."""

    connection: int
    direction: str
    kind: str
    data: bytes
    title: str = ""
    note: str = ""
    requirements: tuple[str, ...] = ()


def bytes_field(data: bytes, kind: str) -> dict:
    if kind.startswith("http"):
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"hex": data.hex()}


def message_bytes(msg: dict) -> bytes:
    b = msg.get("bytes", {})
    if "text" in b:
        return b["text"].encode("utf-8")
    return bytes.fromhex(b.get("hex", ""))


def build(name: str, description: str, recorded: dict, raws: list[Raw]) -> dict:
    annotator = Annotator()
    messages = []
    for i, raw in enumerate(raws):
        a = annotator.annotate(raw.connection, raw.direction, raw.kind, raw.data)
        msg: dict = {
            "index": i,
            "connection": raw.connection,
            "direction": raw.direction,
            "transport": a.transport,
            "kind": raw.kind,
            "summary": a.summary,
        }
        if raw.title:
            msg["title"] = raw.title
        if raw.note:
            msg["note"] = raw.note
        msg["requirements"] = sorted(set(a.requirements) | set(raw.requirements))
        msg["bytes"] = bytes_field(raw.data, raw.kind)
        if raw.kind == "ws-frame":
            _, _, payload, key, _ = wire.ws_unmask(raw.data)
            if key:
                try:
                    msg["unmasked"] = (
                        {"text": payload.decode("utf-8")} if raw.data[0] & 0x0F == 1 else {"hex": payload.hex()}
                    )
                except UnicodeDecodeError:
                    msg["unmasked"] = {"hex": payload.hex()}
        msg["variable"] = [{"offset": v.offset, "length": v.length, "name": v.name} for v in a.variables]
        msg["annotations"] = [s.as_json() for s in a.spans]
        messages.append(msg)
    return {
        "format": FORMAT,
        "name": name,
        "description": description,
        "recorded": recorded,
        "requirements": sorted({r for m in messages for r in m["requirements"]}),
        "messages": messages,
    }


def dumps(session: dict) -> str:
    """The text of a session file: `write` stores exactly this, so equal sessions give equal files."""
    return json.dumps(session, indent=1, ensure_ascii=False) + "\n"


def write(session: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(session), encoding="utf-8")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- comparison
def pattern(recorded: bytes, variables: list[dict]) -> re.Pattern[bytes]:
    """A regular expression matching `recorded` with each variable field replaced by a named group
    (the same name twice must hold the same value)."""
    parts, pos, seen = [], 0, {}
    for v in sorted(variables, key=lambda v: v["offset"]):
        if v["offset"] < pos:
            continue
        parts.append(re.escape(recorded[pos : v["offset"]]))
        group = re.sub(r"[^A-Za-z0-9]", "_", v["name"])
        if group in seen:
            parts.append(b"(?P=" + group.encode() + b")")
        else:
            seen[group] = True
            parts.append(b"(?P<" + group.encode() + b">[^\"&\\r\\n,]*?)")
        pos = v["offset"] + v["length"]
    parts.append(re.escape(recorded[pos:]))
    return re.compile(b"".join(parts), re.DOTALL)


def _http_split(data: bytes) -> tuple[str, dict[str, str], bytes]:
    head = wire.parse_head(data)
    assert head is not None
    headers = {k.lower(): v for k, v in head.headers}
    return head.start_line, headers, data[head.head_length :]


def compare_packet(recorded: bytes, variables: list[dict], actual: bytes) -> dict[str, bytes] | None:
    """Values of the variable fields when `actual` matches `recorded` (None when it does not)."""
    m = pattern(recorded, variables).fullmatch(actual)
    return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def polling_packets(msg: dict) -> list[tuple[bytes, list[dict]]]:
    """The Engine.IO packets of a recorded polling response body, each with its variable fields
    (offsets made relative to the packet)."""
    data = message_bytes(msg)
    head = wire.parse_head(data)
    assert head is not None
    body, pos, out = data[head.head_length :], head.head_length, []
    for rec in body.split(b"\x1e") if body else []:
        vs = [
            {**v, "offset": v["offset"] - pos} for v in msg.get("variable", []) if pos <= v["offset"] < pos + len(rec)
        ]
        out.append((rec, vs))
        pos += len(rec) + 1
    return out


def header_differences(msg: dict, actual: bytes) -> list[str]:
    """HTTP header differences that are not protocol differences (reported, never failed)."""
    _, rheaders, _ = _http_split(message_bytes(msg))
    _, headers, _ = _http_split(actual)
    skip = VOLATILE_HEADERS | {"content-length"}
    want = {k: v for k, v in rheaders.items() if k not in skip}
    got = {k: v for k, v in headers.items() if k not in skip}
    out = [
        f"header {k}: recorded {want.get(k)!r}, target sent {got.get(k)!r}"
        for k in sorted(set(want) | set(got))
        if want.get(k) != got.get(k)
    ]
    return out


def compare(msg: dict, actual: bytes) -> tuple[list[str], dict[str, bytes]]:
    """Differences between a recorded server message and the bytes a target sent, plus the values
    the target chose for the variable fields. HTTP header order, name case and the volatile headers
    are not compared (see `header_differences`) except the media type of Content-Type;
    Content-Length is checked against the actual body."""
    recorded = message_bytes(msg)
    variables = msg.get("variable", [])
    problems: list[str] = []
    captured: dict[str, bytes] = {}
    if msg["kind"] == "http-response":
        try:
            line, headers, body = _http_split(actual)
        except (wire.WireError, AssertionError, ValueError):
            return [f"not an HTTP response: {actual[:80]!r}"], {}
        rline, rheaders, rbody = _http_split(recorded)
        if line.split(" ")[:2] != rline.split(" ")[:2]:
            problems.append(f"status line: expected {rline!r}, got {line!r}")
        head_len = len(recorded) - len(rbody)
        body_vars = [{**v, "offset": v["offset"] - head_len} for v in variables if v["offset"] >= head_len]
        m = pattern(rbody, body_vars).fullmatch(body)
        if m is None:
            problems.append(f"body: expected {rbody!r}, got {body!r}")
        else:
            captured.update({k: v for k, v in m.groupdict().items() if v is not None})
        if headers.get("content-type", "").split(";")[0] != rheaders.get("content-type", "").split(";")[0]:
            problems.append(
                f"Content-Type: expected {rheaders.get('content-type')!r}, got {headers.get('content-type')!r}"
            )
        if "content-length" in headers and int(headers["content-length"]) != len(body):
            problems.append("Content-Length does not match the body")
        return problems, captured
    if msg["kind"] == "ws-frame":
        op, _, payload, _, off = wire.ws_unmask(actual)
        rop, _, rpayload, _, roff = wire.ws_unmask(recorded)
        if op != rop:
            problems.append(f"opcode: expected {rop}, got {op}")
        if op == rop == 8:
            return problems, captured  # close payloads may differ (RFC 6455 5.5.1); see close_difference
        pvars = [{**v, "offset": v["offset"] - roff} for v in variables if v["offset"] >= roff]
        m = pattern(rpayload, pvars).fullmatch(payload)
        if m is None:
            problems.append(f"frame payload: expected {rpayload!r}, got {payload!r}")
        else:
            captured.update({k: v for k, v in m.groupdict().items() if v is not None})
        return problems, captured
    return problems, captured


def diff_sessions(expected: dict, actual: dict) -> tuple[list[str], list[str]]:
    """(differences, header notes) between two recordings of the same client script: the same
    messages in the same order, equal apart from the variable fields (HTTP responses compared as in
    `compare`, their non-protocol headers only reported)."""
    problems: list[str] = []
    notes: list[str] = []
    em, am = expected["messages"], actual["messages"]
    if len(em) != len(am):
        problems.append(f"{len(em)} messages recorded against one server, {len(am)} against the other")
    for e, a in zip(em, am):
        where = f"message {e['index']} ({e.get('title') or e['summary']})"
        shape = ("connection", "direction", "kind", "transport")
        if any(e[k] != a[k] for k in shape):
            problems.append(f"{where}: {[e[k] for k in shape]} vs {[a[k] for k in shape]}")
            continue
        ebytes, abytes = message_bytes(e), message_bytes(a)
        if e["direction"] == C2S or e["kind"] == "close":
            if pattern(ebytes, e["variable"]).fullmatch(abytes) is None:
                problems.append(f"{where}: client bytes differ: {ebytes[:120]!r} vs {abytes[:120]!r}")
            continue
        found, _ = compare(e, abytes)
        problems += [f"{where}: {p}" for p in found]
        if e["kind"] == "http-response":
            notes += [f"{where}: {d}" for d in header_differences(e, abytes)]
    return problems, notes
