"""SQuAD-format QA sets in ``evals/datasets/``, read as article-split ``Article``s and ``Question``s.

Used by the reader's training (``training/``) and by ``python -m evals.reader``, so both see the same
questions, the same sentence split and the same article splits:

- XQuAD (``xquad/``): the same paragraphs and questions in Vietnamese and English. ``xquad(split)`` gives the
  Vietnamese articles with their vi and en questions (vi->vi, en->vi); ``context="en"`` gives the English
  articles with en and vi questions (en->en, vi->en). Splits: ``xquad/splits.json``.
- PIAF (``piaf/``, French): fr->fr, split by ``piaf/splits.json`` (``piaf_splits``: a seeded shuffle of titles).
- SQuAD 2.0 unanswerable (``squad2-unanswerable/``): questions written to look answerable from their
  paragraph while it does not answer them, English and machine-translated Vietnamese, on XQuAD train and dev
  articles only (each article says which). Their ``answer_start`` is -1 and ``answers`` is empty;
  ``plausible_start`` is where a careless reader would look.

A sentence is ``index.chunking.split_sentences``, the rule the answer step uses. The seeds eval sets are
never read here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from index.chunking import split_sentences

DATASETS = Path(__file__).resolve().parent / "datasets"
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
    answer_start: int  # -1 when unanswerable
    answers: list[str] = field(default_factory=list)
    plausible_start: int | None = None  # unanswerable only: the span a careless reader would pick
    source: str = "xquad"  # xquad, piaf, squad2

    @property
    def pair(self) -> str:
        return f"{self.language}->{self.context_language}"

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


@dataclass(frozen=True)
class Article:
    title: str
    language: str
    paragraphs: list[Paragraph]
    source: str = "xquad"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.language, self.title)


def answer_sentence(paragraph: Paragraph, offset: int) -> int | None:
    """Index of the sentence holding character ``offset`` (an answer start), or None."""
    for k, (a, b) in enumerate(paragraph.sentences):
        if a <= offset < b:
            return k
    return None


def _read(path: Path) -> dict:
    return {a["title"]: a for a in json.loads(path.read_text(encoding="utf-8"))["data"]}


def _article(title: str, raw: dict, language: str, source: str) -> Article:
    paras = [Paragraph(title, i, p["context"], split_sentences(p["context"])) for i, p in enumerate(raw["paragraphs"])]
    return Article(title, language, paras, source)


def xquad_splits() -> dict[str, list[str]]:
    return json.loads((DATASETS / "xquad" / "splits.json").read_text())


def xquad(split: str, context: str = "vi") -> tuple[list[Article], list[Question]]:
    """XQuAD articles of ``split`` in the ``context`` language with their vi and en questions."""
    root = DATASETS / "xquad"
    titles = xquad_splits()[split]
    raw = {lang: _read(root / f"xquad.{lang}.json") for lang in ("vi", "en")}
    other = "en" if context == "vi" else "vi"
    articles, questions = [], []
    for title in titles:
        articles.append(_article(title, raw[context][title], context, "xquad"))
        for pi, (pc, po) in enumerate(zip(raw[context][title]["paragraphs"], raw[other][title]["paragraphs"])):
            translated = {q["id"]: q["question"] for q in po["qas"]}
            for q in pc["qas"]:
                start = q["answers"][0]["answer_start"]
                answers = [a["text"] for a in q["answers"]]
                questions.append(Question(f"{q['id']}-{context}", q["question"], context, context, title, pi, start,
                                          answers))
                if q["id"] in translated:
                    questions.append(Question(f"{q['id']}-{other}", translated[q["id"]], other, context, title, pi,
                                              start, answers))
    return articles, questions


def piaf_splits(seed: int = PIAF_SEED) -> dict[str, list[str]]:
    """PIAF titles shuffled with ``seed``: 18 test, 12 dev, the rest train (sorted inside each split)."""
    titles = sorted(_read(DATASETS / "piaf" / "piaf-dev.json"))
    random.Random(seed).shuffle(titles)
    return {"train": sorted(titles[30:]), "dev": sorted(titles[18:30]), "test": sorted(titles[:18])}


def piaf(split: str) -> tuple[list[Article], list[Question]]:
    root = DATASETS / "piaf"
    titles = json.loads((root / "splits.json").read_text())[split]
    raw = _read(root / "piaf-dev.json")
    articles, questions = [], []
    for title in titles:
        articles.append(_article(title, raw[title], "fr", "piaf"))
        for pi, p in enumerate(raw[title]["paragraphs"]):
            for q in p["qas"]:
                start = q["answers"][0]["answer_start"]
                questions.append(Question(q["id"], q["question"], "fr", "fr", title, pi, start,
                                          [a["text"] for a in q["answers"]], source="piaf"))
    return articles, questions


def unanswerable(split: str) -> tuple[list[Article], list[Question]]:
    """SQuAD 2.0 unanswerable questions on the XQuAD ``split`` articles (train or dev; never test): the English
    articles with en questions, the machine-translated Vietnamese ones with vi and en questions."""
    if split not in ("train", "dev"):
        raise ValueError("the SQuAD 2.0 unanswerable set holds XQuAD train and dev articles only")
    root = DATASETS / "squad2-unanswerable"
    en = _read(root / "unanswerable.en.json")
    vi = _read(root / "unanswerable.vi-mt.json")
    articles, questions = [], []
    for title, raw_en in en.items():
        if raw_en["xquad_split"] != split:
            continue
        raw_vi = vi[title]
        articles += [_article(title, raw_en, "en", "squad2"), _article(title, raw_vi, "vi", "squad2")]
        for pi, (pe, pv) in enumerate(zip(raw_en["paragraphs"], raw_vi["paragraphs"])):
            for qe, qv in zip(pe["qas"], pv["qas"]):
                plausible = qe["plausible_answers"][0]["answer_start"] if qe.get("plausible_answers") else None
                questions.append(Question(f"{qe['id']}-en-en", qe["question"], "en", "en", title, pi, -1,
                                          plausible_start=plausible, source="squad2"))
                # The vi-mt file keeps the English plausible spans: no offset into the Vietnamese paragraph.
                questions.append(Question(f"{qe['id']}-en-vi", qe["question"], "en", "vi", title, pi, -1,
                                          source="squad2"))
                questions.append(Question(f"{qe['id']}-vi-vi", qv["question"], "vi", "vi", title, pi, -1,
                                          source="squad2"))
    return articles, questions


def held_out(split: str) -> tuple[list[Article], list[Question]]:
    """What ``python -m evals.reader`` asks: XQuAD (Vietnamese contexts; vi->vi, en->vi) and PIAF (fr->fr)."""
    a1, q1 = xquad(split)
    a2, q2 = piaf(split)
    return a1 + a2, q1 + q2


if __name__ == "__main__":
    print(json.dumps(piaf_splits(), ensure_ascii=False, indent=1))
