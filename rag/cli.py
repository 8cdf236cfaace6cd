"""The ``rag`` command: index, ask, chat, list and remove documents.

Heavy imports (Chroma, llama-index, the embedder) happen inside the commands, so ``rag --help`` is
instant and a user-caused error prints one line instead of a traceback.

Exit status, the same for every command (and for ``python -m evals`` and ``python -m ui``):
0 done; 1 done in part (``rag index``: some files could not be indexed; ``python -m evals --gate``: a metric
below its floor); 2 nothing done: a usage error or a problem the one-line message names; 3 a bug (traceback
printed); 130 interrupted; 141 the reader of the output went away (``rag ask ... | head -2``), as for other
command-line tools killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

EXIT_OK, EXIT_PARTIAL, EXIT_USER_ERROR, EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED = 0, 1, 2, 3, 130, 141


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USER_ERROR
    return run_command(lambda: args.handler(args))


def run_command(command: Callable[[], int]) -> int:
    """Run a command's body with the exit status above: a ``RagError``, an invalid ``RAG_*`` setting or a path
    the system refuses (permissions, a file where a folder should be) is one ``error:`` line and 2, Ctrl-C 130,
    a closed stdout 141 without a word, anything else a bug: its traceback and 3."""
    from pydantic import ValidationError

    from index.errors import RagError

    try:
        status = command()
        sys.stdout.flush()  # here, not at exit, where a closed pipe would be reported as an ignored exception
        return status
    except BrokenPipeError:
        # Python's advice: point stdout at devnull, so that flushing it again at exit cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ValidationError as exc:
        if exc.title != "Settings":  # another model refusing a value is our bug, not the user's setting
            return _bug()
        problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid setting: {problems}; fix or unset the variable", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave or a folder we write: a bug
            return _bug()
        print(f"error: {exc.filename}: {exc.strerror or exc}; check the path and its permissions (RAG_DATA_DIR, "
              "--data-dir)", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception:
        return _bug()


def _bug() -> int:
    import traceback

    traceback.print_exc()
    print("error: this is a bug in rag-assistant; please report it with the traceback above", file=sys.stderr)
    return EXIT_BUG


def _variable(loc: tuple) -> str:
    """The environment variable a settings field is read from (``top_k`` -> ``RAG_TOP_K``; aliases as they are)."""
    name = "_".join(map(str, loc))
    return name if name.isupper() else f"RAG_{name.upper()}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about your documents; every claim is cited.")
    _global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command")

    def add_command(name: str, **kwargs) -> argparse.ArgumentParser:
        command = sub.add_parser(name, **kwargs)
        # Also after the command (`rag index FILE --data-dir DIR`); SUPPRESS keeps an earlier value.
        _global_options(command, default=argparse.SUPPRESS)
        return command

    index = add_command("index", help="add or update files and folders (txt, md, html, pdf, docx)")
    index.add_argument("paths", nargs="+")
    index.set_defaults(handler=_index)

    ask = add_command("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    ask.add_argument("--top-k", type=int, default=None)
    ask.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default=None)
    ask.add_argument("--no-llm", action="store_true", help="answer offline even if an LLM is configured")
    ask.add_argument("--source", action="append", dest="sources", metavar="NAME",
                     help="answer from this document only (its name as `rag docs` lists it, its path or its id); "
                          "repeat for several")
    ask.set_defaults(handler=_ask)

    chat = add_command("chat", help="ask questions at a prompt (optionally indexing PATHs first)")
    chat.add_argument("paths", nargs="*")
    chat.set_defaults(handler=_chat)

    docs = add_command("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(handler=_docs)

    remove = add_command("remove", help="remove a document (by its path, its name as `rag docs` lists it, or its id)")
    remove.add_argument("source")
    remove.set_defaults(handler=_remove)

    status = add_command("status", help="show the answer mode, vector store and counts")
    status.set_defaults(handler=_status)
    return parser


def _global_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--data-dir", default=default, help="where the index lives (default: $RAG_DATA_DIR or ./.rag)")


def _assistant(args):
    """The assistant the command works on: ``--data-dir`` wins over ``RAG_DATA_DIR``."""
    from rag.assistant import Assistant

    return Assistant(data_dir=args.data_dir or None)


def _index(args) -> int:
    assistant = _assistant(args)
    report = add_with_progress(assistant, args.paths)
    print(report.summary())
    print_failures(report)
    return EXIT_PARTIAL if report.failed else EXIT_OK


def print_failures(report) -> None:
    """One stderr line per file an ``add`` refused: ``  skipped NAME: what happened; what to do``."""
    for reason in report.failed.values():
        # Every refusal message starts with the file's name (index/errors.py), so it is printed as is.
        print(f"  skipped {reason}", file=sys.stderr)


def add_with_progress(assistant, paths):
    """``assistant.add(paths)`` with a progress bar on stderr (used by the CLI and ``python -m ui``).

    The bar counts chunks embedded, the slow part, so its rate and ETA mean something; files read and
    the current file follow it."""
    from tqdm import tqdm

    from index.ingest import IngestProgress

    bar = None

    def progress(p: IngestProgress) -> None:
        nonlocal bar
        if bar is None:
            if not p.chunks_total:  # nothing to embed: everything unchanged or refused
                return
            bar = tqdm(total=p.chunks_total, unit="chunk", desc="embedding", file=sys.stderr, dynamic_ncols=True)
        bar.total = p.chunks_total
        bar.n = p.chunks_embedded
        current = f", {p.current[:40]}" if p.current else ""
        bar.set_postfix_str(f"{p.files_done}/{p.files_total} files{current}", refresh=True)

    try:
        return assistant.add(paths, progress=progress)
    finally:
        if bar is not None:
            bar.close()


def _ask(args) -> int:
    assistant = _assistant(args)
    use_llm = False if args.no_llm else None
    options = dict(top_k=args.top_k, mode=args.mode, use_llm=use_llm, sources=args.sources)
    if args.json:
        answer = assistant.ask(args.question, **options)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    _print_stream(assistant, args.question, [], **options)
    return EXIT_OK


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
        copies = f" (also in {', '.join(c.also_in)})" if c.also_in else ""
        print(f"  [{c.n}] {c.source} ({c.start}-{c.end}){copies}: {_shown(c.quote)}")
    if answer.closest:
        from rag.values import CLOSEST_LABEL

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
    from index.ingest import counted

    assistant = _assistant(args)
    if args.paths:
        report = add_with_progress(assistant, args.paths)
        print(report.summary())
        print_failures(report)
    print(f"{counted(assistant.status()['documents'], 'document')} indexed. Ask a question (empty line or Ctrl-D to quit).")
    history: list[str] = []
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            print()
            return EXIT_OK
        if not question:
            return EXIT_OK
        try:
            _print_stream(assistant, question, history)
        except InputError as exc:
            print(f"error: {exc}")
            continue
        history.append(question)


def _docs(args) -> int:
    from index.ingest import counted
    from index.loading import shortened

    docs = _assistant(args).documents()
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not docs:
        print("no documents indexed; add some with: rag index PATH")
    for d in docs:
        print(f"{d.source}\t{d.language}\t{counted(d.chunks, 'chunk')}\t{d.date or '-'}\t{shortened(d.title, 60)}")
    return EXIT_OK


def _remove(args) -> int:
    from index.errors import InputError

    if not _assistant(args).remove(args.source):
        raise InputError(f"{args.source}: not indexed, so nothing was removed; `rag docs` lists the documents' names")
    print(f"removed {args.source}")
    return EXIT_OK


def _status(args) -> int:
    for key, value in _assistant(args).status().items():
        print(f"{key}: {value}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
