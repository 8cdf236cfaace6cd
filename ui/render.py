"""Answers and documents in, display text out: pure functions, no Gradio, every document byte escaped.

``answer_markdown`` turns an ``Answer`` into chat markdown whose ``[n]`` markers link to anchors that
``sources_html`` renders, one card per citation with the quoted span highlighted in its context, the
cards of one document under its title once. An abstention shows the closest passages the same way.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping

from index.catalog import DocumentInfo
from index.ingest import IngestReport, counted
from rag.values import CLOSEST_LABEL, Answer, Citation

CONTEXT_CHARS = 300
"""Characters of surrounding document text shown on each side of a quoted span."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def escape_markdown(text: str) -> str:
    """Text shown literally by a markdown renderer: markdown punctuation backslashed, HTML escaped."""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def anchor(turn: int, n: int) -> str:
    """The element id of citation ``n`` of answer number ``turn`` (ids stay unique across turns)."""
    return f"src-{turn}-{n}"


def answer_markdown(answer: Answer, turn: int) -> str:
    """Chat markdown for a finished answer: linked ``[n]`` markers, a notice box, abstentions greyed."""
    notice = f'<div class="rag-notice">⚠ {_html_lines(answer.notice)}</div>\n\n' if answer.notice else ""
    if answer.abstained:
        closest = (f'<div class="rag-closest-hint">{html.escape(CLOSEST_LABEL)}: see Sources.</div>'
                   if answer.closest else "")
        return (notice + f'<div class="rag-abstain"><b>No answer</b> · {_html_lines(answer.text)}</div>' + closest
                + confidence_html(answer))
    cited = {c.n for c in answer.citations}
    parts: list[str] = []
    for i, claim in enumerate(answer.claims):
        links = "".join(f"[\\[{n}\\]](#{anchor(turn, n)})" for n in claim.citations if n in cited)
        parts.append((" " if i else "") + escape_markdown(claim.text) + (" " + links if links else ""))
    lead = f"**{escape_markdown(answer.short_answer)}** — " if answer.short_answer else ""
    return notice + lead + "".join(parts) + confidence_html(answer)


def confidence_html(answer: Answer) -> str:
    """A small grey line with the answer reader's probability that the quote answers (nothing when off)."""
    if answer.confidence is None:
        return ""
    return f'\n\n<div class="rag-confidence">reader confidence {answer.confidence:.0%}</div>'


def error_html(message: str) -> str:
    """A user-caused error (``RagError``) as a chat message: its text in a red box, no traceback."""
    return f'<div class="rag-error">⚠ {_html_lines(message)}</div>'


def context_window(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str, str]:
    """``(before, quote, after)`` around ``text[start:end]``, cut at whitespace, with ``…`` where cut."""
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return before, text[start:end], after


def sources_html(citations: list[Citation], texts: Mapping[str, str | None], turn: int,
                 question: str = "", chars: int = CONTEXT_CHARS, closest: list[Citation] = ()) -> str:
    """The cards of an answer's citations, grouped by document: the document's title and file once, then
    one card per citation with ``[n]`` and the passage in context, its quote ``<mark>``ed.

    On an abstention (no citations) the ``closest`` sentences get the same cards under ``CLOSEST_LABEL``,
    numbered without brackets, since no ``[n]`` of the answer points at them. ``texts`` maps a source to its
    document text; a missing text (document removed since) shows the quote alone.
    """
    head = f'<div class="rag-sources-question">Sources for: {html.escape(question)}</div>' if question else ""
    if citations:
        return head + _document_groups(citations, texts, turn, chars, near=False)
    if closest:
        return (head + f'<div class="rag-closest-label">{html.escape(CLOSEST_LABEL)}</div>'
                + _document_groups(closest, texts, turn, chars, near=True))
    return head + '<div class="rag-sources-empty">No sources: nothing was cited for this answer.</div>'


def near_anchor(turn: int, n: int) -> str:
    """The element id of closest passage ``n`` of answer number ``turn``."""
    return f"near-{turn}-{n}"


