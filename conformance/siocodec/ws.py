"""ctypes binding of sio/ws.h (WebSocket, RFC 6455) and sio/utf8.h, and their vector adapters.

Python users get:
    StreamReader(role, max_message)   .feed(bytes) -> list of messages/control frames (dicts)
    encode_frame(opcode, payload, fin=True, mask=None, rsv=0) -> bytes
    close_payload(code, reason) / parse_close_payload(bytes)
    accept_for(key) / key_is_valid(key) / close_code_for(error_code)
    utf8_check(pieces) -> (ok, error name, absolute position)

Vector layers (shapes and options documented in vectors/ws/README.md):
    ws-frame, ws-stream, ws-close, ws-accept, utf8
"""

from __future__ import annotations

import ctypes

from . import LIB, SIO_OK, CodecError, Span, encode_with, err_code, err_name, in_buffer
from .vectors import chunk_bytes

_U8P = ctypes.POINTER(ctypes.c_uint8)
_SIZEP = ctypes.POINTER(ctypes.c_size_t)

ROLE_SERVER, ROLE_CLIENT = 0, 1
ROLES = {"server": ROLE_SERVER, "client": ROLE_CLIENT}
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CONTROL_NAMES = {OP_CLOSE: "close", OP_PING: "ping", OP_PONG: "pong"}
EV_NONE, EV_DATA, EV_CONTROL = 0, 1, 2
DEFAULT_MAX_MESSAGE = 1000000
MAX_HEADER = 14
MAX_CONTROL_PAYLOAD = 125
ACCEPT_LEN = 28


# ---------------------------------------------------------------- struct mirrors


class Utf8State(ctypes.Structure):
    _fields_ = [("need", ctypes.c_uint32), ("lo", ctypes.c_uint32), ("hi", ctypes.c_uint32)]


class FrameHeader(ctypes.Structure):
    _fields_ = [
        ("payload_len", ctypes.c_uint64),
        ("fin", ctypes.c_bool),
        ("masked", ctypes.c_bool),
        ("rsv", ctypes.c_uint8),
        ("opcode", ctypes.c_uint8),
        ("mask", ctypes.c_uint8 * 4),
    ]


class Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("frame", FrameHeader),
        ("payload", Span),
        ("text", ctypes.c_bool),
        ("frame_start", ctypes.c_bool),
        ("frame_end", ctypes.c_bool),
        ("message_start", ctypes.c_bool),
        ("message_end", ctypes.c_bool),
        ("close_code", ctypes.c_uint16),
        ("close_reason", Span),
    ]


class Parser(ctypes.Structure):
    _fields_ = [
        ("max_message", ctypes.c_uint64),
        ("message_len", ctypes.c_uint64),
        ("frame_pos", ctypes.c_uint64),
        ("frame", FrameHeader),
        ("utf8", Utf8State),
        ("state", ctypes.c_uint32),
        ("error", ctypes.c_int32),
        ("role", ctypes.c_uint8),
        ("in_message", ctypes.c_bool),
        ("message_text", ctypes.c_bool),
        ("header_have", ctypes.c_uint8),
        ("header_need", ctypes.c_uint8),
        ("control_have", ctypes.c_uint8),
        ("header", ctypes.c_uint8 * MAX_HEADER),
        ("control", ctypes.c_uint8 * MAX_CONTROL_PAYLOAD),
    ]


