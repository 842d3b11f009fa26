"""ctypes binding of sio/json.h: strict JSON validation, the tree-less readers and the writer.

Vector layer "json" (vectors/json/README.md): one chunk holding a JSON text. `decoded` is
{"kind": "object"|"array"|"string"|"number"|"true"|"false"|"null", "value": <the value>}, where
the value is rebuilt through the codec's own readers (array/object iteration, string
unescaping, integer parsing), not through Python's json module. Options: max_depth (int).
Encoding writes `value` back through the codec's writer (compact, as JSON.stringify).
"""

from __future__ import annotations

import ctypes
from typing import Any

from . import LIB, SIO_ERR_BUFFER_TOO_SMALL, SIO_OK, CodecError, Span, err_code, in_buffer

_U8P = ctypes.POINTER(ctypes.c_uint8)
_SIZEP = ctypes.POINTER(ctypes.c_size_t)

KINDS = {1: "object", 2: "array", 3: "string", 4: "number", 5: "true", 6: "false", 7: "null"}
WRITER_MAX_DEPTH = 64


class Options(ctypes.Structure):
    _fields_ = [("max_depth", ctypes.c_uint32)]


class Iter(ctypes.Structure):
    _fields_ = [("p", _U8P), ("len", ctypes.c_size_t), ("pos", ctypes.c_size_t), ("is_object", ctypes.c_int)]


