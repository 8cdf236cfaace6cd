"""Fast structural checks of the hand-made evaluation datasets.

No model and no pipeline import: these tests only read files under
evals/datasets/ and seeds/. They are, with the eval loader (evals/cases.py), the only
code that reads the seeds test split, to check its structure and that nothing else does.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "evals" / "datasets"
SEEDS_JSONL = DATASETS / "seeds.jsonl"
SEEDS_TEST_JSONL = DATASETS / "seeds-test.jsonl"
SEEDS_DIR = ROOT / "seeds"
XQUAD_DIR = DATASETS / "xquad"

LANGUAGES = {"en", "vi", "fr"}
KINDS = {"single", "cross-lingual", "multi-doc", "unanswerable"}
REQUIRED = {
    "id": str,
    "question": str,
    "language": str,
    "answerable": bool,
    "answers": list,
    "sources": list,
    "evidence": list,
    "kind": str,
}
# Language of each seed document (only 001 is French).
DOC_LANGUAGE = {
    "000_514266f0979d6470.txt": "vi",
    "001_2b62d3c3698cbca6.txt": "fr",
    "002_260f1e49892e43cf.txt": "vi",
    "003_430fae2883786666.txt": "vi",
    "004_92f6ff89d7c142c1.txt": "vi",
}


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form: NFKD, drop combining marks, đ->d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=None)
def seed_text(name: str) -> str:
    return (SEEDS_DIR / name).read_text(encoding="utf-8")


@lru_cache(maxsize=2)
def load_cases(path: Path = SEEDS_JSONL) -> tuple[dict, ...]:
    cases = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            assert line.strip(), f"blank line {lineno} in {path}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"line {lineno} does not parse: {exc}")
            assert isinstance(obj, dict), f"line {lineno} is not an object"
            cases.append(obj)
    return tuple(cases)


def _ids(cases):
    return [c.get("id", f"line-{i}") for i, c in enumerate(cases, 1)]


DEV_CASES = load_cases() if SEEDS_JSONL.exists() else ()
TEST_CASES = load_cases(SEEDS_TEST_JSONL) if SEEDS_TEST_JSONL.exists() else ()
CASES = DEV_CASES + TEST_CASES


# --------------------------------------------------------------------------
# seeds.jsonl: file level
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [SEEDS_JSONL, SEEDS_TEST_JSONL], ids=["dev", "test"])
def test_seeds_file_exists_and_parses(path):
    assert path.is_file()
    assert len(load_cases(path)) > 0


def test_ids_unique_across_both_splits():
    ids = [c["id"] for c in CASES]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    assert all(c["id"].startswith("seeds-test-") for c in TEST_CASES)
    assert not any(c["id"].startswith("seeds-test-") for c in DEV_CASES)


def test_test_split_questions_are_fresh():
    dev = {fold(c["question"]) for c in DEV_CASES}
    assert not [c["question"] for c in TEST_CASES if fold(c["question"]) in dev]


def test_all_seed_documents_exist():
    for name in DOC_LANGUAGE:
        assert (SEEDS_DIR / name).is_file(), name


# --------------------------------------------------------------------------
# seeds.jsonl: per case
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_fields_and_types(case):
    for field, typ in REQUIRED.items():
        assert field in case, f"missing field {field!r}"
        assert isinstance(case[field], typ), f"{field!r} should be {typ.__name__}"
    assert case["id"].strip() and case["question"].strip()
    assert case["language"] in LANGUAGES
    assert case["kind"] in KINDS
    if "note" in case:
        assert isinstance(case["note"], str)
    for field in ("answers", "sources", "evidence"):
        assert all(isinstance(x, str) and x.strip() for x in case[field]), field


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_answerable_case_is_grounded(case):
    if not case["answerable"]:
        assert case["answers"] == [] and case["sources"] == [] and case["evidence"] == []
        return
    answers, sources, evidence = case["answers"], case["sources"], case["evidence"]
    assert len(answers) >= 1
    assert len(sources) >= 1
    assert len(sources) == len(set(sources)), "duplicate source"
    assert len(evidence) == len(sources), "need exactly one evidence quote per source"
    for src, quote in zip(sources, evidence):
        assert src in DOC_LANGUAGE, f"unknown source {src}"
        assert (SEEDS_DIR / src).is_file(), f"missing seed file {src}"
        assert quote in seed_text(src), f"evidence not verbatim in {src}: {quote!r}"
    folded_evidence = [fold(e) for e in evidence]
    assert any(
        fold(a) in e for a in answers for e in folded_evidence
    ), f"no accepted answer {answers} appears in the evidence"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_kind_is_consistent(case):
    kind, sources = case["kind"], case["sources"]
    if not case["answerable"]:
        assert kind == "unanswerable"
        assert case["answers"] == [] and sources == [] and case["evidence"] == []
        return
    assert kind != "unanswerable"
    if len(sources) > 1:
        assert kind == "multi-doc"
    elif DOC_LANGUAGE[sources[0]] != case["language"]:
        assert kind == "cross-lingual"
    else:
        assert kind == "single"


# --------------------------------------------------------------------------
# seeds.jsonl: dataset-level requirements
# --------------------------------------------------------------------------

def test_dataset_counts():
    cases = DEV_CASES
    assert len(cases) >= 60

    per_language = Counter(c["language"] for c in cases)
    for lang in LANGUAGES:
        assert per_language[lang] >= 12, f"only {per_language[lang]} {lang} cases"

    unanswerable = [c for c in cases if not c["answerable"]]
    assert len(unanswerable) >= 10
    per_lang_unans = Counter(c["language"] for c in unanswerable)
    for lang in LANGUAGES:
        assert per_lang_unans[lang] >= 3, f"only {per_lang_unans[lang]} unanswerable {lang}"

    covered = Counter(s for c in cases for s in c["sources"])
    for name in DOC_LANGUAGE:
        assert covered[name] >= 8, f"{name} has only {covered[name]} answerable cases"

    kinds = Counter(c["kind"] for c in cases)
    assert kinds["multi-doc"] >= 6
    assert kinds["cross-lingual"] >= 1
    # multi-doc cases must really use two different documents
    for c in cases:
        if c["kind"] == "multi-doc":
            assert len(set(c["sources"])) >= 2


def test_test_split_counts():
    cases = TEST_CASES
    assert len(cases) >= 40
    per_language = Counter(c["language"] for c in cases)
    for lang in LANGUAGES:
        assert per_language[lang] >= 12, f"only {per_language[lang]} {lang} cases"
    unanswerable = [c for c in cases if not c["answerable"]]
    assert len(unanswerable) >= 10
    # Near misses: right topic, missing fact; the note says which fact is missing and what the text has instead.
    near_misses = [c for c in unanswerable if c.get("note", "").startswith("near miss: ")]
    assert len(near_misses) >= 5
    covered = Counter(s for c in cases for s in c["sources"])
    assert set(covered) == set(DOC_LANGUAGE), "every seed document is a source of the test split"


# The eval loader is the one reader of the test split; this file checks it. Nothing else may name it.
TEST_SPLIT_READERS = {Path("evals/cases.py"), Path("tests/evals/test_datasets.py")}
SCANNED = (".py", ".jsonl", ".json", ".toml", ".cfg", ".sh", ".ipynb")
SKIPPED_DIRS = {".venv", ".git", ".rag", "node_modules", "__pycache__", "build"}


def split_leaks(root: Path, questions: list[str]) -> list[str]:
    """Files under ``root`` (code and data, reports excepted) that name the test split or copy its questions."""
    leaks = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or path.suffix not in SCANNED or set(rel.parts) & SKIPPED_DIRS:
            continue
        if rel in TEST_SPLIT_READERS or rel == Path("evals/datasets/seeds-test.jsonl") or rel.parts[:2] == (
                "evals", "reports"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "seeds-test" in text:
            leaks.append(f"{rel} names the test split")
        leaks += [f"{rel} contains the test question {q!r}" for q in questions if q in text]
    return leaks


def test_nothing_but_the_eval_loader_reads_the_test_split():
    assert SEEDS_TEST_JSONL.name == "seeds-test.jsonl"
    leaks = split_leaks(ROOT, [c["question"] for c in TEST_CASES])
    assert not leaks, "\n".join(leaks)


def test_split_leaks_finds_a_copied_question_and_the_file_name(tmp_path):
    question = TEST_CASES[0]["question"]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(f"QUESTION = {question!r}\n", encoding="utf-8")
    (tmp_path / "tune.py").write_text("open('evals/datasets/seeds-test.jsonl')\n", encoding="utf-8")
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "cases.py").write_text("'seeds-test.jsonl'\n", encoding="utf-8")
    assert split_leaks(tmp_path, [question]) == [
        f"tests/test_x.py contains the test question {question!r}", "tune.py names the test split"]


def test_mandatory_cases_present():
    by_question = {c["question"]: c for c in DEV_CASES}

    meta = by_question["Who led the Meta delegation?"]
    assert meta["language"] == "en" and meta["answerable"]
    assert "Rafael Frankel" in meta["answers"]
    assert meta["sources"] == ["002_260f1e49892e43cf.txt"]

    users = by_question["Combien d'internautes compte le Cambodge ?"]
    assert users["language"] == "fr" and users["answerable"]
    assert {"12 millions", "12 triệu"} <= set(users["answers"])
    assert set(users["sources"]) == {"000_514266f0979d6470.txt", "001_2b62d3c3698cbca6.txt"}

    revenue = by_question["What was Meta's revenue in 2023?"]
    assert revenue["answerable"] is False and revenue["kind"] == "unanswerable"


# --------------------------------------------------------------------------
# claims.jsonl: the claim checker's labelled claims
# --------------------------------------------------------------------------

CLAIMS_JSONL = DATASETS / "claims.jsonl"
CLAIM_LABELS = {"supported", "paraphrased-supported", "role-swapped", "negated", "wrong-number", "wrong-date",
                "unrelated"}


@lru_cache(maxsize=1)
def load_claims() -> tuple[dict, ...]:
    with CLAIMS_JSONL.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh)


def _claim_paragraph(row: dict) -> str:
    kind, key = row["context"].split("/", 1)
    if kind == "xquad":
        article, paragraph = (int(part) for part in key.split("_"))
        return load_xquad("vi")["data"][article]["paragraphs"][paragraph]["context"]
    assert kind == "seeds", row["context"]
    lines = [line for line in seed_text(key).splitlines() if row["anchor"] in line]
    assert len(lines) == 1, f"{row['id']}: anchor must be in exactly one paragraph of {key}"
    return lines[0]


def test_claim_set_shape():
    rows = load_claims()
    assert len(rows) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == CLAIM_LABELS and min(labels.values()) >= 10, labels
    assert set(Counter(r["language"] for r in rows)) == LANGUAGES
    splits = Counter(r["split"] for r in rows)
    assert set(splits) == {"fit", "report"} and min(splits.values()) >= 60
    # A passage's claims stay together, so the report half is about passages the rules were not chosen on.
    split_of = {}
    for r in rows:
        assert split_of.setdefault(_claim_paragraph(r), r["split"]) == r["split"], r["id"]


def test_claims_are_about_dev_seeds_sentences_and_xquad_train_dev_articles_only():
    splits = json.loads((XQUAD_DIR / "splits.json").read_text(encoding="utf-8"))
    allowed = set(splits["train"]) | set(splits["dev"])
    dev_quotes = [(s, q) for c in DEV_CASES for s, q in zip(c["sources"], c["evidence"])]
    for row in load_claims():
        paragraph = _claim_paragraph(row)
        assert row["anchor"] in paragraph, row["id"]
        kind, key = row["context"].split("/", 1)
        if kind == "xquad":
            title = load_xquad("vi")["data"][int(key.split("_")[0])]["title"]
            assert title in allowed, f"{row['id']}: {title} is a test article"
        else:
            assert any(s == key and q in paragraph for s, q in dev_quotes), f"{row['id']}: no dev question there"


# --------------------------------------------------------------------------
# XQuAD copies
# --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def load_xquad(lang: str) -> dict:
    return json.loads((XQUAD_DIR / f"xquad.{lang}.json").read_text(encoding="utf-8"))


def _flatten(data: dict):
    paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
    questions = [q for p in paragraphs for q in p["qas"]]
    return paragraphs, questions


def test_xquad_licence_present():
    assert (XQUAD_DIR / "LICENSE.txt").is_file()
    text = (XQUAD_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 4.0" in text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_xquad_shape(lang):
    paragraphs, questions = _flatten(load_xquad(lang))
    assert len(paragraphs) == 240
    assert len(questions) == 1190
    for q in questions:
        assert q["id"] and q["question"] and q["answers"]


def test_xquad_languages_aligned():
    en_par, en_q = _flatten(load_xquad("en"))
    vi_par, vi_q = _flatten(load_xquad("vi"))
    assert [len(p["qas"]) for p in en_par] == [len(p["qas"]) for p in vi_par]
    assert [q["id"] for q in en_q] == [q["id"] for q in vi_q]