def _declare(name, restype, *argtypes):
    fn = getattr(LIB, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_declare("sio_ws_parser_sizeof", ctypes.c_size_t)
_declare("sio_ws_event_sizeof", ctypes.c_size_t)
_declare("sio_ws_parser_init", None, ctypes.POINTER(Parser), ctypes.c_int, ctypes.c_uint64)
_declare(
    "sio_ws_parser_feed", ctypes.c_int, ctypes.POINTER(Parser), _U8P, ctypes.c_size_t, _SIZEP, ctypes.POINTER(Event)
)
_declare("sio_ws_parser_closed", ctypes.c_bool, ctypes.POINTER(Parser))
_declare("sio_ws_header_decode", ctypes.c_int, _U8P, ctypes.c_size_t, ctypes.c_int, ctypes.POINTER(FrameHeader), _SIZEP)
_declare("sio_ws_header_size", ctypes.c_size_t, ctypes.c_uint64, ctypes.c_bool)
_declare("sio_ws_header_encode", ctypes.c_int, ctypes.POINTER(FrameHeader), _U8P, ctypes.c_size_t, _SIZEP)
_declare(
    "sio_ws_frame_encode",
    ctypes.c_int,
    ctypes.POINTER(FrameHeader),
    _U8P,
    ctypes.c_size_t,
    _U8P,
    ctypes.c_size_t,
    _SIZEP,
)
_declare("sio_ws_mask", None, _U8P, ctypes.c_size_t, _U8P, ctypes.c_uint64)
_declare("sio_ws_close_code_for", ctypes.c_uint16, ctypes.c_int)
_declare("sio_ws_close_code_valid", ctypes.c_bool, ctypes.c_uint16)
_declare(
    "sio_ws_close_payload_decode",
    ctypes.c_int,
    _U8P,
    ctypes.c_size_t,
    ctypes.POINTER(ctypes.c_uint16),
    ctypes.POINTER(Span),
)
_declare(
    "sio_ws_close_payload_encode", ctypes.c_int, ctypes.c_uint16, _U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP
)
_declare("sio_ws_key_validate", ctypes.c_int, _U8P, ctypes.c_size_t)
_declare("sio_ws_accept_compute", ctypes.c_int, _U8P, ctypes.c_size_t, _U8P, ctypes.c_size_t, _SIZEP)
_declare("sio_utf8_init", None, ctypes.POINTER(Utf8State))
_declare("sio_utf8_feed", ctypes.c_int, ctypes.POINTER(Utf8State), _U8P, ctypes.c_size_t, _SIZEP)
_declare("sio_utf8_complete", ctypes.c_bool, ctypes.POINTER(Utf8State))
_declare("sio_utf8_validate", ctypes.c_int, _U8P, ctypes.c_size_t, _SIZEP)
_declare("sio_utf8_utf16_units", ctypes.c_size_t, _U8P, ctypes.c_size_t)

# A mirror that drifted from the C layout would read garbage: refuse to run with one.
assert ctypes.sizeof(Parser) == LIB.sio_ws_parser_sizeof(), "sio_ws_parser mirror is stale"
assert ctypes.sizeof(Event) == LIB.sio_ws_event_sizeof(), "sio_ws_event mirror is stale"


# ---------------------------------------------------------------- bytes in vectors


def bytes_obj(data: bytes, text: bool) -> dict:
    """The canonical JSON form of payload bytes: a fill for 64+ equal bytes, UTF-8 text where
    the bytes are text and valid, else hex."""
    if len(data) >= 64 and data.count(data[0]) == len(data):
        return {"parts": [{"fill": f"{data[0]:02x}", "count": len(data)}]}
    if text:
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"hex": data.hex()}


def _mask_key(hex_or_none) -> bytes | None:
    return None if hex_or_none is None else bytes.fromhex(hex_or_none)


# ---------------------------------------------------------------- frames


def _header(fin: bool, opcode: int, mask: bytes | None, rsv: int = 0) -> FrameHeader:
    h = FrameHeader()
    h.fin, h.opcode, h.rsv, h.masked = fin, opcode, rsv, mask is not None
    if mask is not None:
        h.mask[:] = list(mask)
    return h


def encode_frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None, rsv: int = 0) -> bytes:
    """A whole frame, masked with `mask` (4 bytes) when given (client to server)."""
    h = _header(fin, opcode, mask, rsv)
    buf, ptr = in_buffer(payload)
    return encode_with(LIB.sio_ws_frame_encode, ctypes.byref(h), ptr, len(payload))


def decode_frame(data: bytes, role: int) -> dict:
    """Exactly one frame: header fields and the unmasked payload."""
    buf, ptr = in_buffer(data)
    h, hlen = FrameHeader(), ctypes.c_size_t(0)
    rc = LIB.sio_ws_header_decode(ptr, len(data), role, ctypes.byref(h), ctypes.byref(hlen))
    if rc != SIO_OK:
        raise CodecError(rc)
    if len(data) - hlen.value < h.payload_len:
        raise CodecError(err_code("SIO_ERR_WS_TRUNCATED"))
    if len(data) - hlen.value > h.payload_len:
        raise ValueError("the input holds more than one frame")
    body, body_ptr = in_buffer(data[hlen.value :])
    if h.masked:
        LIB.sio_ws_mask(body_ptr, h.payload_len, h.mask, 0)
    payload = body.raw[: h.payload_len]
    return {
        "fin": h.fin,
        "opcode": h.opcode,
        "mask": bytes(h.mask).hex() if h.masked else None,
        "length": h.payload_len,
        "payload": bytes_obj(payload, h.opcode == OP_TEXT),
    }


# ---------------------------------------------------------------- incremental reader


