"""Dataset loading: cases keep their gold data, XQuAD's corpus is written once with aligned offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.cases import DATASETS, load, load_seeds, load_xquad, spread, xquad_splits


def test_spread_keeps_evenly_spaced_items():
    assert spread(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert spread(list(range(3)), None) == [0, 1, 2]
    assert spread(list(range(3)), 7) == [0, 1, 2]


def test_seeds_cases_and_corpus():
    dataset = load_seeds()
    assert len(dataset.cases) == 75 and len(dataset.sources) == 5
    meta = next(c for c in dataset.cases if c.question == "Who led the Meta delegation?")
    assert meta.answerable and "Rafael Frankel" in meta.answers
    assert [e.source for e in meta.evidence] == list(meta.sources) == ["002_260f1e49892e43cf.txt"]
    assert len(load_seeds(limit=20).cases) == 20


def test_xquad_corpus_files_and_parallel_questions(tmp_path):
    dataset = load_xquad(tmp_path)
    assert len(dataset.corpus) == len(dataset.sources) == 240
    assert len(dataset.cases) == 2 * 1190
    vi, en = dataset.cases[0], dataset.cases[1]
    assert (vi.language, en.language) == ("vi", "en")
    assert vi.id.split(":")[0] == en.id.split(":")[0]
    assert vi.answers == en.answers and vi.sources == en.sources and vi.question != en.question
    for case in dataset.cases[::97]:
        text = (tmp_path / case.sources[0]).read_text(encoding="utf-8")
        for ev in case.evidence:
            assert text[ev.start:ev.start + len(ev.quote)] == ev.quote


def test_xquad_corpus_is_not_rewritten(tmp_path):
    load_xquad(tmp_path)
    first = tmp_path / "xquad_000_00.txt"
    before = first.stat().st_mtime_ns
    assert len(load_xquad(tmp_path, limit=10).cases) == 20
    assert first.stat().st_mtime_ns == before


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        load("squad", None)


def test_xquad_sample_is_fixed_and_drawn_from_test_articles_only(tmp_path):
    sample = load("xquad-sample", tmp_path)
    assert sample.name == "xquad-sample" and load("xquad", tmp_path).name == "xquad"
    assert len(sample.cases) == 2 * 200 and len(sample.corpus) == len(sample.sources) < 240
    assert load("xquad-sample", tmp_path).cases == sample.cases
    splits = xquad_splits()
    assert len(splits["test"]) == 16 and not set(splits["test"]) & (set(splits["train"]) | set(splits["dev"]))
    vi = json.loads((DATASETS / "xquad" / "xquad.vi.json").read_text(encoding="utf-8"))["data"]
    article_of = {f"xquad_{a:03d}_{p:02d}.txt": art["title"] for a, art in enumerate(vi)
                  for p in range(len(art["paragraphs"]))}
    assert {article_of[c.sources[0]] for c in sample.cases} <= set(splits["test"])
    assert {article_of[p.name] for p in sample.corpus} == set(splits["test"])
