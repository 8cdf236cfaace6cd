"""Network guard: any socket connection to a non-loopback address raises ``BlockedConnection``.

Imported by ``tests/conftest.py`` for the test process, and put on ``PYTHONPATH`` for subprocesses
(Python imports ``sitecustomize`` at start-up), so a CLI run is proven not to touch the internet.
Unix sockets and loopback (127.0.0.0/8, ::1, localhost) stay allowed. When ``NETGUARD_LOG`` names a
file, every blocked attempt is also appended there: libraries that swallow connection errors cannot
hide an attempt.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_ORIGINAL = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
             "create_connection": socket.create_connection}
attempts: list[str] = []


class BlockedConnection(ConnectionRefusedError):
    """Raised instead of opening a connection that would leave this machine."""


def is_allowed(family: int, address) -> bool:
    """True for Unix sockets and loopback destinations."""
    if family == getattr(socket, "AF_UNIX", None) or not isinstance(address, tuple):
        return True
    host = str(address[0]).split("%", 1)[0]
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name other than localhost would be resolved off this machine
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _block(address) -> None:
    message = f"network guard: connection to {address!r} blocked (tests must stay offline)"
    attempts.append(message)
    log = os.environ.get("NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {message}\n")
    raise BlockedConnection(message)


def _connect(self, address):
    if not is_allowed(self.family, address):
        _block(address)
    return _ORIGINAL["connect"](self, address)


def _connect_ex(self, address):
    if not is_allowed(self.family, address):
        _block(address)
    return _ORIGINAL["connect_ex"](self, address)


def _create_connection(address, *args, **kwargs):
    if not is_allowed(socket.AF_INET, address):
        _block(address)
    return _ORIGINAL["create_connection"](address, *args, **kwargs)


def install() -> None:
    """Patch the socket module (idempotent)."""
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    socket.create_connection = _create_connection


install()
