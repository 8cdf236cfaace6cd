"""Keyword statistics and scoring shared by retrieval and evidence ranking: a question's tokens in, the
IDF-weighted share of them a text contains out (``KeywordScorer.coverage``), and that coverage made
relative to the other candidates in the same language (``relative_to_language``).

A token the text holds only with other diacritics (``ha`` for ``Hạ``, ``ban`` for ``bàn``) counts
``FOLDED_WEIGHT`` of its IDF in the folded index (``index.catalog.fold``), where it is more common
(``ban`` folds ``bàn``, ``bán`` and ``bạn`` together), so an exact match always weighs more than a folded one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.catalog import Catalog, fold, tokenize

# A term in more than max(50, 10% of) chunks is left out of the keyword *search*, not of the scoring:
# FTS5 ranks every chunk a query term occurs in, so at 100k chunks "the" or "của" cost ~75 ms per
# question while adding next to no IDF. Measured on XQuAD: hybrid MRR 0.915 vs 0.916 with every term.
_COMMON_TERM_CHUNKS = 50
_COMMON_TERM_SHARE = 0.1
FOLDED_WEIGHT = 0.5
"""Weight of a match found only with diacritics folded, against 1 for an exact one (coverage and BM25)."""


@lru_cache(maxsize=4096)
def token_set(text: str) -> frozenset[str]:
    """The distinct tokens of ``text``; cached (at most ~60 MB for 500-character chunks), as the same
    passages and sentences come back question after question."""
    return frozenset(tokenize(text))


@lru_cache(maxsize=4096)
def folded_token_set(text: str) -> frozenset[str]:
    """The distinct tokens of ``text`` with diacritics folded; cached like ``token_set``."""
    return frozenset(fold(t) for t in token_set(text))


@dataclass(frozen=True)
class KeywordStatistics:
    """Document frequencies of a question's tokens (and its conversation's) in the catalog, exact and folded:
    read once per question, shared by every ``KeywordScorer`` of that question."""

    df: dict[str, int]
    total: int
    folded_df: dict[str, int]
    """Keyed by folded token."""

    @classmethod
    def read(cls, catalog: Catalog, tokens: list[str]) -> KeywordStatistics:
        df, total = catalog.document_frequencies(tokens)
        folded_df, _ = catalog.document_frequencies([fold(t) for t in tokens], folded=True)
        return cls(df, total, folded_df)


class KeywordScorer:
    """IDF-weighted coverage of a set of tokens, with document frequencies from ``KeywordStatistics``."""

    def __init__(self, statistics: KeywordStatistics, tokens: list[str]):
        self.tokens = sorted(set(tokens))
        df, folded_df, total = statistics.df, statistics.folded_df, statistics.total

        def idf(n: int) -> float:
            return math.log(1 + (total - n + 0.5) / (n + 0.5))

        self.idf = {t: idf(df.get(t, 0)) for t in self.tokens}
        self._folded = {t: fold(t) for t in self.tokens}
        self._folded_weight = {t: FOLDED_WEIGHT * idf(folded_df.get(f, 0)) for t, f in self._folded.items()}
        self._mass = sum(self.idf.values()) or 1.0
        limit = max(_COMMON_TERM_CHUNKS, _COMMON_TERM_SHARE * total)
        self.search_tokens = [t for t in self.tokens if df.get(t, 0) <= limit]
        self.folded_search_tokens = sorted({f for f in self._folded.values() if folded_df.get(f, 0) <= limit})
        """Folded tokens to look for in the folded index (``Catalog.keyword_search(..., folded=True)``)."""

    @classmethod
    def of(cls, catalog: Catalog, tokens: list[str]) -> KeywordScorer:
        """A scorer reading its own statistics (one catalog query)."""
        return cls(KeywordStatistics.read(catalog, tokens), tokens)

    def coverage(self, text: str) -> float:
        present, folded = token_set(text), folded_token_set(text)
        return sum(w if t in present else self._folded_weight[t] if self._folded[t] in folded else 0.0
                   for t, w in self.idf.items()) / self._mass


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