def _document_groups(citations: list[Citation], texts: Mapping[str, str | None], turn: int, chars: int,
                     near: bool) -> str:
    groups: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        groups.setdefault(c.source, []).append(c)
    out = []
    for source, items in groups.items():
        title = next((c.title for c in items if c.title), "") or source
        cards = "".join(_card(c, texts.get(source), turn, chars, near) for c in items)
        out.append(
            f'<div class="rag-doc"><div class="rag-source-head"><b>{html.escape(title)}</b></div>'
            f'<div class="rag-source-file"><code>{html.escape(source)}</code></div>{cards}</div>'
        )
    return "".join(out)


def _card(c: Citation, text: str | None, turn: int, chars: int, near: bool) -> str:
    if text is not None and text[c.start : c.end] == c.quote:
        before, quote, after = context_window(text, c.start, c.end, chars)
    else:
        before, quote, after = "", c.quote, ""
    label = f'<span class="rag-n">{c.n}.</span>' if near else f'<span class="rag-n">[{c.n}]</span>'
    copies = f' · also in {", ".join(_code(name) for name in c.also_in)}' if c.also_in else ""
    return (
        f'<div class="rag-source" id="{near_anchor(turn, c.n) if near else anchor(turn, c.n)}">'
        f'<div class="rag-source-where">{label} characters {c.start}–{c.end}{copies}</div>'
        f'<p class="rag-context">{_html_lines(before)}<mark>{_html_lines(quote)}</mark>{_html_lines(after)}</p>'
        "</div>"
    )


def api_payload(answer: Answer) -> dict:
    """The JSON the ``/chat`` endpoint returns: answer text, abstention flag, citations, the closest
    passages of an abstention (same shape), mode, notice, and the short answer (with the citation it is a span
    of) when the reader gave one."""
    return {
        "text": answer.text,
        "abstained": answer.abstained,
        "citations": [_citation_json(c) for c in answer.citations],
        "closest": [_citation_json(c) for c in answer.closest],
        "mode": answer.mode,
        "notice": answer.notice,
        "language": answer.language,
        "confidence": answer.confidence,
        "short_answer": answer.short_answer,
        "short_answer_citation": answer.short_answer_citation,
    }


def _citation_json(c: Citation) -> dict:
    return {"n": c.n, "source": c.source, "start": c.start, "end": c.end, "quote": c.quote, "title": c.title,
            "also_in": list(c.also_in)}


DOCUMENT_HEADERS = ["Title", "File", "Language", "Chunks", "Date", "Added"]


def document_rows(documents: list[DocumentInfo]) -> list[list]:
    """Rows of the documents table, in ``DOCUMENT_HEADERS`` order."""
    return [
        [d.title, d.source, d.language, d.chunks, d.date or "",
         time.strftime("%Y-%m-%d %H:%M", time.localtime(d.added_at))]
        for d in documents
    ]


def ingest_markdown(report: IngestReport) -> str:
    """What an upload or re-index did, failures first, one line per failed file."""
    lines = [escape_markdown(report.notice)] if report.notice else []
    lines += [
        f"**Not added** {_code(name)}: {escape_markdown(reason.removeprefix(f'{name}: '))}"
        for name, reason in report.failed.items()
    ]
    for label, names in (("Added", report.added), ("Updated", report.updated), ("Unchanged", report.skipped)):
        if names:
            lines.append(f"{label}: " + ", ".join(_code(name) for name in names))
    if report.chunks_embedded:
        lines.append(f"({counted(report.chunks_embedded, 'chunk')} embedded)")
    return "\n\n".join(lines)


def status_html(status: Mapping[str, object]) -> str:
    """The settings panel's summary of ``Assistant.status()``: answer mode, embedder, store, counts."""
    rows = [("Answer mode", status["mode"]), ("Embedder", status["embedder"]),
            ("Vector store", status["vector_store"]),
            ("Indexed", f"{counted(status['documents'], 'document')}, {counted(status['chunks'], 'chunk')}")]
    return "<br>".join(f"<b>{label}:</b> {html.escape(str(value))}" for label, value in rows)


def _code(name: str) -> str:
    return f"<code>{html.escape(name)}</code>"


def _html_lines(text: str) -> str:
    # Several blank lines (around an image line, a page break) read as one paragraph break.
    return html.escape(re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", text)).replace("\n", "<br>")
