"""index/chunking.py: sentence spans and whole-sentence chunks whose offsets point into the document."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import chunk_document, split_sentences
from index.documents import Document

SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds").iterdir())


def doc(text: str, source: str = "t.txt") -> Document:
    return Document(source=source, text=text, title="t", language="en", sha256="0")


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def assert_chunk_invariants(document: Document, target: int) -> None:
    chunks = chunk_document(document, target)
    spans = split_sentences(document.text)
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        assert chunk.source == document.source and chunk.id == f"{document.source}::{chunk.ordinal}"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for before, after in zip(chunks, chunks[1:]):
        assert before.end <= after.start, "chunks are in order and do not overlap"
    # No sentence is cut: each lies inside exactly one chunk, and every sentence is in some chunk.
    for start, end in spans:
        holders = [c for c in chunks if c.start <= start and end <= c.end]
        assert len(holders) == 1, (document.text[start:end], [(c.start, c.end) for c in chunks])
    assert bool(chunks) == bool(spans)


# -- sentences --------------------------------------------------------------------------------------
def test_split_basic_punctuation_and_trimming():
    text = "  First one. Second one! Third one?  Fourth… Fifth.  "
    assert sentences(text) == ["First one.", "Second one!", "Third one?", "Fourth…", "Fifth."]


def test_line_breaks_end_sentences():
    text = "Title without a dot\nBody sentence one. Body two.\n\nAnother paragraph"
    assert sentences(text) == ["Title without a dot", "Body sentence one.", "Body two.", "Another paragraph"]


def test_closing_quotes_stay_with_their_sentence():
    text = 'He said "we will cooperate." Then he left. (It rained.) “Done.” Over.'
    assert sentences(text) == ['He said "we will cooperate."', "Then he left.", "(It rained.)", "“Done.”", "Over."]


def test_french_spaced_guillemets():
    # French typography puts a space inside « »: the quote is still a sentence of its own.
    text = "Il est parti. « C'est fini. » Voilà."
    assert sentences(text) == ["Il est parti.", "« C'est fini. »", "Voilà."]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Frankel met Dr. Dũng in Hanoi.",
        "Prices rose, e.g. in Hanoi, vs. last year.",
        "Ông Nguyễn Huy Dũng, TS. Lê Văn A và PGS. Trần B dự họp.",
        "Mme. Dupont et M. Martin sont arrivés.",
        "J. R. R. Tolkien wrote it.",
        "The U.S. delegation arrived.",
    ],
)
def test_abbreviations_do_not_end_sentences(text):
    assert sentences(text) == [text]


def test_numbers_and_decimals_do_not_split():
    text = "Revenue was 12.5 million in 2023. Growth was 3,4 percent."
    assert sentences(text) == ["Revenue was 12.5 million in 2023.", "Growth was 3,4 percent."]


def test_vietnamese_sentences():
    text = "Chiều 20/3, Thứ trưởng tiếp đoàn Meta. Đại diện Meta cho hay, năm 2024 sẽ hợp tác."
    assert sentences(text) == ["Chiều 20/3, Thứ trưởng tiếp đoàn Meta.", "Đại diện Meta cho hay, năm 2024 sẽ hợp tác."]


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n ") == []
    assert chunk_document(doc(" \n "), 500) == []


# -- chunks -----------------------------------------------------------------------------------------
def test_chunks_pack_whole_sentences_near_the_target():
    text = " ".join(f"Sentence number {i} has a few words in it." for i in range(60))
    chunks = chunk_document(doc(text), 200)
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 for c in chunks[:-1])
    assert all(c.text.endswith(".") for c in chunks)
    assert_chunk_invariants(doc(text), 200)


def test_a_long_sentence_stands_alone():
    long_sentence = "This sentence goes on " + "and on " * 100 + "until it ends."
    text = f"Short one. {long_sentence} Short two is a bit longer than the first one."
    chunks = chunk_document(doc(text), 120)
    assert long_sentence in [c.text for c in chunks]
    assert_chunk_invariants(doc(text), 120)


def test_a_short_tail_joins_the_previous_chunk():
    text = "A sentence with quite a few words in it, to fill a chunk. Another one of about the same size here.\nẢnh: TTXVN"
    chunks = chunk_document(doc(text), 100)
    assert chunks[-1].text.endswith("Ảnh: TTXVN")
    assert not any(c.text == "Ảnh: TTXVN" for c in chunks)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
@pytest.mark.parametrize("target", [100, 500, 2000])
def test_seed_documents(path, target):
    assert_chunk_invariants(doc(path.read_text(encoding="utf-8"), path.name), target)


# -- properties over arbitrary text -----------------------------------------------------------------
_alphabet = st.sampled_from(list("abcxyzĐđờẫéç 019\n\t.!?…\"'”»)([«“-,:") + ["Mr.", "e.g.", "U.S.", " ", "  ", ". "])
_texts = st.lists(_alphabet, max_size=300).map("".join) | st.text(max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=_texts, target=st.integers(min_value=1, max_value=400))
def test_property_offsets_and_whole_sentences(text, target):
    for start, end in split_sentences(text):
        assert 0 <= start < end <= len(text)
        assert text[start:end].strip() == text[start:end]
    assert_chunk_invariants(doc(text), target)


@settings(max_examples=200, deadline=None)
@given(text=_texts)
def test_property_sentences_are_ordered_and_disjoint(text):
    spans = split_sentences(text)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 <= s2
    # Only white space lies between sentences... or nothing is lost: all non-space text is covered.
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())
