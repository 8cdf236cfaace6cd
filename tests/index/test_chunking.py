"""index/chunking.py: sentence spans and whole-sentence chunks whose offsets point into the document."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import chunk_document, sentences as kinded_sentences, split_sentences, title_candidate
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
    # The read path re-splits a chunk's own text: it must find the sentences (and kinds) ingest stored.
    all_sentences = {(s.start, s.end): s.kind for s in kinded_sentences(document.text)}
    for chunk in chunks:
        own = [(s.start + chunk.start, s.end + chunk.start, s.kind) for s in kinded_sentences(chunk.text)]
        assert [(s, e) for s, e, _ in own] == list(chunk.sentences)
        assert all(all_sentences[(s, e)] == kind for s, e, kind in own)


# -- sentences --------------------------------------------------------------------------------------
def test_split_basic_punctuation_and_trimming():
    text = "  First one. Second one! Third one?  Fourth… Fifth.  "
    assert sentences(text) == ["First one.", "Second one!", "Third one?", "Fourth…", "Fifth."]


def test_line_breaks_end_sentences():
    text = "Title without a dot\nBody sentence one. Body two.\n\nAnother paragraph"
    assert sentences(text) == ["Title without a dot", "Body sentence one.", "Body two.", "Another paragraph"]


WRAPPED = (
    "The first passenger train of the restored Saltmere line ran on 3 May\n"
    "1921, carrying two hundred guests from the harbour to the old market.\n"
    "It was pulled by a tank engine built in Leeds in 1898 and repainted for\n"
    "the day in the company's green livery.\n"
)


def test_a_line_break_inside_a_paragraph_ends_no_sentence():
    assert sentences(WRAPPED) == [
        "The first passenger train of the restored Saltmere line ran on 3 May\n"
        "1921, carrying two hundred guests from the harbour to the old market.",
        "It was pulled by a tank engine built in Leeds in 1898 and repainted for\nthe day in the company's green livery.",
    ]


def test_a_wrapped_line_ending_before_a_capital_still_continues():
    text = "The harbour light was first lit in the autumn of 1852 by the keeper\nThomas Reed and his two sons, who kept it for forty years.\n"
    assert sentences(text) == [text.strip()]


def test_structure_lines_are_boundaries():
    text = (
        "# Kestrel Point\n"
        "The lighthouse stands on the\nnorth cape.\n"
        "- It is 30 metres tall\n"
        "- Its light reaches\n  20 nautical miles\n"
        "| year | event |\n"
        "| 1852 | first lit |\n"
        "\n"
        "A last paragraph\nwrapped once."
    )
    assert sentences(text) == [
        "# Kestrel Point", "The lighthouse stands on the\nnorth cape.", "- It is 30 metres tall",
        "- Its light reaches\n  20 nautical miles", "| year | event |", "| 1852 | first lit |",
        "A last paragraph\nwrapped once.",
    ]


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in kinded_sentences(text)]


def test_non_statement_kinds():
    text = (
        " date 2018-12 L'ambassadeur prend la parole. Photo: VNA\n\n"
        "# Heading\n\n"
        "A standalone title line\n\n"
        "The delegation arrived on Monday.\n\n"
        "meta-visit-1.jpg\n"
        "Representatives of Meta at the meeting with the ministry\n\n"
        "![a map](map.png)\n\n"
        "Thứ trưởng Bùi Văn Nam phát biểu tại hội nghị. Ảnh: Bộ Công an\n\n"
        "Le ministre à la tribune. Crédit : AFP\n"
    )
    assert kinds(text) == [
        ("metadata", "date 2018-12 L'ambassadeur prend la parole."), ("metadata", "Photo: VNA"),
        ("heading", "# Heading"),
        ("heading", "A standalone title line"),
        ("statement", "The delegation arrived on Monday."),
        ("image", "meta-visit-1.jpg"), ("caption", "Representatives of Meta at the meeting with the ministry"),
        ("image", "![a map](map.png)"),
        ("caption", "Thứ trưởng Bùi Văn Nam phát biểu tại hội nghị."), ("caption", "Ảnh: Bộ Công an"),
        ("caption", "Le ministre à la tribune."), ("caption", "Crédit : AFP"),
    ]
    assert [s.statement for s in kinded_sentences(text)].count(True) == 1


def test_text_going_on_under_an_image_is_no_caption():
    text = "map.png\n" + "The harbour was dredged in 1890 and again in 1920, each time deeper. " * 6
    assert {k for k, _ in kinds(text)} == {"image", "statement"}


def test_an_image_and_its_caption_stay_in_one_chunk():
    text = ("A first paragraph that is long enough to fill most of a chunk on its own, really.\n\n"
            "photo-1.jpg\nThe minister speaking at the conference\n\nThe meeting ended at noon.")
    chunks = chunk_document(doc(text), 90)
    holder = next(c for c in chunks if "photo-1.jpg" in c.text)
    assert "The minister speaking" in holder.text
    assert_chunk_invariants(doc(text), 90)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (" date 2025-12-24 Đề xuất mô hình đại sứ công nghệ\n\nTPO - Các chuyên gia đề xuất.", "Đề xuất mô hình đại sứ công nghệ"),
        (" date 2018-12 L'ambassadeur prend la parole. Photo: VNA\n\nPhnom Penh (VNA) – Le Cambodge agit.",
         "Phnom Penh (VNA) – Le Cambodge agit."),
        ("photo.jpg\nA caption under it\n\nThe real first sentence.", "The real first sentence."),
        ("# A heading\n\nBody.", "A heading"),
    ],
)
def test_title_candidate_skips_captions_and_metadata(text, title):
    assert title_candidate(text) == title


@pytest.mark.parametrize("width", [40, 60, 72, 100])
def test_hard_wrapped_seed_text_splits_like_the_unwrapped_text(width):
    """A seed article wrapped at any width has the same sentences as the article itself."""
    import textwrap

    path = SEEDS[2]
    original = path.read_text(encoding="utf-8")
    wrapped = "\n\n".join(textwrap.fill(p, width) for p in original.split("\n") if p.strip())
    collapse = lambda t: [" ".join(s.split()) for s in sentences(t)]  # noqa: E731
    assert collapse(wrapped) == collapse("\n\n".join(p for p in original.split("\n") if p.strip()))
    assert_chunk_invariants(doc(wrapped), 500)


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
