"""Metric functions on hand-made outcomes, with every expected number worked out by hand."""

from __future__ import annotations

import pytest

from evals.metrics import (
    CitedQuote, Outcome, Span, answer_correct, citation_supports, first_gold_rank, fold, pair_name, percentile,
    summarize, summarize_groups, tokens,
)


def test_fold_ignores_case_diacritics_and_d_stroke():
    assert fold("Đà Nẵng") == "da nang"
    assert fold("Phnom Pênh") == fold("PHNOM PENH")
    assert fold("Nguyễn Huy Dũng") == "nguyen huy dung"
    assert fold("réseaux") == "reseaux"


def test_answers_are_matched_on_their_claims_without_citation_numbers():
    from rag.values import Answer, Claim

    answer = Answer(question="q", claims=[Claim("Ông Rafael", (1,)), Claim("Frankel dẫn đầu.", (2,))], abstained=False)
    assert answer.text == "Ông Rafael [1] Frankel dẫn đầu. [2]" and answer.plain == "Ông Rafael Frankel dẫn đầu."
    assert answer_correct(answer.plain, ["Rafael Frankel"])
    assert not answer_correct(Answer(question="q", claims=[Claim("khoảng 1 triệu người", (2,))], abstained=False).plain,
                              ["1 triệu 2"])
    assert answer_correct("khoảng 12 triệu người", ["12 million", "12 trieu"])
    assert not answer_correct("The documents don't say.", ["Rafael Frankel"])
    assert not answer_correct("anything", ["", "  "])


@pytest.mark.parametrize(("text", "answer"), [
    ("About 2000 delegates came.", "200"),
    ("Cambodia has 17 million users.", "7 million"),
    ("gần 200 đại biểu", "20"),
    ("It costs 1.2 billion.", "2 billion"),
    ("The 2020-2021 term", "202"),
    ("Ông Nguyễn Huy Dũng", "Huy Dung Nguyen"),
    ("Phnom Pênhs", "Phnom Penh"),
    ("Minhhh", "Minh"),
    ("99 người", "99%"),
])
def test_answers_match_whole_words_and_whole_numbers_only(text, answer):
    assert not answer_correct(text, [answer])


@pytest.mark.parametrize(("text", "answer"), [
    ("Khoảng 12.000 người", "12,000"),
    ("about 12,000 people", "12 000"),
    ("environ 12 000 personnes", "12.000"),
    ("environ 12\u202f000 personnes", "12000"),
    ("1.200.000 habitants", "1,200,000"),
    ("un taux de 12,5 %", "12.5%"),
    ("ĐẠI SỨ VŨ QUANG MINH", "vu quang minh"),
    ("L’ambassadeur Vu Quang Minh, à Phnom Penh.", "Phnom Pênh"),
    ("vào ngày 28/12/2020 tại Hà Nội", "28/12/2020"),
    ("giai đoạn 2021 - 2025", "2021-2025"),
    ("khoảng 99% dân số", "99%"),
    ("About 2000 delegates came.", "2000"),
])
def test_answers_match_despite_case_accents_and_number_formatting(text, answer):
    assert answer_correct(text, [answer])


def test_tokens_keep_numbers_whole():
    assert tokens("Khoảng 12.000 người, 17 triệu và 1,5%") == ["khoang", "12000", "nguoi", "17", "trieu", "va",
                                                                  "1.5", "%"]


def test_first_gold_rank():
    assert first_gold_rank(["a", "b", "c"], {"c"}) == 3
    assert first_gold_rank(["a", "b", "c", "b"], {"b", "c"}) == 2
    assert first_gold_rank(["a"], {"z"}) is None
    assert first_gold_rank([], {"a"}) is None


def test_citation_supports_only_by_overlapping_gold_evidence():
    spans = [Span("d.txt", 100, 150)]
    assert citation_supports(CitedQuote("d.txt", 140, 200, "x"), spans)
    assert citation_supports(CitedQuote("d.txt", 50, 101, "x"), spans)
    assert not citation_supports(CitedQuote("d.txt", 150, 200, "x"), spans)  # touching is not overlapping
    assert not citation_supports(CitedQuote("d.txt", 40, 100, "x"), spans)
    assert not citation_supports(CitedQuote("e.txt", 100, 150, "x"), spans)  # same offsets, other file
    # Quoting the answer somewhere else is not the gold evidence (the old definition counted it).
    assert not citation_supports(CitedQuote("e.txt", 0, 30, "Ông Vũ Quang Minh phát biểu"), spans)


def _outcome(case_id, *, answerable=True, retrieved=(), text="", abstained=False, citations=(), latency=0.1,
             pair="en->vi", gold=("d.txt",), answers=("Hanoi", "Hà Nội")) -> Outcome:
    return Outcome(
        case_id=case_id, mode="hybrid", language=pair.split("->")[0], pair=pair, answerable=answerable,
        answers=answers if answerable else (), gold_sources=gold if answerable else (),
        gold_spans=(Span("d.txt", 0, 20),) if answerable else (), retrieved=tuple(retrieved), answer_text=text,
        abstained=abstained, citations=tuple(citations), latency_s=latency,
    )


