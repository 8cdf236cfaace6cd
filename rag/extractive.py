"""Ranked evidence in, an ``Answer`` out, with no model but the embedder: the offline default.

The answer is the best supporting sentence (and up to two more that score nearly as well, support the
answer on their own and add information the others lack), quoted in the document's language, each
followed by its ``[n]`` marker. When the best sentence is too weak to support an answer, the answerer
abstains in the question's language and returns the closest sentences as ``Answer.closest``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from index.catalog import tokenize
from rag.values import Answer, Citation, Claim, Evidence, Passage
from rag.facts import answer_type, answer_values, numbers_in, states_numbers_of
from rag.reader.rerank import Reading
from rag.settings import AnswerSettings
from rag.verification import CitationBook, quotes_hold

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
    eval questions. Cross-language similarities run lower, so they get their own threshold. The values
    are settings (``AnswerSettings``: ``RAG_MIN_SCORE_SAME_LANGUAGE``...).
    """

    min_score_same_language: float
    min_score_cross_language: float
    extra_margin: float

    @classmethod
    def of(cls, settings: AnswerSettings) -> SupportPolicy:
        return cls(settings.min_score_same_language, settings.min_score_cross_language, settings.extra_margin)

    def supports(self, question: str, language: str, best: Evidence, passage: Passage) -> bool:
        if not states_numbers_of(question, passage.text):
            return False
        same = language == passage.language
        return best.score >= (self.min_score_same_language if same else self.min_score_cross_language)


class ExtractiveAnswerer:
    """Read path stage ``answer`` (offline, the default): quote the sentences that answer the question."""

    def __init__(self, settings: AnswerSettings | None = None):
        settings = settings or AnswerSettings()
        self.policy = SupportPolicy.of(settings)
        self._max = settings.max_sentences
        self._max_closest = settings.max_closest

    def warm_up(self) -> None:
        """Nothing to load: no model but the embedder, whose scores arrive with the evidence."""

    def run(self, question: str, language: str, evidence: list[Evidence], passages: list[Passage],
            titles: dict[str, str], reading: Reading | None = None) -> Answer:
        """The answer, each citation checked to quote its passage at its offsets (``quotes_hold``)."""
        return quotes_hold(self._answer(question, language, evidence, passages, titles, reading))

    def _answer(self, question: str, language: str, evidence: list[Evidence], passages: list[Passage],
                titles: dict[str, str], reading: Reading | None) -> Answer:
        if reading is not None:
            return self._from_reading(question, language, reading, passages, titles)

        def supported(item: Evidence) -> bool:
            return self.policy.supports(question, language, item, passages[item.passage])

        if not evidence or not supported(evidence[0]):
            return abstention(question, language, passages, closest(evidence, titles, self._max_closest))
        best = evidence[0].score
        chosen = select_sentences(evidence, lambda e: supported(e) and e.score >= best - self.policy.extra_margin,
                                  self._max, answer_type(question, language))
        # Read in document order, like the text they come from.
        chosen.sort(key=lambda e: (e.source, e.start))
        return compose(question, language, chosen, passages, titles)

    def _from_reading(self, question: str, language: str, reading: Reading, passages: list[Passage],
                      titles: dict[str, str]) -> Answer:
        """The reader's order and verdict replace the cosine selector's (rag/reader/rerank.py); a further sentence
        is quoted only when the reader says it answers on its own; the short answer leads when there is one."""
        evidence = reading.evidence
        if not evidence or not reading.supported:
            return abstention(question, language, passages, closest(evidence, titles, self._max_closest),
                              confidence=reading.probability)
        chosen = reader_choice(evidence, reading.extra, self._max, answer_type(question, language))
        short = None
        if reading.short_answer is not None:
            short = " ".join(reading.short_answer.text.split())
        return compose(question, language, chosen, passages, titles, short_answer=short,
                       short_answer_of=evidence[0], confidence=reading.probability)


