"""rag/reader/policy.py: the one decision function (reader outputs + evidence -> order, verdict, short answer)
that the reading stage, the policy fit and the eval replay share; and its JSON round trip."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rag.reader.policy import FEATURES, Candidate, ReaderPolicy, decide, features


def _candidates(scores: list[float], same: bool = True, numbers_ok: bool = True) -> list[Candidate]:
    return [Candidate(s, 0.5, same, numbers_ok) for s in scores]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_order_blends_the_readers_scores_with_the_evidence_scores():
    evidence = _candidates([0.90, 0.89, 0.85])
    scores = np.array([-3.0, 4.0, -3.0])
    assert decide(ReaderPolicy(evidence_weight=0.5), scores, 0.0, 0.99, [None] * 3, evidence).order[0] == 1
    # With the evidence weighted far above the reader, today's order comes back.
    assert decide(ReaderPolicy(evidence_weight=50.0), scores, 0.0, 0.99, [None] * 3, evidence).order == [0, 1, 2]


def test_verdict_is_the_logistic_model_against_the_threshold_of_its_language_pair():
    policy = ReaderPolicy(weights=(1.0, 0.0, 0.0, 0.0), bias_same_language=0.0, bias_cross_language=-1.0,
                          min_probability_same_language=0.5, min_probability_cross_language=0.5)
    scores = np.array([2.0, -1.0])
    same = decide(policy, scores, 0.0, 0.6, [None, None], _candidates([0.9, 0.8], same=True))
    cross = decide(policy, scores, 0.0, 0.6, [None, None], _candidates([0.9, 0.8], same=False))
    logit = math.log(0.6 / 0.4)
    assert same.answerable == pytest.approx(_sigmoid(logit)) and same.supported
    assert cross.answerable == pytest.approx(_sigmoid(logit - 1.0)) and not cross.supported


def test_a_number_the_question_names_must_be_in_the_chosen_passage():
    d = decide(ReaderPolicy(), np.array([5.0, -2.0]), -3.0, 0.999, [0.99, None],
               _candidates([0.9, 0.8], numbers_ok=False))
    assert not d.supported and d.short_answer is None


def test_short_answer_only_when_supported_and_its_span_is_sure_enough():
    policy = ReaderPolicy(min_span_probability=0.6)
    scores, candidates = np.array([4.0, -2.0]), _candidates([0.9, 0.8])
    assert decide(policy, scores, -2.0, 0.99, [0.7, 0.99], candidates).short_answer == 0
    assert decide(policy, scores, -2.0, 0.99, [0.5, 0.99], candidates).short_answer is None
    unsure = decide(policy, scores, -2.0, 0.01, [0.9, 0.99], candidates)
    assert not unsure.supported and unsure.short_answer is None


def test_further_sentences_need_their_own_probability():
    policy = ReaderPolicy(extra_sentence_probability=0.9, evidence_weight=0.0)
    d = decide(policy, np.array([5.0, 3.0, 0.0]), 0.0, 0.99, [None] * 3, _candidates([0.9, 0.8, 0.7]))
    assert d.order == [0, 1, 2]
    assert d.sentence_probabilities == pytest.approx([_sigmoid(5.0), _sigmoid(3.0), 0.5])
    assert d.extra == [True, True, False]


def test_no_candidates_is_no_answer():
    d = decide(ReaderPolicy(), np.zeros(0), 0.0, 0.0, [], [])
    assert d.order == [] and not d.supported


def test_features_are_named_and_finite_at_the_extremes():
    x = features(1.0, 0.0, Candidate(0.8, 1.0, True, True))
    assert len(x) == len(FEATURES) and np.isfinite(x).all()


def test_policy_round_trips_through_json(tmp_path: Path):
    policy = ReaderPolicy(candidates=30, weights=(0.5, 0.25, 3.0, -1.0), bias_cross_language=-0.75,
                          min_span_probability=0.42, fitted_on="dev")
    policy.save(tmp_path / "policy.json")
    assert ReaderPolicy.load(tmp_path / "policy.json") == policy
