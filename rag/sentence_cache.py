"""Passage-side e5 vectors of sentences for the read path: from the store, cached in memory.

Ingest stored one vector per sentence (``index/store.py``). Retrieval scores every candidate chunk by
its sentences and the answerer picks and checks sentences by them, so both read them here, and a
chunk read once is not read from Chroma again: fetching ~100 candidates' sentences costs milliseconds
per question, more than the nearest-neighbour search itself. Chunks are cached by id *and* text: ids
are positional (``source::ordinal``), so a chunk of an edited document has new text and misses.
A sentence the store does not have (a passage cut differently, a claim's sentence) is embedded on
first use and cached by its text. Both caches are LRU; at their default sizes (5,000 chunks, 20,000
sentences of 384 floats) they hold at most ~55 MB.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index.chunking import split_sentences
from index.embedding import Embedder
from index.store import VectorStore


@dataclass(frozen=True)
class ChunkSentences:
    """A chunk's sentences: absolute ``spans``, their ``vectors`` (one row each) and the chunk's ``vector``."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray
    vector: np.ndarray
    """Normalised mean of ``vectors``: how ingest made the chunk's own vector."""


@dataclass(frozen=True)
class ChunkRef:
    """What identifies a chunk's sentences: its id, where it starts in its document, its text."""

    id: str
    start: int
    text: str


class SentenceVectors:
    """Sentence vectors by chunk (LRU of ``chunk_capacity`` chunks) and by text (LRU of ``text_capacity``)."""

    def __init__(self, embedder: Embedder, store: VectorStore | None = None,
                 chunk_capacity: int = 5_000, text_capacity: int = 20_000):
        self._embedder = embedder
        self._store = store
        self._chunks: OrderedDict[tuple[str, str], ChunkSentences] = OrderedDict()
        self._texts: OrderedDict[str, np.ndarray] = OrderedDict()
        self._chunk_capacity = chunk_capacity
        self._text_capacity = text_capacity
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def of_chunks(self, chunks: list[ChunkRef]) -> dict[str, ChunkSentences]:
        """Sentences of each chunk found in the store (or the cache), keyed by chunk id."""
        out: dict[str, ChunkSentences] = {}
        missing: list[ChunkRef] = []
        with self._lock:
            for chunk in chunks:
                cached = self._chunks.get((chunk.id, chunk.text))
                if cached is None:
                    missing.append(chunk)
                else:
                    self._chunks.move_to_end((chunk.id, chunk.text))
                    out[chunk.id] = cached
            self.hits += len(out)
            self.misses += len(missing)
        if missing and self._store is not None:
            loaded = self._load(missing)
            with self._lock:
                for chunk in missing:
                    if chunk.id in loaded:
                        self._chunks[(chunk.id, chunk.text)] = loaded[chunk.id]
                while len(self._chunks) > self._chunk_capacity:
                    self._chunks.popitem(last=False)
            out.update(loaded)
        return out

    def prefetch(self, passages) -> None:
        """Put the stored vectors of the sentences of ``passages`` (anything with chunk_id, start, text)
        into the text cache, so ``get`` finds them."""
        refs = [ChunkRef(p.chunk_id, p.start, p.text) for p in passages]
        found = self.of_chunks(refs)
        with self._lock:
            for ref in refs:
                if ref.id not in found:
                    continue
                for (start, end), vector in zip(found[ref.id].spans, found[ref.id].vectors):
                    self._texts[ref.text[start - ref.start : end - ref.start]] = vector
            self._trim_texts()

    def get(self, texts: list[str]) -> np.ndarray:
        """One vector per text (rows in order), embedding the texts seen neither in the store nor before."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._texts))
        if missing:
            vectors = self._embedder.embed_passages(missing)
            with self._lock:
                for text, vector in zip(missing, vectors):
                    self._texts[text] = vector
        with self._lock:
            rows = []
            for text in texts:
                vector = self._texts.get(text)
                if vector is None:  # evicted between the two steps by another thread's burst
                    vector = self._embedder.embed_passages([text])[0]
                    self._texts[text] = vector
                self._texts.move_to_end(text)
                rows.append(vector)
            self._trim_texts()
            return np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._texts.clear()

    def _trim_texts(self) -> None:
        while len(self._texts) > self._text_capacity:
            self._texts.popitem(last=False)

    def _load(self, chunks: list[ChunkRef]) -> dict[str, ChunkSentences]:
        """Read from the store: by sentence id when the chunk's text splits into the sentences ingest
        stored (``{chunk id}@{start}``, the fast path), else every sentence stored under the chunk's id."""
        spans = {c.id: [(c.start + s, c.start + e) for s, e in split_sentences(c.text)] for c in chunks}
        wanted = {f"{chunk_id}@{start}": chunk_id for chunk_id, found in spans.items() for start, _ in found}
        by_id = self._store.sentence_vectors_by_id(list(wanted))
        out: dict[str, ChunkSentences] = {}
        unsure = []
        for chunk_id, found in spans.items():
            ids = [f"{chunk_id}@{start}" for start, _ in found]
            if ids and all(i in by_id for i in ids):
                out[chunk_id] = _chunk_sentences(found, [by_id[i] for i in ids])
            else:
                unsure.append(chunk_id)
        rows: dict[str, list[tuple[int, int, np.ndarray]]] = {}
        for chunk_id, start, end, vector in self._store.sentence_vectors(unsure) if unsure else []:
            rows.setdefault(chunk_id, []).append((start, end, vector))
        for chunk_id, found in rows.items():
            found.sort(key=lambda row: row[0])
            out[chunk_id] = _chunk_sentences([(s, e) for s, e, _ in found], [v for _, _, v in found])
        return out


def _chunk_sentences(spans: list[tuple[int, int]], vectors: list[np.ndarray]) -> ChunkSentences:
    matrix = np.stack(vectors).astype(np.float32, copy=False)
    mean = matrix.mean(axis=0)
    return ChunkSentences(tuple(spans), matrix, mean / max(float(np.linalg.norm(mean)), 1e-12))
