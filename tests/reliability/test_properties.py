"""Property-based tests: for any text, every offset the assistant hands out points at exactly its quote.

tests/index/test_chunking.py covers ``chunk_document`` on strings; here the text goes the whole way:
bytes on disk (a text file, or a web page around the text) -> ``load_document`` -> chunks -> catalog ->
evidence sentences, and finally ``ask`` over a document made of generated text, whose citations must satisfy
``document_text[start:end] == quote``.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from index.catalog import Catalog
from index.chunking import chunk_document
from index.errors import InputError
from index.loading import load_document
from rag.values import Passage
from rag.evidence import passage_sentences
from tests.reliability.harness import index_problems

WORDS = ["Hà Nội", "Thứ trưởng", "Nguyễn Huy Dũng", "Rafael Frankel", "đoàn", "công tác", "Meta", "12 triệu",
         "Campuchia", "internautes", "l'ambassadeur", "Phnom Penh", "12,5", "3.4%", "20/3", "2024", "Mr.", "Dr.",
         "e.g.", "U.S.", "TS.", "«", "»", "“", "”", "(", ")", "—", "…", "🙂", "東京", "ﬁ", "e\u0301", "\u00a0", "x"]
QUESTION_WORDS = [w for w in WORDS if any(ch.isalnum() for ch in w)]  # a question without words is refused
_sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join).flatmap(
    lambda body: st.sampled_from([".", "!", "?", "…", ".”", "", ":"]).map(lambda end: body + end))
_separator = st.sampled_from([" ", "  ", "\n", "\r\n", "\n\n", "\t", " \r "])
DOCUMENT_TEXT = st.lists(st.tuples(_sentence, _separator), min_size=1, max_size=10).map(
    lambda parts: "".join(s + sep for s, sep in parts))
ANY_TEXT = DOCUMENT_TEXT | st.text(min_size=1, max_size=600)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig"])


def _web_page(text: str) -> str:
    """``text`` as the article of a page with a menu, a cookie banner and a footer, one ``<p>`` a paragraph (no
    ``<main>``: a long text is what trafilatura extracts, a short one the page less its marked chrome)."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in re.split(r"\n\s*\n", text))
    return (f'<html><head><meta charset="utf-8"></head><body><nav><a href="/">Home</a> | <a href="/news">News</a>'
            f'</nav><div id="cookie-banner">We use cookies.</div><div class="post">{paragraphs}</div>'
            "<footer>Copyright 2024 Example. All rights reserved.</footer></body></html>")


def _load(text: str, encoding: str, folder: Path, suffix: str = ".txt"):
    path = folder / f"generated{suffix}"
    path.write_bytes((_web_page(text) if suffix == ".html" else text).encode(encoding))
    try:
        return load_document(path, max_bytes=10**6, source=f"generated{suffix}")
    except InputError:
        assume(False)  # refused with a message (empty, binary-looking...): not what this property is about


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    result = Catalog(tmp_path_factory.mktemp("prop_catalog") / "catalog.sqlite3")
    yield result
    result.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT, encoding=ENCODINGS, target=st.integers(min_value=100, max_value=600),
       suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_offsets_survive_loading_chunking_storing_and_sentence_picking(catalog, text, encoding, target, suffix):
    with tempfile.TemporaryDirectory() as folder:
        document = _load(text, encoding, Path(folder), suffix)
    if suffix == ".html":  # the page's article is what is stored, without the site around it
        assert not any(chrome in document.text for chrome in ("Copyright", "cookies", "Home | News")), document.text
    chunks = chunk_document(document, target)
    assert chunks, "a document with text has a chunk"
    catalog.stage(document, chunks)
    catalog.set_state(document.source, "ready")
    # What the catalog gives back is what readers quote from.
    stored_text = catalog.document_text(document.source)
    assert stored_text == document.text
    stored = catalog.chunks([c.id for c in chunks])
    passages = []
    for chunk in chunks:
        got = stored[chunk.id]
        assert (got.start, got.end, got.text) == (chunk.start, chunk.end, chunk.text)
        assert stored_text[got.start : got.end] == got.text
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
        passages.append(Passage(chunk_id=got.id, source=got.source, start=got.start, end=got.end, text=got.text,
                                language=got.language, score=0.0))
    # The sentences an extractive answer or a citation check may quote.
    for _, start, end, quote in passage_sentences(passages):
        assert stored_text[start:end] == quote and quote.strip() == quote
    catalog.delete(document.source)


# -- ask() over generated documents ------------------------------------------------------------------
@pytest.fixture(scope="module")
def fresh_assistant(tmp_path_factory):
    from rag import Assistant

    data_dir = tmp_path_factory.mktemp("prop_assistant") / "data"
    assistant = Assistant(data_dir=data_dir)
    yield assistant
    assert index_problems(assistant.settings) == []
    assistant.close()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=DOCUMENT_TEXT, encoding=ENCODINGS, data=st.data())
def test_ask_over_generated_text_cites_exact_spans(fresh_assistant, tmp_path_factory, text, encoding, data):
    folder = tmp_path_factory.mktemp("prop_doc")
    path = folder / "upload.tmp"
    path.write_bytes(text.encode(encoding))
    report = fresh_assistant.add([path], names=["generated.txt"])
    assume(not report.failed)
    try:
        _ask_and_check(fresh_assistant, data)
    finally:  # each example's upload is a document of its own (another text): one at a time
        fresh_assistant.remove("generated.txt")


def _ask_and_check(fresh_assistant, data) -> None:
    document_text = fresh_assistant.document_text("generated.txt")
    assert document_text is not None
    words = data.draw(st.lists(st.sampled_from(QUESTION_WORDS), min_size=1, max_size=6), label="question words")
    template = data.draw(st.sampled_from(["{}?", "Ai là {}?", "Qui est {} ?", "What about {}?"]), label="question")
    question = template.format(" ".join(words))
    answer = fresh_assistant.ask(question)
    event("abstained" if answer.abstained else "answered with citations")
    for c in answer.citations:
        assert c.source == "generated.txt"
        assert document_text[c.start : c.end] == c.quote and c.quote
        assert f"[{c.n}]" in answer.text
    assert answer.abstained == (not answer.citations)
