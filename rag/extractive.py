"""Ranked evidence in, an ``Answer`` out, with no model but the embedder: the offline default.

The answer is the best supporting sentence (and up to two more that score nearly as well), quoted
verbatim in the document's language, each followed by its ``[n]`` marker. When the best sentence is
too weak to support an answer, the answerer abstains in the question's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answers import Answer, Citation, Passage
from rag.evidence import Evidence, numbers_in
from rag.reader.rerank import Reading

ABSTENTIONS = {
    "en": "The documents don't say.",
    "vi": "Các tài liệu không đề cập đến điều này.",
    "fr": "Les documents ne le disent pas.",
}


def abstention_text(language: str) -> str:
    return ABSTENTIONS.get(language, ABSTENTIONS["en"])


@dataclass(frozen=True)
class SupportPolicy:
    """When the best sentence is strong enough to answer from.

    The thresholds apply to ``Evidence.score`` and were fitted on XQuAD (``python -m evals.calibrate``:
    questions asked with their paragraph removed from the corpus must abstain), never on our own
    eval questions. Cross-language similarities run lower, so they get their own threshold.
    """

    min_score_same_language: float = 0.8925
    min_score_cross_language: float = 0.8075
    extra_margin: float = 0.01

    def supports(self, question: str, language: str, best: Evidence, passage: Passage) -> bool:
        # A number the question names (a year, a count) must appear in the passage that answers it.
        wanted = numbers_in(question)
        if wanted and not wanted <= numbers_in(passage.text):
            return False
        same = language == passage.language
        return best.score >= (self.min_score_same_language if same else self.min_score_cross_language)


class ExtractiveAnswerer:
    """Read path stage 2 (offline): quote the sentences that answer the question."""

    def __init__(self, policy: SupportPolicy | None = None, max_sentences: int = 3):
        self.policy = policy or SupportPolicy()
        self._max = max_sentences

    def run(self, question: str, language: str, evidence: list[Evidence], passages: list[Passage],
            titles: dict[str, str], reading: Reading | None = None) -> Answer:
        if reading is not None:
            # The reader's order and its verdict replace the cosine selector's (rag/reader/rerank.py).
            evidence = reading.evidence
        if not evidence or not (reading.supported if reading is not None else
                                self.policy.supports(question, language, evidence[0], passages[evidence[0].passage])):
            return Answer(question=question, text=abstention_text(language), abstained=True,
                          passages=passages, language=language,
                          confidence=reading.probability if reading is not None else None)
        chosen = [evidence[0]]
        for candidate in evidence[1:]:
            if len(chosen) >= self._max:
                break
            if candidate.score >= evidence[0].score - self.policy.extra_margin:
                chosen.append(candidate)
        # Read in document order, like the text they come from.
        chosen.sort(key=lambda e: (e.source, e.start))
        answer = compose(question, language, chosen, passages, titles)
        answer.confidence = reading.probability if reading is not None else None
        return answer


def compose(question: str, language: str, chosen: list[Evidence], passages: list[Passage],
            titles: dict[str, str]) -> Answer:
    """Quote each chosen sentence followed by its marker; equal quotes share a number."""
    citations: list[Citation] = []
    parts = []
    for item in chosen:
        key = (item.source, item.start, item.end)
        existing = next((c for c in citations if (c.source, c.start, c.end) == key), None)
        if existing is None:
            existing = Citation(n=len(citations) + 1, source=item.source, start=item.start, end=item.end,
                                quote=item.text, title=titles.get(item.source, ""), passage=item.passage)
            citations.append(existing)
        parts.append(f"{item.text} [{existing.n}]")
    return Answer(question=question, text=" ".join(parts), abstained=False, citations=citations,
                  passages=passages, language=language)
