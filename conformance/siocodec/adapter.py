"""ctypes binding of the reference server's Redis adapter wire module (reference-server/cluster/,
built as build/libsiocluster.so), the decoder the vectors under vectors/adapter/ are replayed
through.

Vector layers "adapter-broadcast", "adapter-request" and "adapter-response"
(vectors/adapter/README.md): one chunk holding one message body as published on Redis. `decoded` is
the decoder's description of the message (cluster_msg_describe); encoding runs the description back
through the encoders the server publishes with.
"""

from __future__ import annotations

import ctypes
import json
import os
from typing import Any

from . import ROOT, CodecError

LIB_PATH = os.environ.get("SIOCLUSTER_LIB", str(ROOT / "build" / "libsiocluster.so"))
KINDS = {"adapter-broadcast": 1, "adapter-request": 2, "adapter-response": 3}
_SIZEP = ctypes.POINTER(ctypes.c_size_t)


def _load() -> ctypes.CDLL | None:
    if not os.path.exists(LIB_PATH):
        return None
    lib = ctypes.CDLL(LIB_PATH)
    lib.cluster_describe_bytes.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                           ctypes.c_size_t, _SIZEP]  # fmt: skip
    lib.cluster_describe_bytes.restype = ctypes.c_int
    lib.cluster_encode_described.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, _SIZEP]
    lib.cluster_encode_described.restype = ctypes.c_int
    lib.cluster_err_name.argtypes = [ctypes.c_int]
    lib.cluster_err_name.restype = ctypes.c_char_p
    return lib


LIB = _load()


class AdapterError(CodecError):
    """A refusal of the adapter decoder, with its cluster_err name."""

    def __init__(self, code: int):
        assert LIB is not None
        self.code = code
        self.name = LIB.cluster_err_name(code).decode()
        Exception.__init__(self, self.name)


def _lib() -> ctypes.CDLL:
    if LIB is None:
        raise RuntimeError(f"{LIB_PATH} not found: run `make` first")
    return LIB


class Layer:
    def __init__(self, kind: int):
        self.kind = kind

    def decode(self, chunks: list[bytes], kinds: list[str], options: dict) -> Any:
        lib = _lib()
        data = b"".join(chunks)
        written = ctypes.c_size_t(0)
        code = lib.cluster_describe_bytes(self.kind, data, len(data), None, 0, ctypes.byref(written))
        if code != 0:
            raise AdapterError(code)
        out = ctypes.create_string_buffer(written.value)
        lib.cluster_describe_bytes(self.kind, data, len(data), out, written.value, ctypes.byref(written))
        return json.loads(out.raw[: written.value])

    def encode(self, decoded: dict, options: dict) -> list[bytes]:
        lib = _lib()
        text = json.dumps(decoded, separators=(",", ":"), ensure_ascii=False).encode()
        written = ctypes.c_size_t(0)
        code = lib.cluster_encode_described(text, None, 0, ctypes.byref(written))
        if code != 0:
            raise AdapterError(code)
        out = ctypes.create_string_buffer(written.value)
        lib.cluster_encode_described(text, out, written.value, ctypes.byref(written))
        return [out.raw[: written.value]]


ADAPTERS = {name: Layer(kind) for name, kind in KINDS.items()} if LIB is not None else {}
