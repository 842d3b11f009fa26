#!/usr/bin/env python3
"""Builds the seed corpora for the fuzz targets from the annotated vectors in vectors/.

Each vector's input chunks are routed by the vector's layer to the targets that parse that
layer, wrapped in the target's input format (fuzz/README.md, "Input formats"). Seeds are named
"<verdict>_<group>_<vector name>[_<variant>]" so the seed check can tell which seeds a parser
must accept (y_) or reject (n_). A manifest, manifest.tsv, lists
target, file, verdict and whether the vector sets decoder options (the verdict of a vector with
options is only meaningful under those options, so the check skips it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

GROUPS = ("ws", "eio", "sio", "json", "http", "adapter")
# Separates a Socket.IO packet from its attachments in the sio_attach target's input.
ATTACH_SEP = b"\x00\xffAT"


@dataclass
class Vector:
    group: str
    name: str
    data: dict

    @property
    def verdict(self) -> str:
        return self.name[0]

    @property
    def chunks(self) -> list[bytes]:
        return [chunk_bytes(c) for c in self.data["input"]]

    @property
    def kinds(self) -> list[str]:
        return [c.get("kind", "binary" if "hex" in c else "text") for c in self.data["input"]]

    @property
    def options(self) -> dict:
        return self.data.get("options") or {}


def chunk_bytes(chunk: dict) -> bytes:
    """The bytes of one chunk, from text, hex or parts (vectors/README.md)."""
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


def load(vectors: Path) -> list[Vector]:
    out = []
    for group in GROUPS:
        for path in sorted((vectors / group).glob("*.json")):
            out.append(Vector(group, path.stem, json.loads(path.read_text(encoding="utf-8"))))
    return out


Router = Callable[["Vector"], Iterable["Seed"]]

# A seed: (target, variant suffix, bytes, verdict the target's parser must give or "-",
# whether the target cannot express the options the verdict holds under).
Seed = tuple[str, str, bytes, str, bool]


@dataclass
class Case:
    """One way to decode a vector: its options and the verdict under them ("y", "n" or "-")."""

    variant: str
    options: dict
    verdict: str


def cases(v: Vector) -> list[Case]:
    """y_/n_ vectors have one case; i_ vectors one per outcome (strict, compat)."""
    if v.verdict in "yn":
        return [Case("", v.options, v.verdict)]
    out = []
    for name in ("strict", "compat"):
        outcome = v.data.get(name)
        if outcome is None:
            continue
        opts = dict(v.options)
        opts.update(outcome.get("options") or {})
        if name == "compat":
            opts.setdefault("compat", True)
        out.append(Case(name, opts, "y" if "decoded" in outcome else "n"))
    return out


def unknown(opts: dict, known: set[str]) -> bool:
    """True when options outside `known` change the verdict."""
    return any(k not in known for k in opts)


def split_header(chunks: list[bytes]) -> bytes:
    """The fuzz_splitter header that replays the vector's own read sizes, when it can."""
    sizes = [len(c) for c in chunks[:-1]]
    if not sizes or len(sizes) > 15 or any(n > 255 or n == 0 for n in sizes):
        return b"\x00"
    return bytes([len(sizes)] + sizes)


