"""The reader's decision, one pure function: reader outputs + retrieval evidence -> ranked sentences, whether
the best one answers, the confidence, and the short answer. Called by the reading stage
(``rag.reader.rerank``), by the policy fit and the eval replay (``python -m evals.reader``) alike.

Its numbers (``ReaderPolicy``) are fitted for one model, on dev articles only, and ship beside that model as
``model/policy.json`` (``python -m evals.reader --split dev --fit``); the test articles and the seeds evals
are never used to fit them.

- Order: ``z(reader score) + evidence_weight * z(evidence score)``, each standardised over the candidates.
- Answerable: a logistic model over the group's answer probability (logit), the chosen sentence's own
  probability (logit), its evidence score and keyword coverage, with its own threshold for questions in the
  document's language and across languages; and every number the question names is in the chosen passage.
- Short answer: the chosen sentence's best span when its probability reaches ``min_span_probability``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

FEATURES = ("answer_logit", "sentence_logit", "evidence_score", "coverage")


@dataclass(frozen=True)
class ReaderPolicy:
    candidates: int = 20
    """Best evidence sentences the reader reads."""
    evidence_weight: float = 0.5
    """Weight of today's evidence score (standardised) in the order, next to the reader's (weight 1)."""
    weights: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
    """Logistic model over ``FEATURES`` (answerable = sigmoid(weights . features + bias))."""
    bias_same_language: float = 0.0
    bias_cross_language: float = 0.0
    min_probability_same_language: float = 0.5
    min_probability_cross_language: float = 0.5
    min_span_probability: float = 0.5
    extra_sentence_probability: float = 0.9
    """A second or third sentence is quoted only when its own probability reaches this (and it adds information)."""
    fitted_on: str = "defaults, not fitted"

    @classmethod
    def load(cls, path: Path) -> ReaderPolicy:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k in known}
        return cls(**values)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Candidate:
    """What the decision needs of one evidence sentence."""

    evidence_score: float
    coverage: float
    same_language: bool
    numbers_ok: bool
    """Every number the question names is in this sentence's passage."""


@dataclass(frozen=True)
class Decision:
    order: list[int]
    """Candidate indices, best first."""
    answerable: float
    """The logistic model's probability that the best candidate answers."""
    supported: bool
    sentence_probabilities: list[float] = field(default_factory=list)
    """Per candidate, in ``order``."""
    extra: list[bool] = field(default_factory=list)
    """Per candidate, in ``order``: may be quoted after the best one."""
    short_answer: int | None = None
    """Index (into the candidates) whose span is the short answer, or None."""


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-6) if len(x) > 1 else np.zeros_like(x)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def features(answer_probability: float, sentence_probability: float, c: Candidate) -> np.ndarray:
    return np.array([_logit(answer_probability), _logit(sentence_probability), c.evidence_score, c.coverage])


def decide(policy: ReaderPolicy, scores: np.ndarray, null: float, answer_probability: float,
           span_probabilities: list[float | None], candidates: list[Candidate]) -> Decision:
    """The reader's verdict on ``candidates`` (reader ``scores`` against ``null``, evidence scores)."""
    if not candidates:
        return Decision([], 0.0, False)
    scores = np.asarray(scores, dtype=np.float64)
    evidence = np.array([c.evidence_score for c in candidates], dtype=np.float64)
    blend = _z(scores) + policy.evidence_weight * _z(evidence)
    order = [int(i) for i in np.argsort(-blend, kind="stable")]
    own = 1.0 / (1.0 + np.exp(-(scores - null)))
    best = candidates[order[0]]
    x = features(answer_probability, float(own[order[0]]), best)
    bias = policy.bias_same_language if best.same_language else policy.bias_cross_language
    answerable = 1.0 / (1.0 + math.exp(-(float(np.dot(policy.weights, x)) + bias)))
    threshold = policy.min_probability_same_language if best.same_language else policy.min_probability_cross_language
    supported = answerable >= threshold and best.numbers_ok
    extra = [bool(own[i] >= policy.extra_sentence_probability and candidates[i].numbers_ok) for i in order]
    span = span_probabilities[order[0]]
    short = order[0] if supported and span is not None and span >= policy.min_span_probability else None
    return Decision(order, answerable, supported, [float(own[i]) for i in order], extra, short)
