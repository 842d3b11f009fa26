"""ctypes binding of sio/http.h: the HTTP/1.1 request-head parser.

Vector layer "http-request": the input chunks are the pieces in which the head arrives. Each
piece is appended and the parser called again, as a server does; a head must not complete
before its last piece. Options: max_head_bytes, max_headers, max_target (0/absent = default).

Decoded shape:
    {"method": str, "target": str, "path": str, "query": str | None, "version": "1.0" | "1.1",
     "headers": [[name, value], ...], "head_length": int,
     "body": {"framing": "none" | "length" | "chunked", "length": int (framing "length" only)}}
plus, when the vector gives options.lookup = {"query": [names], "headers": [names]}, a "lookup"
object with the decoded query values and header values (None when absent).
"""

from __future__ import annotations

import ctypes

from . import LIB, SIO_OK, CodecError, Span, in_buffer

MAX_HEADERS = 64
ERR_NOT_FOUND = 315


class Limits(ctypes.Structure):
    _fields_ = [("max_head_bytes", ctypes.c_size_t), ("max_headers", ctypes.c_size_t), ("max_target", ctypes.c_size_t)]


class Header(ctypes.Structure):
    _fields_ = [("name", Span), ("value", Span)]


class Request(ctypes.Structure):
    _fields_ = [
        ("method", Span),
        ("target", Span),
        ("path", Span),
        ("query", Span),
        ("has_query", ctypes.c_bool),
        ("version_minor", ctypes.c_int),
        ("headers", Header * MAX_HEADERS),
        ("header_count", ctypes.c_size_t),
        ("head_len", ctypes.c_size_t),
        ("body", ctypes.c_int),
        ("content_length", ctypes.c_uint64),
    ]


class Parser(ctypes.Structure):
    _fields_ = [("scanned", ctypes.c_size_t)]


_U8P = ctypes.POINTER(ctypes.c_uint8)
LIB.sio_http_parser_init.argtypes = [ctypes.POINTER(Parser)]
LIB.sio_http_parser_init.restype = None
LIB.sio_http_request_parse.argtypes = [
    ctypes.POINTER(Parser),
    _U8P,
    ctypes.c_size_t,
    ctypes.POINTER(Limits),
    ctypes.POINTER(Request),
]
LIB.sio_http_request_parse.restype = ctypes.c_int
LIB.sio_http_header_find.argtypes = [ctypes.POINTER(Request), ctypes.c_char_p]
LIB.sio_http_header_find.restype = ctypes.POINTER(Header)
LIB.sio_http_query_get.argtypes = [Span, ctypes.c_char_p, _U8P, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
LIB.sio_http_query_get.restype = ctypes.c_int

BODY_NAMES = {0: "none", 1: "length", 2: "chunked"}


def _text(span: Span) -> str:
    return span.tobytes().decode("latin-1")


def query_get(query: Span, name: str) -> str | None:
    out = ctypes.create_string_buffer(4096)
    written = ctypes.c_size_t(0)
    rc = LIB.sio_http_query_get(query, name.encode(), ctypes.cast(out, _U8P), 4096, ctypes.byref(written))
    if rc == ERR_NOT_FOUND:
        return None
    if rc != SIO_OK:
        raise CodecError(rc)
    return out.raw[: written.value].decode("utf-8", "surrogateescape")


def _describe(req: Request, lookup: dict) -> dict:
    out = {
        "method": _text(req.method),
        "target": _text(req.target),
        "path": _text(req.path),
        "query": _text(req.query) if req.has_query else None,
        "version": f"1.{req.version_minor}",
        "headers": [[_text(h.name), _text(h.value)] for h in req.headers[: req.header_count]],
        "head_length": req.head_len,
        "body": {"framing": BODY_NAMES[req.body]},
    }
    if req.body == 1:
        out["body"]["length"] = req.content_length
    if lookup:
        found: dict = {"query": {}, "headers": {}}
        for name in lookup.get("query", []):
            found["query"][name] = query_get(req.query, name)
        for name in lookup.get("headers", []):
            h = LIB.sio_http_header_find(ctypes.byref(req), name.encode())
            found["headers"][name] = _text(h.contents.value) if h else None
        out["lookup"] = found
    return out


def parse_pieces(pieces: list[bytes], options: dict) -> dict:
    """Feeds the pieces one after another; raises CodecError, or ValueError when the head is
    incomplete at the end or completes before the last piece."""
    limits = Limits(options.get("max_head_bytes", 0), options.get("max_headers", 0), options.get("max_target", 0))
    parser, req = Parser(), Request()
    LIB.sio_http_parser_init(ctypes.byref(parser))
    data = b""
    for i, piece in enumerate(pieces):
        data += piece
        buf, ptr = in_buffer(data)
        rc = LIB.sio_http_request_parse(ctypes.byref(parser), ptr, len(data), ctypes.byref(limits), ctypes.byref(req))
        if rc != SIO_OK:
            raise CodecError(rc)
        if req.head_len:
            if i != len(pieces) - 1:
                raise ValueError(f"head completed early, at piece {i}")
            return _describe(req, options.get("lookup", {}))
    raise ValueError("head incomplete after the last piece")


class HttpRequestAdapter:
    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> dict:
        return parse_pieces(chunks, options)

    def encode(self, decoded: dict, options: dict):
        return None


ADAPTERS = {"http-request": HttpRequestAdapter()}
