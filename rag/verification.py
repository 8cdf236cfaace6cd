"""Read path stage ``verification``: claims are checked against the passages they cite before anyone sees them.

An LLM's ``Draft`` becomes a ``Claim`` only when a statement sentence of a passage supports it
(``citations.CitationChecker``: e5 closeness plus number, negation and role rules); its citation numbers
then point at those sentences, quoted exactly. An extractive answer quotes its sentences by construction;
``quotes_hold`` still checks that every citation is the text at its offsets before the answer leaves.
"""

from __future__ import annotations

import dataclasses
import re

from rag.citations import CitationChecker
from rag.values import Answer, Citation, Claim, Draft, Passage


class CitationBook:
    """The citations of one answer, numbered from 1 in order of first use; one number per quoted span. A citation
    of one of ``passages`` names the other files holding the same text (``Passage.also_in``, rag/duplicates.py)."""

    def __init__(self, titles: dict[str, str], passages: list[Passage] | tuple[Passage, ...] = ()):
        self.citations: list[Citation] = []
        self._titles = titles
        self._passages = passages

    def cite(self, source: str, start: int, end: int, quote: str, passage: int) -> int:
        """The number of the citation quoting ``source[start:end]``, added if new."""
        for citation in self.citations:
            if (citation.source, citation.start, citation.end) == (source, start, end):
                return citation.n
        n = len(self.citations) + 1
        also_in = self._passages[passage].also_in if 0 <= passage < len(self._passages) else ()
        self.citations.append(Citation(n=n, source=source, start=start, end=end, quote=quote,
                                       title=self._titles.get(source, ""), passage=passage, also_in=also_in))
        return n


class Verification:
    """A draft in, a claim whose citations hold (or None) out."""

    def __init__(self, checker: CitationChecker):
        self.checker = checker

    def warm_up(self) -> None:
        """Nothing of its own: the checker uses the embedder the question stage loads."""

    def run(self, draft: Draft, passages: list[Passage], book: CitationBook) -> Claim | None:
        """The draft as a claim citing the sentences that support it; None when nothing does (or it is the
        LLM's "not in the documents" reply, or only markers)."""
        if not draft.text or draft.not_found:
            return None
        supports = self.checker.check(draft.text, list(draft.cited), passages)
        if not supports:
            return None
        numbers: list[int] = []
        for support in supports:
            n = book.cite(passages[support.passage].source, support.start, support.end, support.quote, support.passage)
            if n not in numbers:
                numbers.append(n)
        return Claim(re.sub(r"\s+([.!?…])$", r"\1", draft.text), tuple(numbers))


def quotes_hold(answer: Answer) -> Answer:
    """``answer``, or a copy without the claims whose citations do not quote their passage's text at their
    offsets (an answerer's bug, never seen): each citation must equal the passage text it points into."""
    bad = set()
    for citation in answer.citations:
        passage = answer.passages[citation.passage] if citation.passage is not None else None
        if passage is None or passage.source != citation.source or \
                passage.text[citation.start - passage.start : citation.end - passage.start] != citation.quote:
            bad.add(citation.n)
    if not bad:
        return answer
    short = answer.short_answer_citation not in bad
    return dataclasses.replace(answer, claims=[c for c in answer.claims if not bad & set(c.citations)],
                               citations=[c for c in answer.citations if c.n not in bad],
                               short_answer=answer.short_answer if short else None,
                               short_answer_citation=answer.short_answer_citation if short else None)