class Writer(ctypes.Structure):
    _fields_ = [
        ("out", _U8P),
        ("cap", ctypes.c_size_t),
        ("len", ctypes.c_size_t),
        ("err", ctypes.c_int),
        ("depth", ctypes.c_uint32),
        ("placeholders", ctypes.c_uint32),
        ("need_comma", ctypes.c_uint8),
        ("after_key", ctypes.c_uint8),
        ("done", ctypes.c_uint8),
        ("is_object", ctypes.c_uint8 * (WRITER_MAX_DEPTH // 8)),
    ]


def _proto(fn, args, res=ctypes.c_int):
    fn.argtypes = args
    fn.restype = res


_WP = ctypes.POINTER(Writer)
_proto(LIB.sio_json_validate, [_U8P, ctypes.c_size_t, ctypes.POINTER(Options), _SIZEP])
_proto(LIB.sio_json_kind_of, [Span])
_proto(LIB.sio_json_trim, [Span], Span)
_proto(LIB.sio_json_array_iter, [Span, ctypes.POINTER(Iter)])
_proto(LIB.sio_json_object_iter, [Span, ctypes.POINTER(Iter)])
_proto(LIB.sio_json_next, [ctypes.POINTER(Iter), ctypes.POINTER(Span), ctypes.POINTER(Span)], ctypes.c_bool)
_proto(LIB.sio_json_string_unescape, [Span, _U8P, ctypes.c_size_t, _SIZEP])
_proto(LIB.sio_json_get_int, [Span, ctypes.POINTER(ctypes.c_int64)])
_proto(LIB.sio_json_writer_init, [_WP, _U8P, ctypes.c_size_t], None)
for _name in ("begin_array", "end_array", "begin_object", "end_object", "null"):
    _proto(getattr(LIB, f"sio_json_write_{_name}"), [_WP])
_proto(LIB.sio_json_write_key, [_WP, _U8P, ctypes.c_size_t])
_proto(LIB.sio_json_write_string, [_WP, _U8P, ctypes.c_size_t])
_proto(LIB.sio_json_write_number_text, [_WP, _U8P, ctypes.c_size_t])
_proto(LIB.sio_json_write_int, [_WP, ctypes.c_int64])
_proto(LIB.sio_json_write_bool, [_WP, ctypes.c_bool])
_proto(LIB.sio_json_writer_finish, [_WP, _SIZEP])

_NOT_INTEGER = err_code("SIO_ERR_JSON_NOT_INTEGER")


def validate(text: bytes, max_depth: int = 0) -> None:
    """Raises CodecError (with the offset in `.offset`) unless `text` is one valid JSON text."""
    buf, ptr = in_buffer(text)
    at = ctypes.c_size_t(0)
    rc = LIB.sio_json_validate(ptr, len(text), ctypes.byref(Options(max_depth)), ctypes.byref(at))
    if rc != SIO_OK:
        err = CodecError(rc)
        err.offset = at.value  # type: ignore[attr-defined]
        raise err


def _unescape(token: Span) -> str:
    need = ctypes.c_size_t(0)
    rc = LIB.sio_json_string_unescape(token, None, 0, ctypes.byref(need))
    if rc not in (SIO_OK, SIO_ERR_BUFFER_TOO_SMALL):
        raise CodecError(rc)
    out = ctypes.create_string_buffer(max(need.value, 1))
    rc = LIB.sio_json_string_unescape(token, ctypes.cast(out, _U8P), need.value, ctypes.byref(need))
    if rc != SIO_OK:
        raise CodecError(rc)
    return out.raw[: need.value].decode("utf-8")


def _number(token: Span) -> int | float:
    v = ctypes.c_int64(0)
    rc = LIB.sio_json_get_int(token, ctypes.byref(v))
    if rc == SIO_OK:
        return v.value
    text = token.tobytes().decode()
    return float(text) if rc == _NOT_INTEGER else int(text)


def value_of(span: Span) -> Any:
    """Rebuilds a Python value from validated JSON using only the codec's readers."""
    kind = KINDS[LIB.sio_json_kind_of(span)]
    it, key, val = Iter(), Span(), Span()
    if kind == "array":
        LIB.sio_json_array_iter(span, ctypes.byref(it))
        out = []
        while LIB.sio_json_next(ctypes.byref(it), ctypes.byref(key), ctypes.byref(val)):
            out.append(value_of(Span(val.ptr, val.len)))
        return out
    if kind == "object":
        LIB.sio_json_object_iter(span, ctypes.byref(it))
        obj = {}
        while LIB.sio_json_next(ctypes.byref(it), ctypes.byref(key), ctypes.byref(val)):
            obj[_unescape(Span(key.ptr, key.len))] = value_of(Span(val.ptr, val.len))
        return obj
    if kind == "string":
        return _unescape(span)
    if kind == "number":
        return _number(span)
    return {"true": True, "false": False, "null": None}[kind]


def _write(w: Writer, value: Any) -> None:
    wp = ctypes.byref(w)
    if isinstance(value, dict):
        LIB.sio_json_write_begin_object(wp)
        for k, v in value.items():
            kb = k.encode("utf-8", "surrogatepass")
            LIB.sio_json_write_key(wp, in_buffer(kb)[1], len(kb))
            _write(w, v)
        LIB.sio_json_write_end_object(wp)
    elif isinstance(value, list):
        LIB.sio_json_write_begin_array(wp)
        for v in value:
            _write(w, v)
        LIB.sio_json_write_end_array(wp)
    elif isinstance(value, str):
        b = value.encode("utf-8", "surrogatepass")
        LIB.sio_json_write_string(wp, in_buffer(b)[1], len(b))
    elif isinstance(value, bool):
        LIB.sio_json_write_bool(wp, value)
    elif value is None:
        LIB.sio_json_write_null(wp)
    elif isinstance(value, int) and -(2**63) <= value < 2**63:
        LIB.sio_json_write_int(wp, value)
    else:
        b = repr(value).encode()
        LIB.sio_json_write_number_text(wp, in_buffer(b)[1], len(b))


def write(value: Any) -> bytes:
    """Encodes a Python value through the codec's writer (sizing pass, then the real one)."""
    w = Writer()
    LIB.sio_json_writer_init(ctypes.byref(w), None, 0)
    _write(w, value)
    need = ctypes.c_size_t(0)
    rc = LIB.sio_json_writer_finish(ctypes.byref(w), ctypes.byref(need))
    if rc not in (SIO_OK, SIO_ERR_BUFFER_TOO_SMALL):
        raise CodecError(rc)
    out = ctypes.create_string_buffer(max(need.value, 1))
    LIB.sio_json_writer_init(ctypes.byref(w), ctypes.cast(out, _U8P), need.value)
    _write(w, value)
    rc = LIB.sio_json_writer_finish(ctypes.byref(w), ctypes.byref(need))
    if rc != SIO_OK:
        raise CodecError(rc)
    return out.raw[: need.value]


class JsonAdapter:
    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        text = b"".join(chunks)
        validate(text, options.get("max_depth", 0))
        buf, ptr = in_buffer(text)
        span = LIB.sio_json_trim(Span(ptr, len(text)))
        return {"kind": KINDS[LIB.sio_json_kind_of(span)], "value": value_of(span)}

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        return [write(decoded["value"])]


ADAPTERS = {"json": JsonAdapter()}
