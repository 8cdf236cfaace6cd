"""Article-split QA sets (``evals.squad``) in, the reader's training and dev groups out.

A group is one question against candidate sentences, with a target: the index of the sentence that holds the
answer, or ``None`` (no candidate answers: the null option).

- Answerable (XQuAD train articles: vi->vi, en->vi over the Vietnamese text; en->en, vi->en over the English
  text; PIAF train: fr->fr): the answer sentence, its neighbours, the negatives nearest the question by e5
  cosine, the rest at random, from the gold paragraph and the ``OTHER_PARAGRAPHS`` paragraphs of the article
  nearest the question (what retrieval would show).
- Gold removed: the same question with its paragraph gone; the nearest other paragraphs' sentences; no answer.
- SQuAD 2.0 unanswerable (train articles; en->en, en->vi, vi->vi): the question's own paragraph, whose
  sentences look like an answer and are not (the careless reader's sentence always included); no answer.

Test articles are never read here. The seeds eval sets are never read here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from evals import squad
from training.states import States

GROUP = 8
OTHER_PARAGRAPHS = 4


@dataclass(frozen=True)
class Group:
    question: str
    sentences: tuple[str, ...]
    target: int | None  # index into sentences, None = no answer
    span: tuple[int, int] | None  # answer chars in sentences[target]
    pair: str
    kind: str  # answerable, removed, unanswerable


@dataclass
class Corpus:
    """The questions of one split and the articles they are asked about, keyed by ``Article.key``."""

    articles: dict[tuple[str, str, str], squad.Article]
    questions: list[squad.Question]

    def texts(self):
        for a in self.articles.values():
            for p in a.paragraphs:
                for s in p.sentence_texts():
                    yield s, False
        for q in self.questions:
            yield q.text, True


def corpus(split: str, english_contexts: bool = True, unanswerable: bool = True) -> Corpus:
    parts = [squad.xquad(split), squad.piaf(split)]
    if english_contexts:
        parts.append(squad.xquad(split, context="en"))
    if unanswerable and split in ("train", "dev"):
        parts.append(squad.unanswerable(split))
    articles: dict = {}
    questions: list = []
    for arts, qs in parts:
        for a in arts:
            articles[a.key] = a
        questions += qs
    return Corpus(articles, questions)


def _article(c: Corpus, q: squad.Question) -> squad.Article:
    return c.articles[(q.source, q.context_language, q.article)]


def paragraph_order(c: Corpus, st: States, q: squad.Question) -> list[squad.Paragraph]:
    """The article's other paragraphs, nearest the question first (best sentence cosine)."""
    art = _article(c, q)
    qv = st.vector(q.text, True)
    others = [p for p in art.paragraphs if p.index != q.paragraph and p.sentences]
    best = [max(float(st.vector(s, False) @ qv) for s in p.sentence_texts()) for p in others]
    return [others[i] for i in np.argsort(best)[::-1]]


def candidates(c: Corpus, st: States, q: squad.Question, with_gold: bool, n_other: int):
    """``(texts, target, span, cosines)`` over the gold paragraph (if ``with_gold``) and the ``n_other`` nearest
    other paragraphs; ``target`` is the answer sentence's index or None."""
    art = _article(c, q)
    chosen = ([art.paragraphs[q.paragraph]] if with_gold else []) + paragraph_order(c, st, q)[:n_other]
    texts, target, span = [], None, None
    for p in chosen:
        pos = squad.answer_sentence(p, q.answer_start) if (p.index == q.paragraph and q.answerable) else None
        for k, (a, b) in enumerate(p.sentences):
            if k == pos:
                target = len(texts)
                start = q.answer_start - a
                span = (start, min(b - a, start + len(q.answers[0])))
            texts.append(p.text[a:b])
    qv = st.vector(q.text, True)
    cos = [float(st.vector(t, False) @ qv) for t in texts]
    return texts, target, span, cos


