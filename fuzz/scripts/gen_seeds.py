#!/usr/bin/env python3
"""Builds the seed corpora for the fuzz targets from the annotated vectors in vectors/.

Each vector's input chunks are routed by the vector's layer to the targets that parse that
layer, wrapped in the target's input format (fuzz/README.md, "Input formats"). Seeds are named
"<verdict>_<group>_<vector name>[_<variant>]" so the seed check can tell which seeds a parser
must accept (y_) or reject (n_). A manifest, manifest.tsv, lists
target, file, verdict and whether the vector sets decoder options (the verdict of a vector with
options is only meaningful under those options, so the check skips it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

GROUPS = ("ws", "eio", "sio", "json", "http")
# Separates a Socket.IO packet from its attachments in the sio_attach target's input.
ATTACH_SEP = b"\x00\xffAT"


@dataclass
class Vector:
    group: str
    name: str
    data: dict

    @property
    def verdict(self) -> str:
        return self.name[0]

    @property
    def chunks(self) -> list[bytes]:
        return [chunk_bytes(c) for c in self.data["input"]]

    @property
    def kinds(self) -> list[str]:
        return [c.get("kind", "binary" if "hex" in c else "text") for c in self.data["input"]]

    @property
    def options(self) -> dict:
        return self.data.get("options") or {}


def chunk_bytes(chunk: dict) -> bytes:
    """The bytes of one chunk, from text, hex or parts (vectors/README.md)."""
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


def load(vectors: Path) -> list[Vector]:
    out = []
    for group in GROUPS:
        for path in sorted((vectors / group).glob("*.json")):
            out.append(Vector(group, path.stem, json.loads(path.read_text(encoding="utf-8"))))
    return out


# A seed: (target, variant suffix, bytes, verdict the target's parser must give or "-").
Seed = tuple[str, str, bytes, str]
Router = Callable[[Vector], Iterable[Seed]]


def same_verdict(v: Vector) -> str:
    return v.verdict if v.verdict in "yn" else "-"


def route_utf8(v: Vector) -> Iterable[Seed]:
    yield ("utf8", "", b"\x00" + b"".join(v.chunks), same_verdict(v))


def route_json(v: Vector) -> Iterable[Seed]:
    yield ("json", "", b"".join(v.chunks), same_verdict(v))


def text_chunks_to_utf8(v: Vector) -> Iterable[Seed]:
    """Every text chunk of any vector is also a UTF-8 seed, with no verdict."""
    for i, (chunk, kind) in enumerate(zip(v.chunks, v.kinds)):
        if kind == "text" and chunk:
            yield ("utf8", f"t{i}", b"\x00" + chunk, "-")


def base64_records(v: Vector) -> Iterable[Seed]:
    """Engine.IO "b" records carry base64; they seed the base64 target, with no verdict."""
    for i, chunk in enumerate(v.chunks):
        for j, record in enumerate(chunk.split(b"\x1e")):
            if record.startswith(b"b") and len(record) > 1:
                body = record[2:] if v.data.get("protocol") == 3 else record[1:]
                yield ("base64", f"b{i}_{j}", b"\x01" + body, "-")


ROUTES: dict[str, list[Router]] = {
    "utf8": [route_utf8],
    "json": [route_json],
}
EVERY_VECTOR: list[Router] = [text_chunks_to_utf8]
EIO_LAYERS = ("eio-packet", "eio-payload")


def seeds_for(v: Vector, targets: set[str]) -> Iterable[Seed]:
    layer = v.data.get("layer", "")
    routers = list(ROUTES.get(layer, [])) + EVERY_VECTOR
    if layer in EIO_LAYERS:
        routers.append(base64_records)
    for router in routers:
        for seed in router(v):
            if seed[0] in targets:
                yield seed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vectors", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--targets", default="", help="comma list; default: every routed target")
    args = ap.parse_args()
    known = {"utf8", "json", "base64"} | set(EXTRA_TARGETS)
    targets = set(args.targets.split(",")) if args.targets else known
    if args.out.exists():
        shutil.rmtree(args.out)
    manifest = []
    seen: set[tuple[str, str]] = set()
    for v in load(args.vectors):
        for target, variant, data, verdict in seeds_for(v, targets):
            digest = hashlib.sha1(data).hexdigest()
            if (target, digest) in seen:
                continue  # identical bytes add nothing to a corpus
            seen.add((target, digest))
            name = f"{v.verdict}_{v.group}_{v.name[2:]}" + (f"_{variant}" if variant else "")
            folder = args.out / target
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            manifest.append(f"{target}\t{name}\t{verdict}\t{int(bool(v.options))}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "manifest.tsv").write_text("".join(line + "\n" for line in manifest))
    counts: dict[str, int] = {}
    for line in manifest:
        counts[line.split("\t")[0]] = counts.get(line.split("\t")[0], 0) + 1
    summary = ", ".join(f"{t} {n}" for t, n in sorted(counts.items())) or "none (no vectors yet)"
    print(f"fuzz-seeds: {len(manifest)} seeds: {summary}")
    return 0


EXTRA_TARGETS: tuple[str, ...] = ()

if __name__ == "__main__":
    sys.exit(main())
