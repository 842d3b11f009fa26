#!/usr/bin/env python3
"""Classifies the disagreements found by driver.js between libsiocodec and the official parsers.

Each category (layer, which side rejects, the codec's error or the Node parser's message) is
  - known, compat option: only strict mode differs and compat matches Node, as the layer's
    compat option documents (eio.h, packet.h); the i_ vector showing it is cited when one exists;
  - known, documented: compat still differs with an error that names a single cause, and the
    codec headers document the choice (DOCUMENTED below);
  - known, cause: compat still differs, and every input kept for the category (driver.js keeps
    up to 5,000) shows one of the causes in CAUSES, each pointing to the i_ vectors that record
    what the codec and Node do with it;
  - new finding: anything else, including a category where some kept input shows no known
    cause. Each new finding is written to fuzz/differential/findings/ as a JSON file with up to
    five unexplained examples, for the vector owners to turn into vectors.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

# Differences where compat deliberately does not follow Node, as the codec headers say.
DOCUMENTED = {
    "SIO_ERR_PKT_ACK_ID_RANGE": "packet.h: ack ids above 2^53-1 are rejected in both modes "
    "(Node silently rounds them); REQUIREMENTS.md §2.16",
    "SIO_ERR_PKT_PAYLOAD_SPACE": "packet.h: whitespace between header and payload is rejected "
    "in both modes (Node reads it as ack id 0); REQUIREMENTS.md §2.16",
}
LAYER_OF = {
    "eio-packet": "eio-packet",
    "eio-payload": "eio-payload",
    "sio-packet": "sio-packet",
    "sio-message": "sio-message",
}
SEP = b"\x00\xffAT"  # message separator of sio-message inputs (diffgen.c)

# JavaScript's StrWhiteSpaceChar: what Number() trims and reads as 0 when nothing else is left.
JS_SPACE = set("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {chr(c) for c in range(0x2000, 0x200B)}
NUM_NOT_INTEGER = re.compile(r'"num"\s*:\s*-?\d+(?:\.\d+|(?:\.\d+)?[eE][+-]?\d+)')


def unpaired_surrogate_escape(pkt: str) -> bool:
    """Whether a \\u escape of a surrogate in the text is not half of a high+low pair."""
    units, i = [], 0  # (position, code unit) of each \\u escape; other escapes are skipped
    while i < len(pkt) - 1:
        if pkt[i] != "\\":
            i += 1
        elif pkt[i + 1] == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", pkt[i + 2 : i + 6]):
            units.append((i, int(pkt[i + 2 : i + 6], 16)))
            i += 6
        else:
            i += 2
    for k, (at, u) in enumerate(units):
        nxt = units[k + 1] if k + 1 < len(units) and units[k + 1][0] == at + 6 else None
        prv = units[k - 1] if k > 0 and units[k - 1][0] == at - 6 else None
        if 0xD800 <= u <= 0xDBFF and not (nxt and 0xDC00 <= nxt[1] <= 0xDFFF):
            return True
        if 0xDC00 <= u <= 0xDFFF and not (prv and 0xD800 <= prv[1] <= 0xDBFF):
            return True
    return False


def node_header(pkt: str) -> tuple[str, str]:
    """socket.io-parser 4.2.7 decodeString's reading of a packet header: the attachment field
    (types 5/6, up to the first '-') and the ack id run (characters c with Number(c) == c:
    digits and JavaScript whitespace), as Node cuts them."""
    i, att = 0, ""
    if pkt[:1] in ("5", "6"):
        end = pkt.find("-", 1)
        att = pkt[1 : end if end >= 0 else len(pkt)]
        i = end if end >= 0 else len(pkt)
    if pkt[i + 1 : i + 2] == "/":
        comma = pkt.find(",", i + 1)
        i = comma if comma >= 0 else len(pkt)
    j = i + 1
    while j < len(pkt) and (pkt[j].isascii() and pkt[j].isdigit() or pkt[j] in JS_SPACE):
        j += 1
    return att, pkt[i + 1 : j]


def sio_packets(layer: str, data: bytes) -> list[str]:
    """The text packets of an input: the whole input (sio-packet), or each text message of a
    sio-message input (kind byte with bit 0 clear, then the text)."""
    if layer == "sio-packet":
        return [data.decode("utf-8", "replace")]
    return [m[1:].decode("utf-8", "replace") for m in data.split(SEP) if m and not m[0] & 1]


# Causes of compat disagreements, each recorded by i_ vectors: (name, layers, Node's side,
# codec's compat outcome, test on one text packet, vectors).
CAUSES = [
    (
        "JavaScript whitespace as the packet type (Number(\" \") is 0)",
        ("sio-packet", "sio-message"),
        "accepts",
        "SIO_ERR_PKT_TYPE",
        lambda pkt: pkt[:1] in JS_SPACE,
        ["vectors/sio/i_packet_type_space.json", "vectors/sio/i_packet_type_tab.json"],
    ),
    (
        "JavaScript whitespace that JSON does not allow, read by Node as (part of) the ack id",
        ("sio-packet", "sio-message"),
        "accepts",
        "SIO_ERR_JSON_SYNTAX",
        lambda pkt: any(c in JS_SPACE for c in node_header(pkt)[1]),
        [
            "vectors/sio/i_ack_id_form_feed.json",
            "vectors/sio/i_ack_id_no_break_space.json",
            "vectors/sio/i_ack_id_split_by_form_feed.json",
            "vectors/sio/i_connect_vertical_tab.json",
        ],
    ),
    (
        "attachment count spelled other than decimal digits, which Number() still reads",
        ("sio-packet", "sio-message"),
        "accepts",
        "SIO_ERR_PKT_ATTACHMENTS",
        lambda pkt: pkt[:1] in ("5", "6") and "-" in pkt and not re.fullmatch(r"[0-9]+", node_header(pkt)[0]),
        [
            "vectors/sio/i_attachments_plus_sign.json",
            "vectors/sio/i_attachments_trailing_dot.json",
            "vectors/sio/i_attachments_trailing_space.json",
            "vectors/sio/i_attachments_hex.json",
            "vectors/sio/i_attachments_exponent.json",
        ],
    ),
    (
        "\\u escape of an unpaired surrogate (JSON.parse keeps it)",
        ("sio-packet", "sio-message"),
        "accepts",
        "SIO_ERR_JSON_SURROGATE",
        unpaired_surrogate_escape,
        [
            "vectors/sio/i_json_lone_high_surrogate.json",
            "vectors/sio/i_json_lone_low_surrogate.json",
            "vectors/sio/i_json_high_surrogate_then_letter.json",
        ],
    ),
    (
        "zero attachments, accepted in compat as socket.io-parser 4.2.6 does (4.2.7 rejects); "
        "packet.h, REQUIREMENTS.md §2.15",
        ("sio-packet", "sio-message"),
        "rejects(Illegal attachments)",
        "accepts",
        lambda pkt: re.match(r"[56]0+-", pkt) is not None,
        ["vectors/sio/i_binary_zero_attachments.json"],
    ),
    (
        "placeholder num written with a fraction or an exponent",
        ("sio-message",),
        "accepts",
        "SIO_ERR_PKT_PLACEHOLDER",
        lambda pkt: NUM_NOT_INTEGER.search(pkt) is not None,
        ["vectors/sio/i_placeholder_fractional_num.json", "vectors/sio/i_placeholder_num_written_as_float.json"],
    ),
]


def i_vectors(vectors: Path) -> list[dict]:
    out = []
    for path in sorted(vectors.glob("*/i_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["_file"] = str(path.relative_to(vectors.parent))
        out.append(data)
    return out


def matching_vector(vectors: list[dict], layer: str, mode: str, error: str) -> str | None:
    """An i_ vector of the layer whose `mode` outcome is `error` (or that layer's sio-message
    twin, since a packet behaves the same alone or before attachments)."""
    layers = {layer, "sio-packet", "sio-message"} if layer.startswith("sio") else {layer}
    for v in vectors:
        if v.get("layer") in layers and (v.get(mode) or {}).get("error") == error:
            return v["_file"]
    return None


def explain(layer: str, node: str, codec_out: str, data: bytes) -> tuple | None:
    """The first cause in CAUSES that explains this input, or None."""
    if not layer.startswith("sio"):
        return None
    pkts = sio_packets(layer, data)
    for cause in CAUSES:
        name, layers, node_side, outcome, test, refs = cause
        if layer in layers and node == node_side and codec_out == outcome and any(map(test, pkts)):
            return cause
    return None


def classify(key: str, cat: dict, vectors: list[dict]) -> tuple[str, str, list[dict]]:
    """Verdict, reference, and the examples left unexplained (for a new finding's file)."""
    layer, scope, node, codec = key.split("|")
    codec_err = codec.split(":", 1)[1]
    if scope == "strict-only":
        vec = matching_vector(vectors, layer, "strict", codec_err)
        return "known", f"compat option ({codec_err} in strict mode)" + (f"; {vec}" if vec else ""), []
    if codec_err in DOCUMENTED:
        return "known", DOCUMENTED[codec_err], []
    inputs = [bytes.fromhex(h) for h in cat.get("inputs", [e["input_hex"] for e in cat["examples"]])]
    node_side = node.split(":", 1)[1]
    found: dict = {}
    unexplained: list = []
    for data in inputs:
        cause = explain(layer, node_side, codec_err, data)
        if cause is None:
            unexplained.append(data)
        else:
            found[cause[0]] = found.get(cause[0], 0) + 1
    checked = f"{len(inputs):,} of {cat['count']:,} inputs checked"
    if not unexplained:
        refs = sorted({r for c in CAUSES if c[0] in found for r in c[5]})
        causes = "; ".join(f"{name} ({n:,})" for name, n in found.items())
        return "known", f"{causes}; {checked}; " + ", ".join(refs), []
    left = {d.hex() for d in unexplained}
    examples = [e for e in cat["examples"] if e["input_hex"] in left]
    if len(examples) < 5:  # inputs unexplained but not among the first five examples
        examples += [
            {"input_hex": d.hex(), "input_text": d.decode("utf-8", "replace")}
            for d in unexplained
            if d.hex() not in {e["input_hex"] for e in examples}
        ][: 5 - len(examples)]
    note = f"{len(unexplained):,} unexplained, {sum(found.values()):,} explained; {checked}"
    return "new", note, examples


def slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:90]


