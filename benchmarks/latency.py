"""Warm query latency, ours against the llama-index baseline, question by question.

For each question, in turn: our hybrid retrieval (``Assistant.retrieve``), our dense-only retrieval,
the baseline's ``retriever.retrieve`` and our end-to-end extractive ``Assistant.ask``; interleaving
them means a burst of load from other processes slows all sides alike. ``ask`` embeds sentences of
passages it finds neither in the store nor in its cache, so the first ``repeat`` questions are asked
again: ``ask_first`` vs ``ask_again`` on the same questions shows what caching still buys.
Retrieval quality rides along: hit@1 and hit@5 of the files that answer each question.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

import numpy as np

from benchmarks.baseline import LlamaIndexBaseline
from benchmarks.corpus import Question


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linear interpolation; NaN when empty."""
    return float(np.percentile(values, q)) if values else float("nan")


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


def retrieve(assistant, question: str, mode: str | None = None) -> list[str]:
    """Sources of our top-k passages."""
    return [p.source for p in assistant.retrieve(question, mode=mode)]


def measure_latency(assistant, baseline: LlamaIndexBaseline, questions: list[Question], repeat: int,
                    warmup: int = 3) -> dict:
    """Timings (seconds) and hits per side, overall and per question kind; ``repeat`` asks are re-timed."""
    for q in questions[:warmup]:
        retrieve(assistant, q.text), baseline.retrieve(q.text), assistant.ask(q.text, use_llm=False)
    times: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    hits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    parts: dict[str, list[float]] = defaultdict(list)
    abstained = 0
    for q in questions:
        for side, call in (
            ("ours_hybrid", lambda: retrieve(assistant, q.text)),
            ("ours_dense", lambda: retrieve(assistant, q.text, mode="dense")),
            ("baseline", lambda: baseline.retrieve(q.text)),
            ("ask", lambda: assistant.ask(q.text, use_llm=False)),
        ):
            start = time.perf_counter()
            out = call()
            elapsed = time.perf_counter() - start
            times[side].append(elapsed)
            kinds[q.kind][side].append(elapsed)
            if side == "ask":
                abstained += out.abstained
                for key, value in out.timings.items():
                    parts[key].append(value)
                continue
            rank = next((r for r, source in enumerate(out) if source in q.sources), None)
            hits[side][f"{q.kind}@1"].append(int(rank == 0))
            hits[side][f"{q.kind}@5"].append(int(rank is not None and rank < 5))
    for q in questions[:repeat]:
        start = time.perf_counter()
        assistant.ask(q.text, use_llm=False)
        times["ask_again"].append(time.perf_counter() - start)
    times["ask_first"] = times["ask"][:repeat]
    return {
        "questions": len(questions),
        "by_kind_questions": {k: len(next(iter(v.values()))) for k, v in kinds.items()},
        "overall": {side: summary_ms(values) for side, values in times.items()},
        "by_kind": {kind: {side: summary_ms(v) for side, v in sides.items()} for kind, sides in kinds.items()},
        "ask_parts_p50_ms": {k: round(percentile([x * 1000 for x in v], 50), 2) for k, v in parts.items()},
        "ask_abstained": abstained,
        "hit_rate": {side: {k: round(statistics.fmean(v), 3) for k, v in sorted(h.items())} for side, h in hits.items()},
    }
