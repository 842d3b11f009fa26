"""Fixtures for testing build/siocat against build/reference-server (helpers in siocatkit.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from serverkit import Server  # noqa: E402  (the reference server's own test helper)
from siocatkit import SIOCAT  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if not SIOCAT.exists():
        pytest.fail(f"{SIOCAT} not built: run make siocat")
    s = Server("--ping-interval", "300", "--ping-timeout", "200", "--allow-eio3")
    yield s
    s.stop()
