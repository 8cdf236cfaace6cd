"""Keyword statistics and scoring shared by retrieval and evidence ranking: a question's tokens in, the
IDF-weighted share of them a text contains out (``KeywordScorer.coverage``), and that coverage made
relative to the other candidates in the same language (``relative_to_language``).

Accents are optional on either side, never wrong on both: a question token typed without accents matches
the text's accented spellings (``ha`` finds ``Hạ``, through the folded index, ``index.catalog.fold``), and an
accented one matches text typed without accents (``hạ`` finds ``ha``), but ``bán`` never matches ``bàn``: two
spellings with accents are two words. Such a match counts ``RetrievalSettings.folded_weight`` of the IDF of
what it matched, which is low for an ambiguous bare word (``ban`` folds ``bàn``, ``bán`` and ``bạn`` together), so an exact
match always weighs more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.catalog import Catalog, fold, tokenize
from rag.settings import RetrievalSettings

# A term in more than max(50, 10% of) chunks is left out of the keyword *search*, not of the scoring:
# FTS5 ranks every chunk a query term occurs in, so at 100k chunks "the" or "của" cost ~75 ms per
# question while adding next to no IDF. Measured on XQuAD: hybrid MRR 0.915 vs 0.916 with every term.
_COMMON_TERM_CHUNKS = 50
_COMMON_TERM_SHARE = 0.1
FOLDED_WEIGHT = RetrievalSettings.model_fields["folded_weight"].default
"""The default weight of a match found only with diacritics folded (``RetrievalSettings.folded_weight``)."""


@lru_cache(maxsize=4096)
def token_set(text: str) -> frozenset[str]:
    """The distinct tokens of ``text``; cached (at most ~60 MB for 500-character chunks), as the same
    passages and sentences come back question after question."""
    return frozenset(tokenize(text))


@lru_cache(maxsize=4096)
def folded_token_set(text: str) -> frozenset[str]:
    """The distinct tokens of ``text`` with diacritics folded; cached like ``token_set``."""
    return frozenset(fold(t) for t in token_set(text))


def accent_variants(tokens: list[str]) -> tuple[list[str], list[str]]:
    """What tokens match besides themselves: ``(unaccented, bare)``, the tokens typed without accents (looked
    for in the folded index) and the bare forms of the accented ones (looked for in the exact index)."""
    return [t for t in tokens if fold(t) == t], [fold(t) for t in tokens if fold(t) != t]


@dataclass(frozen=True)
class KeywordStatistics:
    """Document frequencies of a question's tokens (and its conversation's) in the catalog, with their
    ``accent_variants``: read once per question, shared by every ``KeywordScorer`` of that question."""

    df: dict[str, int]
    """In the exact index: the tokens and the bare forms of the accented ones."""
    total: int
    folded_df: dict[str, int]
    """In the folded index: the unaccented tokens."""
    folded_weight: float = FOLDED_WEIGHT
    """What a match with diacritics folded counts against an exact one (``RetrievalSettings.folded_weight``)."""

    @classmethod
    def read(cls, catalog: Catalog, tokens: list[str], folded_weight: float = FOLDED_WEIGHT) -> KeywordStatistics:
        unaccented, bare = accent_variants(tokens)
        df, total = catalog.document_frequencies(tokens + bare)
        folded_df, _ = catalog.document_frequencies(unaccented, folded=True)
        return cls(df, total, folded_df, folded_weight)


class KeywordScorer:
    """IDF-weighted coverage of a set of tokens, with document frequencies from ``KeywordStatistics``."""

    def __init__(self, statistics: KeywordStatistics, tokens: list[str]):
        self.tokens = sorted(set(tokens))
        df, folded_df, total = statistics.df, statistics.folded_df, statistics.total
        folded_weight = statistics.folded_weight

        def idf(n: int) -> float:
            return math.log(1 + (total - n + 0.5) / (n + 0.5))

        self.idf = {t: idf(df.get(t, 0)) for t in self.tokens}
        # token -> (what else it matches, in the text's folded tokens?, the weight of that match)
        self._variant = {t: (t, True, folded_weight * idf(folded_df.get(t, 0))) if fold(t) == t
                         else (fold(t), False, folded_weight * idf(df.get(fold(t), 0))) for t in self.tokens}
        # A token typed without accents that no chunk holds so, but some hold with accents, most likely is one
        # of those words: its share of the question is their IDF, not that of a word nobody wrote (which would
        # leave a question typed without accents little mass to cover: XQuAD hybrid MRR 0.42 instead of 0.49).
        self._mass = sum(self._variant[t][2] / folded_weight if not df.get(t, 0) and folded_df.get(t, 0) else w
                         for t, w in self.idf.items()) or 1.0
        limit = max(_COMMON_TERM_CHUNKS, _COMMON_TERM_SHARE * total)
        self.search_tokens = [t for t in self.tokens if df.get(t, 0) <= limit]
        unaccented, bare = accent_variants(self.tokens)
        self.unaccented_search_tokens = [t for t in unaccented if folded_df.get(t, 0) <= limit]
        """Tokens typed without accents, to look for in the folded index (``keyword_search(..., folded=True)``)."""
        self.bare_search_tokens = sorted({b for b in bare if df.get(b, 0) <= limit})
        """Accented tokens' bare forms, to look for in the exact index (text typed without accents)."""

    @classmethod
    def of(cls, catalog: Catalog, tokens: list[str]) -> KeywordScorer:
        """A scorer reading its own statistics (one catalog query)."""
        return cls(KeywordStatistics.read(catalog, tokens), tokens)

    def coverage(self, text: str) -> float:
        present, folded = token_set(text), folded_token_set(text)
        total = 0.0
        for t, w in self.idf.items():
            variant, in_folded, weight = self._variant[t]
            total += w if t in present else weight if variant in (folded if in_folded else present) else 0.0
        return total / self._mass


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
