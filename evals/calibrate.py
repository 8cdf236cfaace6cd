"""Fit the retrieval and answering constants on XQuAD with the read path's own stages, never on our own eval questions.

    python -m evals.calibrate [--out evals/reports/calibration.json] [--limit N] [--data-dir DIR] [--env FILE]

XQuAD is indexed as ``python -m evals --dataset xquad`` indexes it (``evals.cases``: one Vietnamese paragraph per
file, the index cached under ``--data-dir``) and its questions are asked in Vietnamese (vi->vi) and English
(en->vi). Constants are chosen on the ``train`` and ``dev`` articles of ``datasets/xquad/splits.json`` (the "fit"
split, as ``SPLITS.md`` says) and reported on its ``test`` articles. Every question goes through the question
stage once; every score swept comes from the pipeline's stages, built with the swept value through
``Pipeline.with_settings`` (each constant is a setting of that name, in the section its stage reads):

- ``keyword_weight`` and ``sentence_weight``: ``Retriever`` at each grid point; best mean MRR of the two pairs;
- ``answer_type_bonus``: ``CopyFilter`` then ``EvidenceRanking`` at each bonus; best rate at which the best
  sentence contains a gold answer (whole words, ``evals.metrics.answer_correct``, as the evals' accuracy); the
  evidence score's keyword weight is the fusion's, as ``RAG_KEYWORD_WEIGHT`` sets both;
- ``SupportPolicy``'s thresholds, one per relation (vi questions: same language, en: cross-language):
  ``SupportPolicy.supports``, number rule included, on the best sentence, once with the gold paragraph among
  the passages (should answer) and once with its passages dropped from them (should abstain; its sibling
  paragraphs, on the same topic, stay: hard negatives); best Youden J;
- ``claim_min_similarity``: ``CitationChecker.similarities`` of an English sentence (as a claim) with its
  Vietnamese translation in the parallel paragraph and with that paragraph's other sentences, for the
  paragraphs of the questions asked; the lowest threshold accepting at most 1% of the wrong sentences, the
  share 0.84 was chosen for.

Nothing here changes code or settings: the run prints the ``RAG_*`` lines of the values it supports (``--env``
writes them to a file too; ``set -a; . FILE`` or the variables themselves apply them). The report gives, per
constant, today's value (the pipeline's), the best on
the fit split (ties keep today's), the fit and test metrics at both, and a verdict: the best is "reproduced
within noise" when its fit metric beats today's by at most two standard errors of the per-question difference,
else it "differs". Each later sweep runs with the earlier constants' today's values unless they differ.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from evals import cases
from evals.cases import Case
from evals.cli import DATA_DIR, REPORTS, index_fingerprint
from evals.metrics import answer_correct, first_gold_rank
from index.chunking import split_sentences
from rag.cli import run_command
from rag.extractive import SupportPolicy
from rag.retrieval import Retriever
from rag.values import Evidence, Passage, Query

if TYPE_CHECKING:
    from rag.assistant import Assistant

FIT_SPLITS = ("train", "dev")
PAIRS = {"vi": "vi->vi", "en": "en->vi"}
KEYWORD_WEIGHTS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1)
SENTENCE_WEIGHTS = (0.3, 0.5, 0.7)
BONUSES = (0.0, 0.01, 0.02, 0.03, 0.05)
THRESHOLDS = tuple(round(0.70 + 0.0025 * i, 4) for i in range(112))  # 0.7000 .. 0.9775
CLAIM_THRESHOLDS = (0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90)
CLAIM_MAX_WRONG = 0.01
"""Share of a paragraph's other sentences the claim threshold may accept (rag/citations.py: what 0.84 was chosen for)."""
NOISE_SE = 2.0
"""A best value whose fit metric beats today's by at most this many standard errors reproduces today's."""
RELATIONS = {"vi": "min_score_same_language", "en": "min_score_cross_language"}
"""Which threshold each question language's answers depend on (the documents are Vietnamese)."""


