"""rag/reader/rerank.py + the reader hook in rag/extractive.py: how the reader's scores become the answer.

The cross-encoder itself is replaced by ``GivenLogits`` (it returns the logits a test names): these tests pin the
decision rules (blend, per-language thresholds, the number rule, ``Answer.confidence``), not a model."""

from __future__ import annotations

import numpy as np

from index.chunking import split_sentences
from rag.values import Passage
from rag.evidence import Evidence
from rag.extractive import ExtractiveAnswerer
from rag.reader.rerank import EvidenceReader, ReaderPolicy

TEXT = "Cầu được khánh thành năm 1902. Cầu dài 2,3 km. Cầu bắc qua sông Hồng."


class GivenLogits:
    def __init__(self, logits: list[float]):
        self.logits_ = np.array(logits, dtype=np.float32)

    def warm_up(self) -> None:
        pass

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        return self.logits_[: len(sentences)]


def _passage(language: str = "vi") -> Passage:
    return Passage("c1", "cau.txt", 0, len(TEXT), TEXT, language, 0.9)


def _evidence(scores: list[float]) -> list[Evidence]:
    spans = split_sentences(TEXT)
    return [Evidence(0, "cau.txt", a, b, TEXT[a:b], s, 0.0, s) for (a, b), s in zip(spans, scores)]


def test_reader_order_wins_when_its_margin_outweighs_the_evidence_score():
    stage = EvidenceReader(GivenLogits([-3.0, 4.0, -3.0]), ReaderPolicy(evidence_weight=0.5))
    reading = stage.run("Cầu dài bao nhiêu?", "vi", _evidence([0.90, 0.89, 0.85]), [_passage()])
    assert reading.evidence[0].text == "Cầu dài 2,3 km."
    assert reading.supported and abs(reading.probability - 1 / (1 + np.exp(-4.0))) < 1e-6


def test_cross_language_question_uses_its_own_threshold():
    policy = ReaderPolicy(min_probability_same_language=0.5, min_probability_cross_language=0.9)
    stage = EvidenceReader(GivenLogits([1.0, -2.0, -2.0]), policy)  # p = 0.73
    assert stage.run("Khi nào?", "vi", _evidence([0.9, 0.8, 0.7]), [_passage()]).supported
    assert not stage.run("When?", "en", _evidence([0.9, 0.8, 0.7]), [_passage()]).supported


def test_a_number_the_question_names_must_be_in_the_passage():
    stage = EvidenceReader(GivenLogits([5.0, -2.0, -2.0]), ReaderPolicy())
    assert not stage.run("Điều gì xảy ra năm 1954?", "vi", _evidence([0.9, 0.8, 0.7]), [_passage()]).supported


def test_answer_carries_the_readers_probability_and_abstains_on_its_verdict():
    answerer = ExtractiveAnswerer()
    evidence = _evidence([0.95, 0.80, 0.70])  # today's selector alone would answer from the first
    low = EvidenceReader(GivenLogits([-4.0, -4.0, -4.0]), ReaderPolicy()).run("Cầu dài bao nhiêu?", "vi", evidence,
                                                                             [_passage()])
    answer = answerer.run("Cầu dài bao nhiêu?", "vi", evidence, [_passage()], {}, low)
    assert answer.abstained and answer.confidence is not None and answer.confidence < 0.05
    high = EvidenceReader(GivenLogits([-3.0, 4.0, -3.0]), ReaderPolicy()).run("Cầu dài bao nhiêu?", "vi", evidence,
                                                                             [_passage()])
    answer = answerer.run("Cầu dài bao nhiêu?", "vi", evidence, [_passage()], {}, high)
    assert not answer.abstained and answer.citations[0].quote == "Cầu dài 2,3 km."
    assert answer.confidence == high.probability
    assert answerer.run("Cầu dài bao nhiêu?", "vi", evidence, [_passage()], {}).confidence is None
