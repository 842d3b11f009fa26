"""ctypes binding of sio/eio.h: Engine.IO packets, polling payloads, JSONP, WebTransport framing
and the open packet, v4 and v3.

Vector layers and their `decoded` shapes are documented in vectors/eio/README.md. In short, a
packet is {"type": "message", "text": str} or {"type": "message", "binary": hex} (plus
"base64": str when it travelled as base64 text); payload layers decode to {"packets": [...]}.
Common options: protocol (3 or 4, default 4), compat (bool), b64 (bool), max_records (int),
max_payload (int), transport ("websocket" or "polling", eio-packet only), body ("get" or
"post", eio-jsonp only).
"""

from __future__ import annotations

import ctypes

from . import LIB, SIO_ERR_BUFFER_TOO_SMALL, SIO_OK, CodecError, Span, encode_with, in_buffer

_U8P = ctypes.POINTER(ctypes.c_uint8)
_SIZEP = ctypes.POINTER(ctypes.c_size_t)

TYPE_NAMES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"]
FRAME_RECORD, FRAME_WS_TEXT, FRAME_WS_BINARY = 0, 1, 2
ENC_TEXT, ENC_BASE64, ENC_BINARY = 0, 1, 2
PAYLOAD_V4, PAYLOAD_V3_TEXT, PAYLOAD_V3_BINARY = 0, 1, 2
OPEN_MAX_UPGRADES = 4


class Packet(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("binary", ctypes.c_bool), ("base64", ctypes.c_bool), ("data", Span)]


class Options(ctypes.Structure):
    _fields_ = [
        ("compat", ctypes.c_bool),
        ("b64", ctypes.c_bool),
        ("max_records", ctypes.c_size_t),
        ("max_payload", ctypes.c_uint64),
    ]


class PayloadIter(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_int),
        ("opt", Options),
        ("p", _U8P),
        ("len", ctypes.c_size_t),
        ("pos", ctypes.c_size_t),
        ("count", ctypes.c_size_t),
        ("err", ctypes.c_int),
        ("checked", ctypes.c_bool),
    ]


class Open(ctypes.Structure):
    _fields_ = [
        ("sid", Span),
        ("sid_escaped", ctypes.c_bool),
        ("upgrades", Span * OPEN_MAX_UPGRADES),
        ("upgrade_escaped", ctypes.c_bool * OPEN_MAX_UPGRADES),
        ("upgrade_count", ctypes.c_size_t),
        ("has_upgrades", ctypes.c_bool),
        ("ping_interval", ctypes.c_uint64),
        ("ping_timeout", ctypes.c_uint64),
        ("max_payload", ctypes.c_uint64),
        ("has_max_payload", ctypes.c_bool),
    ]


def _proto(fn, args, res=ctypes.c_int):
    fn.argtypes = args
    fn.restype = res


