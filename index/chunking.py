"""Text in, sentence spans and chunks out: whole sentences only, with character offsets.

``sentences``/``split_sentences`` are also used at answer time to pick the sentence a citation quotes,
so the same rules decide what a sentence is everywhere.

Real text is hard-wrapped: a single line break inside a paragraph ends no sentence. Blank lines,
Markdown headings, list items, table rows, image lines, photo captions and metadata lines are
boundaries. A line break also ends a line that is clearly shorter than its paragraph's other lines
when the next line starts with a capital (a title above its text). Offsets always point into the
original text, so a sentence spanning a line break keeps its line break.

Each sentence has a ``kind``: headings, image lines, captions and metadata lines are searchable and
may feed titles, but only ``statement`` sentences are ever quoted as answers or accepted as support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.documents import Chunk, Document

INDEX_FORMAT = "3"
"""Version of the chunking (and loading) rules. Indexes built under another version are re-chunked on the
next ``add`` (``Ingestor``), so stored sentence spans never follow old rules silently. Bump on any change
that moves sentence or chunk boundaries, or the text a loader extracts (3: a web page is its main content)."""

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by white space and something that
# can open a sentence.
_BOUNDARY = re.compile(
    r"""[.!?…]+(?:[ \u00a0\u202f]?["'”’»)\]])*(?=\s+["'“‘«(\[]?[ \u00a0\u202f]?[\w\d])""", re.UNICODE
)
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "p", "pp",
    "fig", "m", "mme", "mlle", "tp", "ts", "ths", "th.s", "pgs", "gs", "ths", "u.s", "inc", "ltd", "co",
}

STATEMENT = "statement"
HEADING, IMAGE, CAPTION, METADATA = "heading", "image", "caption", "metadata"
_NOT_STATEMENTS = {HEADING, IMAGE, CAPTION, METADATA}

_MD_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\S")
_TABLE_ROW = re.compile(r"^\s*\|")
_IMAGE = re.compile(r"^\s*(?:!\[[^\]]*\]\([^)]*\)|\S+\.(?:jpe?g|png|gif|webp|svg|bmp|tiff?))\s*$", re.I)
_METADATA = re.compile(
    r"^\s*(?:date\s+\d{4}-\d{2}(?:-\d{2})?\b"
    r"|(?:date|published|posted|updated|author|tags|ngày đăng|cập nhật|publié(?: le)?|mis à jour(?: le)?)\s*:)",
    re.I,
)
_METADATA_PREFIX = re.compile(r"^\s*date\s+\d{4}-\d{2}(?:-\d{2})?\s*", re.I)
# A photo credit anywhere on the line makes the line a caption ("… à la tribune. Photo: VNA").
_CREDIT = re.compile(r"(?:^|[\s(\[.–—-])(?:photos?|ảnh|crédits?(?: photo)?|credits?|nguồn ảnh)\s*:\s*\S"
                     r"|\bphoto by\b|\bảnh minh họa\b|\bảnh minh hoạ\b", re.I)
_ENDS_STATEMENT = re.compile(r"""[.!?…][ \u00a0\u202f]?["'”’»)\]]*\s*$""")
_UPPER_START = re.compile(r"""^\s*["'“‘«(\[]?[ \u00a0\u202f]?[^\W\d_]""")
HEADING_MAX_WORDS = 15
CAPTION_MAX_CHARS = 300
FULL_LINE = 0.7
"""A line at least this fraction of its paragraph's longest line was wrapped, not ended on purpose."""


@dataclass(frozen=True)
class Sentence:
    """A sentence's ``(start, end)`` in the text it was split from, and what kind of line it comes from."""

    start: int
    end: int
    kind: str = STATEMENT

    @property
    def statement(self) -> bool:
        """True when the sentence may be quoted as an answer or accepted as support."""
        return self.kind not in _NOT_STATEMENTS


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their kinds, white space trimmed, in order."""
    out: list[Sentence] = []
    for start, end, kind in _segments(text):
        piece_start = start
        for match in _BOUNDARY.finditer(text, start, end):
            if _is_abbreviation(text, match.start()):
                continue
            _append_trimmed(text, piece_start, match.end(), kind, out)
            piece_start = match.end()
        _append_trimmed(text, piece_start, end, kind, out)
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, white space trimmed, in order."""
    return [(s.start, s.end) for s in sentences(text)]


def chunk_document(document: Document, target_chars: int) -> list[Chunk]:
    """Pack consecutive sentences into chunks of about ``target_chars``; a longer sentence stands alone.

    A heading or an image line never ends a chunk (it belongs with what follows: the section, the
    caption), and a chunk boundary that would change how the chunk's own text splits (a line judged
    without the part of it the previous chunk holds) is dropped: the read path re-splits chunk text
    and must find the sentences ingest embedded.
    """
    groups: list[list[Sentence]] = []
    current: list[Sentence] = []
    for sentence in sentences(document.text):
        if (current and sentence.end - current[0].start > target_chars
                and current[-1].kind not in (HEADING, IMAGE)):
            groups.append(current)
            current = []
        current.append(sentence)
    if current:
        # A few trailing words (a photo credit, a signature) are no passage of their own.
        if groups and current[-1].end - current[0].start < target_chars // 4:
            groups[-1].extend(current)
        else:
            groups.append(current)
    groups = _self_consistent(document.text, groups)
    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        chunks.append(
            Chunk(
                id=f"{document.source}::{ordinal}",
                source=document.source,
                ordinal=ordinal,
                start=start,
                end=end,
                text=document.text[start:end],
                language=document.language,
                sentences=tuple((s.start, s.end) for s in group),
            )
        )
    return chunks


