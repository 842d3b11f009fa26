#!/usr/bin/env python3
"""Classifies the disagreements found by driver.js between libsiocodec and the official parsers.

Each category (layer, which side rejects, the codec's error or the Node parser's message) is
  - known, compat option: only strict mode differs and compat matches Node, as the layer's
    compat option documents (eio.h, packet.h); the i_ vector showing it is cited when one exists;
  - known, i_ vector: compat still differs and an i_ vector of the layer records that outcome
    (same codec error under compat, or a documented choice listed in DOCUMENTED below);
  - new finding: anything else. Each new finding is written to fuzz/differential/findings/ as
    a JSON file with its examples, for the vector owners to turn into vectors.
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
                                "(Node silently rounds them); checklist §2.16",
    "SIO_ERR_PKT_PAYLOAD_SPACE": "packet.h: whitespace between header and payload is rejected "
                                 "in both modes (Node reads it as ack id 0); checklist §2.16",
}
# Node rejects, compat accepts on purpose (a Node message pattern and the reason).
DOCUMENTED_ACCEPTS = [
    (re.compile(r"^[56]0+-"), "packet.h: zero attachments are accepted in compat, as "
                              "socket.io-parser 4.2.6 does (4.2.7 rejects); checklist §2.15"),
]
LAYER_OF = {"eio-packet": "eio-packet", "eio-payload": "eio-payload", "sio-packet": "sio-packet",
            "sio-message": "sio-message"}


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


def classify(key: str, cat: dict, vectors: list[dict]) -> tuple[str, str]:
    layer, scope, node, codec = key.split("|")
    codec_err = codec.split(":", 1)[1]
    if scope == "strict-only":
        vec = matching_vector(vectors, layer, "strict", codec_err)
        return "known", f"compat option ({codec_err} in strict mode)" + (f"; {vec}" if vec else "")
    if codec_err in DOCUMENTED:
        return "known", DOCUMENTED[codec_err]
    vec = matching_vector(vectors, layer, "compat", codec_err)
    if vec:
        return "known", f"i_ vector {vec}"
    if codec_err == "accepts" and all(any(rx.search(e["input_text"].lstrip("\x00")) for rx, _ in
                                          DOCUMENTED_ACCEPTS) for e in cat["examples"]):
        return "known", next(why for rx, why in DOCUMENTED_ACCEPTS
                             if rx.search(cat["examples"][0]["input_text"].lstrip("\x00")))
    return "new", ""


def slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:90]


def write_finding(folder: Path, key: str, cat: dict) -> Path:
    layer, _, node, codec = key.split("|")
    path = folder / f"{slug(key)}.json"
    path.write_text(json.dumps({
        "layer": LAYER_OF[layer],
        "summary": f"libsiocodec (compat) and the official parser disagree: Node {node[5:]}, "
                   f"codec {codec.split(':', 1)[1]}",
        "count": cat["count"],
        "who": {"node": "socket.io-parser 4.2.7" if layer.startswith("sio") else "engine.io-parser 5.2.3"},
        "examples": cat["examples"],
    }, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
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
    args.findings.mkdir(parents=True, exist_ok=True)
    for old in args.findings.glob("*.json"):  # the findings of this run replace the last run's
        old.unlink()
    lines = [f"# Differential run: {stats['total']:,} inputs",
             "",
             f"agree: {stats['agree']:,}; differ in strict mode only: {stats['strict_only']:,}; "
             f"differ in compat mode: {stats['disagree']:,}",
             "",
             "| inputs | category | class | reference / finding file |", "|---|---|---|---|"]
    new = 0
    for key, cat in sorted(stats["categories"].items(), key=lambda kv: -kv[1]["count"]):
        verdict, ref = classify(key, cat, vectors)
        if verdict == "new":
            new += 1
            ref = str(write_finding(args.findings, key, cat))
        lines.append(f"| {cat['count']:,} | `{key}` | {verdict} | {ref} |")
    args.report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"differential: {stats['total']:,} inputs, {len(stats['categories'])} categories, "
          f"{new} new findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
