"""A host and port in, ``None`` or a one-line problem out: is the UI's port free before any work starts?

Standard library only, so the Makefile can ask (``python3 -m ui.ports HOST PORT``) before it installs
anything, and ``python -m ui`` before it loads the embedder or indexes a folder.
"""

from __future__ import annotations

import errno
import socket
import sys

FIX = "choose another port: make run PORT=7861, python -m ui --port 7861, or RAG_UI_PORT=7861"


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served on, naming the fix; ``None`` when it is free."""
    if not 0 < port < 65536:
        return f"port {port} is not a TCP port; choose one between 1 and 65535 ({FIX})"
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
                return f"port {port} on {host} is already in use (another server?); {FIX}"
            return f"cannot listen on {host}:{port} ({exc.strerror}); {FIX}"
    return None


def main(argv: list[str]) -> int:
    host, port = argv
    problem = port_problem(host, int(port)) if port.isdigit() else f"port {port!r} is not a number; {FIX}"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
