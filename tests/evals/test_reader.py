"""evals/reader.py: the reader beats the cosine selector on held-out XQuAD articles (a quality regression test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.reader import run_pass, sample, summarise, write_corpus
from rag import Assistant
from rag.reader import data


@pytest.mark.slow
def test_reader_on_answers_more_test_article_questions_than_reader_off(tmp_path: Path):
    articles, questions = data.xquad("test")
    arts = {(a.language, a.title): a for a in articles}
    files = write_corpus(articles, tmp_path / "corpus")
    # A fixed sample; only answerable asks (the gold paragraph stays in the index).
    chosen = [q for q in sample(questions, 40) if q.pair in ("vi->vi", "en->vi")]
    accuracy = {}
    for mode in ("off", "on"):
        assistant = Assistant(data_dir=tmp_path / "index", reader=mode)
        assistant.add(sorted(files.values()))
        accuracy[mode] = summarise(run_pass(assistant, chosen, files, arts, None, removed=False), {})
        assistant.close()
    for pair in ("vi->vi", "en->vi"):
        assert accuracy["on"][pair]["accuracy"] > accuracy["off"][pair]["accuracy"], accuracy

