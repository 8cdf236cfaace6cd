"""The exported model scored through the runtime (``rag.reader.AnswerReader``, onnxruntime, int8) on the same
dev sample as torch: what quantisation costs, and the reader's time per question."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from rag.reader.reader import AnswerReader
from training.data import DevItem
from training.train import auroc, z


def runtime_dev(model_dir: Path, items: list[DevItem], threads: int) -> dict:
    reader = AnswerReader(threads, model_dir)
    reader.warm_up()
    out: dict = {}
    times = []
    for pair in sorted({it.pair for it in items}):
        sub = [it for it in items if it.pair == pair]
        hits = {"reader": [], "blend": []}
        pos, neg = [], []
        for it in sub:
            t0 = time.perf_counter()
            r = reader.run(it.question, list(it.texts))
            times.append((len(it.texts), time.perf_counter() - t0))
            s = r.scores
            hits["reader"].append(int(np.argmax(s)) == it.target)
            hits["blend"].append(int(np.argmax(z(s) + z(np.array(it.cos)))) == it.target)
            pos.append(r.answer_probability)
            if it.removed_texts:
                neg.append(reader.run(it.question, list(it.removed_texts)).answer_probability)
        out[pair] = {"n": len(sub), **{f"p1_{k}": round(float(np.mean(v)), 3) for k, v in hits.items()},
                     "auroc_reader": round(auroc(pos, neg), 3)}
    per = np.array([t for _, t in times])
    out["seconds_per_question"] = {"p50": round(float(np.median(per)), 3), "p95": round(float(np.percentile(per, 95)), 3),
                                   "mean_candidates": round(float(np.mean([n for n, _ in times])), 1)}
    return out
