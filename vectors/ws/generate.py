#!/usr/bin/env python3
"""Writes the WebSocket, close-payload, accept-key and UTF-8 vectors of this folder.

The expected outcomes come from the RFCs, worked out here in plain Python (frame layout,
masking, reassembly, SHA-1 via hashlib), never from libsiocodec, so the vectors check the codec
rather than echo it. Run from anywhere: `python3 vectors/ws/generate.py`; it rewrites every
JSON file it owns and leaves other files alone. The JSON files are committed; this script is
how they were made and how to regenerate them after a change.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPNAMES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}
RFC_MASK = bytes.fromhex("37fa213d")
MASK2 = bytes.fromhex("a1b2c3d4")
ENGINEIO_MAX = 1000000
WS_LIB_MAX = 100 * 1024 * 1024


# ---------------------------------------------------------------- byte streams with notes


@dataclass
class Fill:
    byte: int
    count: int


@dataclass
class Stream:
    """Bytes (possibly with long runs of one value) and the notes that explain each span."""

    segments: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    length: int = 0

    def add(self, data, label: str, note: str) -> Stream:
        n = data.count if isinstance(data, Fill) else len(data)
        if n == 0:
            return self
        self.segments.append(data)
        self.notes.append({"offset": self.length, "length": n, "label": label, "note": note})
        self.length += n
        return self

    def extend(self, other: Stream) -> Stream:
        for seg, note in zip(other.segments, other.notes):
            self.add(seg, note["label"], note["note"])
        return self

    def raw(self) -> bytes:
        return b"".join(bytes([s.byte]) * s.count if isinstance(s, Fill) else s for s in self.segments)

    def chunk(self, kind: str | None = None) -> dict:
        out: dict = {}
        if any(isinstance(s, Fill) and s.count >= 256 for s in self.segments):
            parts: list[dict] = []
            pending = b""
            for s in self.segments:
                if isinstance(s, Fill) and s.count >= 256:
                    if pending:
                        parts.append({"hex": pending.hex()})
                        pending = b""
                    parts.append({"fill": f"{s.byte:02x}", "count": s.count})
                else:
                    pending += bytes([s.byte]) * s.count if isinstance(s, Fill) else s
            if pending:
                parts.append({"hex": pending.hex()})
            out["parts"] = parts
        else:
            out["hex"] = self.raw().hex()
        if kind:
            out["kind"] = kind
        out["annotations"] = self.notes
        return out


def text_chunk(text: str, notes: list) -> dict:
    return {"text": text, "annotations": notes}


def show(data: bytes, limit: int = 24) -> str:
    """A short human reading of payload bytes."""
    try:
        s = data.decode("utf-8")
        if s.isprintable() and len(s) <= limit:
            return f"'{s}'"
    except UnicodeDecodeError:
        pass
    if len(data) <= limit // 2:
        return "bytes " + data.hex(" ")
    return f"{len(data)} bytes"


def xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


# ---------------------------------------------------------------- frames


def frame(
    opcode: int,
    payload=b"",
    *,
    fin: bool = True,
    mask: bytes | None = None,
    rsv: int = 0,
    form: int | None = None,
    declared: int | None = None,
    mask_bit: bool | None = None,
    cut: int | None = None,
    about: str = "",
) -> Stream:
    """One frame, field by field. `form` forces the 7/16/64-bit length form, `declared` the
    length value written, `mask_bit` the MASK bit, `cut` drops everything after that many
    bytes (for truncated frames). Fill payloads must use no mask or an all-zero key."""
    n = payload.count if isinstance(payload, Fill) else len(payload)
    length = n if declared is None else declared
    if form is None:
        form = 7 if length < 126 else 16 if length < 65536 else 64
    masked = (mask is not None) if mask_bit is None else mask_bit
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    len7 = length if form == 7 else 126 if form == 16 else 127
    b1 = (0x80 if masked else 0) | len7
    name = OPNAMES.get(opcode, "reserved")
    rsv_text = "RSV1-3 = 0" if rsv == 0 else f"RSV bits {rsv >> 2 & 1}{rsv >> 1 & 1}{rsv & 1} (RSV1 RSV2 RSV3)"
    s = Stream()
    s.add(
        bytes([b0]),
        "FIN, RSV1-3, opcode",
        f"0x{b0:02x}: FIN={int(fin)}, {rsv_text}, opcode 0x{opcode:x} ({name}){about}",
    )
    len_text = {
        7: f"payload length {length} in the 7-bit field",
        16: "126 = a 16-bit length follows",
        64: "127 = a 64-bit length follows",
    }[form]
    s.add(bytes([b1]), "MASK, payload length", f"0x{b1:02x}: MASK={int(masked)}, {len_text}")
    if form != 7:
        width = 2 if form == 16 else 8
        s.add(
            length.to_bytes(width, "big"),
            f"extended payload length ({8 * width}-bit)",
            f"{length} (0x{length:x}), network byte order",
        )
    if mask is not None:
        s.add(mask, "masking key", f"{mask.hex(' ')}: payload byte i is XORed with key[i mod 4]")
    if isinstance(payload, Fill):
        key_note = ", masked with an all-zero key so unchanged" if mask is not None else ""
        s.add(payload, "payload", f"{payload.count} bytes of 0x{payload.byte:02x}{key_note}")
    elif mask is not None:
        s.add(xor(payload, mask), "payload (masked)", f"{show(payload)} once unmasked")
    else:
        s.add(payload, "payload", show(payload) if payload else "empty")
    if cut is not None:
        s = cut_stream(s, cut)
    return s


def cut_stream(s: Stream, keep: int) -> Stream:
    raw = s.raw()[:keep]
    out = Stream()
    for note in s.notes:
        start, end = note["offset"], min(note["offset"] + note["length"], keep)
        if start < end:
            cut = end < note["offset"] + note["length"]
            out.add(
                raw[start:end],
                note["label"] + (" (cut short)" if cut else ""),
                note["note"] + (f"; only {end - start} of its {note['length']} bytes arrive" if cut else ""),
            )
    return out


def split_stream(s: Stream, cuts: list[int]) -> list[Stream]:
    """The same bytes as several reads, each with its share of the notes."""
    raw, bounds, out = s.raw(), [0, *cuts, s.length], []
    for lo, hi in zip(bounds, bounds[1:]):
        piece = Stream()
        for note in s.notes:
            a, b = max(note["offset"], lo), min(note["offset"] + note["length"], hi)
            if a < b:
                whole = a == note["offset"] and b == note["offset"] + note["length"]
                part = "" if whole else f" (bytes {a - note['offset']}..{b - note['offset'] - 1} of {note['length']})"
                piece.add(raw[a:b], note["label"] + part, note["note"])
        out.append(piece)
    return out


def concat(*streams: Stream) -> Stream:
    out = Stream()
    for s in streams:
        out.extend(s)
    return out


def close_body(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else code.to_bytes(2, "big") + reason


# ---------------------------------------------------------------- expected outcomes


def bytes_obj(data, text: bool) -> dict:
    """Same canonical form as the adapter's (documented in README.md)."""
    if isinstance(data, Fill):
        data = bytes([data.byte]) * data.count
    if len(data) >= 64 and data.count(data[0]) == len(data):
        return {"parts": [{"fill": f"{data[0]:02x}", "count": len(data)}]}
    if text:
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"hex": data.hex()}


