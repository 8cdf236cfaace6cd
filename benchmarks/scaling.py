"""The scaling curve: query latency and memory as the index grows, embedded Chroma vs a Chroma server.

One index grows step by step. The first level is real text only (the benchmark corpus and English XQuAD
paragraphs, with the sentence vectors the raw embedder produced for them); later levels add clearly
labelled SYNTHETIC chunks: two sentences of text sampled from the real corpus's word frequencies (so
the keyword index sees realistic posting lists), each sentence with a random unit vector (dim 384).
Everything goes in through the write path classes (``index.catalog.Catalog.stage`` and
``index.store.VectorStore.add``, which also stores the chunk vector = mean of its sentences'),
bypassing only the embedder.

At each level, fresh processes time the same real questions against the index: first the embedded
Chroma, then ``chroma run`` serving the very same Chroma folder. Each measurement runs in its own
process (``python -m benchmarks.scaling grow|probe``) so its RSS is the index's, not this script's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.corpus import ROOT, Question
from benchmarks.servers import child_env, chroma_server

SYNTHETIC_DOC_CHUNKS = 1000  # chunks per synthetic document: large batches keep a 100k build in minutes
SENTENCES = 2  # per synthetic chunk: real XQuAD chunks have 2.2 sentences of ~160 characters


def run_scaling(work: Path, documents: list[tuple[str, str, str]], sentence_vectors: np.ndarray,
                questions: list[Question], query_vectors: np.ndarray, levels: list[int | None]) -> list[dict]:
    """Grow an index through ``levels`` (None = the real text alone) and probe both backends at each.

    ``documents`` are ``(source, text, language)``; ``sentence_vectors`` hold one row per sentence of
    their chunks, in order.
    """
    work.mkdir(parents=True, exist_ok=True)
    real = work / "real.jsonl"
    real.write_text("".join(json.dumps({"source": s, "text": t, "language": lang}, ensure_ascii=False) + "\n"
                            for s, t, lang in documents), encoding="utf-8")
    np.save(work / "real.npy", sentence_vectors.astype(np.float32))
    queries = work / "queries.json"
    queries.write_text(json.dumps([{"text": q.text, "sources": list(q.sources), "vector": v.tolist()}
                                   for q, v in zip(questions, query_vectors, strict=True)]), encoding="utf-8")
    data_dir = work / "index"
    rows = []
    for level in levels:
        grown = _worker(work, "grow", "--data-dir", data_dir, "--real", real, *(["--target", level] if level else []))
        labels = {"chunks": grown["chunks"], "synthetic": grown["synthetic_chunks"] > 0,
                  "real_chunks": grown["real_chunks"], "synthetic_chunks": grown["synthetic_chunks"],
                  "build_s": grown["build_s"]}
        rows.append({**labels, "backend": "embedded", **_worker(work, "probe", "--data-dir", data_dir,
                                                                  "--queries", queries)})
        with chroma_server(data_dir / "chroma", work / "chroma.log") as (port, pid):
            rows.append({**labels, "backend": "server", **_worker(
                work, "probe", "--data-dir", data_dir, "--queries", queries, "--chroma-port", port, "--server-pid", pid)})
    return rows


def _worker(work: Path, *args) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.scaling", *map(str, args)], cwd=ROOT,
                          capture_output=True, env=child_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"scaling worker {args[0]} failed (exit {proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


# -- worker: grow ---------------------------------------------------------------------------------
def grow(data_dir: Path, real: Path, target: int | None) -> dict:
    """Add the real documents (first call) and then synthetic ones until ``target`` chunks."""
    from index.catalog import Catalog, tokenize
    from index.chunking import chunk_document
    from index.documents import Chunk, Document
    from rag.settings import Settings
    from index.store import VectorStore

    settings = Settings(data_dir=data_dir)
    catalog, store = Catalog(settings.catalog_path), VectorStore(settings)
    rows = [json.loads(line) for line in real.read_text(encoding="utf-8").splitlines()]
    start = time.perf_counter()
    if catalog.count_chunks() == 0:
        vectors = np.load(real.with_suffix(".npy"))
        offset = 0
        for row in rows:
            text = row["text"]
            document = Document(row["source"], text, row["source"], row["language"], _sha(text))
            chunks, per_chunk = chunk_document(document, settings.chunk_chars), []
            for chunk in chunks:
                per_chunk.append(vectors[offset : offset + len(chunk.sentences)])
                offset += len(chunk.sentences)
            _write(catalog, store, document, chunks, per_chunk)
        if offset != len(vectors):
            raise RuntimeError(f"{len(vectors)} real sentence vectors for {offset} sentences: chunking changed")
    real_chunks = sum(d.chunks for d in catalog.documents() if not d.source.startswith("synthetic_"))
    count = catalog.count_chunks()
    rng = np.random.default_rng(count)
    vocabulary = Counter(t for row in rows for t in tokenize(row["text"]) if not t.isdigit())
    words = np.array(list(vocabulary))
    weights = np.array(list(vocabulary.values()), dtype=np.float64)
    weights /= weights.sum()
    while target and count < target:
        n = min(SYNTHETIC_DOC_CHUNKS, target - count)
        source = f"synthetic_{count:07d}.txt"
        # One draw per document: numpy's weighted choice rebuilds its table on every call.
        lengths = rng.integers(22, 33, size=n * SENTENCES)
        drawn = iter(rng.choice(words, size=int(lengths.sum()), p=weights).tolist())
        parts, chunks, position = [], [], 0
        for i in range(n):
            sentences, spans = [], []
            for length in lengths[i * SENTENCES : (i + 1) * SENTENCES]:
                sentence = " ".join(next(drawn) for _ in range(length)).capitalize() + "."
                spans.append((position, position + len(sentence)))
                sentences.append(sentence)
                position += len(sentence) + 1
            text = " ".join(sentences)
            chunks.append(Chunk(f"{source}::{i}", source, i, spans[0][0], spans[-1][1], text, "und", tuple(spans)))
            parts.append(text)
        unit = rng.standard_normal((n * SENTENCES, 384)).astype(np.float32)
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        body = "\n".join(parts)
        _write(catalog, store, Document(source, body, source, "und", _sha(body)), chunks,
               [unit[i * SENTENCES : (i + 1) * SENTENCES] for i in range(n)])
        count += n
    total = catalog.count_chunks()
    return {"chunks": total, "real_chunks": real_chunks, "synthetic_chunks": total - real_chunks,
            "build_s": round(time.perf_counter() - start, 2)}


def _write(catalog, store, document, chunks, sentence_vectors) -> None:
    """The ingest write path minus the embedder: stage in the catalog, vectors to Chroma, mark ready."""
    catalog.stage(document, chunks)
    store.add(chunks, sentence_vectors)
    catalog.set_state(document.source, "ready")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- worker: probe --------------------------------------------------------------------------------
def probe(data_dir: Path, queries: Path, chroma_port: int | None, server_pid: int | None) -> dict:
    """Time the queries against the index in this fresh process; latency summaries, RSS and hit@5."""
    import psutil

    from benchmarks.latency import retrieve, summary_ms
    from index.catalog import tokenize
    from rag import Assistant
    from rag.keywords import KeywordScorer

    items = json.loads(queries.read_text(encoding="utf-8"))
    vectors = [np.asarray(item["vector"], dtype=np.float32) for item in items]
    start = time.perf_counter()
    server = {"chroma_host": "127.0.0.1", "chroma_port": chroma_port} if chroma_port else {}
    assistant = Assistant(data_dir=data_dir, **server)
    # The pipeline's stages on purpose: the query vector is given, so the part that grows with the index is
    # timed apart from embedding the question (constant, and noisy on a shared CPU).
    pipeline = assistant.pipeline
    store, catalog = pipeline.store, pipeline.catalog

    def search(text: str, vector: np.ndarray):
        return pipeline.retrieval.run(pipeline.question.run(text, vector=vector))

    search(items[0]["text"], vectors[0])
    open_s = time.perf_counter() - start
    times: dict[str, list[float]] = {"search_first": [], "search": [], "vector": [], "keyword": [],
                                     "keyword_all_terms": [], "retrieve": [], "ask": []}
    for item, vector in zip(items, vectors):  # first sight: candidates' sentence vectors read from Chroma
        t0 = time.perf_counter()
        search(item["text"], vector)
        times["search_first"].append(time.perf_counter() - t0)
    n = assistant.settings.candidates
    hits = []
    for item, vector in zip(items, vectors):
        t0 = time.perf_counter()
        passages = search(item["text"], vector)
        t1 = time.perf_counter()
        store.query(vector, n)
        t2 = time.perf_counter()
        tokens = tokenize(item["text"])
        catalog.keyword_search(KeywordScorer.of(catalog, tokens).search_tokens, n)  # what retrieval runs
        t3 = time.perf_counter()
        catalog.keyword_search(tokens, n)  # every term of the question, common ones too
        t4 = time.perf_counter()
        retrieve(assistant, item["text"])
        t5 = time.perf_counter()
        for key, seconds in zip(("search", "vector", "keyword", "keyword_all_terms", "retrieve"),
                                (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            times[key].append(seconds)
        hits.append(int(any(p.source in item["sources"] for p in passages)))
    asked = items[: max(5, len(items) // 5)]
    for item in asked:  # first sight embeds the passages' sentences; time the warm answer
        assistant.ask(item["text"], use_llm=False)
    for item in asked:
        t0 = time.perf_counter()
        assistant.ask(item["text"], use_llm=False)
        times["ask"].append(time.perf_counter() - t0)
    stats = {key: summary_ms(values) for key, values in times.items()}
    client_mb = psutil.Process().memory_info().rss / 2**20
    server_mb = psutil.Process(server_pid).memory_info().rss / 2**20 if server_pid else 0.0
    return {
        "p50_ms": stats["retrieve"]["p50_ms"], "p95_ms": stats["retrieve"]["p95_ms"],
        "search_p50_ms": stats["search"]["p50_ms"], "search_p95_ms": stats["search"]["p95_ms"],
        "search_first_p50_ms": stats["search_first"]["p50_ms"],
        "keyword_all_terms_p50_ms": stats["keyword_all_terms"]["p50_ms"],
        "vector_p50_ms": stats["vector"]["p50_ms"], "keyword_p50_ms": stats["keyword"]["p50_ms"],
        "keyword_p95_ms": stats["keyword"]["p95_ms"], "ask_p50_ms": stats["ask"]["p50_ms"],
        "queries": len(items), "hit_at_5": round(sum(hits) / len(hits), 3), "open_s": round(open_s, 3),
        "rss_mb": round(client_mb + server_mb, 1), "client_rss_mb": round(client_mb, 1),
        "server_rss_mb": round(server_mb, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description="scaling-curve worker")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grow")
    g.add_argument("--data-dir", type=Path, required=True)
    g.add_argument("--real", type=Path, required=True)
    g.add_argument("--target", type=int, default=None)
    p = sub.add_parser("probe")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--queries", type=Path, required=True)
    p.add_argument("--chroma-port", type=int, default=None)
    p.add_argument("--server-pid", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "grow":
        result = grow(args.data_dir, args.real, args.target)
    else:
        result = probe(args.data_dir, args.queries, args.chroma_port, args.server_pid)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
