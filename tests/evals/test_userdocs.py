"""The userdocs eval set: its documents, its questions and the PDF generator agree with each other.

Fast, no model: the documents are read with the project's own loader (``index.loading.load_document``), so
every gold quote is checked against the text citations will point into, HTML and PDF included.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from evals.cases import DATASETS, USERDOCS_DIR, load
from index.loading import SUPPORTED_SUFFIXES, load_document
from tests.evals.test_datasets import KINDS, LANGUAGES, REQUIRED, fold
from tests.evals.userdocs_pdf import render, targets

QUESTIONS = DATASETS / "userdocs.jsonl"
# Each document and the language it is written in.
DOC_LANGUAGE = {
    "lumora-press-release.html": "en",
    "brightwater-profile.md": "en",
    "northfield-annual-report-2025.pdf": "en",
    "kestrel-meeting-notes.txt": "en",
    "riverside-staff-list.md": "en",
    "jardins-du-canal-ag.txt": "fr",
    "boulangerie-martin.md": "fr",
    "hop-phu-huynh-lop-5a.txt": "vi",
    "bang-gia-giat-la-hoa-sen.txt": "vi",
}
NEAR_MISS = "near miss: "


def _rows() -> tuple[dict, ...]:
    with QUESTIONS.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh)


ROWS = _rows()


@lru_cache(maxsize=None)
def text_of(name: str) -> str:
    return load_document(USERDOCS_DIR / name, max_bytes=10_000_000).text


def test_the_folder_holds_exactly_the_documents():
    files = {p.name for p in USERDOCS_DIR.iterdir()}
    assert files == set(DOC_LANGUAGE), "userdocs/ is indexed whole: it holds the documents and nothing else"
    assert {Path(name).suffix for name in files} <= set(SUPPORTED_SUFFIXES)
    assert {".html", ".md", ".pdf", ".txt"} <= {Path(name).suffix for name in files}


@pytest.mark.parametrize("name", sorted(DOC_LANGUAGE))
def test_document_is_short_and_read_in_its_language(name):
    text = text_of(name)
    assert 80 <= len(re.findall(r"[^\W_]+", text)) <= 300
    # The runner names each question's language pair by the language the loader detects.
    assert load_document(USERDOCS_DIR / name, max_bytes=10_000_000).language == DOC_LANGUAGE[name]


def test_committed_pdf_is_what_the_generator_writes():
    pairs = targets()
    assert {pdf.name for pdf in pairs.values()} == {n for n in DOC_LANGUAGE if n.endswith(".pdf")}
    for source, pdf in pairs.items():
        assert source.read_text(encoding="utf-8").encode("latin-1")  # the PDF's text layer is WinAnsi
        assert pdf.read_bytes() == render(source), f"{pdf.name} is stale: run python -m tests.evals.userdocs_pdf"


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_fields_and_kind(row):
    for field, typ in REQUIRED.items():
        assert isinstance(row.get(field), typ), f"{field!r} should be {typ.__name__}"
    assert set(row) <= set(REQUIRED) | {"note"}
    assert re.fullmatch(r"userdocs-\d{3}", row["id"])
    assert row["language"] in LANGUAGES and row["kind"] in KINDS
    if not row["answerable"]:
        assert row["kind"] == "unanswerable"
        assert row["answers"] == row["sources"] == row["evidence"] == []
        assert row.get("note", "").strip(), "an unanswerable question says in its note what the text lacks"
        return
    assert row["answers"] and len(row["sources"]) == len(row["evidence"]) == 1
    expected = "single" if DOC_LANGUAGE[row["sources"][0]] == row["language"] else "cross-lingual"
    assert row["kind"] == expected


@pytest.mark.parametrize("row", [r for r in ROWS if r["answerable"]], ids=[r["id"] for r in ROWS if r["answerable"]])
def test_answers_and_evidence_are_verbatim_in_the_loaded_text(row):
    (source,), (quote,) = row["sources"], row["evidence"]
    text = text_of(source)
    assert quote in text, f"evidence not verbatim in {source} as the loader reads it: {quote!r}"
    assert 30 <= len(quote) <= 300
    for answer in row["answers"]:
        assert answer in text, f"answer {answer!r} not verbatim in {source}"
        assert fold(answer) in fold(quote), f"answer {answer!r} not in the evidence"
        assert 1 <= len(answer.split()) <= 5


def test_counts():
    assert len(ROWS) >= 60
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    languages = Counter(r["language"] for r in ROWS)
    assert set(languages) == LANGUAGES and min(languages.values()) >= 12, languages
    unanswerable = [r for r in ROWS if not r["answerable"]]
    assert len(unanswerable) >= 12 and len(unanswerable) >= len(ROWS) / 5
    near_misses = [r for r in unanswerable if r["note"].startswith(NEAR_MISS)]
    assert len(near_misses) >= 8 and len(near_misses) > len(unanswerable) / 2
    assert set(Counter(r["language"] for r in unanswerable)) == LANGUAGES
    kinds = Counter(r["kind"] for r in ROWS)
    assert kinds["single"] >= 20 and kinds["cross-lingual"] >= 20
    covered = Counter(s for r in ROWS for s in r["sources"])
    assert set(covered) == set(DOC_LANGUAGE), "every document is the source of some question"


def test_no_question_is_asked_twice_here_or_in_the_seeds():
    seeds = {fold(json.loads(line)["question"]) for line in (DATASETS / "seeds.jsonl").open(encoding="utf-8")}
    questions = Counter(fold(r["question"]) for r in ROWS)
    assert [q for q, n in questions.items() if n > 1] == []
    assert not set(questions) & seeds


def test_loader_returns_every_question_over_the_folder():
    dataset = load("userdocs", None)
    assert dataset.name == "userdocs" and dataset.corpus == (USERDOCS_DIR,)
    assert dataset.sources == frozenset(DOC_LANGUAGE)
    assert [c.id for c in dataset.cases] == [r["id"] for r in ROWS]
    first, row = dataset.cases[0], ROWS[0]
    assert (first.question, first.answers, first.kind) == (row["question"], tuple(row["answers"]), row["kind"])
    assert [(e.source, e.quote) for e in first.evidence] == list(zip(row["sources"], row["evidence"]))
    assert len(load("userdocs", None, limit=10).cases) == 10
