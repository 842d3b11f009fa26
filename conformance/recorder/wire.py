"""The recorder's view of the wire: the harness's sans-I/O module (harness/wire.py) under the names the
recorder's modules use. Splits one direction of a TCP stream into HTTP/1.1 messages, then, once a
connection has switched protocols, WebSocket frames.
"""

from __future__ import annotations

from harness.wire import (
    MAX_HEAD_BYTES,
    HttpHead,
    Splitter,
    WireError,
    decode_frame,
    encode_frame,
    find_head,
    frame_length,
)
from harness.wire import StreamMessage as Message

__all__ = [
    "MAX_HEAD_BYTES",
    "HttpHead",
    "Message",
    "Splitter",
    "WireError",
    "parse_head",
    "ws_frame",
    "ws_frame_length",
    "ws_unmask",
]

parse_head = find_head
ws_frame_length = frame_length


def ws_unmask(frame: bytes) -> tuple[int, bool, bytes, bytes | None, int]:
    """(opcode, fin, unmasked payload, mask key or None, payload offset) of one complete frame."""
    f = decode_frame(frame)
    return f.opcode, f.fin, f.payload, f.mask_key, len(frame) - len(f.payload)


def ws_frame(opcode: int, payload: bytes, mask: bytes | None, fin: bool = True) -> bytes:
    """One frame, masked with `mask` when given (recordings use fixed keys to stay deterministic)."""
    return encode_frame(opcode, payload, fin=fin, masked=mask is not None, mask_key=mask)
