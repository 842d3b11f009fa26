"""Mutation operators, one per protocol field or sequence rule, and the deterministic generator.

Input `i` of a run with seed `S` is a pure function of (S, i, the target's Engine.IO versions):
a seed program (a recorded session or a template filled from the vectors) and one to eight
operators drawn from a random generator seeded with both numbers. Each operator mutates one field
of one layer and leaves the framing around it to the renderer (program.py), or, for the sequence
operators, moves, repeats or inserts whole steps. An operator that finds nothing to work on in the
program returns False and another is drawn.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from .program import (
    CloseStep,
    Context,
    HttpStep,
    Program,
    RawStep,
    Record,
    WsStep,
    copy_program,
    copy_step,
    estimated_size,
    frame_payload,
    render,
)
from .seeds import Pools, polling_get, polling_post, template, ws_frames, ws_upgrade

# Bounds on what a generated program may hold (named so the README can cite them).
MAX_STEPS = 300
MAX_BYTES = 3_000_000
MAX_OPERATORS = 8
# The largest payload the shipped targets accept (FIXTURE.md's MAX_PAYLOAD default): sizes around it.
TARGET_MAX_PAYLOAD = 1_000_000


@dataclass
class Profile:
    """What the generator needs to know about a target: its Engine.IO versions and endpoint."""

    versions: tuple[int, ...] = (4,)
    path: str = "/socket.io/"


@dataclass
class Env:
    pools: Pools
    sessions: list[Program]
    profile: Profile


# ---------------------------------------------------------------------------- sites


@dataclass
class Site:
    """A text Engine.IO packet of the program: a record of a polling body or a text frame."""

    step: int
    record: int | None

    def get(self, p: Program) -> bytes:
        s = p.steps[self.step]
        if isinstance(s, WsStep):
            return s.payload
        assert isinstance(s, HttpStep) and s.records is not None and self.record is not None
        return s.records[self.record].data

    def set(self, p: Program, data: bytes) -> None:
        s = p.steps[self.step]
        if isinstance(s, WsStep):
            s.payload = data
        else:
            assert isinstance(s, HttpStep) and s.records is not None and self.record is not None
            s.records[self.record].data = data


def eio_sites(p: Program) -> list[Site]:
    out = []
    for i, s in enumerate(p.steps):
        if isinstance(s, WsStep) and s.opcode == 0x1:
            out.append(Site(i, None))
        elif isinstance(s, HttpStep) and s.records:
            out += [Site(i, j) for j, r in enumerate(s.records) if not r.binary]
    return out


def sio_sites(p: Program, types: bytes | None = None) -> list[Site]:
    out = []
    for site in eio_sites(p):
        d = site.get(p)
        if d[:1] == b"4" and len(d) >= 2 and (types is None or d[1:2] in types):
            out.append(site)
    return out


@dataclass
class SioFields:
    """A Socket.IO packet split into its fields without judging them; join() restores the bytes."""

    type: bytes
    attachments: bytes | None
    nsp: bytes | None
    comma: bool
    id: bytes
    data: bytes

    def join(self) -> bytes:
        out = self.type
        if self.attachments is not None:
            out += self.attachments + b"-"
        if self.nsp is not None:
            out += self.nsp + (b"," if self.comma else b"")
        return out + self.id + self.data


def split_sio(text: bytes) -> SioFields:
    i = 1
    att = None
    j = i
    while j < len(text) and text[j : j + 1].isdigit():
        j += 1
    if j > i and text[j : j + 1] == b"-":
        att, i = text[i:j], j + 1
    nsp, comma = None, False
    if text[i : i + 1] == b"/":
        k = text.find(b",", i)
        if k < 0:
            nsp, i = text[i:], len(text)
        else:
            nsp, comma, i = text[i:k], True, k + 1
    j = i
    while j < len(text) and text[j : j + 1].isdigit():
        j += 1
    return SioFields(text[:1], att, nsp, comma, text[i:j], text[j:])


def _sio_edit(rng: random.Random, p: Program, edit: Callable[[SioFields], bool], types: bytes | None = None) -> bool:
    sites = sio_sites(p, types)
    if not sites:
        return False
    site = rng.choice(sites)
    fields = split_sio(site.get(p)[1:])
    if not edit(fields):
        return False
    site.set(p, b"4" + fields.join())
    return True


# ---------------------------------------------------------------------------- value pools


def _deep(open_: bytes, close: bytes, n: int, inner: bytes = b"1") -> bytes:
    return open_ * n + inner + close * n


JSON_VALUES: list[bytes] = [
    b"",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-0",
    b"1",
    b"1.5",
    b"-1",
    b"1e309",
    b"-1e309",
    b"1e-400",
    b"9007199254740993",
    b"123456789012345678901234567890",
    b'"x"',
    b'""',
    b"{}",
    b"[]",
    b"[null]",
    b'[""]',
    b"[1]",
    b'{"a":1}',
    b'{"__proto__":{"polluted":1}}',
    b'{"constructor":{"prototype":{"x":1}}}',
    b'["a",',
    b"[",
    b"{",
    b'"\\ud800"',
    b'["\\udc00"]',
    b'["\xff"]',
    b'["\\u0000"]',
    b"[1,2,3]",
    _deep(b"[", b"]", 100),
    _deep(b"[", b"]", 1000),
    _deep(b"[", b"]", 20000),
    _deep(b'{"a":', b"}", 500),
    b"[" + b",".join([b"1"] * 10000) + b"]",
    b'["' + b"x" * 100_000 + b'"]',
    b'{"a":1,"a":2}',
    b" [1] ",
    b"[1]x",
    b"NaN",
    b"[Infinity]",
]
EVENT_NAMES: list[bytes] = [
    b"null",
    b"1",
    b"0",
    b"-1",
    b"1.5",
    b"{}",
    b"[]",
    b"true",
    b'""',
    b'"__proto__"',
    b'"constructor"',
    b'"toString"',
    b'"hasOwnProperty"',
    b'"connect"',
    b'"connect_error"',
    b'"disconnect"',
    b'"disconnecting"',
    b'"error"',
    b'"newListener"',
    b'"removeListener"',
    b'"message"',
    b'"message-with-ack"',
    b'"join"',
    b'"leave"',
    b'"to"',
    b'"broadcast"',
    b'"server-ack"',
    b'"disconnect-me"',
    b'"log"',
    b'"app-error"',
    b'"' + b"e" * 10_000 + b'"',
    b'{"_placeholder":true,"num":0}',
    b'"\\ud800"',
]
PLACEHOLDER_NUMS: list[bytes] = [
    b"0",
    b"1",
    b"2",
    b"-1",
    b"1.5",
    b"1e3",
    b"10",
    b"4294967296",
    b'"0"',
    b'"__proto__"',
    b'"toString"',
    b'"length"',
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"9007199254740993",
]
NAMESPACES: list[bytes | None] = [
    None,
    b"/",
    b"/custom",
    b"/auth",
    b"/dyn-1",
    b"/dyn-99999999999999999999",
    b"/nope",
    b"custom",
    b"//",
    b"/custom/",
    b"/Custom",
    b"/" + b"n" * 5000,
    b"/\xc3\xa9",
    b"/\xff",
    b"/%2e",
    b"/custom?x=1",
    b"/admin",
    b"/__proto__",
    b"/constructor",
    b"/ ",
]
ACK_IDS: list[bytes] = [
    b"",
    b"0",
    b"1",
    b"007",
    b"42",
    b"4294967295",
    b"4294967296",
    b"9007199254740991",
    b"9007199254740992",
    b"9007199254740993",
    b"99999999999999999999999999",
    b"1" * 400,
]
ATTACHMENT_COUNTS: list[bytes | None] = [
    None,
    b"",
    b"0",
    b"1",
    b"2",
    b"3",
    b"10",
    b"11",
    b"999999",
    b"01",
    b"4294967296",
    b"99999999999999999999",
]
AUTH_VALUES: list[bytes] = [
    b"null",
    b"[]",
    b'"token"',
    b"1",
    b"true",
    b'{"token":{}}',
    b'{"token":"ok"}',
    b'{"pid":"x","offset":"y"}',
    b'{"pid":null}',
    b'{"pid":{},"offset":[]}',
    b'{"__proto__":{"admin":true}}',
    _deep(b'{"a":', b"}", 500),
    b'{"withData":1}',
    b"{",
    b'{"a":"' + b"x" * 100_000 + b'"}',
]
EIO_PACKETS: list[bytes] = [
    b"",
    b"0",
    b"1",
    b"2",
    b"3",
    b"5",
    b"6",
    b"2probe",
    b"3probe",
    b"4",
    b"b",
    b"bAQID",
    b"b!!!",
    b"b====",
    b"7",
    b"9",
    b"x",
    b"\x00",
    b"40",
    b"41",
    b"1junk",
    b"2" + b"p" * 200,
    b"6x",
]
QUERY_EXTRAS: list[str] = [
    "&b64=1",
    "&b64=true",
    "&j=0",
    "&j=x",
    "&t=abc",
    "&EIO=3",
    "&EIO=4",
    "&transport=websocket",
    "&transport=polling",
    "&sid=",
    "&sid=SID1!",
    "&sid[]=x",
    "&%zz=1",
    "&&&",
    "&x=" + "y" * 8000,
    "&refuse=no",
    "&EIO",
    "#frag",
]
CLOSE_CODES: list[int] = [1000, 1001, 1002, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000, 0, 65535]


# ---------------------------------------------------------------------------- helpers


def _http_steps(p: Program, where: Callable[[HttpStep], bool] = lambda s: True) -> list[int]:
    return [i for i, s in enumerate(p.steps) if isinstance(s, HttpStep) and where(s)]


def _ws_steps(p: Program, data_only: bool = False, where: Callable[[WsStep], bool] = lambda s: True) -> list[int]:
    return [
        i for i, s in enumerate(p.steps) if isinstance(s, WsStep) and (not data_only or s.opcode in (1, 2)) and where(s)
    ]


def _ws_conns(p: Program) -> list[int]:
    return sorted({s.conn for s in p.steps if isinstance(s, WsStep)})


def _mask(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(4))


def _set_query(target: str, key: str, value: str | None) -> str:
    path, sep, query = target.partition("?")
    parts = [q for q in query.split("&") if q and q.split("=", 1)[0] != key] if sep else []
    if value is not None:
        parts.append(f"{key}={value}")
    return path + ("?" + "&".join(parts) if parts else "")


def _keep_ctx() -> Context:
    """A renderer context that leaves every placeholder in place (for steps turned into raw bytes)."""
    ctx = Context("HOST", 0)
    ctx.substitute = lambda data: data  # type: ignore[method-assign]
    return ctx


def _to_raw(p: Program, i: int) -> RawStep:
    s = p.steps[i]
    raw = s if isinstance(s, RawStep) else RawStep(s.conn, render(s, _keep_ctx()))
    p.steps[i] = raw
    return raw


def _havoc(rng: random.Random, data: bytes, rounds: int = 0) -> bytes:
    """Byte-level edits: flips, protocol bytes inserted, ranges deleted or repeated."""
    b = bytearray(data)
    for _ in range(rounds or rng.randint(1, 4)):
        k = rng.randrange(6)
        pos = rng.randrange(len(b) + 1)
        if k == 0 and b:
            b[min(pos, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif k == 1:
            b[pos:pos] = rng.choice(
                [
                    b"\r",
                    b"\n",
                    b"\r\n",
                    b"\x00",
                    b" ",
                    b":",
                    b",",
                    b"-",
                    b"/",
                    b"\x1e",
                    b'"',
                    b"[",
                    b"]",
                    b"{",
                    b"}",
                    b"\xff",
                    b"\xc0\x80",
                    b"\xed\xa0\x80",
                    b"%",
                ]
            )
        elif k == 2 and b:
            end = min(len(b), pos + rng.randint(1, 16))
            del b[pos:end]
        elif k == 3 and b:
            end = min(len(b), pos + rng.randint(1, 32))
            b[pos:pos] = b[pos:end] * rng.randint(1, 4)
        elif k == 4 and b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif k == 5:
            b[pos:pos] = str(rng.choice([0, 1, -1, 255, 256, 65535, 65536, 2**31, 2**53 + 1])).encode()
    return bytes(b)


# ---------------------------------------------------------------------------- HTTP request head


def op_http_method(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    s.method = rng.choice(
        ["GET", "POST", "PUT", "OPTIONS", "HEAD", "DELETE", "PATCH", "get", "CONNECT", "TRACE", "G\x00T", "POST " * 2]
    )
    return True


def _query_op(key: str, values: list[str | None]) -> Callable[[random.Random, Program, Env], bool]:
    def op(rng: random.Random, p: Program, env: Env) -> bool:
        idx = _http_steps(p)
        if not idx:
            return False
        s = p.steps[rng.choice(idx)]
        assert isinstance(s, HttpStep)
        s.target = _set_query(s.target, key, rng.choice(values))
        return True

    return op


op_http_eio = _query_op(
    "EIO", ["3", "4", "5", "0", "", "04", "4.0", "-1", "99999999999", "a", None, "4&EIO=3", "3&EIO=4"]
)
op_http_transport = _query_op(
    "transport",
    [
        "polling",
        "websocket",
        "webtransport",
        "flashsocket",
        "",
        "POLLING",
        None,
        "polling&transport=websocket",
        "websocket&transport=polling",
    ],
)
op_http_sid = _query_op(
    "sid",
    [
        "SID!",
        "SID1!",
        "SID2!",
        "",
        "unknownunknownunknow",
        "SID!x",
        "%00",
        None,
        "SID!&sid=SID1!",
        "x" * 2000,
        "../../etc",
    ],
)


def op_http_query(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    s.target += rng.choice(QUERY_EXTRAS)
    return True


def op_http_path(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    path, sep, query = s.target.partition("?")
    path = rng.choice(
        [
            "/socket.io",
            "/socket.io/x",
            "/SOCKET.IO/",
            "//socket.io/",
            "/socket.io/../socket.io/",
            "/engine.io/",
            "/",
            "*",
            "/socket.io/%2e%2e/",
            "/socket.io/?",
            "http://HOST!/socket.io/",
            "socket.io/",
            "/socket.io//",
        ]
    )
    s.target = path + sep + query
    return True


HEADER_VALUES: dict[str, list[str | None]] = {
    "Content-Type": [
        None,
        "application/octet-stream",
        "text/plain",
        "application/json",
        "",
        "multipart/form-data",
        "text/plain;charset=latin1",
        "application/x-www-form-urlencoded",
    ],
    "Upgrade": [None, "websocket", "WebSocket", "h2c", "", "websocket, h2c"],
    "Connection": [None, "Upgrade", "close", "keep-alive", "upgrade, keep-alive", "", "Upgrade, close"],
    "Sec-WebSocket-Version": [None, "13", "8", "", "14", "13, 8", "-1"],
    "Sec-WebSocket-Key": [None, "", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x", "=" * 24],
    "Sec-WebSocket-Extensions": [None, "permessage-deflate", "permessage-deflate; client_max_window_bits=8", "x"],
    "Transfer-Encoding": [None, "chunked", "gzip", "chunked, chunked", "identity"],
    "Expect": [None, "100-continue", "x"],
    "Cookie": [None, "io=SID!", "io=x; io=y", "=" * 100],
    "Origin": [None, "http://evil.example", "null", ""],
    "Host": [None, "", "HOST!", "x" * 300],
    "X-Forwarded-For": [None, "1.2.3.4", "x" * 100],
}


def op_http_header(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    name = rng.choice(sorted(HEADER_VALUES))
    value = rng.choice(HEADER_VALUES[name])
    kept = [(k, v) for k, v in s.headers if k.lower() != name.lower()]
    if rng.random() < 0.2:
        kept = s.headers + [(name, value or "")]  # a duplicate instead of a replacement
    elif value is not None:
        kept.append((name.lower() if rng.random() < 0.3 else name, value))
    s.headers = kept
    return True


def op_http_length(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    n = len(frame_payload(s.records, s.payload)) if s.records is not None else len(s.body)
    s.length = rng.choice(
        [
            "0",
            str(n + 1),
            str(max(0, n - 1)),
            "-1",
            "abc",
            "99999999999999999999",
            "1e3",
            " 5",
            "none",
            str(n) + ", " + str(n),
            "0x10",
            str(TARGET_MAX_PAYLOAD + 1),
        ]
    )
    return True


def op_http_version(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    s.version = rng.choice(["HTTP/1.0", "HTTP/2.0", "HTTP/1.1 ", "http/1.1", "HTTP/1.11", "", "HTTP/0.9", "HTTP/1"])
    return True


def op_http_bytes(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p) + [i for i, s in enumerate(p.steps) if isinstance(s, RawStep)]
    if not idx:
        return False
    raw = _to_raw(p, rng.choice(idx))
    if rng.random() < 0.3:
        raw.data = raw.data.replace(b"\r\n", b"\n", rng.randint(1, 4))
    else:
        raw.data = _havoc(rng, raw.data)
    return True


def op_http_chunked(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p, lambda s: s.method == "POST")
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    body = frame_payload(s.records, s.payload) if s.records is not None else s.body
    cut = rng.randint(0, len(body))
    pieces = [body[:cut], body[cut:]]
    sizes = [rng.choice([len(x), len(x) + 1, max(0, len(x) - 1)]) for x in pieces]
    size_text = [rng.choice([f"{n:x}", f"{n:X}", f"{n:x};ext=1", f" {n:x}", "zz", "-1"]) for n in sizes]
    out = b"".join(t.encode() + b"\r\n" + x + b"\r\n" for t, x in zip(size_text, pieces) if x) + b"0\r\n\r\n"
    s.records, s.body, s.length = None, out, "none"
    s.headers = [(k, v) for k, v in s.headers if k.lower() != "transfer-encoding"] + [("Transfer-Encoding", "chunked")]
    return True


def op_http_bloat(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    if rng.random() < 0.5:
        s.headers.append(("X-Big", "v" * rng.choice([8000, 16_385, 65_536, 200_000])))
    else:
        s.headers += [(f"X-H{i}", "1") for i in range(rng.choice([100, 1000, 5000]))]
    return True


# ---------------------------------------------------------------------------- WebSocket frames


def _ws_pick(rng: random.Random, p: Program, data_only: bool = False) -> WsStep | None:
    idx = _ws_steps(p, data_only)
    if not idx:
        return None
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, WsStep)
    return s


def op_ws_opcode(rng: random.Random, p: Program, env: Env) -> bool:
    s = _ws_pick(rng, p)
    if s is None:
        return False
    s.opcode = rng.choice([0x0, 0x1, 0x2, 0x3, 0x7, 0x8, 0x9, 0xA, 0xB, 0xF])
    return True


def op_ws_fragment(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _ws_steps(p, data_only=True)
    if not idx:
        return False
    i = rng.choice(idx)
    s = p.steps[i]
    assert isinstance(s, WsStep)
    mode = rng.randrange(4)
    if mode == 0:  # a valid split into 2-4 fragments, perhaps with a ping between them
        cuts = sorted(rng.randint(0, len(s.payload)) for _ in range(rng.randint(1, 3)))
        bounds = [0] + cuts + [len(s.payload)]
        frames = [
            WsStep(s.conn, s.payload[a:b], s.opcode if k == 0 else 0x0, k == len(bounds) - 2, 0, _mask(rng))
            for k, (a, b) in enumerate(zip(bounds, bounds[1:]))
        ]
        if rng.random() < 0.3 and len(frames) > 1:
            frames.insert(1, WsStep(s.conn, b"x", 0x9, True, 0, _mask(rng)))
        p.steps[i : i + 1] = frames
    elif mode == 1:
        s.fin = not s.fin
    elif mode == 2:
        p.steps.insert(i + 1, WsStep(s.conn, s.payload[:3], 0x0, rng.random() < 0.5, 0, _mask(rng)))
    else:
        p.steps.insert(i, WsStep(s.conn, b"4", s.opcode, False, 0, _mask(rng)))
    return True


def op_ws_rsv(rng: random.Random, p: Program, env: Env) -> bool:
    s = _ws_pick(rng, p)
    if s is None:
        return False
    s.rsv = rng.randint(1, 7)
    return True


def op_ws_mask(rng: random.Random, p: Program, env: Env) -> bool:
    s = _ws_pick(rng, p)
    if s is None:
        return False
    s.mask = None if rng.random() < 0.7 else b"\x00\x00\x00\x00"
    return True


def op_ws_length(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _ws_steps(p)
    if not idx:
        return False
    i = rng.choice(idx)
    s = p.steps[i]
    assert isinstance(s, WsStep)
    n = len(s.payload)
    if rng.random() < 0.3 and "!" not in s.payload.decode("latin-1"):
        # The right length in a longer encoding than needed (RFC 6455 5.2: minimal encoding required).
        key = s.mask or b""
        first = bytes([(0x80 if s.fin else 0) | (s.rsv & 7) << 4 | s.opcode])
        mbit = 0x80 if s.mask is not None else 0
        ext = (
            bytes([mbit | 126]) + n.to_bytes(2, "big")
            if n < 65536 and rng.random() < 0.5
            else bytes([mbit | 127]) + n.to_bytes(8, "big")
        )
        body = bytes(b ^ key[k % 4] for k, b in enumerate(s.payload)) if key else s.payload
        p.steps[i] = RawStep(s.conn, first + ext + key + body)
        return True
    s.declared = rng.choice(
        [n + 1, max(0, n - 1), 126, 65535, 65536, 2**32, 2**63 - 1, 2**63, 2**64 - 1, TARGET_MAX_PAYLOAD + 1]
    )
    return True


def op_ws_control(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _ws_steps(p)
    if not idx:
        return False
    i = rng.choice(idx)
    conn = p.steps[i].conn
    kind = rng.randrange(4)
    if kind == 0:
        payload = rng.choice(env.pools.close_payloads or [b""])
        step = WsStep(conn, payload, 0x8, True, 0, _mask(rng))
    elif kind == 1:
        code = rng.choice(CLOSE_CODES)
        step = WsStep(
            conn, code.to_bytes(2, "big") + rng.choice([b"", b"bye", b"\xff", b"r" * 124]), 0x8, True, 0, _mask(rng)
        )
    else:
        step = WsStep(
            conn,
            rng.choice([b"", b"ping", b"p" * 125, b"p" * 126, b"2", b"3probe"]),
            0x9 if kind == 2 else 0xA,
            True,
            0,
            _mask(rng),
        )
    p.steps.insert(i + rng.randint(0, 1), step)
    return True


def op_ws_utf8(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _ws_steps(p, where=lambda s: s.opcode == 0x1)
    if not idx or not env.pools.utf8_texts:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, WsStep)
    bad = rng.choice(env.pools.utf8_texts)
    s.payload = rng.choice([b"4" + bad, b'42["message","' + bad + b'"]', s.payload + bad, bad])
    return True


def op_ws_split(rng: random.Random, p: Program, env: Env) -> bool:
    """The bytes of one frame written in pieces (the target must reassemble them)."""
    idx = _ws_steps(p, where=lambda s: b"!" not in s.payload)
    if not idx:
        return False
    i = rng.choice(idx)
    data = render(p.steps[i], _keep_ctx())
    cuts = sorted({rng.randint(1, max(1, len(data) - 1)) for _ in range(rng.randint(1, 4))})
    bounds = [0] + cuts + [len(data)]
    p.steps[i : i + 1] = [RawStep(p.steps[i].conn, data[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a]
    return True


def op_ws_stream(rng: random.Random, p: Program, env: Env) -> bool:
    conns = _ws_conns(p)
    if not conns or not env.pools.client_frames:
        return False
    conn = rng.choice(conns)
    last = max(i for i, s in enumerate(p.steps) if s.conn == conn)
    p.steps.insert(rng.randint(last, len(p.steps)), RawStep(conn, rng.choice(env.pools.client_frames)))
    return True


# ---------------------------------------------------------------------------- Engine.IO


def op_eio_type(rng: random.Random, p: Program, env: Env) -> bool:
    sites = eio_sites(p)
    if not sites:
        return False
    site = rng.choice(sites)
    d = site.get(p)
    site.set(
        p,
        rng.choice([b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"a", b"b", b"\x00", b" ", b"-", b""])
        + d[1:],
    )
    return True


def op_eio_packet(rng: random.Random, p: Program, env: Env) -> bool:
    sites = eio_sites(p)
    if not sites:
        return False
    site = rng.choice(sites)
    pool = env.pools.eio_texts.get(p.eio, []) + EIO_PACKETS
    site.set(p, rng.choice(pool))
    return True


def _post_steps(p: Program) -> list[int]:
    return [i for i, s in enumerate(p.steps) if isinstance(s, HttpStep) and s.records is not None]


def op_eio_records(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _http_steps(p, lambda s: bool(s.records))
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep) and s.records is not None
    recs = s.records
    k = rng.randrange(6)
    j = rng.randrange(len(recs))
    if k == 0:
        recs.insert(j, Record(recs[j].data, recs[j].binary))
    elif k == 1:
        del recs[j]
    elif k == 2 and len(recs) > 1:
        recs[j], recs[-1] = recs[-1], recs[j]
    elif k == 3:
        recs.insert(j, Record(b""))
    elif k == 4:
        flood = rng.choice([b"2", b"3", b"6", b'42["message",1]', b"4x"])
        recs += [Record(flood) for _ in range(rng.choice([100, 1000, 20_000]))]
    else:
        recs.insert(j, Record(rng.choice([b"2probe", b"5", b"1", b"0", b"6"])))
    return True


def op_eio_framing(rng: random.Random, p: Program, env: Env) -> bool:
    """The payload framing itself: separators, v3 length prefixes, XHR2 markers."""
    idx = _post_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep) and s.records is not None
    body = frame_payload(s.records, s.payload)
    if s.payload == "v4":
        k = rng.randrange(4)
        if k == 0 and b"\x1e" in body:
            body = body.replace(b"\x1e", b"", 1)
        elif k == 1:
            body = body + b"\x1e"
        elif k == 2:
            body = b"\x1e" + body
        else:
            body = body.replace(b"\x1e", b"\x1e\x1e")
    else:
        colon = body.find(b":")
        prefix = rng.choice([b"0", b"1", b"99", b"-1", b"", b"a", b"99999999999999999999", b"00002", b"\x00\x05\xff"])
        body = prefix + body[colon:] if colon >= 0 else prefix + body
    s.records, s.body = None, body
    return True


def op_eio_body(rng: random.Random, p: Program, env: Env) -> bool:
    idx = _post_steps(p) or _http_steps(p, lambda s: s.method == "POST")
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep)
    kind = rng.choice(["v4", "v3", "v3-binary"])
    pool = env.pools.eio_bodies.get(kind) or [b""]
    s.records, s.body = None, rng.choice(pool)
    if kind == "v3-binary":
        s.headers = [(k, v) for k, v in s.headers if k.lower() != "content-type"] + [
            ("Content-Type", "application/octet-stream")
        ]
    return True


def op_eio_binary(rng: random.Random, p: Program, env: Env) -> bool:
    """Binary messages as each transport carries them, right and wrong."""
    choice = rng.randrange(3)
    if choice == 0:
        idx = _post_steps(p)
        if not idx:
            return False
        s = p.steps[rng.choice(idx)]
        assert isinstance(s, HttpStep) and s.records is not None
        s.records.append(
            Record(
                rng.choice(
                    [b"b", b"b!!!!", b"bAQID=", b"bAQ", b"b" + base64.b64encode(b"\x00" * 100), b"b4AQID", b"bA==A=="]
                )
            )
        )
        return True
    idx = _ws_steps(p, where=lambda s: s.opcode == 0x2)
    if choice == 1 and idx:
        s = p.steps[rng.choice(idx)]
        assert isinstance(s, WsStep)
        s.payload = rng.choice([b"", b"\x04", b"\x05", b"\x04\x01", b"4", b"\xff" * 10]) + s.payload[1:]
        return True
    conns = _ws_conns(p)
    if not conns:
        return False
    conn = rng.choice(conns)
    p.steps.append(WsStep(conn, rng.choice([b"bAQID", b"b", b"b4AQID", b"b!!"]), 0x1, True, 0, _mask(rng)))
    return True


def op_eio_size(rng: random.Random, p: Program, env: Env) -> bool:
    """A message just under, at and just over the target's maximum payload."""
    sites = eio_sites(p)
    if not sites:
        return False
    site = rng.choice(sites)
    n = TARGET_MAX_PAYLOAD + rng.choice([-2, -1, 0, 1, 2, 1000])
    site.set(p, b"4" + b"x" * (n - 1) if rng.random() < 0.5 else b'42["message","' + b"y" * (n - 16) + b'"]')
    return True


