"""Reader for the benchmark input file written by bench/gen_inputs.py, and the timing loop that
every Python benchmark uses (the same protocol as bench/codec_bench.c and bench/node/)."""

from __future__ import annotations

import statistics
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CATEGORIES = [
    "small_event",
    "ack_event",
    "namespaced_event",
    "binary_event",
    "large_payload",
    "polling_payload",
    "ws_frame",
    "deep_binary",
]
TEXT, BINARY = 0, 1


@dataclass
class Record:
    category: str
    packets: int
    parts: list[tuple[int, bytes]] = field(default_factory=list)

    @property
    def wire_bytes(self) -> int:
        return sum(len(blob) for _, blob in self.parts)


def read_inputs(path: Path) -> list[Record]:
    data = path.read_bytes()
    if not data.startswith(b"SIOBENCH1\n"):
        raise ValueError(f"{path}: not a benchmark input file")
    (count,) = struct.unpack_from("<I", data, 10)
    off = 14
    out: list[Record] = []
    for _ in range(count):
        cat, nparts, packets = struct.unpack_from("<BBI", data, off)
        off += 6
        rec = Record(CATEGORIES[cat], packets)
        for _ in range(nparts):
            kind, length = struct.unpack_from("<BI", data, off)
            off += 5
            rec.parts.append((kind, data[off : off + length]))
            off += length
        out.append(rec)
    return out


def by_category(records: list[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {c: [] for c in CATEGORIES}
    for rec in records:
        groups[rec.category].append(rec)
    return groups


def frame_payload(frame: bytes) -> bytes:
    """Payload of one whole WebSocket frame, unmasked when masked (RFC 6455 §5.2)."""
    length, off = frame[1] & 0x7F, 2
    if length == 126:
        length, off = struct.unpack_from(">H", frame, 2)[0], 4
    elif length == 127:
        length, off = struct.unpack_from(">Q", frame, 2)[0], 10
    if not frame[1] & 0x80:
        return bytes(frame[off : off + length])
    mask = frame[off : off + 4]
    body = frame[off + 4 : off + 4 + length]
    return bytes(b ^ mask[i & 3] for i, b in enumerate(body))


@dataclass
class Timing:
    warmup_s: float = 0.2
    reps: int = 5
    rep_s: float = 0.2


def measure(one_pass: Callable[[], None], packets: int, nbytes: int, t: Timing) -> dict[str, object]:
    """Warm up, then `reps` timed repetitions of whole passes lasting at least rep_s of this
    process's CPU time (the cores are shared: time spent descheduled is not the codec's);
    reports the median rate per CPU second, with wall-clock rates alongside."""
    deadline = time.perf_counter() + t.warmup_s
    one_pass()
    while time.perf_counter() < deadline:
        one_pass()
    rates: list[float] = []
    wall_rates: list[float] = []
    for _ in range(t.reps):
        passes = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while True:
            one_pass()
            passes += 1
            cpu = time.process_time() - cpu0
            if cpu >= t.rep_s:
                break
        rates.append(passes / cpu)
        wall_rates.append(passes / (time.perf_counter() - wall0))
    med = statistics.median(rates)
    return {
        "packets_per_s": med * packets,
        "mb_per_s": med * nbytes / 1e6,
        "passes_per_s_reps": rates,
        "wall_passes_per_s_reps": wall_rates,
    }