@dataclass(frozen=True)
class Paragraph:
    """One XQuAD paragraph in both languages and the ids of its questions."""

    article: str
    vi: str
    en: str
    questions: frozenset[str]


@dataclass(frozen=True)
class Asked:
    """A question in one language, analysed once by the question stage; ``split`` is ``fit`` or ``test``."""

    case: Case
    split: str
    query: Query


@dataclass(frozen=True)
class Candidate:
    """What the answer stage sees: the passages after the copy filter and their best sentence (None: none)."""

    passages: list[Passage]
    best: Evidence | None


@dataclass(frozen=True)
class Trial:
    """One question with the gold paragraph among its passages (should answer) and dropped from them (should abstain)."""

    asked: Asked
    present: Candidate
    removed: Candidate


def xquad_paragraphs() -> list[Paragraph]:
    """XQuAD's 240 paragraphs, Vietnamese and English side by side (the files list them in the same order)."""
    vi = json.loads((cases.DATASETS / "xquad" / "xquad.vi.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((cases.DATASETS / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    return [Paragraph(article_vi["title"], para_vi["context"], para_en["context"],
                      frozenset(q["id"] for q in para_vi["qas"]))
            for article_vi, article_en in zip(vi, en)
            for para_vi, para_en in zip(article_vi["paragraphs"], article_en["paragraphs"])]


def question_id(case: Case) -> str:
    """XQuAD's id of a case's question (``evals.cases`` appends the language)."""
    return case.id.rsplit(":", 1)[0]


def split_of_articles() -> dict[str, str]:
    """Article title -> ``fit`` (train and dev articles) or ``test``."""
    splits = cases.xquad_splits()
    return {title: "fit" if name in FIT_SPLITS else "test" for name, titles in splits.items() for title in titles}


def ask(assistant: Assistant, questions: Sequence[Case], paragraphs: list[Paragraph]) -> list[Asked]:
    """Each question through the question stage (it embeds), once for every sweep."""
    article = {qid: p.article for p in paragraphs for qid in p.questions}
    split = split_of_articles()
    return [Asked(case, split[article[question_id(case)]], assistant.pipeline.question.run(case.question))
            for case in tqdm(questions, desc="questions", unit="q", file=sys.stderr)]


def retriever(assistant: Assistant, **update: float) -> Retriever:
    """The retrieval stage with some settings changed, sharing the assistant's catalog, store and sentence cache."""
    return assistant.pipeline.with_settings(**update).retrieval


def gold_ranks(assistant: Assistant, asked: list[Asked],
               points: list[tuple[float, float]]) -> dict[tuple[float, float], list[int | None]]:
    """For each ``(keyword_weight, sentence_weight)``, the rank of each question's gold paragraph in the
    retrieval stage's top_k (None: not there)."""
    ranks = {}
    bar = tqdm(total=len(points) * len(asked), desc="fusion sweep", unit="q", file=sys.stderr)
    for keyword_weight, sentence_weight in points:
        stage = retriever(assistant, keyword_weight=keyword_weight, sentence_weight=sentence_weight)
        ranks[(keyword_weight, sentence_weight)] = [
            first_gold_rank((p.source for p in stage.run(a.query)), a.case.sources) for a in asked]
        bar.update(len(asked))
    bar.close()
    return ranks


