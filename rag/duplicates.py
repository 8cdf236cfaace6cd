"""Retrieved passages in, the same passages without cross-document copies out: the same article indexed twice
(as HTML and as PDF, say) is cited once, and its citation says which other files hold the same text.

Two passages of different documents are copies when nearly all the word 3-grams of the shorter one occur
in the other (containment, not Jaccard: the two files' chunk boundaries need not line up). Texts are
compared after case folding and without punctuation or line breaks, which differ between a PDF's text
layer and an HTML page of the same article. The best-ranked copy is kept; the others' files go into its
``also_in``, which the citations quoting it repeat (``verification.CitationBook``).
"""

from __future__ import annotations

import dataclasses
import re

from rag.settings import RetrievalSettings
from rag.values import Passage

_WORD = re.compile(r"\w+")


class CopyFilter:
    """Read path stage ``copies``, between retrieval and evidence: one passage per text, however many files hold it."""

    def __init__(self, settings: RetrievalSettings | None = None):
        settings = settings or RetrievalSettings()
        self._min, self._n = settings.copy_min_containment, settings.copy_shingle_words

    def warm_up(self) -> None:
        """Nothing to load."""

    def run(self, passages: list[Passage]) -> list[Passage]:
        """``passages`` (best first) minus copies of a better one, whose ``also_in`` names the copies' files."""
        kept: list[tuple[Passage, frozenset]] = []
        for passage in passages:
            grams = self._shingles(passage.text)
            original = next((i for i, (other, other_grams) in enumerate(kept)
                             if other.source != passage.source and self._copies(grams, other_grams)), None)
            if original is None:
                kept.append((passage, grams))
                continue
            other, other_grams = kept[original]
            if passage.source not in other.also_in:
                kept[original] = (dataclasses.replace(other, also_in=(*other.also_in, passage.source)), other_grams)
        return [passage for passage, _ in kept]

    def _shingles(self, text: str) -> frozenset:
        words = _WORD.findall(text.casefold())
        if len(words) < self._n:
            return frozenset([tuple(words)]) if words else frozenset()
        return frozenset(tuple(words[i : i + self._n]) for i in range(len(words) - self._n + 1))

    def _copies(self, a: frozenset, b: frozenset) -> bool:
        smaller = min(len(a), len(b))
        return smaller > 0 and len(a & b) / smaller >= self._min
