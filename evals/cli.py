"""``python -m evals``: run datasets through the assistant, write reports, optionally gate on the baseline.

Exit status, as for every command (rag/cli.py): 0 when everything ran (and the gate, if asked, passed), 1 when
a gated metric is below its floor, 2 when the eval could not run (the error's message is printed, not a
traceback), 3 a bug (its traceback printed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

from evals.cases import NAMES, PACKAGE
from rag.cli import run_command

DATA_DIR = PACKAGE.parent / ".rag" / "evals"
REPORTS = PACKAGE / "reports"
HEADLINE = ("hit@1", "hit@5", "mrr", "accuracy", "citation_precision", "abstention_recall", "false_abstentions")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_command(lambda: _run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=[*NAMES, "all"], default="seeds")
    parser.add_argument("--llm", action=argparse.BooleanOptionalAction, default=None,
                        help="answer with the configured LLM (default: when one is configured, as `rag ask`)")
    parser.add_argument("--top-k", type=int, default=None, help="passages per question (default: RAG_TOP_K or 5)")
    parser.add_argument("--modes", default="hybrid,dense,keyword",
                        help="comma-separated retrieval modes, each run on every question")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="where the eval indexes live, one folder per corpus; reused across runs, rebuilt when "
                             "the index/ code or the embedding settings change")
    parser.add_argument("--limit", type=int, default=None, help="ask only N questions, spread over the dataset")
    parser.add_argument("--out", type=Path, default=REPORTS, help="folder for <dataset>.json/.md/.png")
    parser.add_argument("--retrieval-only", action="store_true",
                        help="measure retrieval only: no LLM call, no answer metrics")
    parser.add_argument("--gate", action="store_true", help="exit 1 if a metric is below its floor in the baseline")
    parser.add_argument("--update-baseline", action="store_true",
                        help="rewrite the baseline's floors from this run (measured - margin)")
    parser.add_argument("--baseline", type=Path, default=None, help="baseline file (default: evals/baseline.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _run(args) -> int:
    from evals import cases, gate, report, runner
    from rag.settings import Settings
    from rag import Assistant

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    unknown = [m for m in modes if m not in runner.MODES]
    if unknown or not modes:
        raise runner.EvalError(f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(runner.MODES)}")
    settings = Settings()
    if args.llm and not settings.llm_enabled:
        raise runner.EvalError("--llm needs an LLM endpoint: set RAG_LLM_BASE_URL or OPENAI_API_KEY")
    names = NAMES if args.dataset == "all" else (args.dataset,)
    baseline_path = args.baseline or gate.BASELINE
    if args.gate:
        # Refuse before spending minutes on a run the baseline cannot judge.
        planned = {"modes": list(modes), "top_k": args.top_k or settings.top_k, "retrieval_only": args.retrieval_only,
                   "llm": settings.llm_enabled and args.llm is not False and not args.retrieval_only}
        baseline = gate.load(baseline_path)
        for name in names:
            if name in baseline.get("datasets", {}):
                gate.comparable(name, planned, baseline["datasets"][name]["config"])
    payloads = {}
    fingerprint = index_fingerprint(settings)
    for name in names:
        corpus = cases.corpus_of(name)
        dataset = cases.load(name, args.data_dir / corpus / "corpus", args.limit)
        index_dir = args.data_dir / corpus / f"index-{fingerprint}"
        for stale in (args.data_dir / corpus).glob("index-*"):
            if stale != index_dir:
                shutil.rmtree(stale)
        # A collection of its own keeps eval documents out of a user's shared Chroma server.
        assistant = Assistant(data_dir=index_dir, collection=f"evals-{corpus}-{fingerprint}")
        try:
            result = runner.run(dataset, assistant, modes, args.top_k, args.llm, args.retrieval_only, args.quiet)
        finally:
            assistant.close()
        result.config.update(limit=args.limit, commit=_commit(), index=index_dir.name)
        payload = report.build(result)
        paths = report.write(payload, args.out)
        payloads[name] = payload
        _print_summary(payload, paths)
    if args.update_baseline:
        baseline = gate.update(payloads, baseline_path)
        print(f"baseline updated: {baseline_path}")
    if not args.gate:
        return 0
    failures, lines = gate.check(payloads, baseline)
    print("\n".join(lines))
    if failures:
        print("\n".join(failures))
        print(f"gate FAILED: {len(failures)} metric(s) out of bounds ({baseline_path})")
        return 1
    print("gate passed")
    return 0


def index_fingerprint(settings) -> str:
    """Changes whenever the write path's code or embedding settings do.

    Ingest skips files whose text is unchanged, so an index built by older code (another chunking,
    another vector layout) would otherwise be reused silently and the eval would measure stale vectors.
    """
    import index

    digest = hashlib.sha256()
    for path in sorted(Path(index.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    fields = [settings.embed_backend, settings.embed_model, settings.embed_base_url, settings.chunk_chars]
    digest.update(json.dumps(fields).encode())
    return digest.hexdigest()[:12]


def _commit() -> str | None:
    """The checked-out commit, so a report says which code it measured (None outside a git checkout)."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PACKAGE, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _print_summary(payload: dict, paths: list[Path]) -> None:
    from evals.report import fmt

    print(f"{payload['dataset']}: {payload['config']['cases']} questions, runtime {payload['runtime_s']}")
    for mode, groups in payload["metrics"].items():
        for group, m in groups.items():
            if group == "all" or "*" not in group:
                cells = "  ".join(f"{k} {fmt(k, m.get(k))}" for k in HEADLINE)
                print(f"  {mode:8} {group:10} n {m['n']:4}  {cells}")
    for note in payload["notes"]:
        print(f"  note: {note}")
    print("  reports: " + ", ".join(str(p) for p in paths))
