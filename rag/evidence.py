"""Passages in, ranked ``Evidence`` sentences out: the sentences that may answer, best first.

Sentences are scored by e5 cosine with the question (cross-lingual) plus IDF coverage of the
question's words (same-language names and numbers). Sentence vectors come from ``rag.sentence_cache``.
"""

from __future__ import annotations

import numpy as np

from index.chunking import sentences
from rag.facts import has_answer_type
from rag.injection import is_instruction
from rag.keywords import KeywordScorer, relative_to_language
from rag.sentence_cache import SentenceVectors
from rag.settings import AnswerSettings
from rag.values import Evidence, Passage, Query

MIN_SENTENCE_CHARS = 12


def passage_sentences(passages: list[Passage]) -> list[tuple[int, int, int, str]]:
    """``(passage index, start, end, text)`` of the statement sentences of each passage.

    Headings, image lines, captions and metadata lines (``index.chunking`` kinds) are left out: they
    are searchable, but never quoted as an answer or accepted as support.
    """
    out = []
    for index, passage in enumerate(passages):
        for sentence in sentences(passage.text):
            start, end = sentence.start, sentence.end
            text = passage.text[start:end]
            if not sentence.statement or len(text) < MIN_SENTENCE_CHARS or is_instruction(text):
                continue
            out.append((index, passage.start + start, passage.start + end, text))
    return out


def rank_evidence(
    query_vector: np.ndarray,
    passages: list[Passage],
    keywords: KeywordScorer,
    vectors: SentenceVectors,
    keyword_weight: float,
    wanted_type: str | None = None,
    type_bonus: float = 0.0,
) -> list[Evidence]:
    """Every statement sentence of ``passages``, best first; sentences holding the wanted answer type gain."""
    sentences = passage_sentences(passages)
    if not sentences:
        return []
    vectors.prefetch(passages)
    cosines = vectors.get([s[3] for s in sentences]) @ query_vector
    coverages = {k: keywords.coverage(s[3]) for k, s in enumerate(sentences)}
    relative = relative_to_language(coverages, {k: passages[s[0]].language for k, s in enumerate(sentences)})
    ranked = []
    for k, ((index, start, end, text), cosine) in enumerate(zip(sentences, cosines.tolist())):
        bonus = type_bonus if wanted_type and has_answer_type(text, wanted_type) else 0.0
        evidence = Evidence(index, passages[index].source, start, end, text, cosine, coverages[k],
                            cosine + keyword_weight * coverages[k] + bonus)
        # Ordered with coverage relative to the sentence's language (see keywords.relative_to_language);
        # the absolute score is what the abstention thresholds were fitted on.
        ranked.append((cosine + keyword_weight * relative[k] + bonus, evidence))
    ranked.sort(key=lambda item: -item[0])
    return [evidence for _, evidence in ranked]


class EvidenceRanking:
    """Read path stage ``evidence``: the statement sentences of the best ``evidence_passages`` passages, best first."""

    def __init__(self, settings: AnswerSettings, vectors: SentenceVectors):
        self._settings = settings
        self._vectors = vectors

    def warm_up(self) -> None:
        """Nothing to load: sentence vectors come from the store as passages are retrieved."""

    def run(self, query: Query, passages: list[Passage]) -> list[Evidence]:
        return rank_evidence(query.vector, passages[: self._settings.evidence_passages], query.evidence_keywords,
                             self._vectors, self._settings.evidence_keyword_weight, query.expected,
                             self._settings.answer_type_bonus)
