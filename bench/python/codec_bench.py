#!/usr/bin/env python3
"""Codec throughput of python-socketio's packet classes on the shared input file.

Decode turns wire bytes into python-socketio's objects the way its server does: Engine.IO
packet (or polling payload) first, then the Socket.IO packet, then the binary attachments.
WebSocket frames go through wsproto's frame parser (python-engineio's own WebSocket
dependency). Encode goes the other way, from decoded objects back to wire form.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import engineio
import socketio
import wsproto
from engineio import packet as eio_packet
from engineio import payload as eio_payload
from socketio import packet as sio_packet
from wsproto.frame_protocol import FrameProtocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import BINARY, Record, Timing, by_category, frame_payload, measure, read_inputs  # noqa: E402

# The benchmark's polling bodies hold 50 packets; python-engineio refuses more than 16 per
# payload by default (a policy limit, not a protocol rule), so the limit is raised here.
eio_payload.Payload.max_decode_packets = 1000


class Decoded:
    """One decoded Socket.IO packet: the object the server hands to its event dispatch."""

    __slots__ = ("pkt",)

    def __init__(self, pkt: sio_packet.Packet) -> None:
        self.pkt = pkt


def decode_message(text: str, attachments: list[bytes]) -> sio_packet.Packet:
    eio = eio_packet.Packet(encoded_packet=text)
    pkt = sio_packet.Packet(encoded_packet=eio.data)
    for blob in attachments:
        pkt.add_attachment(eio_packet.Packet(encoded_packet=blob).data)
    return pkt


def decode_polling(body: bytes) -> list[sio_packet.Packet]:
    out: list[sio_packet.Packet] = []
    pending: sio_packet.Packet | None = None
    for eio in eio_payload.Payload(encoded_payload=body.decode()).packets:
        if eio.binary and pending is not None:
            if pending.add_attachment(eio.data):
                out.append(pending)
                pending = None
            continue
        pkt = sio_packet.Packet(encoded_packet=eio.data)
        if pkt.attachment_count:
            pending = pkt
        else:
            out.append(pkt)
    return out


# One frame parser per connection, as a server keeps it; the benchmark is one connection.
SERVER_WS = FrameProtocol(client=False, extensions=[])


def decode_ws(frame: bytes) -> sio_packet.Packet:
    SERVER_WS.receive_bytes(frame)
    got = list(SERVER_WS.received_frames())
    return decode_message(str(got[0].payload), [])


def decode_record(rec: Record) -> list[sio_packet.Packet]:
    if rec.category == "polling_payload":
        return decode_polling(rec.parts[0][1])
    if rec.category == "ws_frame":
        return [decode_ws(rec.parts[0][1])]
    text = rec.parts[0][1].decode()
    return [decode_message(text, [blob for kind, blob in rec.parts[1:] if kind == BINARY])]


def encode_packet_parts(p: sio_packet.Packet) -> list[str | bytes]:
    """Socket.IO packet to Engine.IO messages (text first, then attachments)."""
    base = {sio_packet.BINARY_EVENT: sio_packet.EVENT, sio_packet.BINARY_ACK: sio_packet.ACK}
    fresh = sio_packet.Packet(base.get(p.packet_type, p.packet_type), data=p.data, namespace=p.namespace, id=p.id)
    enc = fresh.encode()
    parts = enc if isinstance(enc, list) else [enc]
    return [eio_packet.Packet(eio_packet.MESSAGE, data=part).encode() for part in parts]


def encode_packet(p: sio_packet.Packet) -> list[bytes]:
    """Socket.IO packet to Engine.IO wire messages. Every encode ends at wire bytes, as the C
    encoder's does: a text message is a str until it is written as UTF-8 (decode starts from the
    bytes in the same way); binary messages are bytes already and are handed on as they are."""
    return [part.encode() if isinstance(part, str) else part for part in encode_packet_parts(p)]


def encode_polling(pkts: list[sio_packet.Packet]) -> bytes:
    eio: list[eio_packet.Packet] = []
    base = {sio_packet.BINARY_EVENT: sio_packet.EVENT, sio_packet.BINARY_ACK: sio_packet.ACK}
    for p in pkts:
        enc = sio_packet.Packet(
            base.get(p.packet_type, p.packet_type), data=p.data, namespace=p.namespace, id=p.id
        ).encode()
        for part in enc if isinstance(enc, list) else [enc]:
            eio.append(eio_packet.Packet(eio_packet.MESSAGE, data=part))
    return eio_payload.Payload(packets=eio).encode().encode()


def encode_ws(p: sio_packet.Packet) -> bytes:
    text = encode_packet_parts(p)[0]
    assert isinstance(text, str)
    return bytes(SERVER_WS.send_data(text, fin=True))


def encoder_for(category: str) -> Callable[[list[sio_packet.Packet]], object]:
    if category == "polling_payload":
        return encode_polling
    if category == "ws_frame":
        return lambda pkts: encode_ws(pkts[0])
    return lambda pkts: encode_packet(pkts[0])


def as_bytes(x: object) -> bytes:
    if isinstance(x, str):
        return x.encode()
    if isinstance(x, (bytes, bytearray)):
        return bytes(x)
    raise TypeError(f"unexpected encoder output {type(x).__name__}")


def roundtrip_identical(rec: Record, encoded: object) -> bool:
    """True when re-encoding the decoded record gives back the input bytes (for frames: the
    same payload, since clients mask and servers do not)."""
    if rec.category == "ws_frame":
        return frame_payload(as_bytes(encoded)) == frame_payload(rec.parts[0][1])
    if isinstance(encoded, list):
        got = b"".join(as_bytes(x) for x in encoded)
    else:
        got = as_bytes(encoded)
    return got == b"".join(blob for _, blob in rec.parts)


def bench_category(records: list[Record], timing: Timing) -> dict[str, object]:
    packets = sum(r.packets for r in records)
    nbytes = sum(r.wire_bytes for r in records)
    decoded = [decode_record(r) for r in records]
    got = sum(len(d) for d in decoded)
    if got != packets:
        raise SystemExit(f"{records[0].category}: decoded {got} packets, expected {packets}")

    def decode_pass() -> None:
        for rec in records:
            decode_record(rec)

    encode = encoder_for(records[0].category)
    identical = sum(roundtrip_identical(r, encode(d)) for r, d in zip(records, decoded))

    def encode_pass() -> None:
        for pkts in decoded:
            encode(pkts)

    return {
        "packets": packets,
        "bytes": nbytes,
        "records": len(records),
        "roundtrip_identical": identical,
        "decode": measure(decode_pass, packets, nbytes, timing),
        "encode": measure(encode_pass, packets, nbytes, timing),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("inputs", type=Path)
    ap.add_argument("--warmup", type=float, default=0.2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rep-time", type=float, default=0.2)
    ap.add_argument("--only", help="run one category")
    args = ap.parse_args()
    timing = Timing(args.warmup, args.reps, args.rep_time)
    results = {}
    for cat, records in by_category(read_inputs(args.inputs)).items():
        if records and (args.only is None or args.only == cat):
            results[cat] = bench_category(records, timing)
    json.dump(
        {
            "impl": "python-socketio",
            "versions": {
                "python-socketio": version_of(socketio),
                "python-engineio": version_of(engineio),
                "wsproto": version_of(wsproto),
                "python": sys.version.split()[0],
            },
            "categories": results,
        },
        sys.stdout,
    )
    print()


def version_of(module: object) -> str:
    from importlib.metadata import version

    name = {"socketio": "python-socketio", "engineio": "python-engineio"}.get(
        getattr(module, "__name__", ""), getattr(module, "__name__", "")
    )
    return version(name)


if __name__ == "__main__":
    main()
