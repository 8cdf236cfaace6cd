"""A claim and the passages it cites in, the sentences that support it out (``CitationChecker``).

Each cited passage is checked against the passage it names: the passage must hold a sentence that supports
the claim. Support is e5 closeness (``min_similarity``; ``name_slack`` less when every name and number
of the claim is in the sentence) guarded by cheap rules an embedding cannot see, each measured on the
labelled claim set (``python -m evals.claims``):

- every number the claim states is in the sentence (decimal commas and thousands separators normalised);
- the claim holds no more negations (not, ne/n', không, ...) than the sentence;
- a role the claim gives someone (led, chaired, received) is given to the same name by the sentence.

A marker that fails is re-pointed to a passage that does support the claim, or dropped; a sentence
left with no supported citation is not shown. The citation quotes the supporting sentence exactly.
Antonyms ("opposed" for "proposed"), numbers written as words, and a role given to a name the sentence
does not have still pass: the claim set's report lists them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from rag.values import Passage
from rag.evidence import passage_sentences
from rag.facts import numbers_in
from rag.sentence_cache import SentenceVectors
from rag.settings import VerificationSettings

# Runs of capitalised words ([^\W\d_] is a letter; str.isupper decides the capital, since a range such
# as À-Ỹ also holds lower-case letters).
_WORDS = re.compile(r"[^\W\d_][\w&-]*(?:\s+[^\W\d_][\w&-]*)*")
# Negations, matched on lower-case text with its accents: folded, "chưa" (not yet) would be "chua" (sour).
# Vietnamese "không gian" is space, not "not".
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot)\b|n[’']t\b"  # en
    r"|\b(?:ne|jamais|aucune?)\b|\bn['’](?=\w)"  # fr
    r"|\b(?:không(?! gian)|chưa|chẳng|chả)\b"  # vi
)
# Roles whose holder a translation keeps but an embedding barely notices when swapped; folded words.
_ROLES = {
    "lead": re.compile(r"\b(?:led|leads|leading|headed|heads|chair\w*|presided|dirig\w*|conduit\w*|presid\w*)\b"
                       r"|\bdan dau\b|\bchu tri\b|\bchu tich\b|\btruong doan\b"),
    "receive": re.compile(r"\b(?:received|receives|welcomed|recu\w*|accueill\w*)\b|\btiep (?:doan|don)\b"),
}
# "led by X", "conduite par X": the holder follows the role word.
_PASSIVE = re.compile(r"\s*(?:by|par)\b")


@dataclass(frozen=True)
class Support:
    """The sentence of passage ``passage`` (0-based) that supports a claim."""

    passage: int
    start: int
    end: int
    quote: str
    score: float


class CitationChecker:
    """Decides which passage sentence, if any, supports each claim."""

    def __init__(self, embedder: Embedder, vectors: SentenceVectors, settings: VerificationSettings | None = None):
        settings = settings or VerificationSettings()
        self._embedder = embedder
        self._vectors = vectors
        # Where 0.84 and 0.02 come from: their settings' descriptions. 0.84 also lets "PWNED." through to no
        # caption; a slack of 0.06 (before the rules) verified "Rafael Frankel was dismissed by Meta." at 0.796.
        self.min_similarity = settings.claim_min_similarity
        self.name_slack = settings.claim_name_slack

    def check(self, claim: str, cited: list[int], passages: list[Passage]) -> list[Support]:
        """Supports for ``claim``: its own markers where they hold, else the best passage that does."""
        sentences = passage_sentences(passages)
        if not sentences or not claim.strip():
            return []
        self._vectors.prefetch(passages)
        sims = self.similarities([claim], [s[3] for s in sentences])[0]
        best: dict[int, Support] = {}
        for (index, start, end, text), sim in zip(sentences, sims.tolist()):
            if not consistent(claim, text):
                continue
            # Names and numbers that all match let a translated or paraphrased claim through a little
            # lower, but a sentence about something else entirely still fails.
            if sim >= self.min_similarity - self.name_slack and _facts_match(claim, text):
                sim = max(sim, self.min_similarity)
            if sim >= self.min_similarity and (index not in best or sim > best[index].score):
                best[index] = Support(index, start, end, text, sim)
        kept = [best[n - 1] for n in cited if (n - 1) in best]
        if kept:
            return kept
        # No named passage supports the claim: re-point to the best passage that does, if any.
        return [max(best.values(), key=lambda s: s.score)] if best else []


    def similarities(self, claims: list[str], sentences: list[str]) -> np.ndarray:
        """e5 similarity of each claim (a row, embedded as a query) with each sentence (a column, through the
        sentence cache): what ``min_similarity`` is compared with."""
        vectors = self._vectors.get(sentences)
        return np.stack([vectors @ claim for claim in self._embedder.embed_queries(claims)])


def consistent(claim: str, sentence: str) -> bool:
    """The rules, whatever the wording: same numbers, no extra negation, same role holders."""
    if not _numbers(claim) <= _numbers(sentence):
        return False
    if len(_NEGATION.findall(claim.casefold())) > len(_NEGATION.findall(sentence.casefold())):
        return False
    folded_claim, folded_sentence = _fold(claim), _fold(sentence)
    return _roles_agree(claim, folded_claim, folded_sentence)


def _numbers(text: str) -> set[str]:
    """``numbers_in`` with decimal commas read as points: "51,6 %" states the same number as "51.6%"."""
    return {n.replace(",", ".") for n in numbers_in(text)}


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _names(claim: str) -> list[str]:
    """Capitalised runs of the claim (a capital that only starts the sentence is no name), folded."""
    names = []
    for match in _WORDS.finditer(claim):
        run: list[str] = []
        for i, word in enumerate(match.group(0).split()):
            if word[0].isupper() and not (i == 0 and match.start() == 0):
                run.append(word)
                continue
            if run:
                names.append(_fold(" ".join(run)))
            run = []
        if run:
            names.append(_fold(" ".join(run)))
    return names


def _found(name: str, folded: str) -> str | None:
    """``name`` as it occurs in ``folded`` text, leading words (titles: "deputy minister") dropped if need be."""
    words = name.split()
    for i in range(max(len(words) - 1, 1)):
        part = " ".join(words[i:])
        if re.search(rf"\b{re.escape(part)}\b", folded):
            return part
    return None


def _holder(text: str, role: re.Pattern, names: list[str]) -> str | None:
    """Which of ``names`` holds ``role`` in folded ``text``: the one right after "by"/"par", else the nearest before."""
    match = role.search(text)
    if not match:
        return None
    found = [(m.start(), name) for name in names for m in re.finditer(rf"\b{re.escape(name)}\b", text)]
    if _PASSIVE.match(text, match.end()):
        after = [(pos, name) for pos, name in found if pos >= match.end()]
        return min(after)[1] if after else None
    before = [(pos, name) for pos, name in found if pos < match.start()]
    return max(before)[1] if before else None


def _roles_agree(claim: str, folded_claim: str, folded_sentence: str) -> bool:
    """False when the claim gives a role to one of two names the sentence has, and the sentence gives it to the
    other or to nobody."""
    names = [part for part in (_found(n, folded_sentence) for n in _names(claim)) if part]
    if len(names) < 2:
        return True
    for role in _ROLES.values():
        claimed = _holder(folded_claim, role, names)
        # A sentence that names both but gives nobody the role does not say who holds it.
        if claimed and (not role.search(folded_sentence) or _holder(folded_sentence, role, names) not in (None, claimed)):
            return False
    return True


def _facts_match(claim: str, sentence: str) -> bool:
    """True when the claim states names or numbers and every one of them appears in the sentence."""
    numbers = _numbers(claim)
    names = _names(claim)
    if not numbers and not names:
        return False
    folded = _fold(sentence)
    return numbers <= _numbers(sentence) and all(_found(name, folded) for name in names)
