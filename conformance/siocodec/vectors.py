"""Loading annotated vectors and replaying them through the codec.

A layer adapter is any object with
    decode(chunks: list[bytes], kinds: list[str], options: dict) -> dict   (raises CodecError)
    encode(decoded: dict, options: dict) -> list[bytes]                    (or None: no encoder)
Layer modules export them in a dict ADAPTERS = {"layer-name": adapter}.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import ROOT

VECTOR_DIR = ROOT / "vectors"
LAYER_MODULES = ("ws", "eio", "sio", "json_", "http", "adapter")
VECTOR_GROUPS = ("ws", "eio", "sio", "json", "http", "adapter")


def adapters() -> dict:
    found: dict = {}
    for mod in LAYER_MODULES:
        try:
            m = importlib.import_module(f"siocodec.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name == f"siocodec.{mod}":
                continue
            raise
        found.update(getattr(m, "ADAPTERS", {}))
    return found


def chunk_bytes(chunk: dict) -> bytes:
    if "text" in chunk:
        return chunk["text"].encode("utf-8", "surrogatepass")
    if "hex" in chunk:
        return bytes.fromhex(chunk["hex"])
    out = bytearray()
    for part in chunk["parts"]:
        if "text" in part:
            out += part["text"].encode("utf-8", "surrogatepass")
        elif "hex" in part:
            out += bytes.fromhex(part["hex"])
        else:
            out += bytes.fromhex(part["fill"]) * part["count"]
    return bytes(out)


def chunk_kind(chunk: dict) -> str:
    return chunk.get("kind", "binary" if "hex" in chunk else "text")


@dataclass
class Vector:
    path: Path
    data: dict

    @property
    def name(self) -> str:
        return str(self.path.relative_to(VECTOR_DIR))

    @property
    def verdict(self) -> str:
        return self.path.name[0]

    @property
    def chunks(self) -> list[bytes]:
        return [chunk_bytes(c) for c in self.data["input"]]

    @property
    def kinds(self) -> list[str]:
        return [chunk_kind(c) for c in self.data["input"]]


def load_vectors() -> list[Vector]:
    out = []
    for group in VECTOR_GROUPS:
        for path in sorted((VECTOR_DIR / group).glob("*.json")):
            out.append(Vector(path, json.loads(path.read_text(encoding="utf-8"))))
    return out


def annotation_problems(chunk: dict, data: bytes) -> list[str]:
    """Annotations must partition the chunk: sorted, no gap, no overlap, nothing past the end."""
    problems = []
    pos = 0
    for a in sorted(chunk["annotations"], key=lambda a: a["offset"]):
        if a["offset"] > pos:
            problems.append(f"bytes {pos}..{a['offset'] - 1} are not explained")
        elif a["offset"] < pos:
            problems.append(f"span '{a['label']}' at {a['offset']} overlaps the previous one")
        pos = max(pos, a["offset"] + a["length"])
    if pos < len(data):
        problems.append(f"bytes {pos}..{len(data) - 1} are not explained")
    if pos > len(data):
        problems.append(f"annotations run to byte {pos}, past the end ({len(data)} bytes)")
    return problems
