"""Per-question outcomes (``Outcome``) in, metrics per group of questions out. Pure functions, no model.

Definitions (every ratio is ``None`` when its denominator is empty):

- ``hit@1``, ``hit@5``, ``mrr``: over answerable questions, from the rank of the first retrieved passage
  whose source is a gold source (no such passage = miss, reciprocal rank 0). Ranks stop at ``top_k``.
- ``accuracy``: answerable questions whose answer was not an abstention and contains an accepted answer as
  whole words (``answer_correct``): the answer's claims without their citation numbers (``Answer.plain``),
  folded (NFKD, combining marks dropped, đ->d, casefold), thousands separators normalised, then compared token by token, so "2000" never matches "200".
- ``citation_precision``: over the citations of answers (not abstentions) to answerable questions, the share
  whose cited characters overlap a gold evidence span of the same source. Whatever the quote says: an
  answer that quotes a sentence naming the answer elsewhere is not grounded in the gold evidence.
- ``citation_recall``: over the answers (not abstentions) to answerable questions, the share with at least
  one citation overlapping a gold evidence span (either of a multi-doc question's spans will do). In both
  answer modes (extractive quotes, LLM sentences) this measures where the citations point, not what was said.
- ``abstention_precision`` / ``abstention_recall``: the positive class is "should abstain" (unanswerable);
  both are ``None`` for a group without unanswerable questions.
- ``false_abstentions``: answerable questions the assistant abstained on (a count).
- ``latency_p50_s`` / ``latency_p95_s``: wall-clock seconds per ``ask`` call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# "12.000", "12,000", "12 000" (also with a narrow no-break space) -> "12000": groups of exactly three digits.
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?![\d]|[.,]\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
# A number (with its decimal part) is one token, so "17" never contains "7" and "1.2" never contains "2".
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+|[%$€£]")

METRICS = (
    "n", "answerable", "hit@1", "hit@5", "mrr", "accuracy", "citation_precision", "citation_recall",
    "abstention_precision", "abstention_recall", "false_abstentions", "latency_p50_s", "latency_p95_s",
)


@dataclass(frozen=True)
class Span:
    """Characters ``[start, end)`` of ``source``'s text."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class CitedQuote:
    """What the metrics need of a ``Citation``: where it points and what it quotes."""

    source: str
    start: int
    end: int
    quote: str


@dataclass
class Outcome:
    """One question asked in one retrieval mode, and what came back."""

    case_id: str
    mode: str
    language: str
    pair: str
    answerable: bool
    answers: tuple[str, ...]
    gold_sources: tuple[str, ...]
    gold_spans: tuple[Span, ...]
    retrieved: tuple[str, ...]
    answer_text: str | None
    abstained: bool | None
    citations: tuple[CitedQuote, ...] = ()
    latency_s: float = 0.0

    @property
    def rank(self) -> int | None:
        return first_gold_rank(self.retrieved, self.gold_sources)

    @property
    def correct(self) -> bool | None:
        """None when not applicable: unanswerable question, or no answer produced (retrieval only)."""
        if not self.answerable or self.answer_text is None:
            return None
        return not self.abstained and answer_correct(self.answer_text, self.answers)

    def supported(self) -> list[bool]:
        """Per citation: does it overlap a gold evidence span?"""
        return [citation_supports(c, self.gold_spans) for c in self.citations]


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form: NFKD, combining marks dropped, đ->d, casefold."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[str]:
    """Folded words and whole numbers of ``text`` (punctuation dropped, separators normalised)."""
    folded = fold(text)
    folded = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group(0)), folded)
    return _TOKEN.findall(_DECIMAL_COMMA.sub(".", folded))


def contains_words(text: str, answer: str) -> bool:
    """True when ``answer``'s tokens occur in ``text``'s tokens as one contiguous run."""
    needle, hay = tokens(answer), tokens(text)
    n = len(needle)
    return n > 0 and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def answer_correct(text: str, answers: Iterable[str]) -> bool:
    return any(contains_words(text, a) for a in answers)


def first_gold_rank(retrieved: Iterable[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first retrieved source that is a gold source; None if none is."""
    gold = set(gold)
    return next((i for i, source in enumerate(retrieved, 1) if source in gold), None)


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def citation_supports(citation: CitedQuote, spans: Iterable[Span]) -> bool:
    """A citation is grounded when its characters overlap a gold evidence span of the same source."""
    return any(s.source == citation.source and overlaps(citation.start, citation.end, s.start, s.end) for s in spans)


def ratio(num: float, den: int) -> float | None:
    return num / den if den else None


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarize(outcomes: list[Outcome]) -> dict[str, float | int | None]:
    """The metrics of one group of outcomes, keyed as in ``METRICS``."""
    if not outcomes:
        return {}
    answerable = [o for o in outcomes if o.answerable]
    ranks = [o.rank for o in answerable]
    answered = [o for o in answerable if o.answer_text is not None]
    correct = [o for o in answered if o.correct]
    responded = [o for o in answered if not o.abstained]
    supported = [flag for o in responded for flag in o.supported()]
    judged = [o for o in outcomes if o.abstained is not None]
    abstained = [o for o in judged if o.abstained]
    should = [o for o in judged if not o.answerable]
    # Without unanswerable questions the positive class is absent: precision would only echo false abstentions.
    abstained = abstained if should else []
    latencies = [o.latency_s for o in outcomes]
    return {
        "n": len(outcomes),
        "answerable": len(answerable),
        "hit@1": ratio(sum(r == 1 for r in ranks), len(ranks)),
        "hit@5": ratio(sum(r is not None and r <= 5 for r in ranks), len(ranks)),
        "mrr": ratio(sum(1 / r for r in ranks if r), len(ranks)) if ranks else None,
        "accuracy": ratio(len(correct), len(answered)),
        "citation_precision": ratio(sum(supported), len(supported)),
        "citation_recall": ratio(sum(any(o.supported()) for o in responded), len(responded)),
        "abstention_precision": ratio(sum(not o.answerable for o in abstained), len(abstained)),
        "abstention_recall": ratio(sum(bool(o.abstained) for o in should), len(should)),
        "false_abstentions": sum(bool(o.abstained) for o in answered) if answered else None,
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
    }


def summarize_groups(outcomes: list[Outcome]) -> dict[str, dict[str, dict]]:
    """``{mode: {group: metrics}}``; groups are ``all``, each question language (``en->*``) and each pair."""
    by_mode: dict[str, dict[str, list[Outcome]]] = {}
    for o in outcomes:
        groups = by_mode.setdefault(o.mode, {"all": []})
        for key in ("all", f"{o.language}->*", o.pair):
            groups.setdefault(key, []).append(o)
    for groups in by_mode.values():
        # A question language with a single pair (XQuAD's en->vi) would repeat that pair's row.
        for key in [k for k in groups if k.endswith("*")]:
            if len({o.pair for o in groups[key]}) == 1:
                del groups[key]
    return {
        mode: {key: summarize(groups[key]) for key in sorted(groups, key=_group_order)}
        for mode, groups in by_mode.items()
    }


def _group_order(key: str) -> tuple:
    return (key != "all", not key.endswith("*"), key)


def pair_name(question_language: str, document_languages: Iterable[str]) -> str:
    """``en->vi``; ``fr->fr+vi`` when the gold sources span two languages; ``en->none`` when unanswerable."""
    langs = sorted(set(document_languages))
    return f"{question_language}->{'+'.join(langs) if langs else 'none'}"