def write_finding(folder: Path, key: str, cat: dict, note: str, examples: list[dict]) -> Path:
    layer, _, node, codec = key.split("|")
    path = folder / f"{slug(key)}.json"
    path.write_text(
        json.dumps(
            {
                "layer": LAYER_OF[layer],
                "summary": f"libsiocodec (compat) and the official parser disagree: Node {node[5:]}, "
                f"codec {codec.split(':', 1)[1]}",
                "count": cat["count"],
                "checked": note,
                "who": {"node": "socket.io-parser 4.2.7" if layer.startswith("sio") else "engine.io-parser 5.2.3"},
                "examples": examples,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--summary", type=Path, required=True)
    ap.add_argument("--vectors", type=Path, required=True)
    ap.add_argument("--findings", type=Path, required=True)
    ap.add_argument("--report", type=Path, required=True)
    args = ap.parse_args()
    stats = json.loads(args.summary.read_text())
    vectors = i_vectors(args.vectors)
    missing = [r for c in CAUSES for r in c[5] if not (args.vectors.parent / r).is_file()]
    if missing:
        print("classify.py: CAUSES cite missing vectors: " + ", ".join(missing), file=sys.stderr)
        return 1
    args.findings.mkdir(parents=True, exist_ok=True)
    for old in args.findings.glob("*.json"):  # the findings of this run replace the last run's
        old.unlink()
    lines = [
        f"# Differential run: {stats['total']:,} inputs",
        "",
        f"agree: {stats['agree']:,}; differ in strict mode only: {stats['strict_only']:,}; "
        f"differ in compat mode: {stats['disagree']:,}",
        "",
        "| inputs | category | class | reference / finding file |",
        "|---|---|---|---|",
    ]
    new = 0
    for key, cat in sorted(stats["categories"].items(), key=lambda kv: -kv[1]["count"]):
        verdict, ref, examples = classify(key, cat, vectors)
        if verdict == "new":
            new += 1
            ref = f"{write_finding(args.findings, key, cat, ref, examples)} ({ref})"
        lines.append(f"| {cat['count']:,} | `{key}` | {verdict} | {ref} |")
    args.report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"differential: {stats['total']:,} inputs, {len(stats['categories'])} categories, {new} new findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
