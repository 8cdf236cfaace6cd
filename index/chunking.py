"""Text in, sentence spans and chunks out: whole sentences only, with character offsets.

``split_sentences`` is also used at answer time to pick the sentence a citation quotes, so the same
rules decide what a sentence is everywhere.
"""

from __future__ import annotations

import re

from index.documents import Chunk, Document

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by white space and something that
# can open a sentence, or at a line break.
_BOUNDARY = re.compile(
    r"""[.!?…]+(?:[ \u00a0\u202f]?["'”’»)\]])*(?=\s+["'“‘«(\[]?[ \u00a0\u202f]?[\w\d])|\n+""", re.UNICODE
)
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "p", "pp",
    "fig", "m", "mme", "mlle", "tp", "ts", "ths", "th.s", "pgs", "gs", "ths", "u.s", "inc", "ltd", "co",
}


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end() if match.group(0)[0] != "\n" else match.start()
        if match.group(0)[0] != "\n" and _is_abbreviation(text, match.start()):
            continue
        _append_trimmed(text, start, end, spans)
        start = match.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def chunk_document(document: Document, target_chars: int) -> list[Chunk]:
    """Pack consecutive sentences into chunks of about ``target_chars``; a longer sentence stands alone."""
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in split_sentences(document.text):
        if current and span[1] - current[0][0] > target_chars:
            groups.append(current)
            current = []
        current.append(span)
    if current:
        # A few trailing words (a photo credit, a signature) are no passage of their own.
        if groups and current[-1][1] - current[0][0] < target_chars // 4:
            groups[-1].extend(current)
        else:
            groups.append(current)
    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        chunks.append(
            Chunk(
                id=f"{document.source}::{ordinal}",
                source=document.source,
                ordinal=ordinal,
                start=start,
                end=end,
                text=document.text[start:end],
                language=document.language,
                sentences=tuple(group),
            )
        )
    return chunks


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
