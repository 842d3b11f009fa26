#!/usr/bin/env python3
"""Writes the codec benchmark's input file: one deterministic mix of wire messages that the C,
Node and Python benchmarks all read, so every implementation decodes exactly the same bytes.

File layout (all integers little-endian):
    magic  b"SIOBENCH1\\n"
    u32    number of records
    record u8 category, u8 number of parts, u32 Socket.IO packets the record carries,
           then per part: u8 kind (0 text, 1 binary), u32 length, bytes

A record is what one decode call handles at its layer: an Engine.IO message (text) plus its
binary attachments, one polling body (many packets), or one masked WebSocket frame.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import struct
from pathlib import Path

MAGIC = b"SIOBENCH1\n"

# Category ids are shared with bench/codec_bench.c, bench/node/codec_bench.js and
# bench/python/codec_bench.py; the names are the row labels of the table.
CATEGORIES = [
    "small_event",
    "ack_event",
    "namespaced_event",
    "binary_event",
    "large_payload",
    "polling_payload",
    "ws_frame",
    "deep_binary",
]
CAT = {name: i for i, name in enumerate(CATEGORIES)}

TEXT, BINARY = 0, 1

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "chat",
    "room",
    "user",
    "ready",
    "ping",
    "état",
    "naïve",
    "日本",
    "emoji 🙂",
    "quote \" inside",
    "back\\slash",
    "tab\there",
]


def dumps(value: object) -> str:
    """Compact JSON, as socket.io-parser and python-socketio both emit it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def small_object(rng: random.Random) -> dict[str, object]:
    """A typical chat-like argument: a few short fields."""
    return {
        "user": rng.choice(WORDS),
        "id": rng.randrange(1, 100000),
        "text": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 6))),
        "ok": rng.random() < 0.5,
        "tags": [rng.choice(WORDS) for _ in range(rng.randrange(0, 3))],
    }


def event_args(rng: random.Random) -> list[object]:
    event = rng.choice(["message", "chat", "move", "typing"])
    args: list[object] = [event, small_object(rng)]
    if rng.random() < 0.3:
        args.append(rng.randrange(0, 1000))
    return args


def sio_text(ptype: int, nsp: str, ack_id: int | None, data: object, attachments: int = 0) -> str:
    """Socket.IO v5 packet text: type, [n-], [nsp,], [id], [json]."""
    out = str(ptype)
    if attachments:
        out += f"{attachments}-"
    if nsp != "/":
        out += nsp + ","
    if ack_id is not None:
        out += str(ack_id)
    return out + dumps(data)


def record(cat: str, packets: int, parts: list[tuple[int, bytes]]) -> bytes:
    out = struct.pack("<BBI", CAT[cat], len(parts), packets)
    for kind, blob in parts:
        out += struct.pack("<BI", kind, len(blob)) + blob
    return out


def eio_message(sio: str) -> bytes:
    """Engine.IO v4 message packet carrying a Socket.IO packet, as sent in a WebSocket text frame."""
    return ("4" + sio).encode()


def gen_small(rng: random.Random) -> bytes:
    return record("small_event", 1, [(TEXT, eio_message(sio_text(2, "/", None, event_args(rng))))])


def gen_ack(rng: random.Random) -> bytes:
    ack_id = rng.randrange(0, 100000)
    if rng.random() < 0.5:
        sio = sio_text(2, "/", ack_id, event_args(rng))
    else:
        sio = sio_text(3, "/", ack_id, [small_object(rng)])
    return record("ack_event", 1, [(TEXT, eio_message(sio))])


def gen_namespaced(rng: random.Random) -> bytes:
    nsp = rng.choice(["/chat", "/admin", "/game-lobby", "/custom"])
    ack_id = rng.randrange(0, 1000) if rng.random() < 0.3 else None
    return record("namespaced_event", 1, [(TEXT, eio_message(sio_text(2, nsp, ack_id, event_args(rng))))])