GOOD = CitedQuote("d.txt", 5, 30, "held in Ha Noi")  # overlaps the gold span
ANSWER_QUOTE = CitedQuote("e.txt", 0, 20, "tại Hà Nội hôm qua")  # other file, but quotes the answer
WRONG = CitedQuote("e.txt", 50, 80, "unrelated sentence")

OUTCOMES = [
    # correct, gold at rank 1, two citations of which one supports
    _outcome("a", retrieved=["d.txt", "e.txt"], text="Hà Nội [1] ... [2]", citations=[GOOD, WRONG], latency=0.1),
    # correct, gold at rank 2, its citation quotes the answer from another file: not gold evidence
    _outcome("b", retrieved=["e.txt", "d.txt"], text="tại Hà Nội [1]", citations=[ANSWER_QUOTE], latency=0.2),
    # wrong answer, gold at rank 6 (beyond hit@5), one unsupported citation
    _outcome("c", retrieved=["e", "f", "g", "h", "i", "d.txt"], text="Paris [1]", citations=[WRONG], latency=0.3),
    # false abstention, gold not retrieved
    _outcome("d", retrieved=["e.txt"], text="The documents don't say.", abstained=True, latency=0.4),
    # unanswerable: one abstained (true positive), one answered (false negative)
    _outcome("e", answerable=False, pair="en->none", retrieved=["d.txt"], text="No.", abstained=True, latency=0.5),
    _outcome("f", answerable=False, pair="en->none", retrieved=["d.txt"], text="Hà Nội [1]", citations=[GOOD],
             latency=0.6),
]


def test_summarize_by_hand():
    m = summarize(OUTCOMES)
    assert m["n"] == 6 and m["answerable"] == 4
    assert m["hit@1"] == pytest.approx(1 / 4)
    assert m["hit@5"] == pytest.approx(2 / 4)
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 6 + 0) / 4)
    assert m["accuracy"] == pytest.approx(2 / 4)
    # Citations of answers to answerable questions: GOOD, WRONG, ANSWER_QUOTE, WRONG -> 1 of 4 overlaps gold.
    assert m["citation_precision"] == pytest.approx(1 / 4)
    # Answers (not abstentions) to answerable questions: a, b, c; only a cites the gold evidence.
    assert m["citation_recall"] == pytest.approx(1 / 3)
    # Abstained: d (answerable) and e (unanswerable) -> precision 1/2; unanswerable e, f -> recall 1/2.
    assert m["abstention_precision"] == pytest.approx(1 / 2)
    assert m["abstention_recall"] == pytest.approx(1 / 2)
    assert m["false_abstentions"] == 1
    assert m["latency_p50_s"] == pytest.approx(0.35)
    assert m["latency_p95_s"] == pytest.approx(0.575)


def test_undefined_ratios_are_none_not_zero():
    unanswerable_only = summarize(OUTCOMES[4:])
    assert unanswerable_only["hit@1"] is None and unanswerable_only["mrr"] is None
    assert unanswerable_only["accuracy"] is None and unanswerable_only["citation_precision"] is None
    assert unanswerable_only["false_abstentions"] is None
    assert unanswerable_only["abstention_recall"] == 0.5
    answerable_only = summarize(OUTCOMES[:4])
    assert answerable_only["abstention_recall"] is None
    assert answerable_only["abstention_precision"] is None
    assert answerable_only["false_abstentions"] == 1
    assert summarize([]) == {}


def test_retrieval_only_outcomes_have_no_answer_metrics():
    outcome = _outcome("r", retrieved=["d.txt"])
    outcome.answer_text, outcome.abstained = None, None
    m = summarize([outcome])
    assert m["hit@1"] == 1.0
    assert m["accuracy"] is None and m["false_abstentions"] is None and m["abstention_precision"] is None


def test_citation_recall_counts_answers_without_gold_citations():
    unsupported = _outcome("u", retrieved=["d.txt"], text="Hà Nội [1]", citations=[WRONG])
    assert summarize([unsupported])["citation_recall"] == 0.0
    # A correct extractive answer is its quote; when the quote is not the gold evidence, recall is not 1.
    quoted = _outcome("q", retrieved=["d.txt"], text="tại Hà Nội hôm qua [1]", citations=[ANSWER_QUOTE])
    assert quoted.correct and summarize([quoted])["citation_recall"] == 0.0


def test_groups_are_all_then_question_language_then_pairs():
    fr = _outcome("g", pair="fr->fr+vi", retrieved=["d.txt"], text="Hanoi")
    groups = summarize_groups(OUTCOMES + [fr])
    assert list(groups) == ["hybrid"]
    # fr has a single pair, so no fr->* row repeating it.
    assert list(groups["hybrid"]) == ["all", "en->*", "en->none", "en->vi", "fr->fr+vi"]
    assert groups["hybrid"]["all"]["n"] == 7
    assert groups["hybrid"]["en->vi"]["n"] == 4
    assert groups["hybrid"]["en->none"]["abstention_recall"] == 0.5


def test_pair_names():
    assert pair_name("en", ["vi"]) == "en->vi"
    assert pair_name("fr", ["vi", "fr", "vi"]) == "fr->fr+vi"
    assert pair_name("vi", []) == "vi->none"


def test_percentile_interpolates():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 95) is None
