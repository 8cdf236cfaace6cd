"""Question in, ranked ``Passage``s out: dense (e5), keyword (BM25) or a language-aware hybrid.

Dense score of a chunk = (1 - b) x cosine with the chunk + b x cosine with its best sentence, so a
chunk wins when one of its sentences answers the question even if the rest is about something else.

Why not reciprocal-rank fusion: an English question and a Vietnamese passage share almost no words,
so the keyword ranking of a cross-lingual question is noise, and RRF credits noise exactly like
signal (on XQuAD it drops en->vi MRR from 0.83 to 0.53). Instead every candidate keeps its dense
score and gains ``keyword_weight x coverage``, where coverage is the share of the question's IDF
mass that the chunk contains (relative to other candidates in the same language). A question that
shares only a name or a number with the corpus has little mass to cover with, so its keywords nudge
the dense ranking instead of replacing it.
The weights were fitted on XQuAD (``python -m evals.calibrate``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from index.catalog import Catalog, tokenize
from index.documents import Chunk
from index.embedding import Embedder
from index.settings import Settings
from index.store import VectorStore
from rag.answers import Passage
from rag.vectors import ChunkRef, SentenceVectors

# A term in more than max(50, 10% of) chunks is left out of the keyword *search*, not of the scoring:
# FTS5 ranks every chunk a query term occurs in, so at 100k chunks "the" or "của" cost ~75 ms per
# question while adding next to no IDF. Measured on XQuAD: hybrid MRR 0.915 vs 0.916 with every term.
_COMMON_TERM_CHUNKS = 50
_COMMON_TERM_SHARE = 0.1


@lru_cache(maxsize=4096)
def token_set(text: str) -> frozenset[str]:
    """The distinct tokens of ``text``; cached (at most ~60 MB for 500-character chunks), as the same
    passages and sentences come back question after question."""
    return frozenset(tokenize(text))


class KeywordScorer:
    """IDF-weighted coverage of a question's tokens, with document frequencies from the catalog."""

    def __init__(self, catalog: Catalog, question_tokens: list[str]):
        self.tokens = sorted(set(question_tokens))
        df, total = catalog.document_frequencies(self.tokens)
        self.idf = {t: math.log(1 + (total - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in self.tokens}
        self._mass = sum(self.idf.values()) or 1.0
        limit = max(_COMMON_TERM_CHUNKS, _COMMON_TERM_SHARE * total)
        self.search_tokens = [t for t in self.tokens if df.get(t, 0) <= limit]

    def coverage(self, text: str) -> float:
        present = token_set(text)
        return sum(w for t, w in self.idf.items() if t in present) / self._mass


def relative_to_language(coverage: dict[str, float], language: dict[str, str]) -> dict[str, float]:
    """Coverage minus the median coverage of the candidates in the same language.

    A question shares its function words with every text in its own language, so in a mixed-language
    collection raw coverage would favour documents in the question's language over the one that
    answers it. Measured against its own language's typical candidate, a text only gains for the
    words it shares beyond that; in a one-language collection this changes no ranking.
    """
    groups: dict[str, list[float]] = {}
    for key, value in coverage.items():
        groups.setdefault(language[key], []).append(value)
    medians = {lang: float(np.median(values)) for lang, values in groups.items()}
    return {key: value - medians[language[key]] for key, value in coverage.items()}


class Retriever:
    """Read path stage 1: find the passages most likely to answer a question."""

    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder,
                 vectors: SentenceVectors | None = None):
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._embedder = embedder
        self._vectors = vectors or SentenceVectors(embedder, store)

    def run(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        context: list[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """Top ``k`` passages for ``question``; ``context`` (earlier turns) informs a follow-up question."""
        k = k or self._settings.top_k
        mode = mode or self._settings.retrieval_mode
        n = max(self._settings.candidates, k)
        tokens = tokenize(question)
        for turn in context or []:
            tokens += tokenize(turn)
        if mode == "keyword":
            hits = self._catalog.keyword_search(tokens, k)
            chunks = self._catalog.chunks([i for i, _ in hits])
            return [self._passage(chunks[i], s, keyword=s) for i, s in hits if i in chunks]

        vector = self.query_vector(question, context) if query_vector is None else query_vector
        # Candidates: the nearest chunk vectors and the best keyword matches. A second nearest-neighbour
        # search over sentence vectors found nothing more on XQuAD (hybrid MRR 0.916 either way) for 1 ms.
        candidates = dict.fromkeys(i for i, _ in self._store.query(vector, n))
        scorer = KeywordScorer(self._catalog, tokens) if mode == "hybrid" else None
        keyword_hits = self._catalog.keyword_search(scorer.search_tokens, n) if scorer else []
        candidates.update(dict.fromkeys(i for i, _ in keyword_hits))
        chunks = self._catalog.chunks(list(candidates))
        dense = self._dense_scores(vector, [chunks[i] for i in candidates if i in chunks])
        coverage = {i: scorer.coverage(chunks[i].text) for i in dense} if scorer else dict.fromkeys(dense, 0.0)
        relative = relative_to_language(coverage, {i: chunks[i].language for i in dense})
        scored = []
        for chunk_id, score in dense.items():
            fused = score + self._settings.keyword_weight * relative[chunk_id]
            scored.append((fused, chunks[chunk_id], score, coverage[chunk_id]))
        scored.sort(key=lambda item: -item[0])
        return [self._passage(c, s, dense=d, keyword=cov if scorer else None) for s, c, d, cov in scored[:k]]

    def _dense_scores(self, vector: np.ndarray, chunks: list[Chunk]) -> dict[str, float]:
        """Blend of chunk cosine and best-sentence cosine for each candidate chunk found in the store."""
        found = self._vectors.of_chunks([ChunkRef(c.id, c.start, c.text) for c in chunks])
        ids = [c.id for c in chunks if c.id in found]
        if not ids:
            return {}
        chunk_cos = np.stack([found[i].vector for i in ids]) @ vector
        sentence_cos = np.concatenate([found[i].vectors for i in ids]) @ vector
        ends = np.cumsum([len(found[i].vectors) for i in ids])
        best = np.maximum.reduceat(sentence_cos, np.concatenate([[0], ends[:-1]]))
        b = self._settings.sentence_weight
        return {i: float((1 - b) * c + b * s) for i, c, s in zip(ids, chunk_cos, best)}

    def query_vector(self, question: str, context: list[str] | None = None) -> np.ndarray:
        """The question's embedding; earlier turns pull it towards the conversation's topic."""
        texts = [question, *(context or [])[-2:]]
        vectors = self._embedder.embed_queries(texts)
        if len(texts) == 1:
            return vectors[0]
        weights = np.array([1.0] + [0.5] * (len(texts) - 1), dtype=np.float32)
        combined = (vectors * weights[:, None]).sum(axis=0)
        return combined / max(float(np.linalg.norm(combined)), 1e-12)

    @staticmethod
    def _passage(chunk, score: float, dense: float | None = None, keyword: float | None = None) -> Passage:
        return Passage(
            chunk_id=chunk.id, source=chunk.source, start=chunk.start, end=chunk.end, text=chunk.text,
            language=chunk.language, score=float(score), dense=dense, keyword=keyword,
        )
