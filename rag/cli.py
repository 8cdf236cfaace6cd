"""The ``rag`` command: index, ask, chat, list and remove documents.

Heavy imports (Chroma, llama-index, the embedder) happen inside the commands, so ``rag --help`` is
instant and a user-caused error prints one line instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.data_dir:
        os.environ["RAG_DATA_DIR"] = args.data_dir
    return run_command(lambda: args.handler(args))


def run_command(command: Callable[[], int]) -> int:
    """Run a command's body: a ``RagError`` becomes one ``error:`` line and exit code 2, Ctrl-C 130."""
    from index.errors import RagError

    try:
        return command()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about your documents; every claim is cited.")
    parser.add_argument("--data-dir", help="where the index lives (default: $RAG_DATA_DIR or ./.rag)")
    sub = parser.add_subparsers(dest="command")

    index = sub.add_parser("index", help="add or update files and folders (txt, md, html, pdf)")
    index.add_argument("paths", nargs="+")
    index.set_defaults(handler=_index)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    ask.add_argument("--top-k", type=int, default=None)
    ask.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default=None)
    ask.add_argument("--no-llm", action="store_true", help="answer offline even if an LLM is configured")
    ask.set_defaults(handler=_ask)

    chat = sub.add_parser("chat", help="ask questions at a prompt (optionally indexing PATHs first)")
    chat.add_argument("paths", nargs="*")
    chat.set_defaults(handler=_chat)

    docs = sub.add_parser("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(handler=_docs)

    remove = sub.add_parser("remove", help="remove a document (by file name) from the index")
    remove.add_argument("source")
    remove.set_defaults(handler=_remove)

    status = sub.add_parser("status", help="show the answer mode, vector store and counts")
    status.set_defaults(handler=_status)
    return parser


def _assistant():
    from rag.assistant import Assistant

    return Assistant()


def _index(args) -> int:
    assistant = _assistant()
    report = add_with_progress(assistant, args.paths)
    print(report.summary())
    for name, reason in report.failed.items():
        print(f"  skipped {name}: {reason}", file=sys.stderr)
    return 1 if report.failed and not (report.added or report.updated or report.skipped) else 0


def add_with_progress(assistant, paths):
    """``assistant.add(paths)`` with a progress bar on stderr (used by the CLI and ``python -m ui``)."""
    from tqdm import tqdm

    bar = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="indexing", disable=total < 2, file=sys.stderr)
        bar.n = done
        bar.set_postfix_str(name[:40], refresh=True)

    try:
        return assistant.add(paths, progress=progress)
    finally:
        if bar is not None:
            bar.close()


def _ask(args) -> int:
    assistant = _assistant()
    use_llm = False if args.no_llm else None
    if args.json:
        answer = assistant.ask(args.question, top_k=args.top_k, mode=args.mode, use_llm=use_llm)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = _print_stream(assistant, args.question, [], top_k=args.top_k, mode=args.mode, use_llm=use_llm)
    return 0 if answer is not None else 1


def _print_stream(assistant, question, history, **options):
    answer = None
    for piece in assistant.stream(question, history, **options):
        if piece.text:
            print(piece.text, end="", flush=True)
        answer = piece.answer or answer
    print()
    if answer.notice:
        print(f"note: {answer.notice}")
    for c in answer.citations:
        print(f"  [{c.n}] {c.source} ({c.start}-{c.end}): {_shown(c.quote)}")
    if answer.closest:
        from rag.answers import CLOSEST_LABEL

        print(f"{CLOSEST_LABEL}:")
        for c in answer.closest:
            print(f"  {c.n}. {c.source} ({c.start}-{c.end}): {_shown(c.quote)}")
    return answer


def _shown(quote: str) -> str:
    """A quote on one line (a quote from wrapped text holds line breaks), cut at 160 characters."""
    quote = " ".join(quote.split())
    return quote if len(quote) <= 160 else quote[:157] + "..."


def _chat(args) -> int:
    from index.errors import InputError

    assistant = _assistant()
    if args.paths:
        print(add_with_progress(assistant, args.paths).summary())
    print(f"{assistant.status()['documents']} documents indexed. Ask a question (empty line or Ctrl-D to quit).")
    history: list[str] = []
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            _print_stream(assistant, question, history)
        except InputError as exc:
            print(f"error: {exc}")
            continue
        history.append(question)


def _docs(args) -> int:
    docs = _assistant().documents()
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=2))
        return 0
    if not docs:
        print("no documents indexed; add some with: rag index PATH")
    for d in docs:
        print(f"{d.source}\t{d.language}\t{d.chunks} chunks\t{d.date or '-'}\t{d.title[:60]}")
    return 0


def _remove(args) -> int:
    if _assistant().remove(args.source):
        print(f"removed {args.source}")
        return 0
    print(f"error: {args.source} is not indexed (see: rag docs)", file=sys.stderr)
    return 1


def _status(args) -> int:
    for key, value in _assistant().status().items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
