"""The fuzzer's input: a program of steps, each sent on a numbered TCP connection.

A step keeps the structure its layer needs for valid framing (the Engine.IO records of a polling body,
the payload of a WebSocket frame), so a mutated field still travels inside correct framing: the
renderer frames it with the codec's encoders (polling payloads, WebSocket frames) and computes the
Content-Length. A step whose framing was itself mutated is kept as raw bytes.

Placeholders in any text or bytes: `SID!` is the newest Engine.IO session id the target announced
in this program, `SID1!` … `SID9!` the first … ninth one, `HOST!` the target's host:port. A
placeholder with no value yet is sent as it is written.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness import wire
from siocodec import LIB, CodecError, Span, encode_with, in_buffer
from siocodec import eio as codec_eio
from siocodec import ws as codec_ws

from . import CONFORMANCE  # noqa: F401  (puts conformance/ on sys.path)

PLACEHOLDER = re.compile(rb"SID([1-9]?)!|HOST!")
FORMATS = {"v4": codec_eio.PAYLOAD_V4, "v3": codec_eio.PAYLOAD_V3_TEXT, "v3-binary": codec_eio.PAYLOAD_V3_BINARY}
EIO_TYPES = b"0123456"
RS = b"\x1e"


@dataclass
class Record:
    """One Engine.IO packet of a polling payload: the text packet as written ("4…", "2probe"), or
    the bytes of a binary message (`binary`), which the framing writes as base64 or XHR2 bytes."""

    data: bytes
    binary: bool = False


@dataclass
class HttpStep:
    conn: int
    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    # The body: Engine.IO records framed by `payload` (v4, v3, v3-binary), or `body` as it is.
    records: list[Record] | None = None
    body: bytes = b""
    payload: str = "v4"
    # Content-Length: "auto" (the body's length when there is a body), "none" (no header), or the
    # literal value to write.
    length: str = "auto"
    version: str = "HTTP/1.1"


@dataclass
class WsStep:
    """One client frame. `mask` None sends it unmasked; `declared` writes that payload length into
    the header instead of the real one."""

    conn: int
    payload: bytes
    opcode: int = 0x1
    fin: bool = True
    rsv: int = 0
    mask: bytes | None = b"\x00\x00\x00\x00"
    declared: int | None = None


@dataclass
class RawStep:
    conn: int
    data: bytes


@dataclass
class CloseStep:
    """The client ends a connection: "fin" (half-close, the server may still answer) or "reset"."""

    conn: int
    how: str = "fin"


Step = HttpStep | WsStep | RawStep | CloseStep


@dataclass
class Program:
    steps: list[Step]
    eio: int = 4
    path: str = "/socket.io/"
    origin: str = ""


@dataclass
class Context:
    """What the renderer substitutes: the target's address and the session ids learned so far."""

    host: str
    port: int
    sids: list[bytes] = field(default_factory=list)

    def substitute(self, data: bytes) -> bytes:
        if b"!" not in data:
            return data
        return PLACEHOLDER.sub(self._value, data)

    def _value(self, m: re.Match[bytes]) -> bytes:
        if m.group(0) == b"HOST!":
            return f"{self.host}:{self.port}".encode()
        if not self.sids:
            return m.group(0)
        n = m.group(1)
        if not n:
            return self.sids[-1]
        return self.sids[int(n) - 1] if int(n) <= len(self.sids) else m.group(0)


# ---------------------------------------------------------------------------- rendering


def _utf16_units(data: bytes) -> int:
    buf, ptr = in_buffer(data)
    return int(LIB.sio_utf8_utf16_units(ptr, len(data)))


