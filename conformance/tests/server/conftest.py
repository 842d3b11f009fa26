"""Fixtures for testing build/reference-server directly (helpers in serverkit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serverkit import Server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The fixture server with the official suite's timings."""
    s = Server("--ping-interval", "300", "--ping-timeout", "200", "--connect-timeout", "1000")
    yield s
    s.stop()


@pytest.fixture
def fresh_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server of its own, with the arguments given by @pytest.mark.server_args."""
    marker = request.node.get_closest_marker("server_args")
    s = Server(*(marker.args if marker else ()))
    yield s
    s.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_args(*args): arguments for fresh_server")
