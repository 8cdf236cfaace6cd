"""An LLM's sentence and its ``[n]`` markers in, verified citations out.

Each marker is checked against the passage it names: the passage must hold a sentence that supports
the claim: it contains every number the claim states, and it is close to the claim in e5 space (or a
little less close but containing all the claim's names too).
A marker that fails is re-pointed to a passage that does support the claim, or dropped; a sentence
left with no supported citation is not shown. The citation quotes the supporting sentence exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from rag.answers import Passage
from rag.evidence import numbers_in, passage_sentences
from rag.vectors import SentenceVectors

MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# A sentence is complete once its end punctuation (and any markers after it) is followed by more text.
_COMPLETE = re.compile(r"[.!?…](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*(?=\s+[^\s\[])")
_NAME = re.compile(r"\b[A-ZÀ-ỸĐ][\w-]+(?:\s+[A-ZÀ-ỸĐ][\w-]+)*")


@dataclass(frozen=True)
class Support:
    """The sentence of passage ``passage`` (0-based) that supports a claim."""

    passage: int
    start: int
    end: int
    quote: str
    score: float


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its markers, and the 1-based passage numbers they name, in order."""
    numbers: list[int] = []
    for match in MARKERS.finditer(sentence):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if n not in numbers:
                numbers.append(n)
    return MARKERS.sub("", sentence).strip(), numbers


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the start of a streamed ``buffer`` and the unfinished rest."""
    sentences, start = [], 0
    for match in _COMPLETE.finditer(buffer):
        piece = buffer[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    return sentences, buffer[start:]


class CitationChecker:
    """Decides which passage sentence, if any, supports each claim."""

    def __init__(self, embedder: Embedder, vectors: SentenceVectors, min_similarity: float = 0.84):
        self._embedder = embedder
        self._vectors = vectors
        self.min_similarity = min_similarity

    def check(self, claim: str, cited: list[int], passages: list[Passage]) -> list[Support]:
        """Supports for ``claim``: its own markers where they hold, else the best passage that does."""
        sentences = passage_sentences(passages)
        if not sentences or not claim.strip():
            return []
        self._vectors.prefetch(passages)
        claim_vector = self._embedder.embed_queries([claim])[0]
        sims = self._vectors.get([s[3] for s in sentences]) @ claim_vector
        best: dict[int, Support] = {}
        claimed_numbers = numbers_in(claim)
        for (index, start, end, text), sim in zip(sentences, np.asarray(sims).tolist()):
            # A number the claim states must be in the sentence that supports it, whatever the wording.
            if not claimed_numbers <= numbers_in(text):
                continue
            # Names and numbers that all match let a translated or paraphrased claim through, but a
            # sentence about something else entirely still fails.
            if sim >= self.min_similarity - 0.06 and _facts_match(claim, text):
                sim = max(sim, self.min_similarity)
            score = sim
            if score >= self.min_similarity and (index not in best or score > best[index].score):
                best[index] = Support(index, start, end, text, score)
        kept = [best[n - 1] for n in cited if (n - 1) in best]
        if kept:
            return kept
        # No named passage supports the claim: re-point to the best passage that does, if any.
        return [max(best.values(), key=lambda s: s.score)] if best else []


def _facts_match(claim: str, sentence: str) -> bool:
    """True when the claim states names or numbers and every one of them appears in the sentence."""
    numbers = numbers_in(claim)
    names = set()
    for match in _NAME.finditer(claim):
        words = match.group(0).split()
        if match.start() == 0:  # a capital that only starts the sentence is no name
            words = words[1:]
        if words:
            names.add(" ".join(words).lower())
    if not numbers and not names:
        return False
    lowered = sentence.lower()
    return numbers <= numbers_in(sentence) and all(name in lowered for name in names)
