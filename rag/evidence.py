"""Passages in, ranked ``Evidence`` sentences out, plus the test of whether evidence supports a claim.

Sentences are scored by e5 cosine with the question (cross-lingual) plus IDF coverage of the
question's words (same-language names and numbers). Sentence vectors come from ``rag.vectors``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.chunking import sentences
from rag.answers import Passage
from rag.retrieval import KeywordScorer, relative_to_language
from rag.vectors import SentenceVectors

# A sentence telling its reader (or a model) to drop its instructions states no fact: it is never quoted
# as an answer nor accepted as support, whatever an LLM was talked into writing (prompt injection).
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,20}?\b(previous|prior|above|earlier|preceding|system)\b.{0,20}?"
    r"\b(instructions?|prompts?|rules|directions)\b"
    r"|\b(ignore[zr]|oublie[zr])\b.{0,30}?\b(instructions?|consignes|règles)\b.{0,10}?"
    r"\b(précédentes|ci-dessus|antérieures)\b"
    r"|\b(bỏ qua|phớt lờ|quên)\b.{0,20}?\b(hướng dẫn|chỉ dẫn|chỉ thị|yêu cầu)\b.{0,10}?\b(trước|ở trên|bên trên)\b"
    r"|^\W*(system|assistant|developer)\s*:",
    re.I,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_SENTENCE_CHARS = 12

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


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage with its scores; offsets are into the document text."""

    passage: int
    source: str
    start: int
    end: int
    text: str
    cosine: float
    coverage: float
    score: float


def passage_sentences(passages: list[Passage]) -> list[tuple[int, int, int, str]]:
    """``(passage index, start, end, text)`` of the statement sentences of each passage.

    Headings, image lines, captions and metadata lines (``index.chunking`` kinds) are left out: they
    are searchable, but never quoted as an answer or accepted as support.
    """
    out = []
    for index, passage in enumerate(passages):
        for sentence in sentences(passage.text):
            start, end = sentence.start, sentence.end
            text = passage.text[start:end]
            if not sentence.statement or len(text) < MIN_SENTENCE_CHARS or _INSTRUCTION.search(text):
                continue
            out.append((index, passage.start + start, passage.start + end, text))
    return out


def rank_evidence(
    query_vector: np.ndarray,
    passages: list[Passage],
    keywords: KeywordScorer,
    vectors: SentenceVectors,
    keyword_weight: float,
    wanted_type: str | None = None,
    type_bonus: float = 0.0,
) -> list[Evidence]:
    """Every statement sentence of ``passages``, best first; sentences holding the wanted answer type gain."""
    sentences = passage_sentences(passages)
    if not sentences:
        return []
    vectors.prefetch(passages)
    cosines = vectors.get([s[3] for s in sentences]) @ query_vector
    coverages = {k: keywords.coverage(s[3]) for k, s in enumerate(sentences)}
    relative = relative_to_language(coverages, {k: passages[s[0]].language for k, s in enumerate(sentences)})
    ranked = []
    for k, ((index, start, end, text), cosine) in enumerate(zip(sentences, cosines.tolist())):
        bonus = type_bonus if wanted_type and has_answer_type(text, wanted_type) else 0.0
        evidence = Evidence(index, passages[index].source, start, end, text, cosine, coverages[k],
                            cosine + keyword_weight * coverages[k] + bonus)
        # Ordered with coverage relative to the sentence's language (see retrieval.relative_to_language);
        # the absolute score is what the abstention thresholds were fitted on.
        ranked.append((cosine + keyword_weight * relative[k] + bonus, evidence))
    ranked.sort(key=lambda item: -item[0])
    return [evidence for _, evidence in ranked]


def numbers_in(text: str) -> set[str]:
    """Numbers as written, without thousands separators (``12.000`` and ``12,000`` -> ``12000``)."""
    return {re.sub(r"[.,](?=\d{3}\b)", "", n) for n in _NUMBER.findall(text)}
