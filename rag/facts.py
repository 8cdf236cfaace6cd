"""What a text states that an embedding barely sees: numbers, dates and person names, and the kind of answer
(number, date, person) a question asks for, by its question words (classic factoid QA typing).
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# What kind of answer a question asks for, by its question words (classic factoid QA typing).
_ANSWER_TYPES = {
    "en": [("number", r"\bhow (many|much)\b|\bwhat (percentage|proportion|share|number)\b"),
           ("date", r"\bwhen\b|\b(what|which) (year|date|day|month)\b"),
           ("person", r"^\s*(who|whom|whose)\b|\bby whom\b")],
    "fr": [("number", r"\bcombien\b|\bquel (pourcentage|nombre)\b"),
           ("date", r"\bquand\b|\b(quelle|en quelle) (année|date)\b|\bà quelle date\b"),
           ("person", r"^\s*(qui|à qui|par qui|de qui)\b")],
    "vi": [("number", r"\bbao nhiêu\b|\bmấy\b"),
           ("date", r"\bkhi nào\b|\bbao giờ\b|\blúc nào\b|\b(năm|ngày|tháng) nào\b"),
           ("person", r"(^|\s)ai(\s|\?|$)")],
}
_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}\b|\b(1[89]|20)\d{2}\b|\b(tháng|ngày)\s+\d|\b\d{1,2}\s+(janvier|février|mars|avril|mai|juin|"
    r"juillet|août|septembre|octobre|novembre|décembre)\b|\b(january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\b", re.I)
# Two or more capitalised words, not at the start of the sentence: "Rafael Frankel", "Nguyễn Huy Dũng".
# A word is capitalised when its first letter is upper case (str.isupper knows every script's capitals;
# a range like À-Ỹ also holds Vietnamese lower-case letters, so "đã được" would pass as a name).
_PERSON_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _person_names(sentence: str) -> list[str]:
    """Runs of two or more capitalised words (only white space between) past the sentence's first word,
    lower-cased: the names a sentence states."""
    runs: list[list[str]] = [[]]
    previous_end = None
    for index, match in enumerate(_PERSON_WORD.finditer(sentence)):
        adjacent = previous_end is not None and sentence[previous_end : match.start()].isspace()
        if not (match.group(0)[0].isupper() and index > 0):
            runs.append([])
        elif adjacent and runs[-1]:
            runs[-1].append(match.group(0))
        else:
            runs.append([match.group(0)])
        previous_end = match.end()
    return [" ".join(run).lower() for run in runs if len(run) >= 2]


def answer_type(question: str, language: str) -> str | None:
    """``number``, ``date``, ``person`` or None, from the question's words in its language."""
    for kind, pattern in _ANSWER_TYPES.get(language, []):
        if re.search(pattern, question, re.I):
            return kind
    return None


def has_answer_type(sentence: str, kind: str | None) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    if kind == "person":
        return bool(_person_names(sentence))
    return False


def answer_values(sentence: str, kind: str | None) -> set[str]:
    """What of the wanted ``kind`` a sentence states: its numbers, dates or person names."""
    if kind == "number":
        return numbers_in(sentence)
    if kind == "date":
        return {m.group(0).lower() for m in _DATE.finditer(sentence)}
    if kind == "person":
        return set(_person_names(sentence))
    return set()


def states_numbers_of(question: str, text: str) -> bool:
    """The number rule of support: every number the question names (a year, a count) occurs in ``text``, the
    passage that would answer it (true when the question names none)."""
    wanted = numbers_in(question)
    return not wanted or wanted <= numbers_in(text)


def numbers_in(text: str) -> set[str]:
    """Numbers as written, without thousands separators (``12.000`` and ``12,000`` -> ``12000``)."""
    return {re.sub(r"[.,](?=\d{3}\b)", "", n) for n in _NUMBER.findall(text)}
