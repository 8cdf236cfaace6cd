"""Typed values of the read path: retrieved ``Passage``s, ``Citation``s and the final ``Answer``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CLOSEST_LABEL = "Closest passages — none of them states the answer"
"""How every front end (CLI, UI, README) introduces ``Answer.closest``."""


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


@dataclass
class Answer:
    """An answer with inline ``[n]`` markers, the citations they point at, and how it was made."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    closest: list[Citation] = field(default_factory=list)
    """On an abstention: the sentences closest to the question (none states the answer); no ``[n]`` marks them."""
    passages: list[Passage] = field(default_factory=list)
    language: str = "en"
    mode: str = "extractive"
    notice: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # The answer reader's probability that the quoted sentence answers the question (None: reader off).
    confidence: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AnswerChunk:
    """One piece of a streamed answer: text to append; the last piece also carries the ``Answer``."""

    text: str
    answer: Answer | None = None