def gen_binary(rng: random.Random) -> bytes:
    n = rng.choice([1, 1, 2, 3])
    blobs = [bytes(rng.randrange(256) for _ in range(rng.choice([16, 256, 1024, 4096]))) for _ in range(n)]
    data: list[object] = ["upload", {"name": rng.choice(WORDS), "size": sum(map(len, blobs))}]
    for i in range(n):
        data.append({"_placeholder": True, "num": i})
    ack_id = rng.randrange(0, 1000) if rng.random() < 0.5 else None
    text = eio_message(sio_text(5, "/", ack_id, data, attachments=n))
    return record("binary_event", 1, [(TEXT, text)] + [(BINARY, b) for b in blobs])


def gen_large(rng: random.Random) -> bytes:
    """About 64 KiB of nested JSON: a state snapshot, with strings that need escaping."""
    rows = [
        {
            "id": i,
            "name": rng.choice(WORDS),
            "score": rng.randrange(10**6),
            "flags": [rng.random() < 0.5 for _ in range(4)],
            "note": " ".join(rng.choice(WORDS) for _ in range(6)),
        }
        for i in range(520)
    ]
    sio = sio_text(2, "/", None, ["snapshot", {"rows": rows, "version": 7}])
    return record("large_payload", 1, [(TEXT, eio_message(sio))])


def gen_polling(rng: random.Random) -> bytes:
    """An Engine.IO v4 polling body: 50 Socket.IO packets joined by 0x1e; one in ten is a binary
    event whose attachment follows as its own 'b' + base64 record."""
    items: list[str] = []
    packets = 0
    for _ in range(50):
        if rng.random() < 0.1:
            blob = bytes(rng.randrange(256) for _ in range(64))
            head = ["upload", {"_placeholder": True, "num": 0}]
            items.append("4" + sio_text(5, "/", None, head, attachments=1))
            items.append("b" + base64.b64encode(blob).decode())
        else:
            items.append("4" + sio_text(2, "/", None, event_args(rng)))
        packets += 1
    return record("polling_payload", packets, [(TEXT, "\x1e".join(items).encode())])


def ws_client_frame(payload: bytes, rng: random.Random) -> bytes:
    """A single masked text frame (FIN set), as a browser sends it (RFC 6455 §5.2)."""
    head = bytearray([0x81])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack(">H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack(">Q", n)
    mask = bytes(rng.randrange(256) for _ in range(4))
    return bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def gen_ws(rng: random.Random) -> bytes:
    payload = eio_message(sio_text(2, "/", None, event_args(rng)))
    return record("ws_frame", 1, [(BINARY, ws_client_frame(payload, rng))])


def gen_deep_binary(rng: random.Random) -> bytes:
    """A binary event of about 1 MB nested 64 deep (the default JSON depth bound, counted from the
    event's own array): 62 objects one inside the other, each holding an array of about 16 KB of
    strings, numbers and booleans, the innermost holding the placeholder of one 1 KiB attachment.
    It measures what one hostile-looking but valid packet costs: every byte is validated, and the
    placeholder is found at the bottom."""
    blob = bytes(rng.randrange(256) for _ in range(1024))
    node: dict[str, object] = {"file": {"_placeholder": True, "num": 0}}
    for level in range(62, 0, -1):
        filler: list[object] = []
        size = 2  # the brackets; each item adds its text and a comma
        while size < 16_600:
            for item in (rng.choice(WORDS), rng.randrange(10**6), rng.random() < 0.5):
                filler.append(item)
                size += len(dumps(item).encode()) + 1
        node = (
            {"level": level, "items": filler, "next": node} if level < 62 else {"level": level, "items": filler, **node}
        )
    text = eio_message(sio_text(5, "/", None, ["deep", node], attachments=1))
    return record("deep_binary", 1, [(TEXT, text), (BINARY, blob)])


# How many records of each category the mix holds: mostly small events, as in a chat or game.
MIX = [
    (gen_small, 400),
    (gen_ack, 200),
    (gen_namespaced, 200),
    (gen_binary, 60),
    (gen_large, 6),
    (gen_polling, 20),
    (gen_ws, 400),
]
# Measured beside the mix (bench/report.py leaves it out of the mix's figure).
BESIDE_MIX = [(gen_deep_binary, 2)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    records: list[bytes] = []
    for gen, count in MIX + BESIDE_MIX:
        records += [gen(rng) for _ in range(count)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(MAGIC + struct.pack("<I", len(records)) + b"".join(records))


if __name__ == "__main__":
    main()