def raw_payload(p) -> bytes:
    return bytes([p.byte]) * p.count if isinstance(p, Fill) else p


def frame_decoded(opcode, payload, *, fin=True, mask=None) -> dict:
    return {
        "fin": fin,
        "opcode": opcode,
        "mask": mask.hex() if mask else None,
        "length": len(raw_payload(payload)),
        "payload": bytes_obj(raw_payload(payload), opcode == 0x1),
    }


def stream_decoded(frames: list[tuple]) -> dict:
    """Reassembles (opcode, payload, fin, mask) tuples the way RFC 6455 §5.4 describes."""
    out_frames: list[dict] = []
    messages: list[dict] = []
    current, text = b"", False
    for opcode, payload, fin, mask in frames:
        data = raw_payload(payload)
        if opcode & 0x8:
            out_frames.append(
                {"fin": True, "opcode": opcode, "mask": mask.hex() if mask else None, "payload": bytes_obj(data, False)}
            )
            if opcode == 0x8:
                code = int.from_bytes(data[:2], "big") if data else None
                messages.append({"type": "close", "code": code, "reason": data[2:].decode()})
            else:
                messages.append({"type": OPNAMES[opcode], "data": bytes_obj(data, False)})
            continue
        if opcode != 0:
            current, text = b"", opcode == 0x1
        current += data
        out_frames.append(
            {"fin": fin, "opcode": opcode, "mask": mask.hex() if mask else None, "payload": bytes_obj(data, text)}
        )
        if fin:
            messages.append({"type": "text" if text else "binary", "data": bytes_obj(current, text)})
    return {"frames": out_frames, "messages": messages}


# ---------------------------------------------------------------- writing files

WRITTEN: list[str] = []