def title_candidate(text: str) -> str | None:
    """The first real sentence of ``text`` (no caption, image line or metadata), for a document title.

    A Markdown heading gives its words without the ``#``s; a metadata line's words after its date count
    (``date 2025-12-24 Đề xuất mô hình…``) unless they are a caption.
    """
    for sentence in sentences(text):
        piece = text[sentence.start : sentence.end]
        if sentence.kind == METADATA:
            line = text[sentence.start : _line_end(text, sentence.start)].strip()
            rest = _METADATA_PREFIX.sub("", line, count=1)
            if rest and rest != line and not _CREDIT.search(rest):
                return " ".join(rest.split())
            continue
        if sentence.kind in (CAPTION, IMAGE):
            continue
        if sentence.kind == HEADING:
            piece = piece.lstrip("#").strip()
        piece = " ".join(piece.split())
        if piece:
            return piece
    return None


def _segments(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of the runs of text no sentence crosses: paragraphs and special lines."""
    lines = []
    position = 0
    for raw in text.split("\n"):
        lines.append((position, position + len(raw), raw))
        position += len(raw) + 1
    kinds = [_line_kind(raw) for _, _, raw in lines]
    # The text lines right under an image line that end the image block (a blank line or the end follows)
    # are its caption; a longer run going on without a blank line is the text itself.
    for i in range(1, len(lines)):
        if kinds[i] == "text" and kinds[i - 1] == IMAGE:
            j = i
            while j < len(lines) and kinds[j] == "text":
                j += 1
            if sum(len(lines[k][2]) for k in range(i, j)) <= CAPTION_MAX_CHARS:
                kinds[i:j] = ["under-image"] * (j - i)
    widths = _paragraph_widths(lines, kinds)
    segments: list[list] = []
    for i, (start, end, raw) in enumerate(lines):
        kind = kinds[i]
        if kind == "blank":
            continue
        previous = kinds[i - 1] if i > 0 and segments and segments[-1][1] == lines[i - 1][1] else None
        wrapped = previous in ("text", "list") and not _line_ends_here(lines, i - 1, widths)
        if kind == "text" and wrapped or kind == "under-image" and previous == "under-image":
            segments[-1][1] = end
        elif kind == CAPTION and previous == "text" and wrapped and not _ENDS_STATEMENT.search(lines[i - 1][2]):
            # A caption wrapped over lines ("… tập đoàn\nMeta. Ảnh: Trọng Đạt"): the whole run is the caption.
            segments[-1][1:] = [end, CAPTION]
        else:
            segments.append([start, end, kind])
    out = []
    for start, end, kind in segments:
        if kind == "text":
            kind = HEADING if _is_title_line(text, start, end) else STATEMENT
        elif kind in ("list", "table"):
            kind = STATEMENT
        elif kind == "under-image":
            kind = CAPTION
        out.append((start, end, kind))
    return out


def _line_kind(raw: str) -> str:
    if not raw.strip():
        return "blank"
    if _MD_HEADING.match(raw):
        return HEADING
    if _IMAGE.match(raw):
        return IMAGE
    if _METADATA.match(raw):
        return METADATA
    if _TABLE_ROW.match(raw):
        return "table"
    if _CREDIT.search(raw) and len(raw) <= CAPTION_MAX_CHARS:
        return CAPTION
    if _LIST_ITEM.match(raw):
        return "list"
    return "text"


def _paragraph_widths(lines: list[tuple[int, int, str]], kinds: list[str]) -> list[int]:
    """For each line, the length of the longest line of its run of consecutive text/list/caption lines."""
    widths = [0] * len(lines)
    running = ("text", "list", CAPTION)
    i = 0
    while i < len(lines):
        if kinds[i] not in running:
            i += 1
            continue
        j = i
        while j < len(lines) and kinds[j] in running:
            j += 1
        width = max(len(lines[k][2].strip()) for k in range(i, j))
        for k in range(i, j):
            widths[k] = width
        i = j
    return widths


def _line_ends_here(lines: list[tuple[int, int, str]], i: int, widths: list[int]) -> bool:
    """True when line ``i`` ends on purpose: it is short for its paragraph and a capital opens the next."""
    line, following = lines[i][2].strip(), lines[i + 1][2]
    return len(line) < FULL_LINE * widths[i] and bool(_UPPER_START.match(following))


def _is_title_line(text: str, start: int, end: int) -> bool:
    """A paragraph of one short line with no closing punctuation: a title or heading, not a statement."""
    piece = text[start:end]
    if "\n" in piece.strip() or _ENDS_STATEMENT.search(piece):
        return False
    return len(piece.split()) <= HEADING_MAX_WORDS


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end == -1 else end


def _self_consistent(text: str, groups: list[list[Sentence]]) -> list[list[Sentence]]:
    """Merge neighbouring groups while splitting a group's own text would give other sentences or kinds
    (a line judged without its start, a caption without the image line above or the credit below)."""
    out: list[list[Sentence]] = []
    for group in groups:
        if out and not (_splits_alike(text, out[-1]) and _splits_alike(text, group)):
            out[-1] = out[-1] + group
        else:
            out.append(group)
    return out


def _splits_alike(text: str, group: list[Sentence]) -> bool:
    start, end = group[0].start, group[-1].end
    return [Sentence(s.start + start, s.end + start, s.kind) for s in sentences(text[start:end])] == group


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _append_trimmed(text: str, start: int, end: int, kind: str, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end, kind))
