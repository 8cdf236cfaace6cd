"""evals/claims.py: labelled claims in, each one's passage (exact offsets) and the checker's precision/recall out.

The real checker over the whole set runs in tests/evals/test_gate.py; here the scoring is pinned on small
hand-made sets and a checker that accepts what it is told to, so a wrong count is caught exactly.
"""

from __future__ import annotations

import json

import pytest

from evals import claims
from evals.cases import DATASETS, SEEDS_DIR
from evals.claims import Claim


def claim(id: str, label: str, *, split: str = "fit", language: str = "en", text: str = "") -> Claim:
    return Claim(id=id, claim=text or id, language=language, label=label,
                 context="seeds/002_260f1e49892e43cf.txt", anchor="Rafael Frankel", split=split)


class ListChecker:
    """Accepts a claim when its text is in ``accepted``; records each call and the thresholds it ran with."""

    def __init__(self, accepted: set[str]):
        self.accepted = accepted
        self.min_similarity, self.name_slack = 0.84, 0.02
        self.calls = []

    def check(self, text, cited, passages):
        self.calls.append((text, cited, passages, self.min_similarity, self.name_slack))
        return ["support"] if text in self.accepted else []


def test_every_labelled_claim_gets_the_paragraph_it_is_about_at_its_document_offsets():
    labelled = claims.load()
    assert {c.label for c in labelled} == set(claims.LABELS)
    xquad = json.loads((DATASETS / "xquad" / "xquad.vi.json").read_text(encoding="utf-8"))["data"]
    for c in labelled:
        passage = claims.passage_of(c)
        kind, key = c.context.split("/", 1)
        if kind == "xquad":
            article, paragraph = (int(part) for part in key.split("_"))
            document = xquad[article]["paragraphs"][paragraph]["context"]
        else:
            document = (SEEDS_DIR / key).read_text(encoding="utf-8")
        assert document[passage.start : passage.end] == passage.text, c.id
        assert c.anchor in passage.text and "\n" not in passage.text, c.id
        assert passage.source == c.context and passage.language in ("vi", "fr"), c.id


def test_verify_checks_each_claim_against_its_own_passage_cited_as_1():
    a, b = claim("a", "supported"), claim("b", "negated")
    checker = ListChecker({"a"})
    assert claims.verify([a, b], checker) == {"a": True, "b": False}
    assert [(text, cited, [p.source for p in passages]) for text, cited, passages, *_ in checker.calls] == [
        ("a", [1], [a.context]), ("b", [1], [b.context])]


def test_score_counts_precision_recall_and_false_accepts_per_group():
    labelled = [
        claim("t1", "supported"), claim("t2", "paraphrased-supported", split="report", language="vi"),
        claim("t3", "supported", split="report"), claim("f1", "negated"), claim("f2", "unrelated", split="report"),
    ]
    verified = {"t1": True, "t2": True, "t3": False, "f1": True, "f2": False}
    groups = claims.score(labelled, verified)["groups"]
    assert groups["all"] == {"n": 5, "precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3),
                             "false_accepts": 1}
    assert groups["split:fit"] == {"n": 2, "precision": 0.5, "recall": 1.0, "false_accepts": 1}
    assert groups["split:report"] == {"n": 3, "precision": 1.0, "recall": 0.5, "false_accepts": 0}
    assert groups["language:vi"] == {"n": 1, "precision": 1.0, "recall": 1.0, "false_accepts": 0}


def test_score_says_none_where_nothing_was_accepted_or_nothing_is_true():
    labelled = [claim("f1", "negated"), claim("f2", "wrong-date")]
    result = claims.score(labelled, {"f1": False, "f2": False})
    assert result["groups"]["all"] == {"n": 2, "precision": None, "recall": None, "false_accepts": 0}
    shares = result["verified_share"]
    assert shares["negated"] == {"all": 0.0, "fit": 0.0, "report": None}
    assert shares["supported"] == {"all": None, "fit": None, "report": None}


def test_sweep_runs_the_checker_once_per_threshold_and_slack():
    labelled = [claim("t1", "supported"), claim("f1", "negated")]
    checker = ListChecker({"t1"})
    rows = claims.sweep(labelled, checker, thresholds=(0.8, 0.9), slacks=(0.0, 0.05))
    assert [(r["min_similarity"], r["name_slack"]) for r in rows] == [(0.8, 0.0), (0.8, 0.05), (0.9, 0.0), (0.9, 0.05)]
    assert {(t, s) for *_, t, s in checker.calls} == {(0.8, 0.0), (0.8, 0.05), (0.9, 0.0), (0.9, 0.05)}
    assert all(r["precision"] == r["recall"] == r["f1"] == 1.0 for r in rows)


def test_the_report_lists_each_group_and_every_misjudged_claim():
    labelled = [claim("t1", "supported", text="Rafael Frankel led it."), claim("f1", "negated", text="He did not.")]
    checker = ListChecker({"Rafael Frankel led it.", "He did not."})
    result = claims.run(checker, labelled)
    assert result["claims"] == 2 and (result["min_similarity"], result["name_slack"]) == (0.84, 0.02)
    text = claims.markdown(result)
    assert "| all | 2 | 0.500 | 1.000 | 1 |" in text
    assert "## Misjudged claims (1)" in text and "- `f1` negated (fit), verified: He did not." in text
    assert "| negated | 1.000 | 1.000 | – |" in text
