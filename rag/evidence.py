"""Passages in, ranked ``Evidence`` sentences out, plus the test of whether evidence supports a claim.

Sentences are scored by e5 cosine with the question (cross-lingual) plus IDF coverage of the
question's words (same-language names and numbers). Sentence vectors come from the vector store,
where ingest put them; any sentence not found there is embedded on first use and cached.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index.chunking import split_sentences
from index.embedding import Embedder
from index.store import VectorStore
from rag.answers import Passage
from rag.retrieval import KeywordScorer

# Photo captions, credits and file names are sentences by punctuation, not statements.
_NOT_A_STATEMENT = re.compile(r"^\s*(ảnh|photo|nguồn|source|crédit|credit)\s*:|\.(jpe?g|png|gif|webp)\s*$", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_SENTENCE_CHARS = 25


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage with its scores; offsets are into the document text."""

    passage: int
    source: str
    start: int
    end: int
    text: str
    cosine: float
    coverage: float
    score: float


class SentenceVectors:
    """Passage-side e5 vectors of sentences, cached by text (LRU), loaded from the store when it has them."""

    def __init__(self, embedder: Embedder, store: VectorStore | None = None, capacity: int = 50_000):
        self._embedder = embedder
        self._store = store
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = capacity
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    def prefetch(self, passages: list[Passage]) -> None:
        """Load the stored vectors of the passages' sentences into the cache."""
        if self._store is None or not passages:
            return
        by_chunk = {p.chunk_id: p for p in passages}
        with self._lock:
            wanted = [i for i in by_chunk if i not in self._loaded]
        found = self._store.sentence_vectors(wanted) if wanted else []
        with self._lock:
            for chunk_id, start, end, vector in found:
                passage = by_chunk[chunk_id]
                self._cache[passage.text[start - passage.start : end - passage.start]] = vector
            if len(self._loaded) > self._capacity:
                self._loaded.clear()
            self._loaded.update(wanted)

    def get(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self._embedder.embed_passages(missing)
            with self._lock:
                for text, vector in zip(missing, vectors):
                    self._cache[text] = vector
                while len(self._cache) > self._capacity:
                    self._cache.popitem(last=False)
        with self._lock:
            for text in texts:
                self._cache.move_to_end(text)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)


def passage_sentences(passages: list[Passage]) -> list[tuple[int, int, int, str]]:
    """``(passage index, start, end, text)`` of the statement sentences of each passage."""
    out = []
    for index, passage in enumerate(passages):
        for start, end in split_sentences(passage.text):
            text = passage.text[start:end]
            if len(text) < MIN_SENTENCE_CHARS or _NOT_A_STATEMENT.search(text):
                continue
            out.append((index, passage.start + start, passage.start + end, text))
    return out


def rank_evidence(
    query_vector: np.ndarray,
    passages: list[Passage],
    keywords: KeywordScorer,
    vectors: SentenceVectors,
    keyword_weight: float,
) -> list[Evidence]:
    """Every statement sentence of ``passages``, best first."""
    sentences = passage_sentences(passages)
    if not sentences:
        return []
    vectors.prefetch(passages)
    cosines = vectors.get([s[3] for s in sentences]) @ query_vector
    ranked = []
    for (index, start, end, text), cosine in zip(sentences, cosines.tolist()):
        coverage = keywords.coverage(text)
        ranked.append(
            Evidence(index, passages[index].source, start, end, text, cosine, coverage,
                     cosine + keyword_weight * coverage)
        )
    ranked.sort(key=lambda e: -e.score)
    return ranked


def numbers_in(text: str) -> set[str]:
    """Numbers as written, without thousands separators (``12.000`` and ``12,000`` -> ``12000``)."""
    return {re.sub(r"[.,](?=\d{3}\b)", "", n) for n in _NUMBER.findall(text)}