def reader_choice(ranked: list[Evidence], extra: list[bool], limit: int, wanted: str | None) -> list[Evidence]:
    """The sentences quoted from a reader's ranking, in document order: the best one, then those the reader says
    answer on their own (``extra``, per ranked sentence) and that add information."""
    ok = {id(e): flag for e, flag in zip(ranked, extra)}
    chosen = select_sentences(ranked, lambda e: ok[id(e)], limit, wanted)
    return sorted(chosen, key=lambda e: (e.source, e.start))


def select_sentences(ranked: list[Evidence], supported: Callable[[Evidence], bool], limit: int,
                     wanted: str | None = None) -> list[Evidence]:
    """The best sentence, then each next one (best first) that ``supported`` accepts on its own and that
    adds to what the chosen ones say (``adds_information``, about the ``wanted`` answer type), up to ``limit``.

    A rule over the ranking, not the scores: any scorer that orders the evidence and says whether one
    sentence supports an answer can use it.
    """
    chosen = ranked[:1]
    for candidate in ranked[1:]:
        if len(chosen) >= limit:
            break
        if adds_information(candidate, chosen, wanted) and supported(candidate):
            chosen.append(candidate)
    return chosen


NEW_WORDS = 0.5
"""Share of a further sentence's words the chosen sentences must lack for it to add information."""


def adds_information(candidate: Evidence, chosen: list[Evidence], wanted: str | None = None) -> bool:
    """True when ``candidate`` says something the ``chosen`` sentences do not: most of its words are new
    to them, it is not the same numbers again (a translation or a repeat of the same fact), and when the
    question asks for a ``wanted`` type (person, date, number) it states one the chosen ones do not."""
    words = set(tokenize(candidate.text))
    seen = set().union(*(tokenize(c.text) for c in chosen))
    if not words or len(words - seen) < NEW_WORDS * len(words):
        return False
    numbers = numbers_in(candidate.text)
    if numbers and numbers <= set().union(*(numbers_in(c.text) for c in chosen)):
        return False
    return not wanted or bool(answer_values(candidate.text, wanted)
                              - set().union(*(answer_values(c.text, wanted) for c in chosen)))


def closest(evidence: list[Evidence], titles: dict[str, str], limit: int) -> list[Citation]:
    """The sentences closest to the question when none answers it, one per passage, best first, as
    ``Citation``s (so they are shown as source cards) but never as ``[n]`` markers of an answer."""
    picked: list[Evidence] = []
    for item in evidence:
        if len(picked) >= limit:
            break
        if all(item.passage != p.passage for p in picked) and (not picked or adds_information(item, picked)):
            picked.append(item)
    return [Citation(n=n, source=e.source, start=e.start, end=e.end, quote=e.text, title=titles.get(e.source, ""),
                     passage=e.passage) for n, e in enumerate(picked, start=1)]


def compose(question: str, language: str, chosen: list[Evidence], passages: list[Passage],
            titles: dict[str, str], short_answer: str | None = None, short_answer_of: Evidence | None = None,
            confidence: float | None = None) -> Answer:
    """One claim per chosen sentence: the quote, citing itself; equal quotes share a number. A ``short_answer``
    (a span of ``short_answer_of``) leads, citing that sentence's number."""
    book = CitationBook(titles, passages)
    claims = []
    lead = None
    for item in chosen:
        n = book.cite(item.source, item.start, item.end, item.text, item.passage)
        # The quote keeps the document's characters; the answer reads as one line.
        claims.append(Claim(" ".join(item.text.split()), (n,)))
        if item is short_answer_of:
            lead = n
    return Answer(question=question, claims=claims, abstained=False, citations=book.citations,
                  passages=passages, language=language, confidence=confidence,
                  short_answer=short_answer if lead is not None else None, short_answer_citation=lead)


def abstention(question: str, language: str, passages: list[Passage], closest: list[Citation],
               mode: str = "extractive", confidence: float | None = None) -> Answer:
    """"The documents don't say", in the question's language, with the closest passages."""
    return Answer(question=question, claims=[Claim(abstention_text(language))], abstained=True, passages=passages,
                  language=language, mode=mode, closest=closest, confidence=confidence)