def _pick(rng: random.Random, cos: list[float], must: list[int], exclude: set[int], size: int) -> list[int]:
    """``must``, then the nearest by cosine (half the room), then random, ``size`` in all."""
    chosen = list(dict.fromkeys(i for i in must if 0 <= i < len(cos)))
    rest = [i for i in np.argsort(cos)[::-1].tolist() if i not in chosen and i not in exclude]
    hard = max(0, (size - len(chosen)) // 2)
    chosen += rest[:hard]
    pool = rest[hard:]
    chosen += rng.sample(pool, min(len(pool), size - len(chosen)))
    return chosen


def training_groups(c: Corpus, st: States, rng: random.Random, removed: float, unanswerable: float,
                    english_contexts: float) -> list[Group]:
    """One epoch of groups, shuffled. ``removed``: share of answerable questions that also get a gold-removed
    group; ``unanswerable``: share of SQuAD 2.0 questions used this epoch (one of its three language pairs each);
    ``english_contexts``: share of the XQuAD questions over English text used this epoch."""
    out: list[Group] = []
    by_id: dict[str, list[squad.Question]] = {}
    for q in c.questions:
        if q.source == "squad2":
            by_id.setdefault(q.id.rsplit("-", 2)[0], []).append(q)
            continue
        if q.context_language == "en" and q.source == "xquad" and rng.random() >= english_contexts:
            continue
        texts, target, span, cos = candidates(c, st, q, True, OTHER_PARAGRAPHS)
        if target is None:
            continue
        idx = _pick(rng, cos, [target, target - 1, target + 1], set(), GROUP)
        rng.shuffle(idx)
        out.append(Group(q.text, tuple(texts[i] for i in idx), idx.index(target), span, q.pair, "answerable"))
        if rng.random() < removed:
            texts, _, _, cos = candidates(c, st, q, False, OTHER_PARAGRAPHS)
            if texts:
                idx = _pick(rng, cos, [], set(), GROUP)
                out.append(Group(q.text, tuple(texts[i] for i in idx), None, None, q.pair, "removed"))
    for variants in by_id.values():
        if rng.random() >= unanswerable:
            continue
        q = rng.choice(variants)
        group = unanswerable_group(c, st, q, rng)
        if group:
            out.append(group)
    rng.shuffle(out)
    return out


def unanswerable_group(c: Corpus, st: States, q: squad.Question, rng: random.Random | None) -> Group | None:
    """The question's own paragraph (the careless reader's sentence first), topped up from the nearest others."""
    art = _article(c, q)
    para = art.paragraphs[q.paragraph]
    texts = para.sentence_texts()
    must = []
    if q.plausible_start is not None and q.context_language == "en":
        k = squad.answer_sentence(para, q.plausible_start)
        must = [k] if k is not None else []
    for p in paragraph_order(c, st, q)[:1]:
        texts = texts + p.sentence_texts()
    if not texts:
        return None
    qv = st.vector(q.text, True)
    cos = [float(st.vector(t, False) @ qv) for t in texts]
    idx = _pick(rng or random.Random(0), cos, must, set(), GROUP) if rng else list(range(len(texts)))
    return Group(q.text, tuple(texts[i] for i in idx), None, None, q.pair, "unanswerable")


@dataclass(frozen=True)
class DevItem:
    """A dev question with its answerable candidates and its gold-removed candidates (cosines included)."""

    pair: str
    question: str
    texts: tuple[str, ...]
    target: int
    cos: tuple[float, ...]
    removed_texts: tuple[str, ...]
    removed_cos: tuple[float, ...]


def dev_items(c: Corpus, st: States, per_pair: int | None, seed: int = 13, n_other: int = 2) -> list[DevItem]:
    """Dev questions of the three reported pairs (vi->vi, en->vi over Vietnamese XQuAD, fr->fr PIAF): candidates
    = the gold paragraph's sentences + the ``n_other`` nearest other paragraphs'; the gold-removed variant drops
    the gold paragraph. ``per_pair`` questions a pair, a seeded sample (None = all)."""
    rng = random.Random(seed)
    items = []
    for pair in ("vi->vi", "en->vi", "fr->fr"):
        qs = [q for q in c.questions if q.pair == pair and q.source in ("xquad", "piaf")]
        if per_pair and per_pair < len(qs):
            qs = rng.sample(qs, per_pair)
        for q in qs:
            texts, target, _, cos = candidates(c, st, q, True, n_other)
            if target is None:
                continue
            rtexts, _, _, rcos = candidates(c, st, q, False, n_other)
            items.append(DevItem(pair, q.text, tuple(texts), target, tuple(cos), tuple(rtexts), tuple(rcos)))
    return items
