"""cProfile of our own code: where ``ask`` and ``add`` spend their time outside the embedder.

Returns the functions of ``rag/`` and ``index/`` ranked by cumulative time, and the total split into
embedding, vector store (Chroma), catalog (SQLite) and the rest, so a slow stage of ours stands out.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable

from benchmarks.corpus import ROOT

_OURS = (str(ROOT / "rag") + "/", str(ROOT / "index") + "/")
_BUCKETS = {
    "embedder": ("index/embedding.py", ("embed_passages", "embed_queries")),
    "vector_store": ("index/store.py", None),
    "catalog": ("index/catalog.py", None),
}


def profile(call: Callable[[], object], top: int = 14) -> dict:
    """Run ``call`` under cProfile; our functions by cumulative seconds and a coarse time split."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(call)
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    ours = []
    buckets = dict.fromkeys(_BUCKETS, 0.0)
    for (path, line, name), (_cc, calls, self_s, cum_s, callers) in stats.items():
        if not path.startswith(_OURS):
            continue
        relative = path[len(str(ROOT)) + 1 :]
        ours.append({"function": f"{relative}:{line}({name})", "calls": calls, "cum_s": round(cum_s, 4),
                     "self_s": round(self_s, 4)})
        for bucket, (file, names) in _BUCKETS.items():
            # Count only calls coming from outside the file, so nested calls are not counted twice.
            outside = any(not c[0].endswith(file) for c in callers)
            if relative == file and (names is None or name in names) and outside:
                buckets[bucket] += sum(v[3] for c, v in callers.items() if not c[0].endswith(file))
    ours.sort(key=lambda row: -row["cum_s"])
    split = {k: round(v, 3) for k, v in buckets.items()}
    split["other"] = round(max(0.0, total - sum(buckets.values())), 3)
    return {"total_s": round(total, 3), "split_s": split, "top": ours[:top]}
