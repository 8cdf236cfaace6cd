"""``python -m ui``: optionally index paths, then serve the chat UI (loopback only unless --auth is set)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
import time

from ui.ports import fix, port_problem


def main(argv: list[str] | None = None) -> int:
    from rag.cli import run_command

    return run_command(lambda: _serve(_parser().parse_args(argv)))


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    auth = _parse_auth(args.auth) if args.auth else None
    if args.auth and auth is None:
        print("error: --auth must look like user:password (both non-empty)", file=sys.stderr)
        return 2
    if not _is_loopback(args.host) and auth is None:
        print(f"error: refusing to serve on {args.host} without a password: anyone on the network could read "
              "and delete your documents; add --auth user:password (or set RAG_UI_AUTH)", file=sys.stderr)
        return 2
    from rag.settings import Settings

    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    port = args.port if args.port is not None else settings.ui_port
    # Before the embedder loads and folders are indexed: a busy port should cost seconds, not minutes.
    problem = port_problem(args.host, port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.assistant import Assistant
    from rag.cli import add_with_progress, print_failures
    from ui.app import build_app, launch

    assistant = Assistant(settings=settings)
    assistant.warm_up()  # a data directory or store that cannot be used is reported now, not at the first chat
    if args.index:
        report = add_with_progress(assistant, args.index)
        print(report.summary())
        print_failures(report)
    demo = build_app(assistant, reindex_paths=args.index or ())
    try:
        url = launch(demo, host=args.host, port=port, auth=auth, max_file_mb=assistant.settings.max_file_mb,
                     block=False)
    except OSError as exc:
        if "port" not in str(exc).lower():  # not about the port: let run_command report it
            raise
        # Gradio's own advice (GRADIO_SERVER_PORT) does not apply here: name ours.
        why = "the port was taken while the index loaded" if "empty port" in str(exc) else str(exc)
        print(f"error: cannot serve on {args.host}:{port}: {why}; {fix(port)}", file=sys.stderr)
        return 2
    print(serving_line(url, args.host, auth))
    try:
        while demo.is_running:
            time.sleep(0.2)
    finally:
        demo.close()
    return 0


def serving_line(url: str, host: str, auth: tuple[str, str] | None) -> str:
    """What the console says once the UI is up: where, and who can reach it."""
    reach = "local only" if _is_loopback(host) else "reachable from the network"
    login = f", login required for {auth[0]}" if auth else ""
    return f"Serving on {url.rstrip('/')} ({reach}{login}); Ctrl-C to stop"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Chat with your documents in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port (default: $RAG_UI_PORT or 7860)")
    parser.add_argument("--data-dir", help="where the index lives (default: $RAG_DATA_DIR or ./.rag)")
    parser.add_argument("--index", nargs="+", metavar="PATH", help="index these files/folders before serving")
    parser.add_argument("--auth", default=os.environ.get("RAG_UI_AUTH"), metavar="USER:PASSWORD",
                        help="require this login (needed for a non-loopback --host; default: $RAG_UI_AUTH)")
    return parser


def _parse_auth(value: str) -> tuple[str, str] | None:
    user, _, password = value.partition(":")
    return (user, password) if user and password else None


def _is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


if __name__ == "__main__":
    sys.exit(main())
