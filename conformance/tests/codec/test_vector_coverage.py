"""The vector set as a whole: its size, its spread over layers, and its reach over the
requirement groups A (Engine.IO packets and payloads) and E (Socket.IO packets)."""

from __future__ import annotations

from collections import Counter

from siocodec.vectors import load_vectors

VECTORS = load_vectors()
GROUP_A = [f"EIO-PKT-{n:02d}" for n in range(1, 22)]
GROUP_E = [f"SIO-PKT-{n:02d}" for n in range(1, 20)]


def test_at_least_200_vectors():
    assert len(VECTORS) >= 200


def test_every_layer_group_has_accept_and_reject_vectors():
    per_group = Counter((v.path.parent.name, v.verdict) for v in VECTORS)
    for group in ("ws", "eio", "sio"):
        assert per_group[(group, "y")] >= 10, f"{group}: too few y_ vectors"
        assert per_group[(group, "n")] >= 10, f"{group}: too few n_ vectors"
        assert per_group[(group, "i")] >= 1, f"{group}: no i_ vector"


def test_groups_a_and_e_fully_covered():
    seen = {rid for v in VECTORS for rid in v.data["requirements"]}
    missing = [rid for rid in GROUP_A + GROUP_E if rid not in seen]
    assert not missing, f"requirements with no vector: {missing}"
