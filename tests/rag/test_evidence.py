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