# ---------------------------------------------------------------------------- Socket.IO


def op_sio_type(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        f.type = rng.choice([b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"a", b"-", b"/", b""])
        return True

    return _sio_edit(rng, p, edit)


def op_sio_nsp(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        f.nsp = rng.choice(NAMESPACES)
        f.comma = f.nsp is not None and rng.random() < 0.85
        return True

    return _sio_edit(rng, p, edit)


def op_sio_ackid(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        f.id = rng.choice(ACK_IDS)
        if rng.random() < 0.2:
            f.data = rng.choice([b"", b"[]", b"-1", b".5", b"e3"]) + f.data
        return True

    return _sio_edit(rng, p, edit)


def op_sio_attachments(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        f.attachments = rng.choice(ATTACHMENT_COUNTS)
        return True

    return _sio_edit(rng, p, edit)


def op_sio_json(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        pool = JSON_VALUES + env.pools.json_texts
        f.data = rng.choice(pool)
        return True

    return _sio_edit(rng, p, edit)


def _array_items(data: bytes) -> list | None:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def _dump_items(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def op_sio_event(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        items = _array_items(f.data)
        if items is None:
            return False
        rest = [json.dumps(x, separators=(",", ":")).encode() for x in items[1:]]
        f.data = _dump_items([rng.choice(EVENT_NAMES)] + rest)
        return True

    return _sio_edit(rng, p, edit, b"2356")


def op_sio_args(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        items = _array_items(f.data)
        if items is None:
            return False
        enc = [json.dumps(x, separators=(",", ":")).encode() for x in items]
        arg = rng.choice(JSON_VALUES[1:] + [b'{"_placeholder":true,"num":0}'])
        if enc and rng.random() < 0.5:
            enc[rng.randrange(len(enc))] = arg
        else:
            enc.insert(rng.randint(min(1, len(enc)), len(enc)), arg)
        f.data = _dump_items(enc)
        return True

    return _sio_edit(rng, p, edit, b"23456")


def op_sio_placeholder(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        items = _array_items(f.data)
        if items is None:
            return False
        enc = [json.dumps(x, separators=(",", ":")).encode() for x in items]
        flag = rng.choice([b"true", b"true", b"false", b'"true"', b"1", b"null"])
        num = rng.choice(PLACEHOLDER_NUMS)
        ph = rng.choice(
            [
                b'{"_placeholder":' + flag + b',"num":' + num + b"}",
                b'{"_placeholder":true}',
                b'{"num":0}',
                b'[{"_placeholder":true,"num":' + num + b"}]",
                b'{"a":{"_placeholder":true,"num":' + num + b"}}",
            ]
        )
        enc.insert(rng.randint(min(1, len(enc)), len(enc)), ph)
        f.data = _dump_items(enc)
        if rng.random() < 0.5 and f.attachments is None:
            f.type = rng.choice([b"5", b"6"])
            f.attachments = rng.choice([b"0", b"1", b"2"])
        return True

    return _sio_edit(rng, p, edit, b"23456")


def op_sio_auth(rng: random.Random, p: Program, env: Env) -> bool:
    def edit(f: SioFields) -> bool:
        f.data = rng.choice(AUTH_VALUES)
        return True

    return _sio_edit(rng, p, edit, b"0")


def _binary_groups(p: Program) -> list[tuple[int, int | None]]:
    """Binary messages' headers: (step, record) of each text packet `45…`/`46…`."""
    out = []
    for site in sio_sites(p, b"56"):
        out.append((site.step, site.record))
    return out


def op_sio_attach_order(rng: random.Random, p: Program, env: Env) -> bool:
    groups = _binary_groups(p)
    if not groups:
        return False
    step, rec = rng.choice(groups)
    s = p.steps[step]
    k = rng.randrange(4)
    if isinstance(s, HttpStep) and s.records is not None and rec is not None:
        bins = [j for j in range(rec + 1, len(s.records)) if s.records[j].binary]
        if k == 0 and len(bins) > 1:
            a, b = bins[0], bins[-1]
            s.records[a], s.records[b] = s.records[b], s.records[a]
        elif k == 1 and bins:
            del s.records[bins[0]]
        elif k == 2:
            s.records.insert(rec + 1, Record(b"\x09" * rng.choice([1, 100]), True))
        else:
            s.records.insert(rec, Record(b"\x07", True))
        return True
    assert isinstance(s, WsStep)
    conn = s.conn
    after = [j for j in _ws_steps(p, where=lambda w: w.conn == conn and w.opcode == 0x2) if j > step]
    if k == 0 and len(after) > 1:
        a, b = after[0], after[1]
        p.steps[a], p.steps[b] = p.steps[b], p.steps[a]
    elif k == 1 and after:
        del p.steps[after[0]]
    elif k == 2:
        p.steps.insert(step + 1, WsStep(s.conn, b"\x09" * rng.choice([1, 100]), 0x2, True, 0, _mask(rng)))
    else:
        p.steps.insert(step, WsStep(s.conn, b"\x07", 0x2, True, 0, _mask(rng)))
    return True


# ---------------------------------------------------------------------------- sequences


def op_seq_drop(rng: random.Random, p: Program, env: Env) -> bool:
    if len(p.steps) < 2:
        return False
    del p.steps[rng.randrange(1, len(p.steps))]
    return True


def op_seq_duplicate(rng: random.Random, p: Program, env: Env) -> bool:
    if not p.steps:
        return False
    i = rng.randrange(len(p.steps))
    p.steps.insert(rng.choice([i + 1, len(p.steps)]), copy_step(p.steps[i]))
    return True


def op_seq_swap(rng: random.Random, p: Program, env: Env) -> bool:
    if len(p.steps) < 3:
        return False
    i = rng.randrange(1, len(p.steps) - 1)
    p.steps[i], p.steps[i + 1] = p.steps[i + 1], p.steps[i]
    return True


def op_seq_repeat(rng: random.Random, p: Program, env: Env) -> bool:
    """One message many times: floods, ack id reuse, repeated CONNECTs."""
    idx = [i for i, s in enumerate(p.steps) if isinstance(s, (WsStep, HttpStep)) and i > 0]
    if not idx:
        return False
    i = rng.choice(idx)
    n = min(rng.choice([5, 20, 100, 250]), max(1, MAX_BYTES // max(estimated_size(p.steps[i]), 1) - 1))
    copies = [copy_step(p.steps[i]) for _ in range(n)]
    p.steps[i + 1 : i + 1] = copies
    return True


def op_seq_splice(rng: random.Random, p: Program, env: Env) -> bool:
    other = (
        template(rng, env.pools, p.eio, p.path)
        if rng.random() < 0.6 or not env.sessions
        else copy_program(rng.choice(env.sessions))
    )
    if not other.steps:
        return False
    shift = max((s.conn for s in p.steps), default=0) if rng.random() < 0.5 else 0
    a = rng.randrange(len(other.steps))
    b = rng.randint(a + 1, min(len(other.steps), a + 8))
    chunk = other.steps[a:b]
    for s in chunk:
        s.conn += shift
    at = rng.randint(1, len(p.steps)) if p.steps else 0
    p.steps[at:at] = chunk
    return True


def op_seq_before_connect(rng: random.Random, p: Program, env: Env) -> bool:
    """Socket.IO traffic before (or without) the namespace CONNECT it needs."""
    connects = sio_sites(p, b"0")
    if not connects:
        return False
    site = rng.choice(connects)
    later = [x for x in sio_sites(p, b"23456") if x.step > site.step]
    if later and rng.random() < 0.6:
        ev = rng.choice(later)
        s_conn, s_ev = p.steps[site.step], p.steps[ev.step]
        if isinstance(s_conn, WsStep) and isinstance(s_ev, WsStep) and s_conn.conn == s_ev.conn:
            moved = p.steps.pop(ev.step)
            p.steps.insert(site.step, moved)
            return True
    s = p.steps[site.step]
    if isinstance(s, HttpStep) and s.records is not None and site.record is not None:
        del s.records[site.record]
    else:
        del p.steps[site.step]
    return True


def op_seq_attachment_alone(rng: random.Random, p: Program, env: Env) -> bool:
    """Binary attachments with no BINARY_EVENT / BINARY_ACK header waiting for them."""
    conns = _ws_conns(p)
    if conns and rng.random() < 0.6:
        conn = rng.choice(conns)
        first = min(i for i, s in enumerate(p.steps) if s.conn == conn)
        at = rng.randint(first + 1, len(p.steps))
        data = rng.choice([b"\x01\x02\x03", b"", b"\x00" * 1000])
        p.steps.insert(at, WsStep(conn, data if p.eio == 4 else b"\x04" + data, 0x2, True, 0, _mask(rng)))
        return True
    idx = _post_steps(p)
    if not idx:
        return False
    s = p.steps[rng.choice(idx)]
    assert isinstance(s, HttpStep) and s.records is not None
    s.records.insert(rng.randint(0, len(s.records)), Record(b"\x01\x02\x03", True))
    return True


def op_seq_upgrade(rng: random.Random, p: Program, env: Env) -> bool:
    """Upgrade probes at the wrong time: on a WebSocket-only session, before the handshake is
    answered, twice, `5` without a probe, a probe over polling, an upgrade of an upgraded session."""
    k = rng.randrange(5)
    conns = _ws_conns(p)
    if k == 0 and conns:
        conn = rng.choice(conns)
        at = rng.randint(min(i for i, s in enumerate(p.steps) if s.conn == conn) + 1, len(p.steps))
        p.steps.insert(at, WsStep(conn, rng.choice([b"2probe", b"5", b"3probe", b"2probe"]), 0x1, True, 0, _mask(rng)))
        return True
    next_conn = max((s.conn for s in p.steps), default=0) + 1
    if k == 1:
        at = rng.randint(0, min(1, len(p.steps)))
        frames = ws_frames(next_conn, [Record(b"2probe"), Record(b"5")][: rng.randint(0, 2)], p.eio, rng)
        p.steps[at:at] = [ws_upgrade(next_conn, p.path, p.eio, True), *frames]
        return True
    if k == 2:
        idx = _post_steps(p)
        if not idx:
            return False
        s = p.steps[rng.choice(idx)]
        assert isinstance(s, HttpStep) and s.records is not None
        s.records.insert(0, Record(rng.choice([b"2probe", b"5", b"3probe"])))
        return True
    if k == 3:
        p.steps.append(ws_upgrade(next_conn, p.path, p.eio, True))
        p.steps += ws_frames(next_conn, [Record(b"2probe"), Record(b"5")], p.eio, rng)
        p.steps.append(ws_upgrade(next_conn + 1, p.path, p.eio, True))
        p.steps += ws_frames(next_conn + 1, [Record(b"2probe")], p.eio, rng)
        return True
    p.steps.append(polling_get(next_conn, p.path, p.eio, True))
    p.steps.append(polling_post(next_conn + 1, p.path, p.eio, [Record(b"5")]))
    return True


def op_seq_close(rng: random.Random, p: Program, env: Env) -> bool:
    """Traffic after the session is closed: Engine.IO close `1`, a TCP half-close or reset."""
    if not p.steps:
        return False
    i = rng.randrange(len(p.steps))
    conn = p.steps[i].conn
    k = rng.randrange(3)
    if k == 0:
        ws = [j for j in _ws_steps(p) if p.steps[j].conn == conn]
        if ws:
            p.steps.insert(i + 1, WsStep(conn, b"1", 0x1, True, 0, _mask(rng)))
        else:
            p.steps.insert(i + 1, polling_post(max(s.conn for s in p.steps) + 1, p.path, p.eio, [Record(b"1")]))
    else:
        p.steps.insert(i + 1, CloseStep(conn, "fin" if k == 1 else "reset"))
    # and something after it on a fresh connection with the same session id
    p.steps.append(polling_get(max(s.conn for s in p.steps) + 1, p.path, p.eio, True))
    return True


def op_seq_concurrent_get(rng: random.Random, p: Program, env: Env) -> bool:
    gets = _http_steps(p, lambda s: s.method == "GET" and "sid=" in s.target and "transport=polling" in s.target)
    if not gets:
        return False
    i = rng.choice(gets)
    next_conn = max(s.conn for s in p.steps) + 1
    p.steps.insert(i + 1, polling_get(next_conn, p.path, p.eio, True))
    return True


def op_seq_sid(rng: random.Random, p: Program, env: Env) -> bool:
    """Another session's id, or a second handshake and then the first session's id."""
    idx = _http_steps(p, lambda s: "SID" in s.target)
    if not idx:
        return False
    if rng.random() < 0.5:
        s = p.steps[rng.choice(idx)]
        assert isinstance(s, HttpStep)
        s.target = s.target.replace("SID!", rng.choice(["SID1!", "SID2!", "SID3!"]))
        return True
    next_conn = max(s.conn for s in p.steps) + 1
    p.steps.insert(rng.randint(1, len(p.steps)), polling_get(next_conn, p.path, p.eio, False))
    return True


def op_seq_new_conn(rng: random.Random, p: Program, env: Env) -> bool:
    if len(p.steps) < 2:
        return False
    i = rng.randrange(1, len(p.steps))
    p.steps[i].conn = max(s.conn for s in p.steps) + 1
    return True


def op_bytes_havoc(rng: random.Random, p: Program, env: Env) -> bool:
    """Byte edits inside one payload, framing kept by the renderer."""
    sites = eio_sites(p)
    if not sites:
        return False
    site = rng.choice(sites)
    site.set(p, _havoc(rng, site.get(p)))
    return True


@dataclass(frozen=True)
class Operator:
    name: str
    fn: Callable[[random.Random, Program, Env], bool]
    doc: str


OPERATORS: list[Operator] = [
    Operator("http.method", op_http_method, "request method"),
    Operator("http.eio", op_http_eio, "EIO query value (absent, repeated, other versions, garbage)"),
    Operator("http.transport", op_http_transport, "transport query value"),
    Operator("http.sid", op_http_sid, "sid query value (unknown, other session, repeated)"),
    Operator("http.query", op_http_query, "extra query keys (b64, j, t, long values, bad escapes)"),
    Operator("http.path", op_http_path, "request path"),
    Operator("http.header", op_http_header, "one header dropped, duplicated or set to an odd value"),
    Operator("http.length", op_http_length, "Content-Length wrong, negative, huge, repeated or absent"),
    Operator("http.version", op_http_version, "HTTP version"),
    Operator("http.bytes", op_http_bytes, "byte edits of the whole request (bare LF, NUL, cut lines)"),
    Operator("http.chunked", op_http_chunked, "POST body chunked, chunk sizes right and wrong"),
    Operator("http.bloat", op_http_bloat, "a huge header or thousands of headers"),
    Operator("ws.opcode", op_ws_opcode, "frame opcode (reserved, control, continuation)"),
    Operator("ws.fragment", op_ws_fragment, "fragmentation right and wrong, a ping between fragments"),
    Operator("ws.rsv", op_ws_rsv, "reserved bits without an extension"),
    Operator("ws.mask", op_ws_mask, "unmasked frame or all-zero mask"),
    Operator("ws.length", op_ws_length, "declared length wrong, huge, or not minimally encoded"),
    Operator("ws.control", op_ws_control, "close, ping or pong frames with odd codes and sizes"),
    Operator("ws.utf8", op_ws_utf8, "invalid UTF-8 in a text frame (from the utf8 vectors)"),
    Operator("ws.split", op_ws_split, "one frame written in several pieces"),
    Operator("ws.stream", op_ws_stream, "client frame streams of the ws vectors"),
    Operator("eio.type", op_eio_type, "Engine.IO packet type byte"),
    Operator("eio.packet", op_eio_packet, "whole Engine.IO packet from the eio vectors and a list"),
    Operator("eio.records", op_eio_records, "records of a polling body repeated, dropped, emptied, flooded"),
    Operator("eio.framing", op_eio_framing, "record separators, v3 length prefixes"),
    Operator("eio.body", op_eio_body, "a polling body from the eio-payload vectors (v4, v3, XHR2)"),
    Operator("eio.binary", op_eio_binary, "binary messages in the wrong form for the transport"),
    Operator("eio.size", op_eio_size, "a message just under, at and over maxPayload"),
    Operator("sio.type", op_sio_type, "Socket.IO packet type"),
    Operator("sio.nsp", op_sio_nsp, "namespace (unknown, no slash, long, non-ASCII, no comma)"),
    Operator("sio.ackid", op_sio_ackid, "ack id (huge, past 2^53, leading zeros)"),
    Operator("sio.attachments", op_sio_attachments, "attachment count"),
    Operator("sio.json", op_sio_json, "whole JSON payload (null, scalars, deep nesting, invalid)"),
    Operator("sio.event", op_sio_event, "event name (not a string, reserved names)"),
    Operator("sio.args", op_sio_args, "an argument replaced or inserted"),
    Operator("sio.placeholder", op_sio_placeholder, "binary placeholders with odd num and flags"),
    Operator("sio.auth", op_sio_auth, "CONNECT payload (null, arrays, recovery fields, deep)"),
    Operator("sio.attach-order", op_sio_attach_order, "attachments reordered, missing, extra, early"),
    Operator("seq.drop", op_seq_drop, "a step removed"),
    Operator("seq.duplicate", op_seq_duplicate, "a step repeated once"),
    Operator("seq.swap", op_seq_swap, "two neighbouring steps swapped"),
    Operator("seq.repeat", op_seq_repeat, "a step repeated 5 to 250 times"),
    Operator("seq.splice", op_seq_splice, "steps of another seed inserted"),
    Operator("seq.before-connect", op_seq_before_connect, "data before or without the namespace CONNECT"),
    Operator("seq.attachment-alone", op_seq_attachment_alone, "binary attachments without a header"),
    Operator("seq.upgrade", op_seq_upgrade, "upgrade probes at the wrong time"),
    Operator("seq.close", op_seq_close, "traffic after a close packet, half-close or reset"),
    Operator("seq.concurrent-get", op_seq_concurrent_get, "two long-polling GETs at once"),
    Operator("seq.sid", op_seq_sid, "another session's id, a second handshake"),
    Operator("seq.new-conn", op_seq_new_conn, "a step moved to a new TCP connection"),
    Operator("bytes.havoc", op_bytes_havoc, "byte edits inside one Engine.IO packet"),
]
OPERATOR_NAMES = [op.name for op in OPERATORS]


# ---------------------------------------------------------------------------- generation


def input_seed(seed: int, index: int) -> int:
    digest = hashlib.sha256(f"wirefuzz:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def program_size(p: Program) -> int:
    return sum(estimated_size(s) for s in p.steps)


def generate(seed: int, index: int, env: Env) -> tuple[Program, list[str]]:
    """Input `index` of the run with `seed`: a seed program and the operators applied to it."""
    rng = random.Random(input_seed(seed, index))
    versions = env.profile.versions
    eio = rng.choice(versions)
    if eio == 4 and env.sessions and rng.random() < 0.3:
        prog = copy_program(rng.choice(env.sessions))
        prog.path = env.profile.path
    else:
        prog = template(rng, env.pools, eio, env.profile.path)
    wanted = rng.choice([1, 1, 1, 2, 2, 3, 4, 6, MAX_OPERATORS])
    applied: list[str] = []
    for _ in range(4 * wanted + 16):  # some operators find nothing to work on in a given program
        if len(applied) >= wanted:
            break
        op = rng.choice(OPERATORS)
        if op.fn(rng, prog, env):
            applied.append(op.name)
    del prog.steps[MAX_STEPS:]
    while len(prog.steps) > 1 and program_size(prog) > MAX_BYTES:
        prog.steps.pop()
    return prog, applied