def write(
    name: str,
    description: str,
    layer: str,
    requirements: list[str],
    chunks: list[dict],
    *,
    decoded=None,
    error: str | None = None,
    options: dict | None = None,
    source: str = "",
    extra: dict | None = None,
) -> None:
    assert name[:2] in ("y_", "n_", "i_")
    v: dict = {
        "description": description,
        "layer": layer,
        "protocol": 0 if layer == "utf8" else 13,
        "requirements": requirements,
    }
    if source:
        v["source"] = source
    if options:
        v["options"] = options
    v["input"] = chunks
    if name.startswith("y_"):
        v["decoded"] = decoded
    elif name.startswith("n_"):
        v["error"] = error
    v.update(extra or {})
    path = HERE / f"{name}.json"
    path.write_text(json.dumps(v, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    WRITTEN.append(name)


def ws_frame(name, description, reqs, stream: Stream, *, role="server", decoded=None, error=None, source=""):
    write(
        name,
        description,
        "ws-frame",
        reqs,
        [stream.chunk()],
        decoded=decoded,
        error=error,
        options=None if role == "server" else {"role": role},
        source=source,
    )


def ws_stream(
    name,
    description,
    reqs,
    stream: Stream,
    *,
    role="server",
    frames=None,
    error=None,
    options=None,
    source="",
    extra=None,
):
    opts = dict(options or {})
    if role != "server":
        opts["role"] = role
    decoded = stream_decoded(frames) if frames is not None and name.startswith("y_") else None
    write(
        name,
        description,
        "ws-stream",
        reqs,
        [stream.chunk()],
        decoded=decoded,
        error=error,
        options=opts or None,
        source=source,
        extra=extra,
    )


# ---------------------------------------------------------------- ws-frame


def frame_vectors() -> None:
    rfc = "RFC 6455 §5.7"
    hello = b"Hello"
    ws_frame(
        "y_frame_rfc_text_unmasked",
        "RFC 6455 §5.7: a single-frame unmasked text message 'Hello', as a server sends it.",
        ["RFC6455-5.7", "RFC6455-5.2"],
        frame(1, hello),
        role="client",
        decoded=frame_decoded(1, hello),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_text_masked",
        "RFC 6455 §5.7: a single-frame masked text message 'Hello', as a client sends it.",
        ["RFC6455-5.7", "RFC6455-5.3"],
        frame(1, hello, mask=RFC_MASK),
        decoded=frame_decoded(1, hello, mask=RFC_MASK),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_fragment_first",
        "RFC 6455 §5.7: first fragment 'Hel' of an unmasked text message (FIN clear).",
        ["RFC6455-5.7", "RFC6455-5.4"],
        frame(1, b"Hel", fin=False),
        role="client",
        decoded=frame_decoded(1, b"Hel", fin=False),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_fragment_last",
        "RFC 6455 §5.7: last fragment 'lo' (continuation opcode, FIN set); alone it is a well-formed frame.",
        ["RFC6455-5.7", "RFC6455-5.4"],
        frame(0, b"lo"),
        role="client",
        decoded=frame_decoded(0, b"lo"),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_ping_unmasked",
        "RFC 6455 §5.7: an unmasked ping whose body is 'Hello'.",
        ["RFC6455-5.7", "RFC6455-5.5.2"],
        frame(9, hello),
        role="client",
        decoded=frame_decoded(9, hello),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_pong_masked",
        "RFC 6455 §5.7: a masked pong whose body is 'Hello', answering the ping.",
        ["RFC6455-5.7", "RFC6455-5.5.3"],
        frame(10, hello, mask=RFC_MASK),
        decoded=frame_decoded(10, hello, mask=RFC_MASK),
        source=rfc,
    )
    ws_frame(
        "y_frame_rfc_binary_256",
        "RFC 6455 §5.7: 256 bytes of binary data in one unmasked frame (16-bit length 0x0100).",
        ["RFC6455-5.7", "RFC6455-5.2"],
        frame(2, Fill(0x2A, 256)),
        role="client",
        decoded=frame_decoded(2, Fill(0x2A, 256)),
        source=rfc + " (payload bytes chosen here)",
    )
    ws_frame(
        "y_frame_rfc_binary_64k",
        "RFC 6455 §5.7: 64 KiB of binary data in one unmasked frame (64-bit length 65536).",
        ["RFC6455-5.7", "RFC6455-5.2"],
        frame(2, Fill(0x2A, 65536)),
        role="client",
        decoded=frame_decoded(2, Fill(0x2A, 65536)),
        source=rfc + " (payload bytes chosen here)",
    )
    for n, what in (
        (125, "largest 7-bit length"),
        (126, "smallest 16-bit length"),
        (65535, "largest 16-bit length"),
        (65536, "smallest 64-bit length"),
    ):
        ws_frame(
            f"y_frame_length_{n}",
            f"A masked binary frame of {n} bytes: the {what} (§5.2 minimal encoding).",
            ["RFC6455-5.2"],
            frame(2, Fill(0x00, n), mask=bytes(4)),
            decoded=frame_decoded(2, Fill(0x00, n), mask=bytes(4)),
        )
    ws_frame(
        "y_frame_empty_text",
        "An unmasked text frame with an empty payload.",
        ["RFC6455-5.2", "RFC6455-5.6"],
        frame(1, b""),
        role="client",
        decoded=frame_decoded(1, b""),
    )
    body = close_body(1000, b"bye")
    ws_frame(
        "y_frame_close_masked",
        "A masked close frame carrying code 1000 and reason 'bye'.",
        ["RFC6455-5.5.1", "RFC6455-5.3"],
        frame(8, body, mask=MASK2),
        decoded=frame_decoded(8, body, mask=MASK2),
    )
    ws_frame(
        "y_frame_ping_125",
        "A ping with a 125-byte payload: the largest a control frame may carry.",
        ["RFC6455-5.5"],
        frame(9, b"p" * 125),
        role="client",
        decoded=frame_decoded(9, b"p" * 125),
    )
    ws_frame(
        "y_frame_eio_binary",
        "An Engine.IO v4 binary message: the masked frame holds exactly the bytes 01 02 03 04, no type byte.",
        ["EIO-PKT-05", "RFC6455-5.6"],
        frame(2, bytes([1, 2, 3, 4]), mask=MASK2),
        decoded=frame_decoded(2, bytes([1, 2, 3, 4]), mask=MASK2),
    )

    def bad(name, description, reqs, stream, error, role="client"):
        ws_frame(name, description, reqs, stream, role=role, error=error)

    for rsv, bit in ((4, "RSV1"), (2, "RSV2"), (1, "RSV3")):
        bad(
            f"n_frame_{bit.lower()}_set",
            f"{bit} set while no extension was negotiated: the frame must be failed (§5.2).",
            ["RFC6455-5.2"],
            frame(1, hello, rsv=rsv),
            "SIO_ERR_WS_RSV_SET",
        )
    for op in (0x3, 0x7, 0xB, 0xF):
        bad(
            f"n_frame_opcode_{op:x}",
            f"Reserved opcode 0x{op:x}: the frame must be failed (§5.2).",
            ["RFC6455-5.2"],
            frame(op, b""),
            "SIO_ERR_WS_OPCODE",
        )
    bad(
        "n_frame_ping_126",
        "A ping with 126 payload bytes, one past the control-frame bound (§5.5).",
        ["RFC6455-5.5"],
        frame(9, b"p" * 126),
        "SIO_ERR_WS_CONTROL_TOO_LONG",
    )
    bad(
        "n_frame_close_126",
        "A close frame with 126 payload bytes, one past the control-frame bound.",
        ["RFC6455-5.5"],
        frame(8, close_body(1000, b"r" * 124)),
        "SIO_ERR_WS_CONTROL_TOO_LONG",
    )
    bad(
        "n_frame_ping_not_fin",
        "A ping with FIN clear: control frames must not be fragmented (§5.5).",
        ["RFC6455-5.5"],
        frame(9, b"", fin=False),
        "SIO_ERR_WS_CONTROL_FRAGMENTED",
    )
    bad(
        "n_frame_close_not_fin",
        "A close frame with FIN clear: control frames must not be fragmented.",
        ["RFC6455-5.5"],
        frame(8, close_body(1000), fin=False),
        "SIO_ERR_WS_CONTROL_FRAGMENTED",
    )
    bad(
        "n_frame_unmasked_from_client",
        "A server reading an unmasked client frame must fail the connection (§5.1).",
        ["RFC6455-5.1", "RFC6455-5.3"],
        frame(1, hello),
        "SIO_ERR_WS_UNMASKED",
        role="server",
    )
    bad(
        "n_frame_masked_from_server",
        "A client reading a masked server frame must fail the connection (§5.1).",
        ["RFC6455-5.1"],
        frame(1, hello, mask=RFC_MASK),
        "SIO_ERR_WS_MASKED",
    )
    bad(
        "n_frame_len16_for_125",
        "Length 125 written in the 16-bit form: not the minimal encoding (§5.2).",
        ["RFC6455-5.2"],
        frame(2, Fill(0, 125), form=16),
        "SIO_ERR_WS_LENGTH_NOT_MINIMAL",
    )
    bad(
        "n_frame_len16_for_0",
        "Length 0 written in the 16-bit form: not the minimal encoding.",
        ["RFC6455-5.2"],
        frame(2, b"", form=16),
        "SIO_ERR_WS_LENGTH_NOT_MINIMAL",
    )
    bad(
        "n_frame_len64_for_65535",
        "Length 65535 written in the 64-bit form: not the minimal encoding.",
        ["RFC6455-5.2"],
        frame(2, Fill(0, 65535), form=64),
        "SIO_ERR_WS_LENGTH_NOT_MINIMAL",
    )
    bad(
        "n_frame_len64_for_126",
        "Length 126 written in the 64-bit form: not the minimal encoding.",
        ["RFC6455-5.2"],
        frame(2, Fill(0, 126), form=64),
        "SIO_ERR_WS_LENGTH_NOT_MINIMAL",
    )
    bad(
        "n_frame_len64_msb",
        "A 64-bit length with its most significant bit set (§5.2 requires it 0).",
        ["RFC6455-5.2"],
        frame(2, b"", form=64, declared=1 << 63),
        "SIO_ERR_WS_LENGTH_MSB",
    )
    bad(
        "n_frame_truncated_payload",
        "The header announces 5 payload bytes but only 3 follow.",
        ["RFC6455-5.2"],
        frame(1, hello, cut=5),
        "SIO_ERR_WS_TRUNCATED",
    )
    bad(
        "n_frame_truncated_extended_length",
        "The 16-bit extended length is cut after its first byte.",
        ["RFC6455-5.2"],
        frame(2, Fill(0, 300), cut=3),
        "SIO_ERR_WS_TRUNCATED",
    )
    bad(
        "n_frame_truncated_mask",
        "A masked frame cut inside its masking key.",
        ["RFC6455-5.3"],
        frame(1, hello, mask=RFC_MASK, cut=4),
        "SIO_ERR_WS_TRUNCATED",
        role="server",
    )


# ---------------------------------------------------------------- ws-stream


def F(opcode, payload=b"", fin=True, mask=None):
    """A frame both as bytes-with-notes and as the tuple stream_decoded() reads."""
    return frame(opcode, payload, fin=fin, mask=mask), (opcode, payload, fin, mask)


def stream_of(*items):
    return concat(*(s for s, _ in items)), [t for _, t in items]


def stream_vectors() -> None:
    rfc = "RFC 6455 §5.7"
    m = MASK2

    def good(name, description, reqs, items, role="server", options=None, source=""):
        s, frames = stream_of(*items)
        ws_stream(name, description, reqs, s, role=role, frames=frames, options=options, source=source)

    def bad(name, description, reqs, s, error, role="server", options=None, source=""):
        if isinstance(s, tuple):
            s = s[0]
        ws_stream(name, description, reqs, s, role=role, error=error, options=options, source=source)

    good(
        "y_stream_rfc_fragmented_hello",
        "RFC 6455 §5.7: 'Hel' then 'lo' from a server, reassembled into the text message 'Hello'.",
        ["RFC6455-5.7", "RFC6455-5.4"],
        [F(1, b"Hel", fin=False), F(0, b"lo")],
        role="client",
        source=rfc,
    )
    s, frames = stream_of(F(1, b"Hello", mask=RFC_MASK), F(10, b"Hello", mask=RFC_MASK))
    write(
        "y_stream_read_boundaries",
        "The §5.7 masked 'Hello' and masked pong arriving in four reads that cut the header, "
        "the masking key and the payload: the same result as one read.",
        "ws-stream",
        ["RFC6455-5.7", "RFC6455-5.3"],
        [p.chunk() for p in split_stream(s, [1, 4, 9])],
        decoded=stream_decoded(frames),
        source=rfc,
        extra={"encoded": [{"hex": s.raw().hex()}]},
    )
    good(
        "y_stream_rfc_ping",
        "RFC 6455 §5.7: an unmasked ping 'Hello' as a client receives it.",
        ["RFC6455-5.7", "RFC6455-5.5.2"],
        [F(9, b"Hello")],
        role="client",
        source=rfc,
    )
    good(
        "y_stream_masked_hello_then_close",
        "A client's masked 'Hello' (§5.7 bytes) followed by its masked close 1000.",
        ["RFC6455-5.7", "RFC6455-5.5.1", "RFC6455-5.3"],
        [F(1, b"Hello", mask=RFC_MASK), F(8, close_body(1000), mask=m)],
        source=rfc,
    )
    good(
        "y_stream_ping_between_fragments",
        "A ping arriving between two fragments of a text message is delivered at once; the "
        "message continues after it (§5.4: control frames may be injected).",
        ["RFC6455-5.4", "RFC6455-5.5"],
        [F(1, b"frag", fin=False, mask=m), F(9, b"p", mask=m), F(0, b"ment", mask=m)],
    )
    good(
        "y_stream_control_125_inside_message",
        "A 125-byte pong between fragments of a binary message (the bound, interleaved).",
        ["RFC6455-5.4", "RFC6455-5.5"],
        [F(2, b"\x01\x02", fin=False, mask=m), F(10, b"x" * 125, mask=m), F(0, b"\x03", mask=m)],
    )
    good(
        "y_stream_three_fragments_empty_middle",
        "Three fragments, the middle one empty: one binary message of two bytes.",
        ["RFC6455-5.4"],
        [F(2, b"\x01", fin=False, mask=m), F(0, b"", fin=False, mask=m), F(0, b"\x02", mask=m)],
    )
    good(
        "y_stream_utf8_split_across_fragments",
        "The euro sign E2 82 AC split between two fragments: valid, since UTF-8 is checked on "
        "the message, not per frame (§5.6, §8.1).",
        ["RFC6455-8.1", "RFC6455-5.6", "RFC3629-3"],
        [F(1, b"\xe2\x82", fin=False, mask=m), F(0, b"\xac", mask=m)],
    )
    good(
        "y_stream_empty_messages",
        "An empty text message, an empty binary message and an empty close.",
        ["RFC6455-5.6", "RFC6455-5.5.1"],
        [F(1, b"", mask=m), F(2, b"", mask=m), F(8, b"", mask=m)],
    )
    good(
        "y_stream_binary_then_text",
        "Two unfragmented messages back to back, binary then text.",
        ["RFC6455-5.6"],
        [F(2, b"\x00\xff", mask=m), F(1, "κόσμε".encode(), mask=m)],
    )
    good(
        "y_stream_eio_record_separator_in_frame",
        "Engine.IO: one WebSocket frame is one packet, so 0x1E inside '4a\\x1e4b' is data, not a "
        "separator: one message.",
        ["EIO-PKT-11", "RFC6455-5.6"],
        [F(1, b"4a\x1e4b", mask=m)],
    )
    good(
        "y_stream_eio_binary_message",
        "Engine.IO v4: a binary message travels as one binary frame holding exactly its bytes.",
        ["EIO-PKT-05"],
        [F(2, bytes([1, 2, 3, 4]), mask=m)],
    )
    good(
        "y_stream_limit_exact",
        "A 10-byte message with the message limit set to 10: exactly the limit is accepted.",
        ["RFC6455-10.4", "EIO-POLL-06"],
        [F(2, bytes(range(10)), mask=m)],
        options={"max_message": 10},
    )
    good(
        "y_stream_limit_exact_fragmented",
        "5 + 5 bytes in two fragments under a 10-byte limit: the limit counts the whole "
        "message, and exactly the limit is accepted.",
        ["RFC6455-10.4", "EIO-POLL-06"],
        [F(2, bytes(range(5)), fin=False, mask=m), F(0, bytes(range(5, 10)), mask=m)],
        options={"max_message": 10},
    )
    good(
        "y_stream_limit_ignores_control",
        "A 125-byte ping inside a 10-byte message under a 10-byte limit: control frames do "
        "not count towards the message size.",
        ["RFC6455-10.4", "RFC6455-5.4"],
        [F(2, bytes(5), fin=False, mask=m), F(9, b"p" * 125, mask=m), F(0, bytes(5), mask=m)],
        options={"max_message": 10},
    )
    good(
        "y_stream_large_fragmented",
        "70 000 bytes in two fragments (65 536 with a 64-bit length, then 4 464), masked with an all-zero key.",
        ["RFC6455-5.2", "RFC6455-5.4"],
        [F(2, Fill(0x55, 65536), fin=False, mask=bytes(4)), F(0, Fill(0x55, 4464), mask=bytes(4))],
    )
    good(
        "y_stream_close_code_and_utf8_reason",
        "A close frame with code 1001 and a UTF-8 reason.",
        ["RFC6455-5.5.1", "RFC6455-7.4.1"],
        [F(8, close_body(1001, "au revoir ✓".encode()), mask=m)],
    )

    bad(
        "n_stream_continuation_first",
        "A continuation frame with no message in progress must fail the connection (§5.4).",
        ["RFC6455-5.4"],
        F(0, b"x", mask=m),
        "SIO_ERR_WS_UNEXPECTED_CONTINUATION",
    )
    bad(
        "n_stream_continuation_after_final",
        "A continuation after a message that was already final.",
        ["RFC6455-5.4"],
        stream_of(F(1, b"a", mask=m), F(0, b"b", mask=m)),
        "SIO_ERR_WS_UNEXPECTED_CONTINUATION",
    )
    bad(
        "n_stream_text_inside_fragmented_text",
        "A new text frame while a fragmented text message is open (§5.4).",
        ["RFC6455-5.4"],
        stream_of(F(1, b"a", fin=False, mask=m), F(1, b"b", mask=m)),
        "SIO_ERR_WS_MESSAGE_INTERRUPTED",
    )
    bad(
        "n_stream_binary_inside_fragmented_text",
        "A binary frame while a fragmented text message is open.",
        ["RFC6455-5.4"],
        stream_of(F(1, b"a", fin=False, mask=m), F(2, b"b", mask=m)),
        "SIO_ERR_WS_MESSAGE_INTERRUPTED",
    )
    bad(
        "n_stream_limit_plus_one",
        "An 11-byte message under a 10-byte limit: refused once the header is read (close 1009).",
        ["RFC6455-10.4", "RFC6455-7.4.1", "EIO-POLL-06"],
        F(2, bytes(range(11)), mask=m),
        "SIO_ERR_WS_MESSAGE_TOO_BIG",
        options={"max_message": 10},
    )
    bad(
        "n_stream_limit_plus_one_fragmented",
        "5 + 6 bytes in two fragments under a 10-byte limit: the second header pushes the message past the limit.",
        ["RFC6455-10.4", "EIO-POLL-06"],
        stream_of(F(2, bytes(5), fin=False, mask=m), F(0, bytes(6), mask=m)),
        "SIO_ERR_WS_MESSAGE_TOO_BIG",
        options={"max_message": 10},
    )
    bad(
        "n_stream_utf8_bad_in_second_fragment",
        "κόσμε then F4 90 80 80 (above U+10FFFF) in the second fragment: fails at the 0x90 byte "
        "(close 1007), before the message ends.",
        ["RFC6455-8.1", "RFC3629-3"],
        stream_of(F(1, "κόσμε".encode(), fin=False, mask=m), F(0, b"\xf4\x90\x80\x80edited", mask=m)),
        "SIO_ERR_WS_TEXT_UTF8",
        source="modelled on Autobahn TestSuite case 6.4.1",
    )
    bad(
        "n_stream_utf8_broken_mid_sequence_across_fragments",
        "E2 82 ends the first fragment; the second starts with 'A' instead of a continuation byte.",
        ["RFC6455-8.1", "RFC3629-3"],
        stream_of(F(1, b"\xe2\x82", fin=False, mask=m), F(0, b"A", mask=m)),
        "SIO_ERR_WS_TEXT_UTF8",
    )
    bad(
        "n_stream_utf8_truncated_at_message_end",
        "A text message whose last fragment ends inside a 3-byte sequence.",
        ["RFC6455-8.1", "RFC3629-3"],
        stream_of(F(1, b"ok", fin=False, mask=m), F(0, b"\xe2\x82", mask=m)),
        "SIO_ERR_WS_TEXT_UTF8",
    )
    bad(
        "n_stream_utf8_surrogate",
        "A text message holding the UTF-16 surrogate U+D800 (ED A0 80).",
        ["RFC6455-8.1", "RFC3629-3"],
        F(1, b"\xed\xa0\x80", mask=m),
        "SIO_ERR_WS_TEXT_UTF8",
    )
    bad(
        "n_stream_utf8_overlong",
        "A text message holding the overlong '/' C0 AF.",
        ["RFC6455-8.1", "RFC3629-3"],
        F(1, b"\xc0\xaf", mask=m),
        "SIO_ERR_WS_TEXT_UTF8",
    )
    bad(
        "n_stream_close_one_byte",
        "A close frame with a 1-byte payload: a code needs two bytes (§5.5.1).",
        ["RFC6455-5.5.1"],
        F(8, b"\x03", mask=m),
        "SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH",
    )
    bad(
        "n_stream_close_code_1005",
        "A close frame carrying 1005, a code that must never be sent (§7.4.1).",
        ["RFC6455-7.4.1"],
        F(8, close_body(1005), mask=m),
        "SIO_ERR_WS_CLOSE_CODE",
    )
    bad(
        "n_stream_close_reason_not_utf8",
        "A close reason that is not UTF-8 (close 1007).",
        ["RFC6455-5.5.1", "RFC6455-8.1"],
        F(8, close_body(1000, b"\xff"), mask=m),
        "SIO_ERR_WS_CLOSE_REASON_UTF8",
    )
    bad(
        "n_stream_unmasked_second_frame",
        "A server receives a masked frame, then an unmasked one (§5.1).",
        ["RFC6455-5.1"],
        stream_of(F(1, b"a", mask=m), F(1, b"b")),
        "SIO_ERR_WS_UNMASKED",
    )
    bad(
        "n_stream_rsv_in_continuation",
        "RSV1 set on a continuation frame of a fragmented message.",
        ["RFC6455-5.2"],
        concat(frame(1, b"a", fin=False, mask=m), frame(0, b"b", mask=m, rsv=4)),
        "SIO_ERR_WS_RSV_SET",
    )
    bad(
        "n_stream_ping_fragmented_inside_message",
        "A ping with FIN clear inside a fragmented message.",
        ["RFC6455-5.5", "RFC6455-5.4"],
        concat(frame(1, b"a", fin=False, mask=m), frame(9, b"p", fin=False, mask=m)),
        "SIO_ERR_WS_CONTROL_FRAGMENTED",
    )
    bad(
        "n_stream_declared_length_over_limit",
        "A frame announcing 2^32 bytes is refused from its header alone, before any payload.",
        ["RFC6455-10.4", "RFC6455-5.2"],
        frame(2, b"", declared=1 << 32, mask=m),
        "SIO_ERR_WS_MESSAGE_TOO_BIG",
    )

    # Implementation-defined: what a receiver does with bytes after the peer's close frame.
    s, frames = stream_of(F(8, close_body(1000), mask=m), F(1, b"late", mask=m))
    write(
        "i_stream_data_after_close",
        "A text frame after the client's close frame: RFC 6455 forbids sending it (§5.5.1) but "
        "does not say how a receiver reacts.",
        "ws-stream",
        ["RFC6455-5.5.1"],
        [s.chunk()],
        extra={
            "strict": {"error": "SIO_ERR_WS_DATA_AFTER_CLOSE"},
            "compat": {"options": {"stop_at_close": True}, "decoded": stream_decoded(frames[:1])},
            "behaviours": [
                {"who": "libsiocodec (default)", "does": "fails the stream: bytes after a close frame are an error"},
                {
                    "who": "ws 8.21.3 (Node, used by engine.io)",
                    "does": "stops reading after the close frame; the late frame is ignored",
                },
            ],
        },
    )
    big = Fill(0x61, ENGINEIO_MAX + 1)
    s = frame(2, big, mask=bytes(4))
    write(
        "i_stream_message_one_past_engineio_limit",
        "A 1 000 001-byte binary message: one past Engine.IO's default maxHttpBufferSize, far "
        "below the ws library's own 100 MiB default. RFC 6455 sets no limit (§10.4).",
        "ws-stream",
        ["EIO-POLL-06", "RFC6455-10.4"],
        [s.chunk()],
        extra={
            "strict": {"error": "SIO_ERR_WS_MESSAGE_TOO_BIG"},
            "compat": {"options": {"max_message": WS_LIB_MAX}, "decoded": stream_decoded([(2, big, True, bytes(4))])},
            "behaviours": [
                {
                    "who": "engine.io 6 (Node, maxHttpBufferSize 1e6 passed to ws as maxPayload)",
                    "does": "closes with 1009",
                },
                {"who": "ws 8.21.3 standalone (maxPayload 100 MiB)", "does": "accepts"},
            ],
        },
    )


# ---------------------------------------------------------------- ws-close

CLOSE_MEANINGS = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1004: "reserved",
    1005: "no status received (local only)",
    1006: "abnormal closure (local only)",
    1007: "invalid frame payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart (IANA)",
    1013: "try again later (IANA)",
    1014: "bad gateway (IANA)",
    1015: "TLS handshake failure (local only)",
}


def close_stream(code: int | None, reason: bytes = b"", raw: bytes | None = None) -> Stream:
    s = Stream()
    if raw is not None:
        return s.add(raw, "truncated status code", "a single byte: half of a status code")
    if code is not None:
        meaning = CLOSE_MEANINGS.get(
            code,
            "private use" if 4000 <= code <= 4999 else "registered range" if 3000 <= code <= 3999 else "unassigned",
        )
        s.add(code.to_bytes(2, "big"), "status code", f"{code}, big-endian: {meaning}")
    s.add(reason, "reason", f"{show(reason, 40)}, must be UTF-8")
    return s


def close_vectors() -> None:
    def good(name, description, reqs, code, reason=b""):
        write(
            name,
            description,
            "ws-close",
            reqs,
            [close_stream(code, reason).chunk()],
            decoded={"code": code, "reason": reason.decode("utf-8")},
        )

    def bad(name, description, reqs, error, code=None, reason=b"", raw=None):
        write(name, description, "ws-close", reqs, [close_stream(code, reason, raw).chunk()], error=error)

    good(
        "y_close_1000_no_reason",
        "Close code 1000 (normal closure) without a reason.",
        ["RFC6455-5.5.1", "RFC6455-7.4.1"],
        1000,
    )
    good(
        "y_close_1000_reason",
        "Close code 1000 with the reason 'done'.",
        ["RFC6455-5.5.1", "RFC6455-7.4.1"],
        1000,
        b"done",
    )
    for code in (1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011):
        good(
            f"y_close_{code}",
            f"Close code {code} ({CLOSE_MEANINGS[code]}), defined by RFC 6455 §7.4.1.",
            ["RFC6455-7.4.1"],
            code,
        )
    for code in (1012, 1013, 1014):
        write(
            f"y_close_{code}",
            f"Close code {code} ({CLOSE_MEANINGS[code]}): not in RFC 6455 but registered with "
            "IANA since, and accepted (ws 8 does too).",
            "ws-close",
            ["RFC6455-7.4.2"],
            [close_stream(code).chunk()],
            decoded={"code": code, "reason": ""},
            source="IANA WebSocket close code registry; crossbario/autobahn-testsuite#52 and #88",
        )
    for code in (3000, 3999, 4000, 4999):
        good(
            f"y_close_{code}",
            f"Close code {code}: edge of the range open to libraries and applications (§7.4.2).",
            ["RFC6455-7.4.2"],
            code,
        )
    good(
        "y_close_utf8_reason",
        "Close code 4000 with a multi-byte UTF-8 reason.",
        ["RFC6455-5.5.1", "RFC6455-8.1"],
        4000,
        "κόσμε".encode(),
    )
    good(
        "y_close_reason_123_bytes",
        "Code plus a 123-byte reason: 125 bytes, the largest close payload.",
        ["RFC6455-5.5", "RFC6455-5.5.1"],
        1000,
        b"r" * 123,
    )
    bad(
        "n_close_one_byte",
        "A 1-byte close payload: the status code needs two bytes (§5.5.1).",
        ["RFC6455-5.5.1"],
        "SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH",
        raw=b"\x03",
    )
    for code, why in (
        (0, "below 1000, never used"),
        (999, "below 1000, never used"),
        (1004, "reserved"),
        (1005, "local only, must not be sent"),
        (1006, "local only, must not be sent"),
        (1015, "local only, must not be sent"),
        (1016, "unassigned in the protocol range"),
        (2000, "unassigned in the protocol range"),
        (2999, "unassigned in the protocol range"),
        (5000, "above 4999, undefined"),
        (65535, "above 4999, undefined"),
    ):
        bad(
            f"n_close_{code}",
            f"Close code {code}: {why} (§7.4.1, §7.4.2).",
            ["RFC6455-7.4.1", "RFC6455-7.4.2"],
            "SIO_ERR_WS_CLOSE_CODE",
            code,
        )
    bad(
        "n_close_reason_not_utf8",
        "A close reason holding the byte FF, which UTF-8 never uses.",
        ["RFC6455-5.5.1", "RFC6455-8.1"],
        "SIO_ERR_WS_CLOSE_REASON_UTF8",
        1000,
        b"bad \xff",
    )
    bad(
        "n_close_reason_truncated_utf8",
        "A close reason ending inside a 2-byte UTF-8 sequence.",
        ["RFC6455-5.5.1", "RFC3629-3"],
        "SIO_ERR_WS_CLOSE_REASON_UTF8",
        1000,
        b"caf\xc3",
    )
    bad(
        "n_close_126_bytes",
        "Code plus a 124-byte reason: 126 bytes, one past the control-frame bound.",
        ["RFC6455-5.5"],
        "SIO_ERR_WS_CONTROL_TOO_LONG",
        1000,
        b"r" * 124,
    )


# ---------------------------------------------------------------- ws-accept

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def key_chunk(key: str, note: str) -> dict:
    return text_chunk(key, [{"offset": 0, "length": len(key.encode()), "label": "Sec-WebSocket-Key", "note": note}])


def accept_vectors() -> None:
    no_reencode = {
        "reencode": False,
        "why": "SHA-1 cannot be reversed: the key is not recoverable from the accept value",
    }
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    write(
        "y_accept_rfc_example",
        "RFC 6455 §1.3: the key 'dGhlIHNhbXBsZSBub25jZQ==' gives the accept value 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='.",
        "ws-accept",
        ["RFC6455-1.3", "RFC6455-4.2.2"],
        [key_chunk(key, "base64 of the 16-byte nonce 'the sample nonce'")],
        decoded=accept(key),
        source="RFC 6455 §1.3",
        extra=no_reencode,
    )
    for name, key, note in (
        ("zero_nonce", "AAAAAAAAAAAAAAAAAAAAAA==", "base64 of 16 zero bytes"),
        ("all_ones_nonce", "/////////////////////w==", "base64 of 16 bytes 0xFF"),
        ("plus_slash", "+/+/+/+/+/+/+/+/+/+/+w==", "base64 using both '+' and '/'"),
    ):
        write(
            f"y_accept_{name}",
            f"A valid Sec-WebSocket-Key ({note}) and its accept value.",
            "ws-accept",
            ["RFC6455-4.2.2", "RFC6455-4.1"],
            [key_chunk(key, note)],
            decoded=accept(key),
            extra=no_reencode,
        )
    for name, key, note in (
        ("no_padding", "dGhlIHNhbXBsZSBub25jZQ", "22 characters without the '==' padding"),
        ("15_bytes", "AAAAAAAAAAAAAAAAAAAA", "base64 of 15 bytes, not 16"),
        ("17_bytes", "AAAAAAAAAAAAAAAAAAAAAAA=", "base64 of 17 bytes, not 16"),
        ("url_safe", "dGhlIHNhbXBsZSBub25j-Q==", "'-' is not in the standard alphabet"),
        ("inner_space", "dGhlIHNhbXBs ZSBub25jZQ=", "a space inside the value"),
        ("32_bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "base64 of 32 bytes"),
    ):
        write(
            f"n_accept_key_{name}",
            f"A Sec-WebSocket-Key that is not base64 of 16 bytes: {note} (§4.2.1).",
            "ws-accept",
            ["RFC6455-4.2.1"],
            [key_chunk(key, note)],
            error="SIO_ERR_WS_KEY_INVALID",
        )
    key = "dGhlIHNhbXBsZSBub25jZR=="
    write(
        "i_accept_key_nonzero_trailing_bits",
        "A key whose last base64 character carries non-zero unused bits: it still decodes to 16 "
        "bytes, but is not the canonical encoding of any nonce.",
        "ws-accept",
        ["RFC6455-4.2.1"],
        [key_chunk(key, "'R' instead of 'Q': the 4 unused low bits are 0001")],
        extra={
            "strict": {"error": "SIO_ERR_WS_KEY_INVALID"},
            "compat": {"options": {"validate_key": False}, "decoded": accept(key)},
            "behaviours": [
                {"who": "libsiocodec (strict base64)", "does": "rejects the key"},
                {"who": "ws 8.21.3 (Node)", "does": "accepts: it only checks the pattern [+/0-9A-Za-z]{22}=="},
            ],
        },
    )


# ---------------------------------------------------------------- utf8


def code_points(text: str) -> Stream:
    """Notes per code point (runs of printable ASCII share one note)."""
    s, run = Stream(), ""

    def flush():
        nonlocal run
        if run:
            s.add(run.encode(), "ASCII", f"'{run}': one byte per character")
            run = ""

    for ch in text:
        if ch.isascii() and ch.isprintable():
            run += ch
            continue
        flush()
        raw = ch.encode("utf-8")
        shown = f" '{ch}'" if ch.isprintable() else ""
        s.add(raw, f"U+{ord(ch):04X}", f"U+{ord(ch):04X}{shown}: {len(raw)}-byte sequence {raw.hex(' ')}")
    flush()
    return s


def spans(*parts) -> Stream:
    s = Stream()
    for data, label, note in parts:
        s.add(data, label, note)
    return s


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8_vectors() -> None:
    def good(name, description, text, reqs=("RFC3629-3",)):
        write(
            name,
            description,
            "utf8",
            list(reqs),
            [code_points(text).chunk()],
            decoded={"text": text, "utf16_units": utf16_units(text)},
        )

    def bad(name, description, stream_or_list, error, reqs=("RFC3629-3",)):
        items = stream_or_list if isinstance(stream_or_list, list) else [stream_or_list]
        write(name, description, "utf8", list(reqs), [s.chunk() for s in items], error=error)

    good("y_utf8_ascii", "Plain ASCII is UTF-8 as it is.", "Hello, world")
    good("y_utf8_nul_and_del", "U+0000 and U+007F are valid one-byte sequences.", "\x00\x7f")
    good("y_utf8_two_byte_bounds", "U+0080 and U+07FF: the first and last 2-byte code points.", "\u0080\u07ff")
    good(
        "y_utf8_three_byte_bounds",
        "U+0800, U+D7FF, U+E000 and U+FFFF: the 3-byte range on both sides of the surrogates.",
        "\u0800\ud7ff\ue000\uffff",
    )
    good(
        "y_utf8_four_byte_bounds",
        "U+10000 and U+10FFFF: the first and last 4-byte code points.",
        "\U00010000\U0010ffff",
    )
    good(
        "y_utf8_bom_and_noncharacter",
        "U+FEFF and the noncharacter U+FFFE are valid UTF-8: validity is about encoding only.",
        "\ufeff\ufffe",
    )
    good(
        "y_utf8_utf16_units",
        "'a€😀': 8 bytes, 3 code points, 4 UTF-16 units (the emoji needs a surrogate pair), "
        "which is what Engine.IO v3 length prefixes count.",
        "a€😀",
        reqs=("RFC3629-3", "EIO-PKT-12"),
    )
    text = "€😀"
    raw = text.encode()
    pieces = [
        spans((raw[:2], "U+20AC (part 1)", "e2 82: first two bytes of '€'; the sequence continues in the next chunk")),
        spans(
            (raw[2:3], "U+20AC (part 2)", "ac: last byte of '€'"),
            (raw[3:4], "U+1F600 (part 1)", "f0: lead byte of a 4-byte sequence"),
        ),
        spans((raw[4:], "U+1F600 (part 2)", "9f 98 80: the three continuation bytes of '😀'")),
    ]
    write(
        "y_utf8_split_across_chunks",
        "'€😀' fed in three chunks that cut both characters: the validator carries its state across chunks.",
        "utf8",
        ["RFC3629-3", "RFC6455-8.1"],
        [p.chunk() for p in pieces],
        decoded={"text": text, "utf16_units": 3},
        extra={"encoded": [{"hex": raw.hex()}]},
    )

    inv = "SIO_ERR_UTF8_INVALID"
    bad(
        "n_utf8_lone_continuation",
        "A continuation byte with no lead byte.",
        spans((b"a", "ASCII", "'a'"), (b"\x80", "invalid", "80: continuation byte where a character must start")),
        inv,
    )
    bad(
        "n_utf8_overlong_c0",
        "C0 80, an overlong 2-byte form of U+0000: C0 never appears in UTF-8.",
        spans(
            (b"\xc0", "invalid", "c0: could only start an overlong form"),
            (b"\x80", "continuation", "80: never reached"),
        ),
        inv,
        ("RFC3629-3", "RFC3629-10"),
    )
    bad(
        "n_utf8_overlong_c1",
        "C1 BF, an overlong 2-byte form of U+007F.",
        spans(
            (b"\xc1", "invalid", "c1: could only start an overlong form"),
            (b"\xbf", "continuation", "bf: never reached"),
        ),
        inv,
        ("RFC3629-3", "RFC3629-10"),
    )
    bad(
        "n_utf8_overlong_3_byte",
        "E0 80 AF, an overlong 3-byte '/': after E0 the next byte must be A0..BF.",
        spans(
            (b"\xe0", "lead", "e0: 3-byte lead; next byte must be a0..bf"),
            (b"\x80", "invalid", "80: below a0, so overlong"),
            (b"\xaf", "continuation", "af: never reached"),
        ),
        inv,
        ("RFC3629-3", "RFC3629-10"),
    )
    bad(
        "n_utf8_overlong_4_byte",
        "F0 80 80 AF, an overlong 4-byte '/': after F0 the next byte must be 90..BF.",
        spans(
            (b"\xf0", "lead", "f0: 4-byte lead; next byte must be 90..bf"),
            (b"\x80", "invalid", "80: below 90, so overlong"),
            (b"\x80\xaf", "continuation", "80 af: never reached"),
        ),
        inv,
        ("RFC3629-3", "RFC3629-10"),
    )
    bad(
        "n_utf8_surrogate_high",
        "ED A0 80 would be U+D800, a UTF-16 surrogate: not a character.",
        spans(
            (b"\xed", "lead", "ed: 3-byte lead; next byte must be 80..9f"),
            (b"\xa0", "invalid", "a0: would reach the surrogates"),
            (b"\x80", "continuation", "80: never reached"),
        ),
        inv,
    )
    bad(
        "n_utf8_surrogate_low",
        "ED BF BF would be U+DFFF, the last surrogate.",
        spans(
            (b"\xed", "lead", "ed: 3-byte lead; next byte must be 80..9f"),
            (b"\xbf", "invalid", "bf: would reach the surrogates"),
            (b"\xbf", "continuation", "bf: never reached"),
        ),
        inv,
    )
    bad(
        "n_utf8_cesu8_pair",
        "A surrogate pair encoded as two 3-byte sequences (CESU-8), not UTF-8.",
        spans(
            (b"\xed", "lead", "ed: 3-byte lead"),
            (b"\xa0", "invalid", "a0: U+D83D would be a surrogate"),
            (b"\xbd\xed\xb8\x80", "rest", "bd ed b8 80: never reached"),
        ),
        inv,
    )
    bad(
        "n_utf8_above_10ffff",
        "F4 90 80 80 would be U+110000, above the last code point.",
        spans(
            (b"\xf4", "lead", "f4: 4-byte lead; next byte must be 80..8f"),
            (b"\x90", "invalid", "90: would pass U+10FFFF"),
            (b"\x80\x80", "continuation", "80 80: never reached"),
        ),
        inv,
    )
    bad(
        "n_utf8_f5",
        "F5 can only start a sequence above U+10FFFF.",
        spans((b"\xf5", "invalid", "f5: never valid"), (b"\x80\x80\x80", "continuation", "80 80 80: never reached")),
        inv,
    )
    bad(
        "n_utf8_fe_ff",
        "FE and FF never occur in UTF-8.",
        spans(
            (b"ok", "ASCII", "'ok'"),
            (b"\xfe", "invalid", "fe: never valid"),
            (b"\xff", "invalid", "ff: never valid either"),
        ),
        inv,
    )
    bad(
        "n_utf8_ascii_inside_sequence",
        "E2 then 'A': the 3-byte sequence is broken by an ASCII byte.",
        spans((b"\xe2", "lead", "e2: 3-byte lead"), (b"A", "invalid", "'A' where a continuation byte must come")),
        inv,
    )
    bad(
        "n_utf8_bad_in_second_chunk",
        "'κό' then F4 90 80 80 in a second chunk: the error is found in the second chunk at its 0x90.",
        [
            code_points("κό"),
            spans(
                (b"\xf4", "lead", "f4: 4-byte lead"),
                (b"\x90", "invalid", "90: above U+10FFFF"),
                (b"\x80\x80", "continuation", "80 80: never reached"),
            ),
        ],
        inv,
        ("RFC3629-3", "RFC6455-8.1"),
    )
    bad(
        "n_utf8_truncated_at_end",
        "Input ends after E2 82, two bytes of a three-byte sequence.",
        spans((b"x", "ASCII", "'x'"), (b"\xe2\x82", "truncated", "e2 82: a third byte is missing")),
        "SIO_ERR_UTF8_TRUNCATED",
    )
    bad(
        "n_utf8_truncated_across_chunks",
        "'a' F0 9F then 98 in a second chunk, and the input ends: one byte of '😀' is missing.",
        [
            spans((b"a", "ASCII", "'a'"), (b"\xf0\x9f", "lead", "f0 9f: start of a 4-byte sequence")),
            spans((b"\x98", "truncated", "98: third byte; the fourth never comes")),
        ],
        "SIO_ERR_UTF8_TRUNCATED",
        ("RFC3629-3", "RFC6455-8.1"),
    )


def main() -> None:
    for old in HERE.glob("*.json"):
        old.unlink()
    frame_vectors()
    stream_vectors()
    close_vectors()
    accept_vectors()
    utf8_vectors()
    counts = {p: sum(n.startswith(p) for n in WRITTEN) for p in ("y_", "n_", "i_")}
    print(f"{len(WRITTEN)} vectors written to {HERE}: {counts}")


if __name__ == "__main__":
    main()
