"""The adapter vectors against Node itself: every broadcast vector the reference decoder accepts is
decoded by notepack.io 3.0.1 and encoded by socket.io-parser 4.2.7, as a Node node of the cluster
would do before writing to its clients, and the Socket.IO packet Node would send must be the one the
reference server sends (the text with its placeholders, and the attachments). The i_ vectors'
`behaviours` are thereby measured, not assumed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from siocodec.vectors import load_vectors

ROOT = Path(__file__).resolve().parents[3]
NODE_DIR = ROOT / "conformance" / "targets" / "node-socketio"
SCRIPT = r"""
const decode = require("notepack.io/lib/decode");
const { Encoder } = require("socket.io-parser");
const out = {};
for (const [name, hex] of Object.entries(JSON.parse(require("fs").readFileSync(0, "utf8")))) {
  try {
    const [uid, packet, opts] = decode(Buffer.from(hex, "hex"));
    const pieces = new Encoder().encode({ type: packet.type, data: packet.data, nsp: packet.nsp || "/" });
    out[name] = { text: pieces[0], attachments: pieces.slice(1).map((b) => Buffer.from(b).toString("hex")),
                  rooms: [...new Set(opts.rooms)].map(String), except: [...new Set(opts.except)].map(String) };
  } catch (err) {
    out[name] = { error: String(err && err.message) };
  }
}
process.stdout.write(JSON.stringify(out));
"""

BROADCASTS = [v for v in load_vectors() if v.data["layer"] == "adapter-broadcast"]


@pytest.fixture(scope="module")
def node_view() -> dict:
    if not (NODE_DIR / "node_modules" / "notepack.io").exists():
        pytest.fail("the Node fixture's packages are missing: make conformance-node")
    inputs = {v.name: b"".join(v.chunks).hex() for v in BROADCASTS}
    done = subprocess.run(["node", "-e", SCRIPT], cwd=NODE_DIR, input=json.dumps(inputs), capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout)


def ours_as_socketio(decoded: dict) -> dict:
    data = decoded["packet"]["data"]
    nsp = decoded["packet"]["nsp"]
    body = json.dumps(data["json"], separators=(",", ":"), ensure_ascii=False)
    head = f"5{len(data['attachments'])}-" if data["attachments"] else "2"
    return {
        "text": head + ("" if nsp == "/" else nsp + ",") + body,
        "attachments": data["attachments"],
        "rooms": decoded["opts"]["rooms"],
        "except": decoded["opts"]["except"],
    }


@pytest.mark.parametrize("vector", BROADCASTS, ids=[v.name for v in BROADCASTS])
def test_reference_delivers_what_node_delivers(vector, node_view: dict) -> None:  # noqa: ANN001
    outcome = vector.data.get("strict", vector.data)
    node = node_view[vector.name]
    if "decoded" not in outcome:
        return  # refused here; what Node does instead is stated in the vector's behaviours
    assert "error" not in node, f"Node refuses what the reference accepts: {node['error']}"
    assert ours_as_socketio(outcome["decoded"]) == node
