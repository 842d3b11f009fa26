"""Every socket the harness opens is registered here, so each test can close what it left open."""

from __future__ import annotations

import socket
import threading

_lock = threading.Lock()
_open: set[socket.socket] = set()


def register(sock: socket.socket) -> None:
    with _lock:
        _open.add(sock)


def forget(sock: socket.socket) -> None:
    """The caller closes this socket itself (for example with a reset)."""
    with _lock:
        _open.discard(sock)


def close(sock: socket.socket) -> None:
    with _lock:
        _open.discard(sock)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def close_all() -> int:
    with _lock:
        socks = list(_open)
        _open.clear()
    for sock in socks:
        close(sock)
    return len(socks)
