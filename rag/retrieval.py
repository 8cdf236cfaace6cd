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
Keyword search also looks for the question's ``accent_variants`` (rag/keywords.py), a match of one
counting ``folded_weight`` (a setting) of an exact one. A question asked of chosen documents (``Query.sources``) is
searched in those only, inside Chroma and inside the keyword SQL, so the top ``k`` are theirs.
A passage names its document as users see it (``Catalog.shown_names``), not by its id.
"""

from __future__ import annotations

import numpy as np

from index.catalog import Catalog
from index.documents import Chunk
from index.store import VectorStore
from rag.keywords import accent_variants, relative_to_language
from rag.sentence_cache import ChunkRef, SentenceVectors
from rag.settings import RetrievalSettings
from rag.values import Passage, Query


class Retriever:
    """Read path stage ``retrieval``: the passages most likely to answer a ``Query``, best first."""

    def __init__(self, settings: RetrievalSettings, catalog: Catalog, store: VectorStore,
                 vectors: SentenceVectors):
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._vectors = vectors

    def warm_up(self) -> None:
        """Open the store (the sentence vectors come on demand)."""
        self._store.open()

    def run(self, query: Query, k: int | None = None, mode: str | None = None) -> list[Passage]:
        """Top ``k`` passages (settings' ``top_k``) by ``mode`` (settings' ``retrieval_mode``)."""
        k = k or self._settings.top_k
        mode = mode or self._settings.retrieval_mode
        n = max(self._settings.candidates, k)
        if mode == "keyword":
            tokens = list(query.retrieval_tokens)
            hits = self._keyword_hits(tokens, *accent_variants(tokens), k, query.sources)
            chunks = self._catalog.chunks([i for i, _ in hits])
            shown = self._catalog.shown_names({c.source for c in chunks.values()})
            return [self._passage(chunks[i], shown, s, keyword=s) for i, s in hits if i in chunks]

        # Candidates: the nearest chunk vectors and the best keyword matches. A second nearest-neighbour
        # search over sentence vectors found nothing more on XQuAD (hybrid MRR 0.916 either way) for 1 ms.
        candidates = dict.fromkeys(i for i, _ in self._store.query(query.vector, n, sources=query.sources))
        scorer = query.retrieval_keywords if mode == "hybrid" else None
        keyword_hits = self._keyword_hits(scorer.search_tokens, scorer.unaccented_search_tokens,
                                          scorer.bare_search_tokens, n, query.sources) if scorer else []
        candidates.update(dict.fromkeys(i for i, _ in keyword_hits))
        chunks = self._catalog.chunks(list(candidates))
        dense = self._dense_scores(query.vector, [chunks[i] for i in candidates if i in chunks])
        coverage = {i: scorer.coverage(chunks[i].text) for i in dense} if scorer else dict.fromkeys(dense, 0.0)
        relative = relative_to_language(coverage, {i: chunks[i].language for i in dense})
        scored = []
        for chunk_id, score in dense.items():
            fused = score + self._settings.keyword_weight * relative[chunk_id]
            scored.append((fused, chunks[chunk_id], score, coverage[chunk_id]))
        scored.sort(key=lambda item: -item[0])
        shown = self._catalog.shown_names({c.source for _, c, _, _ in scored[:k]})
        return [self._passage(c, shown, s, dense=d, keyword=cov if scorer else None) for s, c, d, cov in scored[:k]]

    def _keyword_hits(self, tokens: list[str], unaccented: list[str], bare: list[str], n: int,
                      sources: tuple[str, ...] | None) -> list[tuple[str, float]]:
        """The ``n`` best chunks by BM25 of ``tokens`` plus ``folded_weight`` x BM25 of their accent variants:
        ``unaccented`` ones in the folded index, ``bare`` forms in the exact one."""
        scores = dict(self._catalog.keyword_search(tokens, n, sources=sources))
        for hits in (self._catalog.keyword_search(unaccented, n, folded=True, sources=sources),
                     self._catalog.keyword_search(bare, n, sources=sources)):
            for chunk_id, score in hits:
                scores[chunk_id] = scores.get(chunk_id, 0.0) + self._settings.folded_weight * score
        return sorted(scores.items(), key=lambda item: -item[1])[:n]

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

    @staticmethod
    def _passage(chunk, shown: dict[str, str], score: float, dense: float | None = None,
                 keyword: float | None = None) -> Passage:
        """A passage citing its document by the name users see (``shown``: id -> name)."""
        return Passage(
            chunk_id=chunk.id, source=shown.get(chunk.source, chunk.source), start=chunk.start, end=chunk.end, text=chunk.text,
            language=chunk.language, score=float(score), dense=dense, keyword=keyword,
        )