class StreamReader:
    """Feeds socket bytes to sio_ws_parser and reassembles what it reports.

    `frames` lists every frame (fin, opcode, mask, payload); `feed` returns the messages and
    control frames completed by the bytes given, in order. Errors raise CodecError; the close
    code to answer with is close_code_for(exc.code). `consumed` counts bytes the parser took,
    up to and including the byte an error was found at."""

    def __init__(self, role: int = ROLE_SERVER, max_message: int = DEFAULT_MAX_MESSAGE):
        self.parser = Parser()
        LIB.sio_ws_parser_init(ctypes.byref(self.parser), role, max_message)
        self.frames: list[dict] = []
        self.consumed = 0
        self._frame = bytearray()
        self._message = bytearray()
        self._message_text = False
        self._ref = ctypes.byref(self.parser)
        self._event = Event()
        self._used = ctypes.c_size_t(0)

    @property
    def closed(self) -> bool:
        return bool(LIB.sio_ws_parser_closed(ctypes.byref(self.parser)))

    def feed(self, data: bytes, step: int = 0, stop_at_close: bool = False) -> list[dict]:
        """Hands `data` to the parser, in calls of at most `step` bytes when step > 0 (as if
        it arrived in reads of that size). With stop_at_close, reading ends at a close frame,
        as a server that has begun its closing handshake does."""
        out: list[dict] = []
        buf, _ = in_buffer(data)
        pos, ev, used = 0, self._event, self._used
        while pos < len(data):
            end = len(data) if step <= 0 else min(len(data), pos + step)
            while pos < end:
                if stop_at_close and self.closed:
                    return out
                ptr = ctypes.cast(ctypes.byref(buf, pos), _U8P)
                rc = LIB.sio_ws_parser_feed(self._ref, ptr, end - pos, ctypes.byref(used), ctypes.byref(ev))
                pos += used.value
                self.consumed += used.value
                if rc != SIO_OK:
                    raise CodecError(rc)
                if ev.type == EV_NONE:
                    if pos != end:
                        raise AssertionError("parser reported no event before using all input")
                    break
                self._on_event(ev, out)
        return out

    def _on_event(self, ev: Event, out: list) -> None:
        h = ev.frame
        mask = bytes(h.mask).hex() if h.masked else None
        if ev.type == EV_CONTROL:
            payload = ev.payload.tobytes()
            self.frames.append({"fin": True, "opcode": h.opcode, "mask": mask, "payload": bytes_obj(payload, False)})
            if h.opcode == OP_CLOSE:
                out.append(
                    {
                        "type": "close",
                        "code": ev.close_code or None,
                        "reason": ev.close_reason.tobytes().decode("utf-8"),
                    }
                )
            else:
                out.append({"type": CONTROL_NAMES[h.opcode], "data": bytes_obj(payload, False)})
            return
        if ev.frame_start:
            self._frame = bytearray()
        if ev.message_start:
            self._message = bytearray()
            self._message_text = ev.text
        piece = ev.payload.tobytes()
        self._frame += piece
        self._message += piece
        if ev.frame_end:
            self.frames.append(
                {"fin": h.fin, "opcode": h.opcode, "mask": mask, "payload": bytes_obj(bytes(self._frame), ev.text)}
            )
        if ev.message_end:
            kind = "text" if self._message_text else "binary"
            out.append({"type": kind, "data": bytes_obj(bytes(self._message), ev.text)})


def read_stream(pieces: list[bytes], role: int, max_message: int, stop_at_close: bool = False, step: int = 0) -> tuple:
    """Feeds the pieces in order (each in calls of at most `step` bytes when step > 0).
    Returns ("ok", frames, messages) or ("error", error name, bytes consumed)."""
    reader = StreamReader(role, max_message)
    messages: list[dict] = []
    try:
        for piece in pieces:
            messages += reader.feed(piece, step, stop_at_close)
            if stop_at_close and reader.closed:
                break
    except CodecError as exc:
        return ("error", exc.name, reader.consumed)
    return ("ok", reader.frames, messages)


# ---------------------------------------------------------------- close payloads, handshake


def close_code_for(code: int) -> int:
    return LIB.sio_ws_close_code_for(code)


def close_code_valid(code: int) -> bool:
    return bool(LIB.sio_ws_close_code_valid(code))


def parse_close_payload(data: bytes) -> dict:
    buf, ptr = in_buffer(data)
    code, reason = ctypes.c_uint16(0), Span()
    rc = LIB.sio_ws_close_payload_decode(ptr, len(data), ctypes.byref(code), ctypes.byref(reason))
    if rc != SIO_OK:
        raise CodecError(rc)
    return {"code": code.value or None, "reason": reason.tobytes().decode("utf-8")}


def close_payload(code: int | None, reason: str = "") -> bytes:
    raw = reason.encode("utf-8")
    buf, ptr = in_buffer(raw)
    return encode_with(LIB.sio_ws_close_payload_encode, code or 0, ptr, len(raw))


