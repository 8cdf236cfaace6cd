"""A host and port in, ``None`` or a one-line problem out: is the UI's port free before any work starts?

Standard library only, so the Makefile can ask (``python3 -m ui.ports HOST PORT``) before it installs
anything, and ``python -m ui`` before it loads the embedder or indexes a folder.
"""

from __future__ import annotations

import errno
import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served on, naming the fix; ``None`` when it is free."""
    if not 0 < port < 65536:
        return f"port {port} is not a TCP port (1 to 65535); {fix(7860)}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve the host {host!r} ({exc.strerror}); use an address such as 127.0.0.1"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port whose last connection lingers in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another chat or server?); {fix(port)}"
            return f"cannot listen on {host}:{port} ({exc.strerror}); {fix(port)}"
    return None


def fix(port: int) -> str:
    """The advice every port problem ends with, in the three ways a user can act on it."""
    other = port + 1 if port < 65535 else 7860
    return f"choose another port: make run PORT={other}, python -m ui --port {other}, or RAG_UI_PORT={other}"


def main(argv: list[str]) -> int:
    host, port = argv
    problem = port_problem(host, int(port)) if port.isdigit() else f"port {port!r} is not a number; {fix(7860)}"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
