"""ctypes binding of sio/packet.h: Socket.IO packets (v5, v4) and attachment reconstruction.

Vector layers (vectors/sio/README.md):
  "sio-packet"   one text chunk, one packet, decoded to
                 {"type": 0-6, "nsp": str, "id": int?, "attachments": int?, "query": str?,
                  "data": JSON value?} — optional keys present only when the packet has them
                 ("attachments" for types 5/6, "query" for a v4 CONNECT query string);
  "sio-message"  text and binary chunks in arrival order, decoded to a list with one entry per
                 completed packet: the packet dict above plus "buffers": [hex, ...] for binary
                 packets, indexed by placeholder num. Chunks left pending at the end are
                 SIO_ERR_PKT_INCOMPLETE.
Options: protocol (5 or 4, default 5), compat (bool), max_attachments (int, default 10),
max_depth (int, JSON nesting bound of the payload).
"""

from __future__ import annotations

import ctypes
import json
from typing import Any

from . import LIB, SIO_OK, CodecError, Span, encode_with, in_buffer
from .json_ import value_of, write

_U8P = ctypes.POINTER(ctypes.c_uint8)
_SIZEP = ctypes.POINTER(ctypes.c_size_t)

MAX_ATTACHMENTS_DEFAULT = 10
TYPE_NAMES = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"]


class Options(ctypes.Structure):
    _fields_ = [
        ("protocol", ctypes.c_int),
        ("compat", ctypes.c_bool),
        ("max_attachments", ctypes.c_uint32),
        ("json_max_depth", ctypes.c_uint32),
    ]


class Packet(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("attachments", ctypes.c_uint32),
        ("nsp", Span),
        ("query", Span),
        ("has_id", ctypes.c_bool),
        ("id", ctypes.c_uint64),
        ("data", Span),
    ]


class Assembler(ctypes.Structure):
    _fields_ = [
        ("opt", Options),
        ("slots", ctypes.POINTER(Span)),
        ("slot_cap", ctypes.c_size_t),
        ("pkt", Packet),
        ("received", ctypes.c_uint32),
        ("state", ctypes.c_int),
    ]


def _proto(fn, args, res=ctypes.c_int):
    fn.argtypes = args
    fn.restype = res


