"""evals/squad.py: the article-split QA sets the reader trains on (train), decides on (dev) and reports on (test)."""

from __future__ import annotations

import json

import pytest

from evals import squad


def test_xquad_splits_are_disjoint_and_questions_stay_in_their_split():
    splits = squad.xquad_splits()
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["dev"]) & set(splits["test"])
    assert not set(splits["train"]) & set(splits["dev"])
    for split in ("train", "dev", "test"):
        articles, questions = squad.xquad(split)
        titles = {a.title for a in articles}
        assert titles == set(splits[split]) and {q.article for q in questions} <= titles
        assert {q.pair for q in questions} == {"vi->vi", "en->vi"}


@pytest.mark.parametrize("context", ["vi", "en"])
def test_every_xquad_answer_lies_in_a_sentence_of_its_paragraph(context: str):
    articles, questions = squad.xquad("dev", context)
    by_title = {a.title: a for a in articles}
    for q in questions:
        paragraph = by_title[q.article].paragraphs[q.paragraph]
        k = squad.answer_sentence(paragraph, q.answer_start)
        assert k is not None, q.id
        assert paragraph.text[q.answer_start:].startswith(q.answers[0])


def test_piaf_split_file_is_what_its_seed_gives():
    stored = json.loads((squad.DATASETS / "piaf" / "splits.json").read_text())
    assert stored == squad.piaf_splits()
    assert (len(stored["train"]), len(stored["dev"]), len(stored["test"])) == (56, 12, 18)


def test_unanswerable_questions_never_touch_test_articles():
    test_titles = set(squad.xquad_splits()["test"])
    for split in ("train", "dev"):
        articles, questions = squad.unanswerable(split)
        assert questions and not {a.title for a in articles} & test_titles
        assert all(not q.answerable for q in questions)
        assert {q.id.rsplit("-", 2)[1] + "->" + q.id.rsplit("-", 1)[1] for q in questions} == {
            "en->en", "en->vi", "vi->vi"}
    with pytest.raises(ValueError):
        squad.unanswerable("test")