def evidence_trials(assistant: Assistant, asked: list[Asked], keyword_weight: float, sentence_weight: float,
                    bonuses: Sequence[float]) -> dict[float, list[Trial]]:
    """For each answer-type bonus, every question's best sentence with and without its gold paragraph.

    Retrieval (at the given weights) fetches top_k + 1 passages, so that with the gold paragraph's passages
    dropped there are still top_k (when it had one of them); both lists go through the copy filter and the
    evidence stage, as ``Pipeline.run`` sends them.
    """
    weights = {"keyword_weight": keyword_weight, "evidence_keyword_weight": keyword_weight,
               "sentence_weight": sentence_weight}
    pipeline = assistant.pipeline.with_settings(**weights)
    settings, stage = pipeline.settings, pipeline.retrieval
    rankings = {bonus: pipeline.with_settings(answer_type_bonus=bonus).evidence for bonus in bonuses}
    trials: dict[float, list[Trial]] = {bonus: [] for bonus in bonuses}
    for a in tqdm(asked, desc="evidence sweep", unit="q", file=sys.stderr):
        passages = stage.run(a.query, k=settings.top_k + 1)
        present = pipeline.copies.run(passages[: settings.top_k])
        removed = pipeline.copies.run([p for p in passages if p.source not in a.case.sources][: settings.top_k])
        for bonus, ranking in rankings.items():
            candidates = [Candidate(ps, next(iter(ranking.run(a.query, ps)), None)) for ps in (present, removed)]
            trials[bonus].append(Trial(a, *candidates))
    return trials


def answers(asked: Asked, candidate: Candidate, policy: SupportPolicy) -> bool:
    """Whether the extractive answerer answers (rather than abstains) from ``candidate`` under ``policy``."""
    best = candidate.best
    return best is not None and policy.supports(asked.query.question, asked.query.language, best,
                                                candidate.passages[best.passage])


def youden(trial: Trial, policy: SupportPolicy) -> int:
    """Abstains without the gold paragraph + answers with it - 1: averaged over questions, Youden's J."""
    return int(not answers(trial.asked, trial.removed, policy)) + int(answers(trial.asked, trial.present, policy)) - 1


def holds_answer(trial: Trial) -> int:
    """1 when the best sentence, with the gold paragraph retrieved, contains a gold answer as whole words."""
    best = trial.present.best
    return int(best is not None and answer_correct(best.text, trial.asked.case.answers))


def claim_similarities(assistant: Assistant, paragraphs: list[Paragraph]) -> dict[str, dict[str, list[float]]]:
    """``{split: {"right": [...], "wrong": [...]}}``: cosine of each English sentence with its Vietnamese
    translation (right) and with the paragraph's other Vietnamese sentences (wrong), for paragraphs that split
    into the same number (at least two) of sentences in both languages."""
    split = split_of_articles()
    out = {name: {"right": [], "wrong": []} for name in ("fit", "test")}
    for paragraph in tqdm(paragraphs, desc="claim support", unit="paragraph", file=sys.stderr):
        en = [paragraph.en[s:e] for s, e in split_sentences(paragraph.en)]
        vi = [paragraph.vi[s:e] for s, e in split_sentences(paragraph.vi)]
        if len(en) != len(vi) or len(en) < 2:
            continue
        sims = assistant.pipeline.verification.checker.similarities(en, vi)
        sink = out[split[paragraph.article]]
        for i in range(len(en)):
            sink["right"].append(float(sims[i, i]))
            sink["wrong"].extend(float(sims[i, j]) for j in range(len(vi)) if j != i)
    return out


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def retrieval_metrics(ranks: Sequence[int | None]) -> dict[str, float | None]:
    """MRR, hit@1 and hit@5 of the gold paragraph, as ``evals.metrics.summarize`` computes them."""
    return {"mrr": mean([1 / r if r else 0.0 for r in ranks]), "hit@1": mean([r == 1 for r in ranks]),
            "hit@5": mean([r is not None and r <= 5 for r in ranks])}


def compare(today: float, chosen: float, metric: str, scores: Callable[[float], Sequence[float]]) -> dict:
    """Today's value against the best on the fit split, by the per-question ``scores`` (higher is better) on it."""
    a, b = np.asarray(scores(today), dtype=float), np.asarray(scores(chosen), dtype=float)
    diff = b - a
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    within = not len(diff) or float(diff.mean()) <= NOISE_SE * se
    numbers = (f"{chosen} vs {today} (fit {metric} {b.mean():.4f} vs {a.mean():.4f}, difference "
               f"{diff.mean():+.4f}, {NOISE_SE:g} SE {NOISE_SE * se:.4f})") if len(diff) else "no fit questions"
    return {"today": today, "chosen": chosen, "fit_metric": metric, "fit_today": mean(a), "fit_chosen": mean(b),
            "standard_error": se, "within_noise": bool(within),
            "verdict": ("reproduced within noise: " if within else "differs: ") + numbers}