def key_is_valid(key: bytes) -> bool:
    buf, ptr = in_buffer(key)
    return LIB.sio_ws_key_validate(ptr, len(key)) == SIO_OK


def accept_for(key: bytes) -> str:
    buf, ptr = in_buffer(key)
    return encode_with(LIB.sio_ws_accept_compute, ptr, len(key)).decode("ascii")


# ---------------------------------------------------------------- UTF-8


def utf8_check(pieces: list[bytes]) -> tuple:
    """Incremental validation over the pieces: (True, None, None) or (False, error name,
    absolute index reported). Cross-checked against the one-shot validator."""
    st, bad = Utf8State(), ctypes.c_size_t(0)
    LIB.sio_utf8_init(ctypes.byref(st))
    base = 0
    result: tuple[bool, str | None, int | None] = (True, None, None)
    for piece in pieces:
        buf, ptr = in_buffer(piece)
        rc = LIB.sio_utf8_feed(ctypes.byref(st), ptr, len(piece), ctypes.byref(bad))
        if rc != SIO_OK:
            result = (False, err_name(rc), base + bad.value)
            break
        base += len(piece)
    else:
        if not LIB.sio_utf8_complete(ctypes.byref(st)):
            result = (False, "SIO_ERR_UTF8_TRUNCATED", None)
    whole = b"".join(pieces)
    buf, ptr = in_buffer(whole)
    rc = LIB.sio_utf8_validate(ptr, len(whole), ctypes.byref(bad))
    one_shot = (
        rc == SIO_OK,
        None if rc == SIO_OK else err_name(rc),
        bad.value if err_name(rc) == "SIO_ERR_UTF8_INVALID" else None,
    )
    if one_shot != result:
        raise AssertionError(f"incremental {result} and one-shot {one_shot} UTF-8 checks differ")
    return result


def utf16_units(data: bytes) -> int:
    buf, ptr = in_buffer(data)
    return LIB.sio_utf8_utf16_units(ptr, len(data))


# ---------------------------------------------------------------- vector adapters


def _role(options: dict) -> int:
    return ROLES[options.get("role", "server")]


class WsFrameAdapter:
    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        return decode_frame(b"".join(chunks), _role(options))

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        payload = chunk_bytes(decoded["payload"])
        return [encode_frame(decoded["opcode"], payload, decoded["fin"], _mask_key(decoded["mask"]))]


class WsStreamAdapter:
    """Decodes the stream as the chunks arrive, whole, and one byte at a time; all three must
    agree (the parser's result may not depend on read boundaries)."""

    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        role, limit = _role(options), options.get("max_message", DEFAULT_MAX_MESSAGE)
        stop = options.get("stop_at_close", False)
        whole = b"".join(chunks)
        results = [
            read_stream(chunks, role, limit, stop),
            read_stream([whole], role, limit, stop),
            read_stream([whole], role, limit, stop, step=1),
        ]
        if results[1] != results[0] or results[2] != results[0]:
            raise AssertionError(f"results depend on read boundaries: {results}")
        if results[0][0] == "error":
            raise CodecError(err_code(results[0][1]))
        return {"frames": results[0][1], "messages": results[0][2]}

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        out = b"".join(
            encode_frame(f["opcode"], chunk_bytes(f["payload"]), f["fin"], _mask_key(f["mask"]))
            for f in decoded["frames"]
        )
        return [out]


class WsCloseAdapter:
    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        return parse_close_payload(b"".join(chunks))

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        return [close_payload(decoded["code"], decoded["reason"])]


class WsAcceptAdapter:
    """Input: the Sec-WebSocket-Key value. Checked first unless options.validate_key is false."""

    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> str:
        key = b"".join(chunks)
        if options.get("validate_key", True) and not key_is_valid(key):
            raise CodecError(err_code("SIO_ERR_WS_KEY_INVALID"))
        return accept_for(key)

    def encode(self, decoded, options: dict):
        return None


class Utf8Adapter:
    """Input chunks are fed one after another into one validator."""

    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        ok, name, _ = utf8_check(chunks)
        if not ok:
            raise CodecError(err_code(name))
        whole = b"".join(chunks)
        return {"text": whole.decode("utf-8"), "utf16_units": utf16_units(whole)}

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        return [decoded["text"].encode("utf-8")]


ADAPTERS = {
    "ws-frame": WsFrameAdapter(),
    "ws-stream": WsStreamAdapter(),
    "ws-close": WsCloseAdapter(),
    "ws-accept": WsAcceptAdapter(),
    "utf8": Utf8Adapter(),
}
