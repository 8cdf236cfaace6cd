"""Typed records of the write path: a loaded ``Document`` and the ``Chunk`` cut from it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A document's text as the assistant sees it.

    ``source`` is its id in the index: stable and unique, the file name itself for the first file of that
    name (``notes.md``), the name and a hash of where it came from for a later one (``notes.md#3fa2b1c9``).
    ``locator`` is where it came from, and identifies it: a file's absolute path, ``uploads/SHA/NAME`` for
    an upload (None: the id). Users see neither: they see the shortest end of the locator that no other
    document's ends with (``notes.md``, or ``teamA/notes.md`` next to ``teamB/notes.md``), see
    ``Catalog.shown_names``.
    """

    source: str
    text: str
    title: str
    language: str
    sha256: str
    date: str | None = None
    path: str | None = None
    """The file the text was read from (for an upload, its temporary copy)."""
    locator: str | None = None

    @property
    def name(self) -> str:
        """The file name, the last part of the locator (or of the id)."""
        return (self.locator or self.source).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of a document; ``document.text[start:end] == text``."""

    id: str
    source: str
    """The document's id (``Document.source``)."""
    ordinal: int
    start: int
    end: int
    text: str
    language: str
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    """Absolute ``(start, end)`` spans of the sentences the chunk is made of."""