def _codec_payload(records: list[Record], fmt: int) -> bytes:
    keep: list = []
    packets = []
    for r in records:
        pkt = codec_eio.Packet()
        if r.binary:
            pkt.type, pkt.binary, data = 4, True, r.data
        else:
            pkt.type, pkt.binary, data = EIO_TYPES.index(r.data[:1]), False, r.data[1:]
        buf, ptr = in_buffer(data)
        keep.append(buf)
        pkt.base64 = False
        pkt.data = Span(ptr, len(data))
        packets.append(pkt)
    arr = (codec_eio.Packet * max(len(packets), 1))(*packets)
    return encode_with(LIB.sio_eio_payload_encode, fmt, arr, len(packets))


def _manual_payload(records: list[Record], payload: str) -> bytes:
    """Framing for records the codec refuses to encode (a type byte outside 0-6, a separator
    inside a v4 record): the same framing rules, written out here."""
    import base64

    if payload == "v4":
        return RS.join(b"b" + base64.b64encode(r.data) if r.binary else r.data for r in records)
    out = bytearray()
    for r in records:
        text = b"b4" + base64.b64encode(r.data) if r.binary else r.data
        out += str(_utf16_units(text)).encode() + b":" + text
    return bytes(out)


def frame_payload(records: list[Record], payload: str) -> bytes:
    if not records:
        return b""
    if all(r.binary or (r.data[:1] != b"" and r.data[:1] in EIO_TYPES) for r in records):
        try:
            return _codec_payload(records, FORMATS[payload])
        except CodecError:
            pass
    return _manual_payload(records, "v4" if payload == "v4" else "v3")


def http_body(step: HttpStep, ctx: Context) -> bytes:
    if step.records is None:
        return ctx.substitute(step.body)
    return frame_payload([Record(ctx.substitute(r.data), r.binary) for r in step.records], step.payload)


def render_http(step: HttpStep, ctx: Context) -> bytes:
    body = http_body(step, ctx)
    enc = lambda s: ctx.substitute(s.encode("utf-8", "surrogateescape"))  # noqa: E731
    lines = [enc(step.method) + b" " + enc(step.target) + b" " + enc(step.version)]
    lines += [enc(k) + b": " + enc(v) for k, v in step.headers]
    if step.length == "auto":
        if body or step.method in ("POST", "PUT"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
    elif step.length != "none":
        lines.append(b"Content-Length: " + enc(step.length))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def render_ws(step: WsStep, ctx: Context) -> bytes:
    payload = ctx.substitute(step.payload)
    if step.declared is None and 0 <= step.rsv <= 7:
        try:
            return codec_ws.encode_frame(step.opcode & 0xF, payload, step.fin, step.mask, step.rsv)
        except CodecError:
            pass  # control frames longer than 125 bytes or fragmented: written out below
    return wire.encode_frame(
        step.opcode & 0xF,
        payload,
        fin=step.fin,
        rsv=step.rsv & 7,
        masked=step.mask is not None,
        mask_key=step.mask or b"\x00\x00\x00\x00",
        declared_length=step.declared,
    )


def render(step: Step, ctx: Context) -> bytes:
    if isinstance(step, HttpStep):
        return render_http(step, ctx)
    if isinstance(step, WsStep):
        return render_ws(step, ctx)
    if isinstance(step, RawStep):
        return ctx.substitute(step.data)
    return b""


# ---------------------------------------------------------------------------- JSON form


def bytes_to_json(data: bytes) -> dict:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"hex": data.hex()}


def bytes_from_json(obj: dict) -> bytes:
    return obj["text"].encode("utf-8", "surrogatepass") if "text" in obj else bytes.fromhex(obj["hex"])