_OP = ctypes.POINTER(Options)
_AP = ctypes.POINTER(Assembler)
_BOOLP = ctypes.POINTER(ctypes.c_bool)
_proto(LIB.sio_pkt_options_init, [_OP], None)
_proto(LIB.sio_pkt_type_name, [ctypes.c_int, ctypes.c_int], ctypes.c_char_p)
_proto(LIB.sio_pkt_decode, [_U8P, ctypes.c_size_t, _OP, ctypes.POINTER(Packet), _SIZEP])
_proto(LIB.sio_pkt_encode, [ctypes.POINTER(Packet), _OP, _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_pkt_check_payload, [ctypes.c_int, Span, _OP])
_proto(LIB.sio_pkt_check_placeholders, [Span, ctypes.c_uint32, _SIZEP])
_proto(LIB.sio_pkt_assembler_init, [_AP, _OP, ctypes.POINTER(Span), ctypes.c_size_t])
_proto(LIB.sio_pkt_assembler_text, [_AP, _U8P, ctypes.c_size_t, _BOOLP, _SIZEP])
_proto(LIB.sio_pkt_assembler_binary, [_AP, _U8P, ctypes.c_size_t, _BOOLP, _SIZEP])
_proto(
    LIB.sio_pkt_assembler_result,
    [_AP, ctypes.POINTER(Packet), ctypes.POINTER(ctypes.POINTER(Span)), ctypes.POINTER(ctypes.c_uint32)],
)


def make_options(options: dict) -> Options:
    opt = Options()
    LIB.sio_pkt_options_init(ctypes.byref(opt))
    opt.protocol = options.get("protocol", 5)
    opt.compat = bool(options.get("compat", False))
    opt.max_attachments = options.get("max_attachments", MAX_ATTACHMENTS_DEFAULT)
    opt.json_max_depth = options.get("max_depth", 0)
    return opt


def _raise(rc: int, at: int | None = None) -> None:
    err = CodecError(rc)
    err.offset = at  # type: ignore[attr-defined]
    raise err


def packet_dict(p: Packet) -> dict:
    out: dict[str, Any] = {"type": p.type, "nsp": p.nsp.tobytes().decode("utf-8")}
    if p.query.len:
        out["query"] = p.query.tobytes().decode("utf-8")
    if p.type in (5, 6):
        out["attachments"] = p.attachments
    if p.has_id:
        out["id"] = p.id
    if p.data.ptr:
        out["data"] = value_of(Span(p.data.ptr, p.data.len))
    return out


def decode_packet(text: bytes, options: dict) -> dict:
    buf, ptr = in_buffer(text)
    pkt, at = Packet(), ctypes.c_size_t(0)
    rc = LIB.sio_pkt_decode(ptr, len(text), ctypes.byref(make_options(options)), ctypes.byref(pkt), ctypes.byref(at))
    if rc != SIO_OK:
        _raise(rc, at.value)
    return packet_dict(pkt)


def encode_packet(d: dict, options: dict) -> bytes:
    """Writes a packet dict: the payload through the codec's JSON writer, then the packet."""
    keep = []

    def span(b: bytes | None) -> Span:
        if b is None:
            return Span()
        buf, ptr = in_buffer(b)
        keep.append(buf)
        return Span(ptr, len(b))

    pkt = Packet()
    pkt.type = d["type"]
    pkt.attachments = d.get("attachments", 0)
    pkt.nsp = span(d.get("nsp", "/").encode("utf-8"))
    pkt.query = span(d["query"].encode("utf-8")) if "query" in d else Span()
    pkt.has_id = "id" in d
    pkt.id = d.get("id", 0)
    pkt.data = span(write(d["data"]) if "data" in d else None)
    return encode_with(LIB.sio_pkt_encode, ctypes.byref(pkt), ctypes.byref(make_options(options)))


class PacketAdapter:
    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        if len(chunks) != 1 or kinds[0] != "text":
            raise ValueError("sio-packet vectors hold exactly one text chunk")
        return decode_packet(chunks[0], options)

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        return [encode_packet(decoded, options)]


class MessageAdapter:
    """Feeds the chunks through the attachment assembler, as a connection would."""

    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> list:
        opt = make_options(options)
        slots = (Span * max(opt.max_attachments, 1))()
        asm = Assembler()
        rc = LIB.sio_pkt_assembler_init(ctypes.byref(asm), ctypes.byref(opt), slots, max(opt.max_attachments, 1))
        if rc != SIO_OK:
            _raise(rc)
        keep, out = [], []
        for chunk, kind in zip(chunks, kinds):
            buf, ptr = in_buffer(chunk)
            keep.append(buf)
            done, at = ctypes.c_bool(False), ctypes.c_size_t(0)
            feed = LIB.sio_pkt_assembler_text if kind == "text" else LIB.sio_pkt_assembler_binary
            rc = feed(ctypes.byref(asm), ptr, len(chunk), ctypes.byref(done), ctypes.byref(at))
            if rc != SIO_OK:
                _raise(rc, at.value)
            if done.value:
                out.append(self._result(asm))
        if asm.state == 1:
            _raise(LIB.sio_pkt_assembler_result(ctypes.byref(asm), None, None, None))
        return out

    @staticmethod
    def _result(asm: Assembler) -> dict:
        pkt, views, count = Packet(), ctypes.POINTER(Span)(), ctypes.c_uint32(0)
        rc = LIB.sio_pkt_assembler_result(
            ctypes.byref(asm), ctypes.byref(pkt), ctypes.byref(views), ctypes.byref(count)
        )
        if rc != SIO_OK:
            _raise(rc)
        d = packet_dict(pkt)
        if pkt.type in (5, 6):
            d["buffers"] = [views[k].tobytes().hex() for k in range(count.value)]
        return d

    def encode(self, decoded: list, options: dict) -> list[bytes]:
        out = []
        for d in decoded:
            out.append(encode_packet(d, options))
            out += [bytes.fromhex(h) for h in d.get("buffers", [])]
        return out


ADAPTERS = {"sio-packet": PacketAdapter(), "sio-message": MessageAdapter()}


def type_name(t: int, protocol: int = 5) -> str | None:
    name = LIB.sio_pkt_type_name(t, protocol)
    return name.decode() if name else None


def dumps(value: Any) -> str:
    """Compact JSON text as the JavaScript side writes it (for building expected strings)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
