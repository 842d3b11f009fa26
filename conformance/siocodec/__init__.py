"""ctypes binding of libsiocodec (build/libsiocodec.so).

The conformance harness uses the codec only as an oracle whose correctness the vectors establish.
Layer modules (ws, eio, sio, json_, http) declare their C prototypes on the shared library handle
`LIB` and expose Python-friendly wrappers; `vectors.py` maps vector layers to those wrappers.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB_PATH = Path(os.environ.get("SIOCODEC_LIB", ROOT / "build" / "libsiocodec.so"))


def _load() -> ctypes.CDLL:
    if not LIB_PATH.exists():
        raise RuntimeError(f"{LIB_PATH} not found: run `make` first")
    lib = ctypes.CDLL(str(LIB_PATH))
    lib.sio_err_name.argtypes = [ctypes.c_int]
    lib.sio_err_name.restype = ctypes.c_char_p
    lib.sio_err_message.argtypes = [ctypes.c_int]
    lib.sio_err_message.restype = ctypes.c_char_p
    lib.sio_version.argtypes = []
    lib.sio_version.restype = ctypes.c_char_p
    lib.sio_simd_available.argtypes = [ctypes.c_int]
    lib.sio_simd_available.restype = ctypes.c_bool
    lib.sio_simd_select.argtypes = [ctypes.c_int]
    lib.sio_simd_select.restype = ctypes.c_int
    lib.sio_simd_selected.argtypes = []
    lib.sio_simd_selected.restype = ctypes.c_int
    lib.sio_simd_path_name.argtypes = [ctypes.c_int]
    lib.sio_simd_path_name.restype = ctypes.c_char_p
    return lib


LIB = _load()

SIO_OK = 0
SIO_ERR_BUFFER_TOO_SMALL = 1


SIO_SIMD_PATHS = 4  # sio/simd.h: scalar, sse2, avx2, neon


def simd_paths() -> list[str]:
    """Names of the codec paths (sio/simd.h) this library and CPU can run, scalar first."""
    return [LIB.sio_simd_path_name(k).decode() for k in range(SIO_SIMD_PATHS) if LIB.sio_simd_available(k)]


def simd_selected() -> str:
    """Name of the codec path in use."""
    return LIB.sio_simd_path_name(LIB.sio_simd_selected()).decode()


def simd_select(name: str) -> None:
    """Makes the codec take the path `name` from now on (process-wide)."""
    for k in range(SIO_SIMD_PATHS):
        if LIB.sio_simd_path_name(k).decode() == name:
            rc = LIB.sio_simd_select(k)
            if rc != SIO_OK:
                raise CodecError(rc)
            return
    raise KeyError(name)


class CodecError(Exception):
    """A libsiocodec error, carrying the numeric code and its stable name."""

    def __init__(self, code: int):
        self.code = code
        self.name = err_name(code)
        super().__init__(f"{self.name}: {err_message(code)}")


def err_name(code: int) -> str:
    name = LIB.sio_err_name(code)
    return name.decode() if name else f"SIO_ERR_UNKNOWN_{code}"


def err_message(code: int) -> str:
    return LIB.sio_err_message(code).decode()


def err_code(name: str) -> int:
    for code in range(0, 1000):
        n = LIB.sio_err_name(code)
        if n and n.decode() == name:
            return code
    raise KeyError(name)


class Span(ctypes.Structure):
    """sio_span: a view into a buffer owned by someone else."""

    _fields_ = [("ptr", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]

    def tobytes(self) -> bytes:
        if not self.len:
            return b""
        return ctypes.string_at(self.ptr, self.len)


def in_buffer(data: bytes):
    """A C buffer holding `data` (kept alive by the caller while views into it are used)."""
    buf = ctypes.create_string_buffer(data, len(data) or 1)
    return buf, ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))


def view_offset(span: Span, base) -> int:
    """Offset of a span's start inside the buffer `base` it points into."""
    if not span.len:
        return 0
    return ctypes.addressof(span.ptr.contents) - ctypes.addressof(base)


def encode_with(fn, *args) -> bytes:
    """Calls an encoder `fn(*args, out, cap, &written)` twice: once to size, once to write."""
    written = ctypes.c_size_t(0)
    rc = fn(*args, None, 0, ctypes.byref(written))
    if rc not in (SIO_OK, SIO_ERR_BUFFER_TOO_SMALL):
        raise CodecError(rc)
    if rc == SIO_OK and written.value == 0:
        return b""
    cap = written.value
    out = ctypes.create_string_buffer(max(cap, 1))
    rc = fn(*args, ctypes.cast(out, ctypes.POINTER(ctypes.c_uint8)), cap, ctypes.byref(written))
    if rc != SIO_OK:
        raise CodecError(rc)
    return out.raw[: written.value]