def route_utf8(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        yield ("utf8", c.variant, b"\x00" + b"".join(v.chunks), c.verdict, bool(c.options))
        # simd_paths: scanner 1 (UTF-8); the text's first byte also places the cut
        yield ("simd_paths", f"utf8{c.variant}", b"\x01" + b"".join(v.chunks), c.verdict, bool(c.options))


def route_json(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        yield ("json", c.variant, b"".join(v.chunks), c.verdict, bool(c.options))
        # simd_paths: scanner 0 (validation, default bound), 4 (the readers, no verdict) and 5
        # (validation, then the placeholder walk of a valid text)
        yield ("simd_paths", f"json{c.variant}", b"\x00" + b"".join(v.chunks), c.verdict, bool(c.options))
        yield ("simd_paths", f"read{c.variant}", b"\x04" + b"".join(v.chunks), "-", False)
        yield ("simd_paths", f"ph{c.variant}", b"\x05" + b"".join(v.chunks), c.verdict, bool(c.options))
    # scanner 3 (masking) with a fixed key and offset 1, on the JSON text as payload
    yield ("simd_paths", "mask", b"\x03\x37\xfa\x21\x3d\x01" + b"".join(v.chunks), "-", False)


WS_LIMITS = {1000000: 0, 16: 1, 1000: 2}


def ws_options(opts: dict) -> tuple[int, bool]:
    """The ws_frame options byte, and whether some option could not be expressed."""
    b = 1 if opts.get("role") == "client" else 0
    limit = opts.get("max_message", 1000000)
    b |= WS_LIMITS.get(limit, 0) << 1
    lost = limit not in WS_LIMITS or unknown(opts, {"role", "max_message"})
    return b, lost


def route_ws_stream(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        b, lost = ws_options(c.options)
        data = bytes([b]) + split_header(v.chunks) + b"".join(v.chunks)
        yield ("ws_frame", c.variant, data, c.verdict, lost)


def route_ws_frame(v: Vector) -> Iterable[Seed]:
    """One-frame vectors check the header decoder alone; the stream parser may judge the frame
    differently (a lone continuation frame), so these seeds carry no verdict."""
    for c in cases(v):
        b, lost = ws_options(c.options)
        yield ("ws_frame", c.variant, bytes([b, 0]) + b"".join(v.chunks), "-", lost)


def route_ws_close(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        yield ("ws_close", c.variant, b"\x00" + b"".join(v.chunks), c.verdict, bool(c.options))


def route_ws_accept(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        yield ("ws_close", c.variant, b"\x01" + b"".join(v.chunks), c.verdict, bool(c.options))


HTTP_SMALL = {"max_head_bytes": 256, "max_headers": 4, "max_target": 64}


def route_http(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        limits = {k: c.options[k] for k in HTTP_SMALL if k in c.options}
        small = limits == HTTP_SMALL
        lost = bool(limits) and not small or unknown(c.options, set(HTTP_SMALL) | {"lookup"})
        data = bytes([1 if small else 0]) + split_header(v.chunks) + b"".join(v.chunks)
        yield ("http_head", c.variant, data, c.verdict, lost)


EIO_KNOWN = {"protocol", "compat", "b64", "transport"}


def route_eio_packet(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        o = c.options
        b = 1 if o.get("protocol", 4) == 3 else 0
        if v.kinds[0] == "binary":
            b |= 2 << 1
        elif o.get("transport") != "polling":
            b |= 1 << 1
        b |= (8 if o.get("compat") else 0) | (16 if o.get("b64") else 0)
        yield ("eio_packet", c.variant, bytes([b]) + v.chunks[0], c.verdict, unknown(o, EIO_KNOWN))


def route_eio_payload(v: Vector) -> Iterable[Seed]:
    binary = v.data["layer"] == "eio-payload-binary"
    for c in cases(v):
        o = c.options
        v3 = binary or o.get("protocol", 4) == 3
        b = (1 if o.get("compat") else 0) | (2 if binary else 0)
        target = "eio_payload_v3" if v3 else "eio_payload"
        yield (target, c.variant, bytes([b]) + v.chunks[0], c.verdict, unknown(o, EIO_KNOWN))


def route_eio_open(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        b = 4 if c.options.get("protocol", 4) == 3 else 0
        yield ("eio_extras", c.variant, bytes([b]) + v.chunks[0], c.verdict, unknown(c.options, {"protocol"}))


def route_eio_jsonp(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        post = c.options.get("body", "get") == "post"
        b = (2 | (4 if c.options.get("compat") else 0)) if post else 1
        lost = unknown(c.options, {"body", "compat"}) or (not post and bool(c.options.get("compat")))
        yield ("eio_extras", c.variant, bytes([b]) + v.chunks[0], c.verdict, lost)


def route_eio_webtransport(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        b = 3 | (4 if c.options.get("compat") else 0)
        data = bytes([b]) + split_header(v.chunks) + b"".join(v.chunks)
        yield ("eio_extras", c.variant, data, c.verdict, unknown(c.options, {"compat"}))


SIO_ATTACH = {10: 0, 1: 1, 3: 2, 64: 3}


def sio_options(o: dict) -> tuple[int, bool]:
    att = o.get("max_attachments", 10)
    b = (1 if o.get("protocol", 5) == 4 else 0) | (2 if o.get("compat") else 0)
    b |= SIO_ATTACH.get(att, 0) << 2
    return b, att not in SIO_ATTACH or unknown(o, {"protocol", "compat", "max_attachments"})


def route_sio_packet(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        b, lost = sio_options(c.options)
        yield ("sio_packet", c.variant, bytes([b]) + v.chunks[0], c.verdict, lost)
        # Alone in the attachment target, a binary packet waits for attachments: no verdict.
        yield ("sio_attach", c.variant, bytes([b, 0]) + v.chunks[0], "-", lost)
    # simd_paths scanner 5: a payload with placeholders, from its first bracket on
    text = v.chunks[0] if v.chunks else b""
    if b"_placeholder" in text and b"[" in text:
        yield ("simd_paths", "ph", b"\x05" + text[text.index(b"[") :], "-", False)


def route_sio_message(v: Vector) -> Iterable[Seed]:
    for c in cases(v):
        b, lost = sio_options(c.options)
        msgs = [bytes([1 if k == "binary" else 0]) + ch for ch, k in zip(v.chunks, v.kinds)]
        yield ("sio_attach", c.variant, bytes([b]) + ATTACH_SEP.join(msgs), c.verdict, lost)


def text_chunks_to_utf8(v: Vector) -> Iterable[Seed]:
    """Every text chunk of any vector is also a UTF-8 seed, with no verdict."""
    for i, (chunk, kind) in enumerate(zip(v.chunks, v.kinds)):
        if kind == "text" and chunk and v.data.get("layer") != "utf8":
            yield ("utf8", f"t{i}", b"\x00" + chunk, "-", False)


def base64_records(v: Vector) -> Iterable[Seed]:
    """Engine.IO "b" records carry base64; they seed the base64 target, with no verdict."""
    for i, chunk in enumerate(v.chunks):
        for j, record in enumerate(chunk.split(b"\x1e")):
            if record.startswith(b"b") and len(record) > 1:
                body = record[2:] if v.data.get("protocol") == 3 else record[1:]
                yield ("base64", f"b{i}_{j}", b"\x01" + body, "-", False)
                yield ("simd_paths", f"b{i}_{j}", b"\x02" + body, "-", False)


# ---- the server target: scenarios in its operation language (fuzz/targets/server.c).
WS_HEAD = (
    b"GET /socket.io/?EIO=4&transport=websocket{sid} HTTP/1.1\r\nHost: x\r\n"
    b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)
POLL_GET = b"GET /socket.io/?EIO=4&transport=polling{sid} HTTP/1.1\r\nHost: x\r\n\r\n"


def op_connect() -> bytes:
    return b"\x00"


def op_send(conn: int, data: bytes) -> bytes:
    out = b""
    for i in range(0, max(len(data), 1), 65535):
        piece = data[i : i + 65535]
        out += (
            b"\x01" + bytes([conn, len(piece)])
            if len(piece) < 256
            else b"\x02" + bytes([conn]) + len(piece).to_bytes(2, "big")
        ) + piece
    return out


def op_frame(conn: int, opcode: int, payload: bytes) -> bytes:
    if len(payload) > 255:
        return b""
    return b"\x07" + bytes([conn, opcode, len(payload)]) + payload


def op_wait(tenths: int) -> bytes:
    return b"\x04" + bytes([tenths])


def poll_post(body: bytes) -> bytes:
    head = (
        b"POST /socket.io/?EIO=4&transport=polling&sid=SID! HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    return head + body


def polling_session(bodies: list[bytes]) -> bytes:
    """Handshake, then each body POSTed and a GET to collect the answers."""
    out = op_connect() + op_send(0, POLL_GET.replace(b"{sid}", b""))
    for body in bodies:
        out += op_send(0, poll_post(body)) + op_send(0, POLL_GET.replace(b"{sid}", b"&sid=SID!"))
    return out


def v3_records(packets: list[bytes]) -> bytes:
    """An Engine.IO v3 text payload: each packet as <length>:<packet> (ASCII packets)."""
    return b"".join(b"%d:" % len(p) + p for p in packets)


def jsonp_session(eio: int, payload: bytes) -> bytes:
    """JSONP polling (j=0): handshake, the payload POSTed form-encoded as d=..., then a GET."""
    query = b"/socket.io/?EIO=%d&transport=polling&j=0" % eio
    body = b"d=" + urllib.parse.quote_from_bytes(payload, safe="").encode()
    post = (
        b"POST " + query + b"&sid=SID! HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    get = b"GET " + query + b"{sid} HTTP/1.1\r\nHost: x\r\n\r\n"
    out = op_connect() + op_send(0, get.replace(b"{sid}", b""))
    return out + op_send(0, post + body) + op_send(0, get.replace(b"{sid}", b"&sid=SID!"))


def ws_session(messages: list[tuple[int, bytes]], connect_first: bool) -> bytes:
    """A direct WebSocket session: handshake, optional "40", then the given frames."""
    out = op_connect() + op_send(0, WS_HEAD.replace(b"{sid}", b""))
    if connect_first:
        out += op_frame(0, 1, b"40")
    for opcode, payload in messages:
        out += op_frame(0, opcode, payload)
    return out + op_frame(0, 8, b"\x03\xe8")


def upgrade_session() -> bytes:
    """Polling, then a second connection probing and upgrading (EIO-UP-01..05)."""
    out = polling_session([b"40"])
    out += op_connect() + op_send(1, WS_HEAD.replace(b"{sid}", b"&sid=SID!"))
    out += op_frame(1, 1, b"2probe") + op_send(0, POLL_GET.replace(b"{sid}", b"&sid=SID!"))
    out += op_frame(1, 1, b"5") + op_frame(1, 1, b'42["message","after upgrade"]')
    return out + op_wait(5) + op_frame(1, 8, b"\x03\xe8")


def route_server_sio(v: Vector) -> Iterable[Seed]:
    """Socket.IO packets and messages, sent over a WebSocket after connecting to "/"."""
    frames = [(2 if k == "binary" else 1, (b"" if k == "binary" else b"4") + ch) for ch, k in zip(v.chunks, v.kinds)]
    yield ("server", "ws", b"\x00" + ws_session(frames, True), "-", False)


def route_server_eio(v: Vector) -> Iterable[Seed]:
    """Engine.IO v4 payloads as POST bodies of a polling session (echo application)."""
    if v.data.get("protocol", 4) == 4 and v.options.get("protocol") != 3:
        yield ("server", "poll", b"\x01" + polling_session([v.chunks[0]]), "-", False)


def route_server_http(v: Vector) -> Iterable[Seed]:
    yield ("server", "http", b"\x00" + op_connect() + op_send(0, b"".join(v.chunks)), "-", False)


def route_server_ws_stream(v: Vector) -> Iterable[Seed]:
    """Client-to-server frame streams, as raw bytes after a WebSocket handshake."""
    if v.options.get("role", "server") == "server":
        data = op_connect() + op_send(0, WS_HEAD.replace(b"{sid}", b""))
        for chunk in v.chunks:
            data += op_send(0, chunk)
        yield ("server", "ws", b"\x01" + data, "-", False)


ADAPTER_KINDS = {"adapter-broadcast": 0, "adapter-request": 1, "adapter-response": 2}


def route_adapter(v: Vector) -> Iterable[Seed]:
    """Messages published between cluster nodes: the channel kind byte, then the body."""
    for c in cases(v):
        kind = ADAPTER_KINDS[v.data["layer"]]
        yield ("adapter", c.variant, bytes([kind]) + b"".join(v.chunks), c.verdict, bool(c.options))


ROUTES: dict[str, list[Router]] = {
    "utf8": [route_utf8],
    "json": [route_json],
    "ws-stream": [route_ws_stream],
    "ws-frame": [route_ws_frame],
    "ws-close": [route_ws_close],
    "ws-accept": [route_ws_accept],
    "http-request": [route_http],
    "eio-packet": [route_eio_packet, base64_records],
    "eio-payload": [route_eio_payload, base64_records, route_server_eio],
    "eio-payload-binary": [route_eio_payload],
    "eio-open": [route_eio_open],
    "eio-jsonp": [route_eio_jsonp],
    "eio-webtransport": [route_eio_webtransport],
    "sio-packet": [route_sio_packet, route_server_sio],
    "sio-message": [route_sio_message, route_server_sio],
    "adapter-broadcast": [route_adapter],
    "adapter-request": [route_adapter],
    "adapter-response": [route_adapter],
}
ROUTES["http-request"].append(route_server_http)
ROUTES["ws-stream"].append(route_server_ws_stream)


def scenario_seeds() -> Iterable[tuple[str, bytes]]:
    """Hand-written sessions that no single vector describes."""
    yield "polling_socketio", b"\x00" + polling_session([b"40", b'42["message","hi"]', b"41"])
    yield (
        "polling_echo_eio3",
        b"\x03" + op_connect() + op_send(0, b"GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
    yield (
        "ws_socketio",
        b"\x00"
        + ws_session(
            [
                (1, b'42["message",1,"2",{"3":[true]}]'),
                (1, b'451-["bin",{"_placeholder":true,"num":0}]'),
                (2, b"\x01\x02"),
                (1, b"3"),
            ],
            True,
        ),
    )
    yield "ws_echo_binary", b"\x01" + ws_session([(2, b"\x01\x02\x03\x04"), (1, b"4hello")], False)
    yield "upgrade", b"\x00" + upgrade_session()
    yield "heartbeat_timeout", b"\x08" + polling_session([b"40"]) + op_wait(10) + op_wait(10)
    yield "pipelined_gets", b"\x01" + op_connect() + op_send(0, POLL_GET.replace(b"{sid}", b"") * 2)
    # JSONP bodies with base64 records: each record is decoded while the rest of the decoded
    # body is still being read (regressions/server/jsonp-base64-record-freed-body)
    yield "jsonp_eio3_base64", b"\x03" + jsonp_session(3, v3_records([b"b4AQID", b"4a", b"b4BAUG", b"40"]))
    yield "jsonp_v4_base64", b"\x01" + jsonp_session(4, b"4a\x1ebAQID\x1ebBAUG\x1e4z")
    yield (
        "jsonp_eio3_socketio_attachment",
        b"\x02" + jsonp_session(3, v3_records([b'451-["bin",{"_placeholder":true,"num":0}]', b"b4AQID", b'42["e"]'])),
    )


# ---- the client target: a scripted server in its operation language (fuzz/targets/client.c).
def c_answer(how: int, body: bytes = b"") -> bytes:
    return b"\x00" + bytes([how]) + (bytes([len(body)]) + body if how == 1 else b"")


def c_ws(channel: int, text: bytes) -> bytes:
    return b"\x01" + bytes([channel, len(text)]) + text


def c_wait(steps: int) -> bytes:
    return b"\x04" + bytes([steps])


def c_send(text: bytes) -> bytes:
    return b"\x05" + bytes([len(text)]) + text


def client_scenario_seeds() -> Iterable[tuple[str, bytes]]:
    """Sessions a server would give a client: handshake, upgrade, messages, heartbeat, failures."""
    upgrade = c_answer(0) + c_answer(0) + c_ws(1, b"3probe") + c_answer(0)  # open, probe, noop
    yield "polling_only", b"\x04" + c_answer(0) + c_send(b"hello") + c_answer(0) + c_answer(1, b"4hi") + c_wait(9)
    yield "upgrade", b"\x00" + upgrade + c_ws(0, b"4hello") + c_ws(0, b"2") + c_send(b"x") + c_wait(20)
    yield (
        "websocket_only",
        b"\x02"
        + c_answer(0)
        + c_ws(0, b'0{"sid":"w","upgrades":[],"pingInterval":300,"pingTimeout":200}')
        + c_ws(0, b"4m"),
    )
    yield "eio3", b"\x05" + c_answer(0) + c_answer(0) + c_send(b"v3") + c_answer(0) + c_wait(10) + c_answer(1, b"1:3")
    yield (
        "socketio",
        b"\x14"
        + c_answer(0)
        + c_answer(0)
        + c_answer(1, b'40{"sid":"s"}')
        + c_send(b"ask")
        + c_answer(1, b'430["ok"]'),
    )
    yield (
        "socketio_ws",
        b"\x10" + upgrade + c_ws(0, b'40{"sid":"s"}') + c_ws(0, b'42["e",1]') + c_ws(0, b'421["q"]') + c_ws(0, b"41"),
    )
    yield "reconnect", b"\x14" + c_answer(0) + c_answer(2) + c_wait(30) + c_answer(0) + c_wait(60)
    yield "dead_server", b"\x04" + c_answer(0) + c_wait(20)


# ---- the reference client's receive path: server bytes in its operation language
# (fuzz/targets/refclient.c). Connections are numbered in the order the client opened them.
def r_connected(k: int) -> bytes:
    return bytes([0, k])


def r_bytes(k: int, data: bytes) -> bytes:
    return bytes([3, k, len(data) >> 8, len(data) & 0xFF]) + data


def r_canned(k: int, what: int) -> bytes:
    return bytes([4, k, what])


def r_end(k: int, reset: bool = False) -> bytes:
    return bytes([5, k, 1 if reset else 0])


def r_wait(steps: int) -> bytes:
    return bytes([6, steps])


def r_app(action: int, data: bytes) -> bytes:
    return bytes([7, action, len(data)]) + data


def http_200(body: bytes, ctype: bytes = b"text/plain; charset=UTF-8") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def server_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([n]) if n < 126 else bytes([126, n >> 8, n & 0xFF]))
    return head + payload


# Polling, answered: connection 0 carries the GETs (the handshake first), 1 the POSTs.
R_POLLING = r_connected(0) + r_canned(0, 0) + r_connected(1) + r_canned(1, 1)
# WebSocket only: the upgrade answered, the open packet, the CONNECT reply.
R_WEBSOCKET = r_connected(0) + r_canned(0, 2) + r_canned(0, 5) + r_bytes(0, server_frame(b'40{"sid":"s"}'))


def route_refclient_payload(v: Vector) -> Iterable[Seed]:
    """Engine.IO payloads as the body of a long-poll answer (v3 XHR2 as application/octet-stream)."""
    binary = v.data["layer"] == "eio-payload-binary"
    v3 = binary or v.options.get("protocol", 4) == 3
    ctype = b"application/octet-stream" if binary else b"text/plain; charset=UTF-8"
    data = bytes([0x03 if v3 else 0x02]) + R_POLLING + r_bytes(0, http_200(v.chunks[0], ctype)) + r_wait(2)
    yield ("refclient", "poll", data, "-", False)


def route_refclient_open(v: Vector) -> Iterable[Seed]:
    """Open packets as the handshake answer."""
    v3 = v.options.get("protocol", 4) == 3
    yield (
        "refclient",
        "open",
        bytes([0x03 if v3 else 0x02]) + r_connected(0) + r_bytes(0, http_200(v.chunks[0])),
        "-",
        False,
    )


def route_refclient_sio(v: Vector) -> Iterable[Seed]:
    """Socket.IO packets and messages from the server, on a WebSocket-only session."""
    data = bytes([0x04]) + R_WEBSOCKET
    for chunk, kind in zip(v.chunks, v.kinds):
        data += r_bytes(0, server_frame(chunk, 2) if kind == "binary" else server_frame(b"4" + chunk))
    yield ("refclient", "ws", data + r_wait(1), "-", False)


def route_refclient_ws_stream(v: Vector) -> Iterable[Seed]:
    """Server-to-client frame streams, as the bytes of an open WebSocket session."""
    if v.options.get("role") == "client":
        yield ("refclient", "ws", bytes([0x04]) + R_WEBSOCKET + r_bytes(0, b"".join(v.chunks)), "-", False)


def refclient_scenario_seeds() -> Iterable[tuple[str, bytes]]:
    """Sessions a server gives the client, and the ways they go wrong."""
    upgrade = R_POLLING[:6] + r_connected(1) + r_connected(2) + r_canned(2, 1) + r_canned(1, 2)
    upgrade += r_canned(1, 3) + r_canned(0, 4)  # 3probe; the held GET answered with a noop
    yield (
        "upgrade",
        b"\x00"
        + upgrade
        + r_bytes(0, server_frame(b'40{"sid":"s"}'))
        + r_canned(0, 6)
        + r_app(0, b'["hi",1]')
        + r_bytes(0, server_frame(b'430["ok"]'))
        + r_wait(4),
    )
    yield "polling", b"\x02" + R_POLLING + r_canned(0, 7) + r_app(0, b'["e"]') + r_canned(1, 1) + r_wait(20)
    yield "eio3", b"\x03" + R_POLLING + r_canned(0, 7) + r_wait(8) + r_canned(1, 1) + r_canned(0, 4)
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n40{\"s\r\n8;x=y\r\nid\":\"s\"}\r\n0\r\n\r\n"
    yield "chunked", b"\x02" + R_POLLING + r_bytes(0, chunked) + r_wait(1)
    until_close = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n40{\"sid\":\"s\"}"
    yield "until_close", b"\x02" + R_POLLING + r_bytes(0, until_close) + r_end(0) + r_wait(1)
    binary = server_frame(b'451-["b",{"_placeholder":true,"num":0}]') + server_frame(b"\x01\x02", 2)
    yield "ws_binary", b"\x04" + R_WEBSOCKET + r_bytes(0, binary) + r_app(1, b"/x") + r_app(2, b"/x")
    closing = server_frame(b"\x03\xe8", 8)
    yield "ws_close", b"\x04" + R_WEBSOCKET + r_bytes(0, server_frame(b"", 9) + closing) + r_wait(30)
    yield "refused_then_retry", b"\x02" + bytes([1, 0]) + r_wait(30) + R_POLLING + r_wait(2)
    yield "error_status", b"\x02" + r_connected(0) + r_bytes(0, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    yield "ping_timeout", b"\x0a" + R_POLLING + r_wait(20) + r_wait(20)
    yield "fallback", b"\x06" + r_connected(0) + r_bytes(0, b"HTTP/1.1 400 Bad Request\r\n\r\n") + r_wait(40)
    yield "bound", b"\x12" + R_POLLING + r_bytes(0, http_200(b"4" + b"x" * 80)) + r_wait(1)
    yield "app_close", b"\x02" + R_POLLING + r_app(0, b'["bye"]') + r_app(3, b"") + r_canned(1, 1)


ROUTES["eio-payload"].append(route_refclient_payload)
ROUTES["eio-payload-binary"].append(route_refclient_payload)
ROUTES["eio-open"].append(route_refclient_open)
ROUTES["sio-packet"].append(route_refclient_sio)
ROUTES["sio-message"].append(route_refclient_sio)
ROUTES["ws-stream"].append(route_refclient_ws_stream)

EVERY_VECTOR: list[Router] = [text_chunks_to_utf8]
TARGETS = {
    "utf8",
    "json",
    "base64",
    "ws_frame",
    "ws_close",
    "http_head",
    "eio_packet",
    "eio_payload",
    "eio_payload_v3",
    "sio_packet",
    "sio_attach",
    "eio_extras",
    "server",
    "client",
    "simd_paths",
    "refclient",
    "adapter",
}


def seeds_for(v: Vector, targets: set[str]) -> Iterable[Seed]:
    routers = list(ROUTES.get(v.data.get("layer", ""), [])) + EVERY_VECTOR
    for router in routers:
        for seed in router(v):
            if seed[0] in targets:
                yield seed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vectors", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--targets", default="", help="comma list; default: every routed target")
    args = ap.parse_args()
    targets = set(args.targets.split(",")) if args.targets else TARGETS
    if args.out.exists():
        shutil.rmtree(args.out)
    manifest = []
    seen: set[tuple[str, str]] = set()
    for v in load(args.vectors):
        for target, variant, data, verdict, lost in seeds_for(v, targets):
            digest = hashlib.sha1(data).hexdigest()
            if (target, digest) in seen:
                continue  # identical bytes add nothing to a corpus
            seen.add((target, digest))
            name = f"{v.verdict}_{v.group}_{v.name[2:]}" + (f"_{variant}" if variant else "")
            folder = args.out / target
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            manifest.append(f"{target}\t{name}\t{verdict}\t{int(lost)}")
    if "server" in targets:
        for name, data in scenario_seeds():
            (args.out / "server").mkdir(parents=True, exist_ok=True)
            (args.out / "server" / f"s_{name}").write_bytes(data)
            manifest.append(f"server\ts_{name}\t-\t0")
    if "refclient" in targets:
        for name, data in refclient_scenario_seeds():
            (args.out / "refclient").mkdir(parents=True, exist_ok=True)
            (args.out / "refclient" / f"s_{name}").write_bytes(data)
            manifest.append(f"refclient\ts_{name}\t-\t0")
    if "client" in targets:
        for name, data in client_scenario_seeds():
            (args.out / "client").mkdir(parents=True, exist_ok=True)
            (args.out / "client" / f"s_{name}").write_bytes(data)
            manifest.append(f"client\ts_{name}\t-\t0")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "manifest.tsv").write_text("".join(line + "\n" for line in manifest))
    counts: dict[str, int] = {}
    for line in manifest:
        counts[line.split("\t")[0]] = counts.get(line.split("\t")[0], 0) + 1
    summary = ", ".join(f"{t} {n}" for t, n in sorted(counts.items())) or "none (no vectors yet)"
    print(f"fuzz-seeds: {len(manifest)} seeds: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