_proto(
    LIB.sio_eio_packet_decode,
    [ctypes.c_int, ctypes.c_int, _U8P, ctypes.c_size_t, ctypes.POINTER(Options), ctypes.POINTER(Packet)],
)
_proto(LIB.sio_eio_packet_binary, [ctypes.POINTER(Packet), ctypes.c_bool, _U8P, ctypes.c_size_t, _SIZEP])
_proto(
    LIB.sio_eio_packet_encode,
    [ctypes.c_int, ctypes.c_int, ctypes.c_int, _U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP],
)
_proto(
    LIB.sio_eio_payload_iter_init,
    [ctypes.POINTER(PayloadIter), ctypes.c_int, _U8P, ctypes.c_size_t, ctypes.POINTER(Options)],
    None,
)
_proto(LIB.sio_eio_payload_next, [ctypes.POINTER(PayloadIter), ctypes.POINTER(Packet), ctypes.POINTER(ctypes.c_bool)])
_proto(LIB.sio_eio_payload_validate, [ctypes.c_int, _U8P, ctypes.c_size_t, ctypes.POINTER(Options), _SIZEP])
_proto(
    LIB.sio_eio_payload_encode, [ctypes.c_int, ctypes.POINTER(Packet), ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP]
)
_proto(LIB.sio_eio_jsonp_encode, [_U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_jsonp_decode, [_U8P, ctypes.c_size_t, ctypes.POINTER(Span), _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_jsonp_post_encode, [_U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_jsonp_post_decode, [_U8P, ctypes.c_size_t, ctypes.POINTER(Options), _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_wt_decode, [_U8P, ctypes.c_size_t, ctypes.POINTER(Options), ctypes.POINTER(Packet), _SIZEP])
_proto(LIB.sio_eio_wt_encode, [ctypes.POINTER(Packet), _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_open_encode, [ctypes.POINTER(Open), _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_eio_open_decode, [ctypes.c_int, _U8P, ctypes.c_size_t, ctypes.POINTER(Open)])
_proto(LIB.sio_json_string_unescape, [Span, _U8P, ctypes.c_size_t, _SIZEP])


def _check(rc: int) -> None:
    if rc != SIO_OK:
        raise CodecError(rc)


def _options(options: dict) -> Options:
    return Options(
        bool(options.get("compat", False)),
        bool(options.get("b64", False)),
        int(options.get("max_records", 0)),
        int(options.get("max_payload", 0)),
    )


def _protocol(options: dict) -> int:
    return int(options.get("protocol", 4))


def _call_out(fn, *args, size_hint: int = 64) -> bytes:
    """Calls an encoder-style function `fn(*args, out, cap, &written)`, growing the buffer once."""
    written = ctypes.c_size_t(0)
    cap = max(size_hint, 1)
    out = ctypes.create_string_buffer(cap)
    rc = fn(*args, ctypes.cast(out, _U8P), cap, ctypes.byref(written))
    if rc == SIO_ERR_BUFFER_TOO_SMALL:
        cap = max(written.value, 1)
        out = ctypes.create_string_buffer(cap)
        rc = fn(*args, ctypes.cast(out, _U8P), cap, ctypes.byref(written))
    _check(rc)
    return out.raw[: written.value]


# ---------------------------------------------------------------- packets


def describe_packet(pkt: Packet, compat: bool) -> dict:
    out: dict = {"type": TYPE_NAMES[pkt.type]}
    raw = pkt.data.tobytes()
    if not pkt.binary:
        out["text"] = raw.decode("utf-8")
        return out
    if pkt.base64:
        out["base64"] = raw.decode("utf-8")
        data = _call_out(LIB.sio_eio_packet_binary, ctypes.byref(pkt), compat, size_hint=len(raw) * 3 // 4 + 3)
    else:
        data = raw
    out["binary"] = data.hex()
    return out


def packet_struct(p: dict, keep: list) -> Packet:
    """A Packet for the encoders; binary data is given as raw bytes. `keep` holds the buffers."""
    pkt = Packet()
    pkt.type = TYPE_NAMES.index(p["type"])
    data = bytes.fromhex(p["binary"]) if "binary" in p else p["text"].encode("utf-8")
    pkt.binary = "binary" in p
    pkt.base64 = False
    buf, ptr = in_buffer(data)
    keep.append(buf)
    pkt.data = Span(ptr, len(data))
    return pkt


def decode_packet(chunks, kinds, options) -> dict:
    data = chunks[0]
    if kinds[0] == "binary":
        frame = FRAME_WS_BINARY
    else:
        frame = FRAME_RECORD if options.get("transport") == "polling" else FRAME_WS_TEXT
    buf, ptr = in_buffer(data)
    pkt = Packet()
    opt = _options(options)
    _check(LIB.sio_eio_packet_decode(_protocol(options), frame, ptr, len(data), ctypes.byref(opt), ctypes.byref(pkt)))
    return describe_packet(pkt, opt.compat)


def encode_packet(decoded: dict, options: dict) -> list[bytes]:
    protocol = _protocol(options)
    if "binary" in decoded:
        enc = ENC_BASE64 if "base64" in decoded else ENC_BINARY
        data = bytes.fromhex(decoded["binary"])
    else:
        enc, data = ENC_TEXT, decoded["text"].encode("utf-8")
    buf, ptr = in_buffer(data)
    return [encode_with(LIB.sio_eio_packet_encode, protocol, TYPE_NAMES.index(decoded["type"]), enc, ptr, len(data))]


# ---------------------------------------------------------------- payloads


def decode_payload_format(fmt: int, data: bytes, options: dict) -> dict:
    buf, ptr = in_buffer(data)
    opt = _options(options)
    it = PayloadIter()
    LIB.sio_eio_payload_iter_init(ctypes.byref(it), fmt, ptr, len(data), ctypes.byref(opt))
    packets = []
    has = ctypes.c_bool(True)
    while True:
        pkt = Packet()
        _check(LIB.sio_eio_payload_next(ctypes.byref(it), ctypes.byref(pkt), ctypes.byref(has)))
        if not has.value:
            break
        packets.append(describe_packet(pkt, opt.compat))
    count = ctypes.c_size_t(0)
    rc = LIB.sio_eio_payload_validate(fmt, ptr, len(data), ctypes.byref(opt), ctypes.byref(count))
    assert rc == SIO_OK and count.value == len(packets), "iterator and validate disagree"
    return {"packets": packets}


def encode_payload_format(fmt: int, decoded: dict) -> bytes:
    keep: list = []
    pkts = [packet_struct(p, keep) for p in decoded["packets"]]
    arr = (Packet * max(len(pkts), 1))(*pkts)
    return encode_with(LIB.sio_eio_payload_encode, fmt, arr, len(pkts))


def _text_format(options: dict) -> int:
    return PAYLOAD_V3_TEXT if _protocol(options) == 3 else PAYLOAD_V4


class _PacketAdapter:
    decode = staticmethod(decode_packet)
    encode = staticmethod(encode_packet)


class _PayloadAdapter:
    @staticmethod
    def decode(chunks, kinds, options):
        return decode_payload_format(_text_format(options), chunks[0], options)

    @staticmethod
    def encode(decoded, options):
        return [encode_payload_format(_text_format(options), decoded)]


class _BinaryPayloadAdapter:
    @staticmethod
    def decode(chunks, kinds, options):
        return decode_payload_format(PAYLOAD_V3_BINARY, chunks[0], options)

    @staticmethod
    def encode(decoded, options):
        return [encode_payload_format(PAYLOAD_V3_BINARY, decoded)]


# ---------------------------------------------------------------- JSONP


class _JsonpAdapter:
    @staticmethod
    def decode(chunks, kinds, options):
        data = chunks[0]
        buf, ptr = in_buffer(data)
        if options.get("body", "get") == "post":
            opt = _options(options)
            payload = _call_out(LIB.sio_eio_jsonp_post_decode, ptr, len(data), ctypes.byref(opt), size_hint=len(data))
            return {"payload": payload.decode("utf-8")}
        index = Span()
        payload = _call_out(LIB.sio_eio_jsonp_decode, ptr, len(data), ctypes.byref(index), size_hint=len(data))
        return {"index": index.tobytes().decode("ascii"), "payload": payload.decode("utf-8")}

    @staticmethod
    def encode(decoded, options):
        payload = decoded["payload"].encode("utf-8")
        pbuf, pptr = in_buffer(payload)
        if options.get("body", "get") == "post":
            return [encode_with(LIB.sio_eio_jsonp_post_encode, pptr, len(payload))]
        index = decoded["index"].encode("ascii")
        ibuf, iptr = in_buffer(index)
        return [encode_with(LIB.sio_eio_jsonp_encode, iptr, len(index), pptr, len(payload))]


# ---------------------------------------------------------------- WebTransport


class _WebTransportAdapter:
    @staticmethod
    def decode(chunks, kinds, options):
        data = chunks[0]
        buf, ptr = in_buffer(data)
        base = ctypes.addressof(buf)
        opt = _options(options)
        packets, pos = [], 0
        while pos < len(data):
            pkt, used = Packet(), ctypes.c_size_t(0)
            at = ctypes.cast(base + pos, _U8P)
            _check(LIB.sio_eio_wt_decode(at, len(data) - pos, ctypes.byref(opt), ctypes.byref(pkt), ctypes.byref(used)))
            if used.value == 0:
                break
            packets.append(describe_packet(pkt, opt.compat))
            pos += used.value
        out: dict = {"packets": packets}
        if pos < len(data):
            out["pending"] = len(data) - pos
        return out

    @staticmethod
    def encode(decoded, options):
        keep: list = []
        out = b""
        for p in decoded["packets"]:
            pkt = packet_struct(p, keep)
            out += encode_with(LIB.sio_eio_wt_encode, ctypes.byref(pkt))
        return [out]


# ---------------------------------------------------------------- open packet


def _json_string(view: Span, escaped: bool) -> str:
    raw = view.tobytes()
    if not escaped:
        return raw.decode("utf-8")
    token = b'"' + raw + b'"'
    buf, ptr = in_buffer(token)
    return _call_out(LIB.sio_json_string_unescape, Span(ptr, len(token)), size_hint=len(token)).decode("utf-8")


class _OpenAdapter:
    @staticmethod
    def decode(chunks, kinds, options):
        data = chunks[0]
        buf, ptr = in_buffer(data)
        o = Open()
        _check(LIB.sio_eio_open_decode(_protocol(options), ptr, len(data), ctypes.byref(o)))
        out: dict = {"sid": _json_string(o.sid, o.sid_escaped)}
        if o.has_upgrades:
            out["upgrades"] = [_json_string(o.upgrades[i], o.upgrade_escaped[i]) for i in range(o.upgrade_count)]
        out["pingInterval"] = o.ping_interval
        out["pingTimeout"] = o.ping_timeout
        if o.has_max_payload:
            out["maxPayload"] = o.max_payload
        return out

    @staticmethod
    def encode(decoded, options):
        keep: list = []

        def span(s: str) -> Span:
            b = s.encode("utf-8")
            buf, ptr = in_buffer(b)
            keep.append(buf)
            return Span(ptr, len(b))

        o = Open()
        o.sid = span(decoded["sid"])
        upgrades = decoded.get("upgrades")
        o.has_upgrades = upgrades is not None
        for i, u in enumerate(upgrades or []):
            o.upgrades[i] = span(u)
        o.upgrade_count = len(upgrades or [])
        o.ping_interval = decoded["pingInterval"]
        o.ping_timeout = decoded["pingTimeout"]
        o.has_max_payload = "maxPayload" in decoded
        o.max_payload = decoded.get("maxPayload", 0)
        return [encode_with(LIB.sio_eio_open_encode, ctypes.byref(o))]


def decode_open(data: bytes, protocol: int = 4) -> dict:
    """An open packet (`0{…}`) through sio_eio_open_decode: sid, upgrades, pingInterval, pingTimeout,
    maxPayload. Raises CodecError when the codec rejects it."""
    return _OpenAdapter.decode([data], ["text"], {"protocol": protocol})


ADAPTERS = {
    "eio-packet": _PacketAdapter(),
    "eio-payload": _PayloadAdapter(),
    "eio-payload-binary": _BinaryPayloadAdapter(),
    "eio-jsonp": _JsonpAdapter(),
    "eio-webtransport": _WebTransportAdapter(),
    "eio-open": _OpenAdapter(),
}
