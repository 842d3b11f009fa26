"""Seeds: the recorded sessions as whole programs, the vectors as pools of field values, and session
templates that put pooled messages into a polling, WebSocket or upgraded session of either
Engine.IO version.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from harness import wire
from recorder import session as recorded
from siocodec import CodecError
from siocodec import eio as codec_eio
from siocodec.vectors import load_vectors

from . import ROOT
from .program import CloseStep, HttpStep, Program, RawStep, Record, Step, WsStep

SESSIONS_DIR = ROOT / "vectors" / "sessions"
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


@dataclass
class Pools:
    """Field values taken from the vectors, by Socket.IO protocol (5 with EIO4, 4 with EIO3)."""

    sio_texts: dict[int, list[bytes]] = field(default_factory=lambda: {4: [], 5: []})
    # A Socket.IO message: the packet text, then its binary attachments.
    sio_messages: dict[int, list[list[Record]]] = field(default_factory=lambda: {4: [], 5: []})
    eio_texts: dict[int, list[bytes]] = field(default_factory=lambda: {3: [], 4: []})
    eio_bodies: dict[str, list[bytes]] = field(default_factory=lambda: {"v4": [], "v3": [], "v3-binary": []})
    client_frames: list[bytes] = field(default_factory=list)
    http_heads: list[bytes] = field(default_factory=list)
    json_texts: list[bytes] = field(default_factory=list)
    utf8_texts: list[bytes] = field(default_factory=list)
    close_payloads: list[bytes] = field(default_factory=list)


def load_pools() -> Pools:
    pools = Pools()
    for v in load_vectors():
        layer, opts, chunks, kinds = v.data["layer"], v.data.get("options", {}), v.chunks, v.kinds
        proto = int(opts.get("protocol", 0))
        if layer == "sio-packet":
            pools.sio_texts[proto or 5].append(chunks[0])
        elif layer == "sio-message":
            pools.sio_messages[proto or 5].append([Record(c, k == "binary") for c, k in zip(chunks, kinds)])
        elif layer == "eio-packet" and kinds[0] == "text":
            pools.eio_texts[proto or 4].append(chunks[0])
        elif layer == "eio-payload":
            pools.eio_bodies["v3" if proto == 3 else "v4"].append(chunks[0])
        elif layer == "eio-payload-binary":
            pools.eio_bodies["v3-binary"].append(chunks[0])
        elif layer in ("ws-frame", "ws-stream") and opts.get("role", "server") == "server":
            pools.client_frames.append(b"".join(chunks))
        elif layer == "http-request":
            pools.http_heads.append(b"".join(chunks))
        elif layer == "json":
            pools.json_texts.append(chunks[0])
        elif layer == "utf8":
            pools.utf8_texts.append(b"".join(chunks))
        elif layer == "ws-close":
            pools.close_payloads.append(chunks[0])
    return pools


# ---------------------------------------------------------------------------- recorded sessions


def _records_of(body: bytes) -> list[Record] | None:
    try:
        decoded = codec_eio.decode_payload_format(codec_eio.PAYLOAD_V4, body, {})
    except CodecError:
        return None
    out = []
    for p in decoded["packets"]:
        if "binary" in p:
            out.append(Record(bytes.fromhex(p["binary"]), True))
        else:
            out.append(Record(str(codec_eio.TYPE_NAMES.index(p["type"])).encode() + p["text"].encode("utf-8")))
    return out


def _sid_placeholders(msg: dict, data: bytes) -> bytes:
    """The recorded client bytes with every recorded session id replaced by its placeholder."""
    changes = []
    for v in msg.get("variable", []):
        if v["name"].startswith("eio-sid-"):
            changes.append((v["offset"], v["length"], f"SID{v['name'].rsplit('-', 1)[1]}!".encode()))
    for offset, length, value in sorted(changes, reverse=True):
        data = data[:offset] + value + data[offset + length :]
    return data


def http_step_of(conn: int, data: bytes) -> Step:
    head = wire.find_head(data)
    if head is None:
        return RawStep(conn, data)
    method, _, rest = head.start_line.partition(" ")
    target, _, version = rest.rpartition(" ")
    body = data[head.head_length :]
    headers = []
    for k, v in head.headers:
        if k.lower() == "content-length":
            continue
        headers.append((k, "HOST!" if k.lower() == "host" else v))
    step = HttpStep(conn, method, target, headers, version=version or "HTTP/1.1")
    records = _records_of(body) if body and method == "POST" else None
    if records is not None:
        step.records = records
    else:
        step.body = body
    if head.header("content-length") is None and method != "POST":
        step.length = "none"
    return step


def session_program(sess: dict) -> Program:
    steps: list[Step] = []
    for msg in sess["messages"]:
        if msg["direction"] != recorded.C2S:
            continue
        conn = int(msg["connection"])
        if msg["kind"] == "close":
            steps.append(CloseStep(conn, "fin"))
        elif msg["kind"] == "http-request":
            steps.append(http_step_of(conn, _sid_placeholders(msg, recorded.message_bytes(msg))))
        elif msg["kind"] == "ws-frame":
            frame = recorded.message_bytes(msg)
            f = wire.decode_frame(frame)
            steps.append(WsStep(conn, f.payload, f.opcode, f.fin, f.rsv, f.mask_key))
    return Program(steps, 4, "/socket.io/", f"session:{sess['name']}")


def load_sessions(directory: Path = SESSIONS_DIR) -> list[Program]:
    out = []
    for path in sorted(directory.glob("*.json")):
        if path.name == "schema.json":
            continue
        sess = json.loads(path.read_text(encoding="utf-8"))
        if sess.get("format") == recorded.FORMAT:
            out.append(session_program(sess))
    return out


# ---------------------------------------------------------------------------- templates


def query(path: str, eio: int, transport: str, sid: bool) -> str:
    return f"{path}?EIO={eio}&transport={transport}" + ("&sid=SID!" if sid else "")


def ws_upgrade(conn: int, path: str, eio: int, sid: bool, key: str = WS_KEY) -> HttpStep:
    return HttpStep(
        conn,
        "GET",
        query(path, eio, "websocket", sid),
        [
            ("Host", "HOST!"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ],
        length="none",
    )


def polling_get(conn: int, path: str, eio: int, sid: bool) -> HttpStep:
    return HttpStep(conn, "GET", query(path, eio, "polling", sid), [("Host", "HOST!")], length="none")


def polling_post(conn: int, path: str, eio: int, records: list[Record]) -> HttpStep:
    return HttpStep(
        conn,
        "POST",
        query(path, eio, "polling", True),
        [("Host", "HOST!"), ("Content-Type", "text/plain;charset=UTF-8")],
        records,
        payload="v4" if eio == 4 else "v3",
    )


def connect_message(rng: random.Random, eio: int) -> list[Record]:
    """A CONNECT to `/` or `/custom` (v5 with an optional auth object; v4 is joined to `/` at
    the handshake, so only other namespaces need one)."""
    nsp = rng.choice([b"", b"/custom,"])
    if eio == 3:
        return [Record(b"40" + nsp.rstrip(b","))] if nsp else []
    auth = rng.choice([b"", b'{"token":"abc"}'])
    return [Record(b"40" + nsp + auth)]


def ws_frames(conn: int, message: list[Record], eio: int, rng: random.Random) -> list[WsStep]:
    """The WebSocket frames of one Engine.IO message packet and its attachments."""
    out = []
    for r in message:
        mask = bytes(rng.randrange(256) for _ in range(4))
        if r.binary:
            out.append(WsStep(conn, r.data if eio == 4 else b"\x04" + r.data, 0x2, mask=mask))
        else:
            out.append(WsStep(conn, r.data, 0x1, mask=mask))
    return out


def sio_to_eio(message: list[Record]) -> list[Record]:
    """Socket.IO packet texts become Engine.IO message packets; attachments stay binary."""
    return [r if r.binary else Record(b"4" + r.data) for r in message]


def pooled_messages(rng: random.Random, pools: Pools, eio: int, count: int) -> list[list[Record]]:
    proto = 5 if eio == 4 else 4
    out: list[list[Record]] = []
    for _ in range(count):
        pick = rng.random()
        if pick < 0.45 and pools.sio_texts[proto]:
            out.append(sio_to_eio([Record(rng.choice(pools.sio_texts[proto]))]))
        elif pick < 0.8 and pools.sio_messages[proto]:
            out.append(sio_to_eio(rng.choice(pools.sio_messages[proto])))
        elif pools.eio_texts[eio]:
            out.append([Record(rng.choice(pools.eio_texts[eio]))])
    return out


def template(rng: random.Random, pools: Pools, eio: int, path: str = "/socket.io/") -> Program:
    """A session of a randomly chosen transport carrying pooled messages after a CONNECT."""
    transport = rng.choice(["websocket", "polling", "upgrade"])
    messages = [sio_to_eio(connect_message(rng, eio))] + pooled_messages(rng, pools, eio, rng.randint(1, 4))
    messages = [m for m in messages if m]
    steps: list[Step] = []
    if transport == "websocket":
        steps.append(ws_upgrade(1, path, eio, False))
        for m in messages:
            steps += ws_frames(1, m, eio, rng)
    else:
        steps.append(polling_get(1, path, eio, False))
        for m in messages:
            steps.append(polling_post(2, path, eio, m))
        steps.append(polling_get(1, path, eio, True))
        if transport == "upgrade":
            steps.append(ws_upgrade(3, path, eio, True))
            steps += ws_frames(3, [Record(b"2probe")], eio, rng)
            steps += ws_frames(3, [Record(b"5")], eio, rng)
            for m in pooled_messages(rng, pools, eio, rng.randint(0, 2)):
                steps += ws_frames(3, m, eio, rng)
    return Program(steps, eio, path, f"template:{transport}:eio{eio}")
