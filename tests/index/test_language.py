"""index/language.py: a text's language (vi, fr, en, or und) from Vietnamese letters and function words."""

from __future__ import annotations

import pytest

from index.language import detect_language


@pytest.mark.parametrize(("text", "expected"), [
    ("Who led the Meta delegation?", "en"),
    ("How many people in Cambodia use social networks?", "en"),
    ("Ai dẫn đầu đoàn công tác của Meta?", "vi"),
    ("Thứ trưởng Bộ Công an chủ trì hội nghị.", "vi"),
    ("Qui a présidé la conférence de Hanoï ?", "fr"),
    ("Combien d'internautes compte le Cambodge ?", "fr"),
])
def test_short_questions_in_each_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", [
    "Who is Nguyễn Huy Dũng?",
    "The delegation met Vũ Quang Minh in Phnom Penh.",
])
def test_an_english_sentence_quoting_a_vietnamese_name_stays_english(text):
    # Capitalised words are names: their Vietnamese letters are no evidence of Vietnamese.
    assert detect_language(text) == "en"


def test_a_french_sentence_quoting_a_vietnamese_name_stays_french():
    assert detect_language("L'ambassadeur Vũ Quang Minh prend la parole à la tribune.") == "fr"


def test_a_french_accent_is_evidence_of_french():
    assert detect_language("Café crème") == "fr"  # no function word of any language


@pytest.mark.parametrize(("text", "expected"), [
    ("", "und"),
    ("12 345 — 2024!", "und"),  # no words at all
    ("Zorblax Tromsø", "und"),  # words, none a function word, not plain ASCII
    ("Zorblax Varga", "en"),  # plain ASCII with no function word: most likely English
])
def test_text_without_evidence(text, expected):
    assert detect_language(text) == expected


def test_only_the_first_20000_characters_are_read():
    english = "The answer is in the report. " * 700  # > 20,000 characters
    assert detect_language(english + "và của là có các những được " * 2000) == "en"
