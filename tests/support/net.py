"""Loopback networking for tests: a port nobody listens on yet."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 the OS just handed out (for a listener the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
