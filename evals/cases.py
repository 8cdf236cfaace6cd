"""Dataset files in, a ``Dataset`` out: the corpus to index and the ``Case``s to ask about it.

``seeds``: the ``dev`` split of the hand-made questions over the project's ``seeds/`` folder
(``datasets/seeds.jsonl``): tests, calibration and tuning have touched it, so its numbers are partly in-sample.
``seeds-test``: the ``test`` split (``datasets/seeds-test.jsonl``), fresh questions over the same documents that
nothing but this loader reads (``tests/evals/test_datasets.py`` enforces it): the out-of-sample seeds numbers.
``xquad``: the 240 Vietnamese XQuAD paragraphs, written once as one ``.txt`` file each into a cache
folder, and their 1,190 questions asked twice: in Vietnamese (vi->vi) and in English (en->vi). The
accepted answers of both are the Vietnamese spans, since the documents are Vietnamese.
``xquad-sample``: the paragraphs of the ``test`` articles of ``datasets/xquad/splits.json`` only, and a fixed
sample of ``SAMPLE_SIZE`` of their questions (seed ``SAMPLE_SEED``), asked in both languages: the CI gate's
XQuAD check, on articles nothing is fitted on, small enough to index and run on every ``make test``. Other
paragraphs of the same article stay as distractors; other articles' paragraphs are left out (a third of the
embedding work), so its retrieval numbers run a little above the full set's.
``userdocs``: plain questions (``datasets/userdocs.jsonl``) over nine short documents of the kinds a new user adds
(HTML, Markdown, PDF, text; en, fr, vi) in ``datasets/userdocs/``, which holds those documents and nothing else.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATASETS = PACKAGE / "datasets"
SEEDS_DIR = PACKAGE.parent / "seeds"
# Dataset name -> its file under datasets/ (the seeds splits share the corpus).
SEEDS_SPLITS = {"seeds": "seeds.jsonl", "seeds-test": "seeds-test.jsonl"}
USERDOCS_DIR = DATASETS / "userdocs"
NAMES = (*SEEDS_SPLITS, "xquad", "xquad-sample", "userdocs")
SAMPLE_SIZE = 200
SAMPLE_SEED = 11


@dataclass(frozen=True)
class Evidence:
    """A gold quote in ``source``; ``start`` is its offset when the dataset knows it."""

    source: str
    quote: str
    start: int | None = None


@dataclass(frozen=True)
class Case:
    """One question with what counts as a correct, grounded answer (``answers`` empty = unanswerable)."""

    id: str
    question: str
    language: str
    answerable: bool
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    kind: str


@dataclass(frozen=True)
class Dataset:
    """What to index (``corpus`` paths, as given to ``Assistant.add``) and what to ask."""

    name: str
    corpus: tuple[Path, ...]
    sources: frozenset[str]
    cases: tuple[Case, ...]


def load(name: str, cache_dir: Path, limit: int | None = None) -> Dataset:
    """The named dataset; ``limit`` keeps that many questions spread evenly over the file."""
    match name:
        case "seeds" | "seeds-test":
            return load_seeds(limit, name)
        case "xquad":
            return load_xquad(cache_dir, limit)
        case "xquad-sample":
            return load_xquad(cache_dir, limit, sample=SAMPLE_SIZE)
        case "userdocs":
            return load_userdocs(limit)
        case other:
            raise ValueError(f"unknown dataset {other!r}; choose from {', '.join(NAMES)}")


def corpus_of(name: str) -> str:
    """The corpus a dataset asks about: datasets over the same documents share one index."""
    return "seeds" if name in SEEDS_SPLITS else name


def load_seeds(limit: int | None = None, split: str = "seeds") -> Dataset:
    return _load_folder(split, DATASETS / SEEDS_SPLITS[split], SEEDS_DIR, limit)


def load_userdocs(limit: int | None = None) -> Dataset:
    return _load_folder("userdocs", DATASETS / "userdocs.jsonl", USERDOCS_DIR, limit)


def _load_folder(name: str, questions: Path, folder: Path, limit: int | None) -> Dataset:
    """The cases of a JSONL file in the seeds format (``datasets/README.md``) over every file of ``folder``."""
    cases = []
    with questions.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            cases.append(Case(
                id=row["id"], question=row["question"], language=row["language"], answerable=row["answerable"],
                answers=tuple(row["answers"]), sources=tuple(row["sources"]),
                evidence=tuple(Evidence(s, q) for s, q in zip(row["sources"], row["evidence"])), kind=row["kind"],
            ))
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return Dataset(name, (folder,), frozenset(p.name for p in files), tuple(spread(cases, limit)))


def load_xquad(cache_dir: Path, limit: int | None = None, sample: int | None = None) -> Dataset:
    """Write the Vietnamese paragraphs into ``cache_dir`` (unchanged files are left alone) and pair the questions.

    ``sample``: keep the test articles' paragraphs and that many of their questions, drawn with ``SAMPLE_SEED``.
    """
    vi = json.loads((DATASETS / "xquad" / "xquad.vi.json").read_text(encoding="utf-8"))
    en = json.loads((DATASETS / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    test_articles = set(xquad_splits()["test"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    pairs: list[tuple[str, dict, dict]] = []
    for a, (article_vi, article_en) in enumerate(zip(vi["data"], en["data"])):
        for p, (para_vi, para_en) in enumerate(zip(article_vi["paragraphs"], article_en["paragraphs"])):
            if sample is not None and article_vi["title"] not in test_articles:
                continue
            path = cache_dir / f"xquad_{a:03d}_{p:02d}.txt"
            if not path.exists() or path.read_text(encoding="utf-8") != para_vi["context"]:
                path.write_text(para_vi["context"], encoding="utf-8")
            files.append(path)
            pairs += [(path.name, q_vi, q_en) for q_vi, q_en in zip(para_vi["qas"], para_en["qas"])]
    if sample is not None:
        # Sorted indices keep the file order, so the sample reads like the dataset and is the same every run.
        pairs = [pairs[i] for i in sorted(random.Random(SAMPLE_SEED).sample(range(len(pairs)), sample))]
    cases = []
    for source, q_vi, q_en in spread(pairs, limit):
        answers = tuple(dict.fromkeys(a["text"] for a in q_vi["answers"]))
        evidence = tuple(Evidence(source, a["text"], a["answer_start"]) for a in q_vi["answers"])
        for lang, q, kind in (("vi", q_vi, "single"), ("en", q_en, "cross-lingual")):
            cases.append(Case(f"{q['id']}:{lang}", q["question"], lang, True, answers, (source,), evidence, kind))
    return Dataset("xquad" if sample is None else "xquad-sample", tuple(files), frozenset(f.name for f in files),
                   tuple(cases))


def xquad_splits() -> dict[str, list[str]]:
    """XQuAD article titles by split (``train``, ``dev``, ``test``): fit on train+dev, report on test."""
    return json.loads((DATASETS / "xquad" / "splits.json").read_text(encoding="utf-8"))


def spread(items: list, limit: int | None) -> list:
    """``limit`` items evenly spaced over ``items`` (all of them when ``limit`` is None or too large)."""
    if limit is None or limit >= len(items):
        return list(items)
    return [items[i * len(items) // limit] for i in range(max(limit, 0))]
