"""rag/facts.py: the answer-type cues (person names, the kind of answer a question asks for) and the number rule."""

from __future__ import annotations

import pytest

from rag.facts import answer_type, has_answer_type, numbers_in, states_numbers_of


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


def test_numbers_are_read_without_thousands_separators():
    assert numbers_in("12.000 người, 12,000 users, 1,5% và 2024") == {"12000", "1,5", "2024"}


def test_a_passage_supports_a_question_only_if_it_states_every_number_the_question_names():
    assert states_numbers_of("Who won in 2014?", "The 2014 final was won by Germany.")
    assert not states_numbers_of("Who won in 2014?", "The 2010 final was won by Spain.")
    assert not states_numbers_of("What happened in 2014 and 2018?", "In 2014 Germany won.")
    assert states_numbers_of("Who won the final?", "The 2010 final was won by Spain.")  # none named
    assert states_numbers_of("Có 12.000 người dùng không?", "Khoảng 12,000 người dùng.")  # separators read alike
