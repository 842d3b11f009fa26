"""MessagePack as the Redis adapter's Node side writes it (notepack.io 3.0.1), written for the suite
independently of the reference server's C code, so each can check the other.

`pack` makes the bytes Node would make for a value: strings as fixstr / str8 / str16 / str32 by UTF-8
length, integers in the shortest form (unsigned forms for non-negative values), every other number as
float64, bytes as bin8 / bin16 / bin32, dicts in insertion order. `unpack` reads any MessagePack the
adapter may meet; `Undefined` stands for the `d4 00 00` form and `Ext` for other extension types.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ext:
    type: int
    data: bytes


class _UndefinedType:
    def __repr__(self) -> str:
        return "undefined"


Undefined = _UndefinedType()


class UnpackError(ValueError):
    pass


def _int(v: int) -> bytes:
    if v >= 0:
        if v < 0x80:
            return bytes([v])
        if v < 0x100:
            return b"\xcc" + bytes([v])
        if v < 0x10000:
            return b"\xcd" + struct.pack(">H", v)
        if v < 0x100000000:
            return b"\xce" + struct.pack(">I", v)
        return b"\xcf" + struct.pack(">Q", v)
    if v >= -0x20:
        return struct.pack(">b", v)
    if v >= -0x80:
        return b"\xd0" + struct.pack(">b", v)
    if v >= -0x8000:
        return b"\xd1" + struct.pack(">h", v)
    if v >= -0x80000000:
        return b"\xd2" + struct.pack(">i", v)
    return b"\xd3" + struct.pack(">q", v)


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    n = len(b)
    if n < 32:
        return bytes([0xA0 | n]) + b
    if n < 0x100:
        return b"\xd9" + bytes([n]) + b
    if n < 0x10000:
        return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def _bin(b: bytes) -> bytes:
    n = len(b)
    if n < 0x100:
        return b"\xc4" + bytes([n]) + b
    if n < 0x10000:
        return b"\xc5" + struct.pack(">H", n) + b
    return b"\xc6" + struct.pack(">I", n) + b


def _header(n: int, fix: int, b16: int, b32: int) -> bytes:
    if n < 16:
        return bytes([fix | n])
    if n < 0x10000:
        return bytes([b16]) + struct.pack(">H", n)
    return bytes([b32]) + struct.pack(">I", n)


def pack(v: Any) -> bytes:
    if v is None or v is Undefined:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        return _int(v)
    if isinstance(v, float):
        if math.isfinite(v) and v == math.floor(v) and -(2**63) <= v < 2**64:
            return _int(int(v))  # JavaScript has one number type: an integral value packs as an integer
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (bytes, bytearray)):
        return _bin(bytes(v))
    if isinstance(v, (list, tuple)):
        return _header(len(v), 0x90, 0xDC, 0xDD) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        items = [(k, x) for k, x in v.items() if x is not Undefined]
        return _header(len(items), 0x80, 0xDE, 0xDF) + b"".join(_str(str(k)) + pack(x) for k, x in items)
    if isinstance(v, Ext):
        return _ext(v)
    raise TypeError(f"cannot pack {type(v).__name__}")


def _ext(e: Ext) -> bytes:
    n = len(e.data)
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    t = struct.pack(">b", e.type)
    if n in fixed:
        return bytes([fixed[n]]) + t + e.data
    if n < 0x100:
        return b"\xc7" + bytes([n]) + t + e.data
    if n < 0x10000:
        return b"\xc8" + struct.pack(">H", n) + t + e.data
    return b"\xc9" + struct.pack(">I", n) + t + e.data


class _Reader:
    def __init__(self, data: bytes, max_depth: int):
        self.data = data
        self.pos = 0
        self.max_depth = max_depth

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise UnpackError(f"truncated at byte {self.pos}: {n} more needed")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u(self, fmt: str, n: int) -> int:
        return int(struct.unpack(fmt, self.take(n))[0])

    def value(self, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise UnpackError("nested too deep")
        b = self.take(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0xA0 <= b <= 0xBF:
            return self.take(b & 0x1F).decode("utf-8")
        if 0x90 <= b <= 0x9F:
            return [self.value(depth + 1) for _ in range(b & 0x0F)]
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, depth)
        simple: dict[int, Any] = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b]
        sized = {0xC4: (">B", 1), 0xC5: (">H", 2), 0xC6: (">I", 4)}
        if b in sized:
            return self.take(self.u(*sized[b]))
        if b == 0xCA:
            return float(struct.unpack(">f", self.take(4))[0])
        if b == 0xCB:
            return float(struct.unpack(">d", self.take(8))[0])
        ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
        if b in ints:
            fmt = ints[b]
            return self.u(fmt, struct.calcsize(fmt))
        strs = {0xD9: (">B", 1), 0xDA: (">H", 2), 0xDB: (">I", 4)}
        if b in strs:
            return self.take(self.u(*strs[b])).decode("utf-8")
        if b in (0xDC, 0xDD):
            n = self.u(">H", 2) if b == 0xDC else self.u(">I", 4)
            if n > len(self.data) - self.pos:
                raise UnpackError(f"array of {n} announced with {len(self.data) - self.pos} bytes left")
            return [self.value(depth + 1) for _ in range(n)]
        if b in (0xDE, 0xDF):
            return self.map(self.u(">H", 2) if b == 0xDE else self.u(">I", 4), depth)
        fixext = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
        if b in fixext:
            t = struct.unpack(">b", self.take(1))[0]
            data = self.take(fixext[b])
            return Undefined if (t, data) == (0, b"\x00") else Ext(t, data)
        if b in (0xC7, 0xC8, 0xC9):
            n = self.u({0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[b], {0xC7: 1, 0xC8: 2, 0xC9: 4}[b])
            t = struct.unpack(">b", self.take(1))[0]
            return Ext(t, self.take(n))
        raise UnpackError(f"byte 0x{b:02x} at {self.pos - 1} starts no MessagePack value")

    def map(self, n: int, depth: int) -> dict:
        if 2 * n > len(self.data) - self.pos:
            raise UnpackError(f"map of {n} announced with {len(self.data) - self.pos} bytes left")
        out: dict = {}
        for _ in range(n):
            k = self.value(depth + 1)
            out[k if isinstance(k, (str, int, float, bool)) or k is None else repr(k)] = self.value(depth + 1)
        return out


def unpack(data: bytes, max_depth: int = 100) -> Any:
    """One value filling `data` exactly (UnpackError otherwise)."""
    r = _Reader(data, max_depth)
    v = r.value()
    if r.pos != len(data):
        raise UnpackError(f"{len(data) - r.pos} bytes after the value")
    return v
