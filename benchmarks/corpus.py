"""Dataset files in, benchmark inputs out: the corpus as ``.txt`` files and the questions to time.

The corpus is ``seeds/`` plus the Vietnamese XQuAD paragraphs, one file each (``xquad_vi_NNN.txt``).
Questions are XQuAD's, asked in Vietnamese and in English about the same paragraphs, plus the
hand-made ``seeds.jsonl`` questions; each knows which files answer it, so retrieval hits can be counted.
The English paragraphs are real text for the scaling curve.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
XQUAD = ROOT / "evals" / "datasets" / "xquad"
SEEDS_QUESTIONS = ROOT / "evals" / "datasets" / "seeds.jsonl"


@dataclass(frozen=True)
class Question:
    """A question, the set it comes from (``xquad_vi``, ``xquad_en``, ``seeds``) and the files that answer it."""

    text: str
    kind: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    """Files to index (``files``) and the questions asked about them."""

    files: tuple[Path, ...]
    questions: tuple[Question, ...]

    @property
    def sources(self) -> set[str]:
        return {f.name for f in self.files}


def xquad_paragraphs(language: str) -> list[dict]:
    """XQuAD's 240 paragraphs (``context`` and ``qas``) in ``language`` (``vi`` or ``en``), in file order."""
    data = json.loads((XQUAD / f"xquad.{language}.json").read_text(encoding="utf-8"))
    return [p for article in data["data"] for p in article["paragraphs"]]


def xquad_source(language: str, index: int) -> str:
    return f"xquad_{language}_{index:03d}.txt"


def build_corpus(folder: Path, seeds: tuple[str, ...] | None, paragraphs: int, per_language: int,
                 seed_questions: int) -> Corpus:
    """Copy the ``seeds`` files (None = all of ``seeds/``) and write ``paragraphs`` Vietnamese XQuAD paragraphs.

    ``per_language`` XQuAD questions (each asked in vi and en) are spread evenly over the paragraphs;
    ``seed_questions`` answerable ``seeds.jsonl`` questions about the chosen seed files are added.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for path in sorted(SEEDS.glob("*.txt")):
        if seeds is not None and path.name not in seeds:
            continue
        shutil.copyfile(path, folder / path.name)
        files.append(folder / path.name)
    vi, en = xquad_paragraphs("vi")[:paragraphs], xquad_paragraphs("en")[:paragraphs]
    for i, paragraph in enumerate(vi):
        path = folder / xquad_source("vi", i)
        path.write_text(paragraph["context"], encoding="utf-8")
        files.append(path)
    questions = []
    step = max(1, len(vi) // max(1, per_language))
    for i in list(range(0, len(vi), step))[:per_language]:
        source = (xquad_source("vi", i),)
        questions.append(Question(vi[i]["qas"][0]["question"], "xquad_vi", source))
        questions.append(Question(en[i]["qas"][0]["question"], "xquad_en", source))
    names = {f.name for f in files}
    asked = 0
    for line in SEEDS_QUESTIONS.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if asked < seed_questions and case["answerable"] and set(case["sources"]) & names:
            questions.append(Question(case["question"], "seeds", tuple(s for s in case["sources"] if s in names)))
            asked += 1
    return Corpus(tuple(files), tuple(questions))


def english_documents(count: int) -> list[tuple[str, str]]:
    """``(source, text)`` of the first ``count`` English XQuAD paragraphs: more real text for scaling."""
    return [(xquad_source("en", i), p["context"]) for i, p in enumerate(xquad_paragraphs("en")[:count])]


def scaling_questions(count: int, paragraphs: int) -> list[Question]:
    """``count`` XQuAD questions (alternately vi and en) about the first ``paragraphs`` paragraphs.

    Either version of the paragraph answers them: the scaling index holds Vietnamese and English text.
    """
    vi, en = xquad_paragraphs("vi")[:paragraphs], xquad_paragraphs("en")[:paragraphs]
    pairs = [(i, j) for i in range(len(vi)) for j in range(len(vi[i]["qas"]))]
    step = max(1, len(pairs) // max(1, count))
    out = []
    for n, (i, j) in enumerate(pairs[::step][:count]):
        text = (vi if n % 2 == 0 else en)[i]["qas"][j]["question"]
        out.append(Question(text, "xquad_vi" if n % 2 == 0 else "xquad_en", (xquad_source("vi", i), xquad_source("en", i))))
    return out
