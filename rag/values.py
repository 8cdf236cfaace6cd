"""Typed values passed between the read path's stages and handed to callers: the analysed ``Query``, retrieved
``Passage``s, ranked ``Evidence`` sentences, the LLM's ``Draft``s, the ``Claim``s an ``Answer`` is made of and
the ``Citation``s their numbers point at."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from rag.keywords import KeywordScorer

CLOSEST_LABEL = "Closest passages — none of them states the answer"
"""How every front end (CLI, UI, README) introduces ``Answer.closest``."""

NOT_FOUND = "NOT_IN_DOCUMENTS"
"""What the LLM is told to reply when its passages do not hold the answer (``Draft.not_found``)."""


@dataclass(frozen=True, eq=False)
class Query:
    """A question ready for retrieval and answering."""

    question: str
    """As asked (trimmed): what the answer answers and the evidence is scored against."""
    language: str
    search: str
    """What retrieval searches for: the question, or its standalone rewrite."""
    context: tuple[str, ...]
    """Earlier questions that still inform retrieval (none once a rewrite made the question standalone)."""
    vector: np.ndarray
    retrieval_tokens: tuple[str, ...]
    """Tokens of ``search`` and ``context``, in order: what keyword retrieval looks for."""
    retrieval_keywords: KeywordScorer
    """Coverage of ``retrieval_tokens``: the keyword part of hybrid retrieval."""
    evidence_keywords: KeywordScorer
    """Coverage of the tokens of ``search`` alone: the keyword part of the evidence score."""
    expected: str | None
    """The kind of answer asked for: ``number``, ``date``, ``person`` or None (``rag.facts.answer_type``)."""
    sources: tuple[str, ...] | None = None
    """Ids of the only documents to search, as the caller chose them; None: every document."""

    @property
    def in_context(self) -> str:
        """What the answer reader reads: the earlier questions that still inform retrieval, then ``search``, so a
        follow-up ("What is his title?") is read with what it refers to; the question alone without history."""
        return " ".join([*self.context, self.search])


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; ``start``/``end`` are offsets into the document text."""

    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    language: str
    score: float
    dense: float | None = None
    keyword: float | None = None
    also_in: tuple[str, ...] = ()
    """Other documents holding (almost) the same text, dropped from the results in its favour (rag/duplicates.py)."""


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage with its scores; offsets are into the document text."""

    passage: int
    source: str
    start: int
    end: int
    text: str
    cosine: float
    coverage: float
    score: float


@dataclass(frozen=True)
class Draft:
    """A complete sentence the LLM wrote, without its markers, and the passage numbers (1-based) they named."""

    text: str
    cited: tuple[int, ...]

    @property
    def not_found(self) -> bool:
        """The LLM's "the passages do not say" reply."""
        return NOT_FOUND in self.text


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` of an answer: ``quote == document_text[start:end]`` of ``source``."""

    n: int
    source: str
    start: int
    end: int
    quote: str
    title: str = ""
    passage: int | None = None
    also_in: tuple[str, ...] = ()
    """Other documents that hold the same passage (the same article indexed twice, e.g. as HTML and PDF)."""


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the numbers of the citations that support it (none on an abstention)."""

    text: str
    citations: tuple[int, ...] = ()

    def render(self) -> str:
        """The sentence followed by its ``[n]`` markers: how it reads in plain text."""
        return self.text + (" " + "".join(f"[{n}]" for n in self.citations) if self.citations else "")


@dataclass(frozen=True)
class Answer:
    """An answer made of claims, the citations their numbers point at, and how it was made. Built once by the
    stage that shapes it; a later step that adds to it (the pipeline's timings) makes a copy
    (``dataclasses.replace``)."""

    question: str
    claims: list[Claim]
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    closest: list[Citation] = field(default_factory=list)
    """On an abstention: the sentences closest to the question (none states the answer); no claim cites them."""
    passages: list[Passage] = field(default_factory=list)
    language: str = "en"
    mode: str = "extractive"
    notice: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # The answer reader's probability that the quoted sentence answers the question (None: reader off).
    confidence: float | None = None
    short_answer: str | None = None
    """The answer in a few words ("Rafael Frankel", "2014"), a span of the sentence that citation
    ``short_answer_citation`` quotes, when the answer reader is sure of it; None otherwise."""
    short_answer_citation: int | None = None

    @property
    def text(self) -> str:
        """The answer in plain text, rendered from its claims: each sentence with its ``[n]`` markers, led by the
        short answer when there is one ("Rafael Frankel — <quote> [1]")."""
        claims = " ".join(claim.render() for claim in self.claims)
        return f"{self.short_answer} — {claims}" if self.short_answer else claims

    @property
    def plain(self) -> str:
        """The claims' sentences without citation markers (what evals match gold answers against)."""
        return " ".join(claim.text for claim in self.claims)

    def to_dict(self) -> dict:
        return {**asdict(self), "text": self.text}


@dataclass(frozen=True)
class AnswerChunk:
    """One piece of a streamed answer: text to append (rendered from a claim, never parsed back), the claim
    it completes if any, and on the last piece the whole ``Answer``."""

    text: str
    answer: Answer | None = None
    claim: Claim | None = None
