"""Typed records of the write path: a loaded ``Document`` and the ``Chunk`` cut from it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A document's text as the assistant sees it; ``source`` (the file name) is its citation id."""

    source: str
    text: str
    title: str
    language: str
    sha256: str
    date: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of a document; ``document.text[start:end] == text``."""

    id: str
    source: str
    ordinal: int
    start: int
    end: int
    text: str
    language: str
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    """Absolute ``(start, end)`` spans of the sentences the chunk is made of."""
