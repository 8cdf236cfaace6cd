"""rag/reader/rerank.py + the reader hook in rag/extractive.py: how the reader's outputs become the answer.

The model is replaced by ``GivenOutput`` (it returns the ``ReaderOutput`` a test names): these tests pin the
wiring (candidates, policy, order, verdict, short answer, ``Answer.confidence``), not a model. The trained model
itself is measured by ``python -m evals.reader`` and exercised by tests/rag/reader/test_reader_model.py."""

from __future__ import annotations

import numpy as np

from index.chunking import split_sentences
from rag.evidence import Evidence
from rag.extractive import ExtractiveAnswerer
from rag.reader.policy import ReaderPolicy
from rag.reader.reader import ReaderOutput, Span
from rag.reader.rerank import EvidenceReader, candidates_of
from rag.values import Passage
from rag.verification import quotes_hold

TEXT = "Cầu được khánh thành năm 1902. Cầu dài 2,3 km. Cầu bắc qua sông Hồng."
QUESTION = "Cầu dài bao nhiêu?"


class GivenOutput:
    """Stands in for ``AnswerReader``: the scores, null and spans a test names, for whatever sentences come."""

    def __init__(self, scores: list[float], null: float = 0.0, spans: dict[int, Span] | None = None):
        self.scores, self.null, self.spans = scores, null, spans or {}
        self.read: list[str] = []

    def warm_up(self) -> None:
        pass

    def run(self, question: str, sentences: list[str]) -> ReaderOutput:
        self.read = sentences
        n = len(sentences)
        return ReaderOutput(np.array(self.scores[:n], dtype=np.float64), self.null,
                            tuple(self.spans.get(i) for i in range(n)))


def _passage(language: str = "vi") -> Passage:
    return Passage("c1", "cau.txt", 0, len(TEXT), TEXT, language, 0.9)


def _evidence(scores: list[float]) -> list[Evidence]:
    spans = split_sentences(TEXT)
    return [Evidence(0, "cau.txt", a, b, TEXT[a:b], s, 0.0, s) for (a, b), s in zip(spans, scores)]


LENGTH = Span(4, 14, "dài 2,3 km", 0.95)  # offsets into "Cầu dài 2,3 km."


def test_reader_reads_at_most_the_policys_candidates():
    given = GivenOutput([0.0, 0.0, 0.0])
    EvidenceReader(given, ReaderPolicy(candidates=2)).run(QUESTION, "vi", _evidence([0.9, 0.8, 0.7]), [_passage()])
    assert given.read == ["Cầu được khánh thành năm 1902.", "Cầu dài 2,3 km."]


def test_reader_order_and_verdict_reach_the_answer_with_its_short_answer():
    policy = ReaderPolicy(evidence_weight=0.5, min_span_probability=0.5)
    evidence = _evidence([0.95, 0.94, 0.90])  # today's selector alone would quote the first sentence
    reading = EvidenceReader(GivenOutput([-3.0, 4.0, -3.0], null=-2.0, spans={1: LENGTH}), policy).run(
        QUESTION, "vi", evidence, [_passage()])
    assert reading.evidence[0].text == "Cầu dài 2,3 km." and reading.supported
    assert reading.short_answer == LENGTH
    answer = quotes_hold(ExtractiveAnswerer().run(QUESTION, "vi", evidence, [_passage()], {}, reading))
    assert not answer.abstained and answer.citations[0].quote == "Cầu dài 2,3 km."
    assert answer.short_answer == "dài 2,3 km" and answer.short_answer_citation == answer.citations[0].n
    assert answer.text.startswith("dài 2,3 km — Cầu dài 2,3 km.")
    assert answer.confidence == reading.probability


def test_an_unsure_reader_abstains_and_shows_its_best_sentences_as_closest():
    evidence = _evidence([0.95, 0.80, 0.70])
    reading = EvidenceReader(GivenOutput([-4.0, -4.0, -4.0], null=4.0, spans={0: LENGTH}), ReaderPolicy()).run(
        QUESTION, "vi", evidence, [_passage()])
    answer = ExtractiveAnswerer().run(QUESTION, "vi", evidence, [_passage()], {}, reading)
    assert answer.abstained and answer.short_answer is None
    assert answer.confidence is not None and answer.confidence < 0.05 and answer.closest
    assert ExtractiveAnswerer().run(QUESTION, "vi", evidence, [_passage()], {}).confidence is None


def test_candidates_carry_the_language_pair_and_the_number_rule():
    evidence = _evidence([0.9, 0.8, 0.7])
    same = candidates_of("Điều gì xảy ra năm 1902?", "vi", evidence, [_passage()])
    cross = candidates_of("What happened in 1954?", "en", evidence, [_passage()])
    assert all(c.same_language and c.numbers_ok for c in same)
    assert not any(c.same_language or c.numbers_ok for c in cross)


def test_no_evidence_is_no_answer():
    reading = EvidenceReader(GivenOutput([]), ReaderPolicy()).run(QUESTION, "vi", [], [_passage()])
    assert not reading.supported and reading.evidence == []