def best_of(values: Sequence, today, score: Callable) -> float | tuple:
    """The value with the highest ``score`` on the fit split; among equals the one sharing most with today's
    (nothing says to change it), then the first of ``values``."""
    def shared(value) -> int:
        return sum(a == b for a, b in zip(value, today)) if isinstance(value, tuple) else int(value == today)

    return max(values, key=lambda value: (score(value), shared(value)))


def kept(comparison: dict) -> float:
    """The value the later sweeps run with: today's, unless the best differs beyond noise."""
    return comparison["today"] if comparison["within_noise"] else comparison["chosen"]


def settings_lines(report: dict) -> list[str]:
    """``RAG_NAME=value`` for every constant, at the value the calibration supports (``kept``), each after a
    comment with its verdict: what to export, or to read into a shell (``set -a; . FILE``), to run with them."""
    lines = []
    for name, constant in report["constants"].items():
        lines += [f"# {name}: {constant['verdict']}", f"RAG_{name.upper()}={kept(constant)}"]
    return lines


Groups = dict[tuple[str, str], list[int]]
"""``(split, question language) -> indices`` into the list of ``Asked``."""


def calibrate(assistant: Assistant, questions: Sequence[Case], paragraphs: list[Paragraph]) -> dict:
    """Sweep every constant over ``questions`` (vi and en cases of indexed XQuAD paragraphs) and report."""
    started = time.perf_counter()
    wall: dict[str, float] = {}
    asked = ask(assistant, questions, paragraphs)
    groups = {(split, lang): [i for i, a in enumerate(asked) if a.split == split and a.case.language == lang]
              for split in ("fit", "test") for lang in PAIRS}
    wall["questions_s"] = time.perf_counter() - started
    t0 = time.perf_counter()
    fusion, retrieval = fit_fusion(assistant, asked, groups)
    weights = {name: kept(c) for name, c in fusion.items()}
    wall["fusion_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bonus, trials, evidence = fit_bonus(assistant, asked, groups, weights)
    wall["evidence_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    thresholds, abstention = fit_thresholds(assistant.pipeline.extractive.policy, trials[kept(bonus)], groups)
    wall["abstention_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    asked_ids = {question_id(case) for case in questions}
    sims = claim_similarities(assistant, [p for p in paragraphs if p.questions & asked_ids])
    similarity, claims = fit_claim_support(sims, assistant.pipeline.verification.checker.min_similarity)
    wall["claims_s"] = time.perf_counter() - t0
    wall["total_s"] = time.perf_counter() - started
    settings = assistant.pipeline.settings
    return {
        "data": {
            "dataset": "xquad", "fit_articles": list(FIT_SPLITS), "report_articles": ["test"],
            "questions": {split: {PAIRS[lang]: len(groups[(split, lang)]) for lang in PAIRS}
                          for split in ("fit", "test")},
            "top_k": settings.top_k, "evidence_passages": settings.evidence_passages,
            **{k: v for k, v in assistant.status().items() if k in ("documents", "chunks", "embedder")},
        },
        "constants": {**fusion, "answer_type_bonus": bonus, **thresholds, "claim_min_similarity": similarity},
        "retrieval": retrieval,
        "evidence": evidence,
        "abstention": {"at": {**weights, "answer_type_bonus": kept(bonus)}, **abstention},
        "claim_support": claims,
        "wall_time_s": {k: round(v, 1) for k, v in wall.items()},
    }


def fit_fusion(assistant: Assistant, asked: list[Asked], groups: Groups) -> tuple[dict[str, dict], dict]:
    """``keyword_weight`` and ``sentence_weight`` by the mean MRR of the two pairs on the fit split; each is
    compared with today's at the other's best value. Today's values join the grid, so every pairing is measured."""
    settings = assistant.pipeline.settings
    today = (settings.keyword_weight, settings.sentence_weight)
    points = [(k, s) for k in sorted({*KEYWORD_WEIGHTS, today[0]}) for s in sorted({*SENTENCE_WEIGHTS, today[1]})]
    ranks = gold_ranks(assistant, asked, points)
    fit = groups[("fit", "vi")] + groups[("fit", "en")]

    def pair_mrr(point: tuple[float, float]) -> list[float]:
        """Per fit question, its reciprocal rank averaged over its two languages: its share of the mean MRR."""
        by_question: dict[str, list[float]] = {}
        for i in fit:
            rank = ranks[point][i]
            by_question.setdefault(question_id(asked[i].case), []).append(1 / rank if rank else 0.0)
        return [float(np.mean(v)) for v in by_question.values()]

    def metrics(point: tuple[float, float], split: str, lang: str) -> dict[str, float | None]:
        return retrieval_metrics([ranks[point][i] for i in groups[(split, lang)]])

    best = best_of(points, today, lambda p: mean(pair_mrr(p)) or 0.0)
    constants = {
        "keyword_weight": compare(today[0], best[0], "mean MRR", lambda k: pair_mrr((k, best[1]))),
        "sentence_weight": compare(today[1], best[1], "mean MRR", lambda s: pair_mrr((best[0], s))),
    }
    named = {"today": today, "chosen": best}
    section = {
        "at": {name: {"keyword_weight": p[0], "sentence_weight": p[1]} for name, p in named.items()},
        **{name: {split: {PAIRS[lang]: metrics(p, split, lang) for lang in PAIRS} for split in ("fit", "test")}
           for name, p in named.items()},
        "sweep_fit_mrr": {f"keyword_weight={k} sentence_weight={s}": {
            **{PAIRS[lang]: metrics((k, s), "fit", lang)["mrr"] for lang in PAIRS}, "mean": mean(pair_mrr((k, s)))}
            for k, s in points},
    }
    return constants, section


def fit_bonus(assistant: Assistant, asked: list[Asked], groups: Groups,
              weights: dict[str, float]) -> tuple[dict, dict[float, list[Trial]], dict]:
    """``answer_type_bonus`` by how often the best sentence holds a gold answer on the fit split (both pairs)."""
    today = assistant.pipeline.settings.answer_type_bonus
    bonuses = sorted({*BONUSES, today})
    trials = evidence_trials(assistant, asked, weights["keyword_weight"], weights["sentence_weight"], bonuses)
    fit = groups[("fit", "vi")] + groups[("fit", "en")]

    def holds(bonus: float, indices: list[int]) -> list[int]:
        return [holds_answer(trials[bonus][i]) for i in indices]

    best = best_of(bonuses, today, lambda b: mean(holds(b, fit)) or 0.0)
    section = {
        "at": weights,
        "metric": "share of questions whose best sentence (gold paragraph retrieved) contains a gold answer",
        **{name: {split: {PAIRS[lang]: mean(holds(b, groups[(split, lang)])) for lang in PAIRS}
                  for split in ("fit", "test")} for name, b in (("today", today), ("chosen", best))},
        "sweep_fit": {str(b): {PAIRS[lang]: mean(holds(b, groups[("fit", lang)])) for lang in PAIRS}
                      for b in bonuses},
    }
    return compare(today, best, "best sentence holds the answer", lambda b: holds(b, fit)), trials, section


def fit_thresholds(policy: SupportPolicy, trials: list[Trial], groups: Groups) -> tuple[dict[str, dict], dict]:
    """Each of ``policy``'s thresholds by Youden's J on the fit split's questions of its relation (vi: same
    language, en: cross-language); the rest of the policy, the number rule included, stays today's."""
    constants: dict[str, dict] = {}
    section: dict[str, dict] = {}
    for lang, field in RELATIONS.items():
        today = getattr(policy, field)
        by_split = {split: [trials[i] for i in groups[(split, lang)]] for split in ("fit", "test")}
        sweep = {t: mean(youden_scores(by_split["fit"], policy, field, t))
                 for t in tqdm(THRESHOLDS, desc=f"{field} sweep", unit="t", file=sys.stderr)}
        best = best_of(THRESHOLDS, today, lambda t: -1.0 if sweep[t] is None else sweep[t])
        constants[field] = compare(today, best, "Youden J",
                                   lambda t: youden_scores(by_split["fit"], policy, field, t))
        section[PAIRS[lang]] = {
            **{name: {split: abstention_rates(group, dataclasses.replace(policy, **{field: t}))
                      for split, group in by_split.items()} for name, t in (("today", today), ("chosen", best))},
            "sweep_fit_youden_j": {f"{t:.4f}": j for t, j in sweep.items()},
        }
    return constants, section


def youden_scores(trials: list[Trial], policy: SupportPolicy, field: str, threshold: float) -> list[int]:
    """Per question, ``youden`` with the policy's threshold ``field`` set to ``threshold``."""
    relaxed = dataclasses.replace(policy, **{field: threshold})
    return [youden(trial, relaxed) for trial in trials]


def abstention_rates(trials: list[Trial], policy: SupportPolicy) -> dict[str, float | None]:
    """How the extractive answerer does under ``policy``: abstentions without the gold paragraph, answers with it
    (and those of them whose best sentence holds the answer), and Youden's J."""
    return {
        "abstain_without_gold": mean([not answers(t.asked, t.removed, policy) for t in trials]),
        "answer_with_gold": mean([answers(t.asked, t.present, policy) for t in trials]),
        "correct_with_gold": mean([answers(t.asked, t.present, policy) and bool(holds_answer(t)) for t in trials]),
        "youden_j": mean([youden(t, policy) for t in trials]),
    }


def fit_claim_support(sims: dict[str, dict[str, list[float]]], today: float) -> tuple[dict, dict]:
    """``claim_min_similarity``: the lowest threshold accepting at most ``CLAIM_MAX_WRONG`` of the fit split's wrong
    sentences. Today's reproduces it within noise when its wrong-sentence rate is within ``NOISE_SE`` binomial
    standard errors of that target."""
    def rate(split: str, kind: str, t: float) -> float | None:
        return mean(np.asarray(sims[split][kind]) >= t)

    allowed = [t for t in CLAIM_THRESHOLDS if (rate("fit", "wrong", t) or 0.0) <= CLAIM_MAX_WRONG]
    best = allowed[0] if allowed else CLAIM_THRESHOLDS[-1]
    wrong = len(sims["fit"]["wrong"])
    se = float(np.sqrt(CLAIM_MAX_WRONG * (1 - CLAIM_MAX_WRONG) / wrong)) if wrong else 0.0
    at_today, at_best = rate("fit", "wrong", today), rate("fit", "wrong", best)
    within = best == today or (at_today is not None and abs(at_today - CLAIM_MAX_WRONG) <= NOISE_SE * se)
    constant = {
        "today": today, "chosen": best, "fit_metric": f"wrong sentences accepted (target <= {CLAIM_MAX_WRONG})",
        "fit_today": at_today, "fit_chosen": at_best, "standard_error": se, "within_noise": within,
        "verdict": ("reproduced within noise: " if within else "differs: ")
        + f"{best} vs {today} (fit wrong sentences accepted {_fmt(at_best)} vs {_fmt(at_today)}, target "
        f"{CLAIM_MAX_WRONG}, {NOISE_SE:g} SE {NOISE_SE * se:.4f})",
    }
    section = {
        "counts": {split: {kind: len(v) for kind, v in by_kind.items()} for split, by_kind in sims.items()},
        **{name: {split: {"right_accepted": rate(split, "right", t), "wrong_accepted": rate(split, "wrong", t)}
                  for split in ("fit", "test")} for name, t in (("today", today), ("chosen", best))},
        "accept_rate_at": {str(t): {split: {"right": rate(split, "right", t), "wrong": rate(split, "wrong", t)}
                                    for split in ("fit", "test")} for t in CLAIM_THRESHOLDS},
        "percentiles": {split: {"right": {p: float(np.percentile(v["right"], p)) for p in (5, 10, 25, 50)},
                                "wrong": {p: float(np.percentile(v["wrong"], p)) for p in (50, 90, 95, 99)}}
                        for split, v in sims.items() if v["right"] and v["wrong"]},
    }
    return constant, section


def markdown(report: dict) -> str:
    """The report's headline: each constant's verdict, and the numbers at today's values and at the best on fit."""
    data = report["data"]
    lines = ["# Calibration on XQuAD (`python -m evals.calibrate`)", "",
             f"Fitted on the {' and '.join(data['fit_articles'])} articles, reported on the test articles "
             f"(questions per pair: fit {data['questions']['fit']}, test {data['questions']['test']}); "
             f"{report['wall_time_s']['total_s']} s.", "",
             "| constant | today | best on fit | verdict |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {c['today']} | {c['chosen']} | {c['verdict']} |" for name, c in report["constants"].items()]
    lines += ["", "| measure | pair | fit, today | fit, best | test, today | test, best |", "|---|---|---|---|---|---|"]
    rows: list[tuple[str, str, Callable[[str, str], float | None]]] = []
    for pair in PAIRS.values():
        rows += [(f"retrieval {m}", pair, lambda name, split, m=m, p=pair: report["retrieval"][name][split][p][m])
                 for m in ("mrr", "hit@1", "hit@5")]
        rows.append(("best sentence holds the answer", pair,
                     lambda name, split, p=pair: report["evidence"][name][split][p]))
        rows += [(m, pair, lambda name, split, m=m, p=pair: report["abstention"][p][name][split][m])
                 for m in ("abstain_without_gold", "answer_with_gold", "youden_j")]
    rows += [(f"claim check: {kind} sentences accepted", "en->vi",
              lambda name, split, k=kind: report["claim_support"][name][split][f"{k}_accepted"])
             for kind in ("right", "wrong")]
    for measure, pair, value in rows:
        cells = [_fmt(value(name, split)) for split in ("fit", "test") for name in ("today", "chosen")]
        lines.append(f"| {measure} | {pair} | " + " | ".join(cells) + " |")
    lines += ["", "The settings these results support (today's value unless the best differs beyond noise):", "",
              "```sh", *(line for line in settings_lines(report) if not line.startswith("#")), "```"]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPORTS / "calibration.json",
                        help="the report (JSON); a Markdown summary is written next to it")
    parser.add_argument("--limit", type=int, default=None,
                        help="ask only N questions per language pair, spread over the dataset (the whole corpus "
                             "is still indexed)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="where the eval indexes live (shared with python -m evals)")
    parser.add_argument("--env", type=Path, default=None,
                        help="also write the RAG_* lines it prints to this file (read it with `set -a; . FILE`)")
    args = parser.parse_args(argv)
    return run_command(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from evals.runner import _ingest
    from rag import Assistant
    from rag.settings import Settings

    started = time.perf_counter()
    dataset = cases.load("xquad", args.data_dir / "xquad" / "corpus", args.limit)
    fingerprint = index_fingerprint(Settings())
    assistant = Assistant(data_dir=args.data_dir / "xquad" / f"index-{fingerprint}",
                          collection=f"evals-xquad-{fingerprint}")
    try:
        _ingest(dataset, assistant, quiet=False)
        report = calibrate(assistant, dataset.cases, xquad_paragraphs())
    finally:
        assistant.close()
    report["data"]["limit"] = args.limit
    report["wall_time_s"]["with_indexing_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    lines = settings_lines(report)
    print("\n".join(lines))
    written = [args.out, args.out.with_suffix(".md")]
    if args.env is not None:
        args.env.parent.mkdir(parents=True, exist_ok=True)
        args.env.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(args.env)
    print(f"wrote {', '.join(map(str, written))} in {report['wall_time_s']['with_indexing_s']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