def step_to_json(step: Step) -> dict:
    if isinstance(step, HttpStep):
        d: dict[str, Any] = {"method": step.method, "target": step.target, "headers": [[k, v] for k, v in step.headers]}
        if step.records is not None:
            d["records"] = [dict(bytes_to_json(r.data), **({"binary": True} if r.binary else {})) for r in step.records]
            d["payload"] = step.payload
        elif step.body:
            d["body"] = bytes_to_json(step.body)
        if step.length != "auto":
            d["length"] = step.length
        if step.version != "HTTP/1.1":
            d["version"] = step.version
        return {"conn": step.conn, "http": d}
    if isinstance(step, WsStep):
        w: dict[str, Any] = {"opcode": step.opcode, "payload": bytes_to_json(step.payload)}
        if not step.fin:
            w["fin"] = False
        if step.rsv:
            w["rsv"] = step.rsv
        w["mask"] = None if step.mask is None else step.mask.hex()
        if step.declared is not None:
            w["declared"] = step.declared
        return {"conn": step.conn, "ws": w}
    if isinstance(step, RawStep):
        return {"conn": step.conn, "raw": bytes_to_json(step.data)}
    return {"conn": step.conn, "close": step.how}


def step_from_json(d: dict) -> Step:
    conn = int(d["conn"])
    if "http" in d:
        h = d["http"]
        records = None
        if "records" in h:
            records = [Record(bytes_from_json(r), bool(r.get("binary", False))) for r in h["records"]]
        return HttpStep(
            conn,
            h["method"],
            h["target"],
            [(k, v) for k, v in h.get("headers", [])],
            records,
            bytes_from_json(h["body"]) if "body" in h else b"",
            h.get("payload", "v4"),
            h.get("length", "auto"),
            h.get("version", "HTTP/1.1"),
        )
    if "ws" in d:
        w = d["ws"]
        mask = w.get("mask", "00000000")
        return WsStep(
            conn,
            bytes_from_json(w["payload"]),
            int(w.get("opcode", 1)),
            bool(w.get("fin", True)),
            int(w.get("rsv", 0)),
            None if mask is None else bytes.fromhex(mask),
            w.get("declared"),
        )
    if "raw" in d:
        return RawStep(conn, bytes_from_json(d["raw"]))
    return CloseStep(conn, d.get("close", "fin"))


def program_to_json(p: Program) -> dict:
    return {"eio": p.eio, "path": p.path, "origin": p.origin, "steps": [step_to_json(s) for s in p.steps]}


def program_from_json(d: dict) -> Program:
    return Program(
        [step_from_json(s) for s in d["steps"]], int(d.get("eio", 4)), d.get("path", "/socket.io/"), d.get("origin", "")
    )


def program_bytes(p: Program) -> bytes:
    """A canonical serialisation (for comparing inputs between runs)."""
    return json.dumps(program_to_json(p), sort_keys=True, separators=(",", ":")).encode()


def copy_step(s: Step) -> Step:
    if isinstance(s, HttpStep):
        records = None if s.records is None else [Record(r.data, r.binary) for r in s.records]
        return dataclasses.replace(s, headers=list(s.headers), records=records)
    return dataclasses.replace(s)


def copy_program(p: Program) -> Program:
    return Program([copy_step(s) for s in p.steps], p.eio, p.path, p.origin)


def concat_programs(programs: list[Program]) -> Program:
    """Programs one after the other on disjoint connection numbers (a window of inputs as one)."""
    steps: list[Step] = []
    offset = 0
    for p in programs:
        for s in p.steps:
            c = copy_step(s)
            c.conn += offset
            steps.append(c)
        offset += max((s.conn for s in p.steps), default=0)
    first = programs[0] if programs else Program([])
    return Program(steps, first.eio, first.path, "window of " + ", ".join(p.origin for p in programs))


def estimated_size(s: Step) -> int:
    """Bytes a step puts on the wire, give or take its framing (cheap: nothing is rendered)."""
    if isinstance(s, HttpStep):
        body = sum(len(r.data) + 2 for r in s.records) if s.records is not None else len(s.body)
        return 40 + len(s.target) + sum(len(k) + len(v) + 4 for k, v in s.headers) + body
    if isinstance(s, WsStep):
        return 14 + len(s.payload)
    if isinstance(s, RawStep):
        return len(s.data)
    return 0
