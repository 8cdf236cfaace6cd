"""The answer reader against today's selector, on held-out articles, through the pipeline's own stages.

    python -m evals.reader --split dev --fit --out evals/reports/reader-dev.json   # fit model/policy.json on dev
    python -m evals.reader --split test --out evals/reports/reader-test.json      # report, once, at the end
    python -m evals.reader --replay evals/reports/reader-dev.json                   # re-decide a saved run

Corpus: every paragraph of the split's articles (XQuAD Vietnamese, PIAF French; ``evals.squad``), one file each,
in one index. Questions: vi->vi and en->vi (XQuAD), fr->fr (PIAF). Each question is asked with its gold paragraph
in the index and again with that paragraph removed (its sibling paragraphs stay: hard negatives). Each ask runs
the pipeline's stages (question, retrieval, copy filter, evidence: what users get) once; the same evidence then
goes to today's extractive answerer and to the reader, so the two are compared on identical inputs. What the
reader said is recorded, and ``rag.reader.policy.decide`` (the function the reading stage calls) turns it into
a decision under a ``ReaderPolicy``: a replay is the pipeline's decision, not a re-implementation.

Per pair (and a paired bootstrap 95% interval, 2,000 resamples of questions, of reader minus today):
- ``p1``: the top-ranked sentence of the answerable ask holds the answer (the answer's offset lies inside it);
- ``accuracy``: the first citation of the answerable ask holds the answer; abstaining counts as wrong;
- ``false_abstention`` and ``abstained_removed`` (gold paragraph removed, abstained);
- ``auroc``: answerable vs gold-removed asks ranked by today's best evidence score / by the reader's
  ``answerable`` probability; ``auroc_inputs``: each of the logistic model's inputs on its own;
- short answers: how often one is shown on answered person/number/date questions, and how often a shown one
  holds a gold answer (``evals.metrics.answer_correct``).

``--fit`` (dev only) chooses the policy from the recorded asks: the blend weight with the best mean P@1; a
logistic model (answer = the top sentence is right) over ``rag.reader.policy.FEATURES``; per relation (same
language / across) the threshold with the best mean of "answered right with gold" and "abstained without";
the lowest span threshold whose shown short answers are right >= 0.90. The AUROC of the logistic model is
also reported cross-validated by article (5 folds), so its in-sample fit does not flatter it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from evals import squad
from evals.metrics import answer_correct
from rag import Assistant
from rag.evidence import Evidence
from rag.extractive import reader_choice
from rag.facts import answer_type
from rag.reader.policy import FEATURES, Candidate, ReaderPolicy, decide, features
from rag.reader.reader import MODEL_DIR, AnswerReader
from rag.reader.rerank import candidates_of

PAIRS = ("vi->vi", "en->vi", "fr->fr")
BOOTSTRAP = 2000
SHORT_ANSWER_PRECISION = 0.90
MAX_SENTENCES = 3  # ExtractiveAnswerer's default


def _file_name(article: squad.Article, paragraph: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", article.title)[:40]
    return f"{article.language}_{slug}_{paragraph:02d}.txt"


def write_corpus(articles: list[squad.Article], folder: Path) -> dict[tuple[str, str, int], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for a in articles:
        for p in a.paragraphs:
            path = folder / _file_name(a, p.index)
            if not path.exists() or path.read_text(encoding="utf-8") != p.text:
                path.write_text(p.text, encoding="utf-8")
            files[(a.language, a.title, p.index)] = path
    return files


def sample(questions: list[squad.Question], per_pair: int | None, seed: int = 13) -> list[squad.Question]:
    rng = random.Random(seed)
    out = []
    for pair in PAIRS:
        qs = [q for q in questions if q.pair == pair]
        out += qs if not per_pair or per_pair >= len(qs) else rng.sample(qs, per_pair)
    return out


def _answer_offset(doc: str, q: squad.Question, original: str) -> int:
    """The answer's offset in the indexed document text (found near the dataset's offset)."""
    if doc == original:
        return q.answer_start
    hits = [m.start() for m in re.finditer(re.escape(q.answers[0]), doc)] or [q.answer_start]
    return min(hits, key=lambda h: abs(h - q.answer_start))


def ask(assistant: Assistant, reader: AnswerReader, policy: ReaderPolicy, q: squad.Question, gold: bool,
        source: str, offset: int) -> dict:
    """One ask through the pipeline's stages; today's answer and the reader's raw outputs on the same evidence."""
    pipe = assistant.pipeline
    query = pipe.question.run(q.text)
    passages = pipe.copies.run(pipe.retrieval.run(query))
    evidence = pipe.evidence.run(query, passages)
    titles = {}
    today = pipe.extractive.run(query.question, query.language, evidence, passages, titles)
    first = today.citations[0] if today.citations else None
    top = evidence[: policy.candidates]
    t0 = time.perf_counter()
    out = reader.run(query.question, [e.text for e in top])
    seconds = time.perf_counter() - t0
    cands = candidates_of(query.question, query.language, top, passages)
    return {
        "id": q.id, "pair": q.pair, "gold": gold, "article": q.article, "answers": q.answers,
        "type": answer_type(query.question, query.language),
        "today_abstained": today.abstained,
        "today_right": bool(first and not today.abstained and first.source == source and first.start <= offset < first.end),
        "today_p1": bool(evidence and evidence[0].source == source and evidence[0].start <= offset < evidence[0].end),
        "today_score": evidence[0].score if evidence else float("-inf"),
        "hits": [bool(e.source == source and e.start <= offset < e.end) for e in top],
        "evidence": [asdict(e) for e in top],
        "cands": [asdict(c) for c in cands],
        "scores": out.scores.tolist(), "null": out.null, "answer_probability": out.answer_probability,
        "spans": [None if s is None else [s.text, s.probability] for s in out.spans],
        "reader_s": seconds, "candidates": len(top),
    }


def run_asks(assistant: Assistant, reader: AnswerReader, policy: ReaderPolicy, questions, files, articles) -> list[dict]:
    by_par: dict[tuple, list[squad.Question]] = {}
    for q in questions:
        by_par.setdefault((q.context_language, q.article, q.paragraph), []).append(q)
    rows = []
    t0 = time.perf_counter()
    for n, (key, qs) in enumerate(by_par.items(), start=1):
        path = files[key]
        src = path.name
        doc = assistant.document_text(src) or ""
        original = articles[(key[0], key[1])].paragraphs[key[2]].text
        for gold in (True, False):
            if not gold:
                assistant.remove(src)
            for q in qs:
                rows.append(ask(assistant, reader, policy, q, gold, src, _answer_offset(doc, q, original)))
            if not gold:
                assistant.add([path])
        if n % 20 == 0:
            print(f"  {n}/{len(by_par)} paragraphs, {len(rows)} asks, {time.perf_counter() - t0:.0f}s", flush=True)
    return rows


# -- decisions from recorded asks ---------------------------------------------------------------
def decision(row: dict, policy: ReaderPolicy):
    cands = [Candidate(**c) for c in row["cands"]]
    spans = [None if s is None else s[1] for s in row["spans"]]
    return decide(policy, np.array(row["scores"]), row["null"], row["answer_probability"], spans, cands)


def reader_outcome(row: dict, policy: ReaderPolicy) -> dict:
    """What the reader-on pipeline answers for a recorded ask: abstained, first citation right, P@1, short answer."""
    d = decision(row, policy)
    if not d.order:
        return {"abstained": True, "right": False, "p1": False, "answerable": 0.0, "short": None}
    p1 = row["hits"][d.order[0]]
    right = False
    if d.supported:
        # The stage's own choice of quoted sentences; the first citation is the first of them in document order.
        evidence = [Evidence(**e) for e in row["evidence"]]
        ranked = [evidence[i] for i in d.order]
        chosen = reader_choice(ranked, d.extra, MAX_SENTENCES, row["type"])
        right = bool(row["hits"][evidence.index(chosen[0])])
    short = row["spans"][d.short_answer][0] if d.short_answer is not None else None
    return {"abstained": not d.supported, "right": right, "p1": bool(p1), "answerable": d.answerable, "short": short}


def auroc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    s = np.array(pos + neg, dtype=np.float64)
    ranks = s.argsort(kind="stable").argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _r(x):
    return None if x is None else round(float(x), 3)


def bootstrap(a: np.ndarray, b: np.ndarray, seed: int = 13) -> list[float]:
    """95% interval of mean(a - b) over paired resamples."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(BOOTSTRAP, len(a)))
    diffs = (a[idx] - b[idx]).mean(axis=1)
    return [round(float(np.percentile(diffs, 2.5)), 3), round(float(np.percentile(diffs, 97.5)), 3)]


def auroc_bootstrap(gold_today, gold_reader, rem_today, rem_reader, seed: int = 13) -> list[float] | None:
    """95% interval of AUROC(reader) - AUROC(today), resampling questions (their gold and removed asks together)."""
    if not gold_today or len(gold_today) != len(rem_today):
        return None
    rng = np.random.default_rng(seed)
    n = len(gold_today)
    gt, gr, rt, rr = map(np.array, (gold_today, gold_reader, rem_today, rem_reader))
    diffs = []
    for _ in range(BOOTSTRAP // 4):
        i = rng.integers(0, n, size=n)
        diffs.append(auroc(list(gr[i]), list(rr[i])) - auroc(list(gt[i]), list(rt[i])))
    return [round(float(np.percentile(diffs, 2.5)), 3), round(float(np.percentile(diffs, 97.5)), 3)]


def summarise(rows: list[dict], policy: ReaderPolicy) -> dict:
    out = {}
    for pair in PAIRS:
        gold = [r for r in rows if r["pair"] == pair and r["gold"]]
        removed = {r["id"]: r for r in rows if r["pair"] == pair and not r["gold"]}
        if not gold:
            continue
        reader_gold = [reader_outcome(r, policy) for r in gold]
        reader_removed = {k: reader_outcome(r, policy) for k, r in removed.items()}
        paired = [r for r in gold if r["id"] in removed]
        p1_today = np.array([r["today_p1"] for r in gold], dtype=float)
        p1_reader = np.array([o["p1"] for o in reader_gold], dtype=float)
        acc_today = np.array([r["today_right"] for r in gold], dtype=float)
        acc_reader = np.array([o["right"] for o in reader_gold], dtype=float)
        typed = [(r, o) for r, o in zip(gold, reader_gold) if r["type"] in ("person", "number", "date")
                 and not o["abstained"]]
        shown = [(r, o) for r, o in typed if o["short"]]
        all_shown = [(r, o) for r, o in zip(gold, reader_gold) if o["short"] and not o["abstained"]]
        inputs = {}
        for k, name in enumerate(FEATURES):
            inputs[name] = _r(auroc([float(_features(r)[k]) for r in paired],
                                    [float(_features(removed[r["id"]])[k]) for r in paired]))
        out[pair] = {
            "n": len(gold),
            "p1": {"today": _r(p1_today.mean()), "reader": _r(p1_reader.mean()),
                   "diff_ci95": bootstrap(p1_reader, p1_today)},
            "accuracy": {"today": _r(acc_today.mean()), "reader": _r(acc_reader.mean()),
                         "diff_ci95": bootstrap(acc_reader, acc_today)},
            "false_abstention": {"today": _r(np.mean([r["today_abstained"] for r in gold])),
                                 "reader": _r(np.mean([o["abstained"] for o in reader_gold]))},
            "abstained_removed": {"today": _r(np.mean([r["today_abstained"] for r in removed.values()])),
                                  "reader": _r(np.mean([o["abstained"] for o in reader_removed.values()]))},
            "auroc": {"today": _r(auroc([r["today_score"] for r in paired],
                                        [removed[r["id"]]["today_score"] for r in paired])),
                      "reader": _r(auroc([reader_outcome(r, policy)["answerable"] for r in paired],
                                         [reader_removed[r["id"]]["answerable"] for r in paired])),
                      "diff_ci95": auroc_bootstrap([r["today_score"] for r in paired],
                                                   [reader_outcome(r, policy)["answerable"] for r in paired],
                                                   [removed[r["id"]]["today_score"] for r in paired],
                                                   [reader_removed[r["id"]]["answerable"] for r in paired])},
            "auroc_inputs": inputs,
            "short_answer": {"typed_answered": len(typed), "shown_on_typed": _r(len(shown) / len(typed)) if typed else None,
                             "shown": len(all_shown),
                             "right_when_shown": _r(np.mean([answer_correct(o["short"], r["answers"])
                                                              for r, o in all_shown])) if all_shown else None},
            "reader_ms": {"p50": _r(1000 * np.median([r["reader_s"] for r in gold])),
                          "p95": _r(1000 * np.percentile([r["reader_s"] for r in gold], 95)),
                          "mean_candidates": _r(np.mean([r["candidates"] for r in gold]))},
        }
    return out


def _features(row: dict, policy: ReaderPolicy | None = None) -> np.ndarray:
    """The logistic model's inputs for a recorded ask, at the order ``policy`` gives (default: its blend)."""
    d = decision(row, policy or ReaderPolicy())
    if not d.order:
        return np.array([-14.0, -14.0, 0.0, 0.0])
    best = Candidate(**row["cands"][d.order[0]])
    return features(row["answer_probability"], d.sentence_probabilities[0], best)


# -- fitting (dev only) -------------------------------------------------------------------------
def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 200) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Newton-fitted L2 logistic regression on standardised ``x``; returns weights/bias on the raw scale."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    xs = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xs @ w))
        g = xs.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        h = (xs * (p * (1 - p))[:, None]).T @ xs + l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
        w -= np.linalg.solve(h, g)
    raw = w[:-1] / sd
    return raw, float(w[-1] - (raw * mu).sum()), mu, sd


def fit(rows: list[dict], base: ReaderPolicy) -> tuple[ReaderPolicy, dict]:
    notes: dict = {}
    gold = [r for r in rows if r["gold"]]
    weights = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]

    def mean_p1(w):
        pol = replace(base, evidence_weight=w)
        return float(np.mean([np.mean([reader_outcome(r, pol)["p1"] for r in gold if r["pair"] == p]) for p in PAIRS]))

    p1s = {w: round(mean_p1(w), 4) for w in weights}
    notes["evidence_weight_mean_p1"] = p1s
    policy = replace(base, evidence_weight=max(weights, key=lambda w: p1s[w]))
    # Logistic model: label = answering is right (gold present and the top sentence holds the answer).
    x = np.stack([_features(r, policy) for r in rows])
    y = np.array([float(r["gold"] and reader_outcome(r, policy)["p1"]) for r in rows])
    same = np.array([Candidate(**r["cands"][decision(r, policy).order[0]]).same_language if r["cands"] else True
                     for r in rows])
    w, b, _, _ = logistic(np.hstack([x, same[:, None].astype(float)]), y)
    policy = replace(policy, weights=tuple(round(float(v), 5) for v in w[:-1]),
                     bias_same_language=round(b + float(w[-1]), 5), bias_cross_language=round(b, 5))
    notes["logistic_cv_auroc"] = _cv_auroc(rows, policy)
    grid = [round(float(t), 3) for t in np.arange(0.02, 0.99, 0.01)]
    for is_same, name in ((True, "min_probability_same_language"), (False, "min_probability_cross_language")):
        sub = [r for r, s in zip(rows, same) if s == is_same]

        def objective(t):
            pol = replace(policy, **{name: t})
            outs = [(r["gold"], reader_outcome(r, pol)) for r in sub]
            right = np.mean([o["right"] for g, o in outs if g]) if any(g for g, _ in outs) else 0
            abstained = np.mean([o["abstained"] for g, o in outs if not g]) if any(not g for g, _ in outs) else 0
            return (right + abstained) / 2

        policy = replace(policy, **{name: max(grid, key=objective)})
    # Short answers: the lowest threshold whose shown answers are right >= SHORT_ANSWER_PRECISION on dev.
    spans = []
    for r in gold:
        o = reader_outcome(r, replace(policy, min_span_probability=0.0))
        d = decision(r, policy)
        if o["short"] and not o["abstained"]:
            spans.append((row_span_probability(r, d.order[0]), answer_correct(o["short"], r["answers"])))
    chosen = 1.0
    for t in sorted({round(p, 3) for p, _ in spans}):
        kept = [ok for p, ok in spans if p >= t]
        if len(kept) >= 20 and np.mean(kept) >= SHORT_ANSWER_PRECISION:
            chosen = t
            break
    notes["short_answer_candidates"] = len(spans)
    policy = replace(policy, min_span_probability=chosen)
    return policy, notes


def row_span_probability(row: dict, index: int) -> float:
    s = row["spans"][index]
    return 0.0 if s is None else float(s[1])


def _cv_auroc(rows: list[dict], policy: ReaderPolicy, folds: int = 5) -> dict:
    """Per pair, the logistic model's AUROC (gold vs removed) when each article's asks are scored by a model fitted
    on the other folds' articles."""
    articles = sorted({r["article"] for r in rows})
    fold_of = {a: i % folds for i, a in enumerate(random.Random(13).sample(articles, len(articles)))}
    x = np.stack([_features(r, policy) for r in rows])
    same = np.array([Candidate(**r["cands"][decision(r, policy).order[0]]).same_language if r["cands"] else True
                     for r in rows], dtype=float)
    xa = np.hstack([x, same[:, None]])
    y = np.array([float(r["gold"] and reader_outcome(r, policy)["p1"]) for r in rows])
    pred = np.zeros(len(rows))
    for f in range(folds):
        test = np.array([fold_of[r["article"]] == f for r in rows])
        w, b, _, _ = logistic(xa[~test], y[~test])
        pred[test] = xa[test] @ w + b
    out = {}
    for pair in PAIRS:
        g = [i for i, r in enumerate(rows) if r["pair"] == pair and r["gold"]]
        n = [i for i, r in enumerate(rows) if r["pair"] == pair and not r["gold"]]
        out[pair] = _r(auroc(list(pred[g]), list(pred[n])))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument("--per-pair", type=int, default=None, help="a seeded sample of questions per pair")
    ap.add_argument("--fit", action="store_true", help="fit the reader policy (dev split only) into --policy")
    ap.add_argument("--policy", default=str(MODEL_DIR / "policy.json"))
    ap.add_argument("--model-dir", default=str(MODEL_DIR))
    ap.add_argument("--data-dir", help="where to keep the corpus files and the index (default: a temp dir)")
    ap.add_argument("--out", help="write the numbers and the per-ask records as JSON here")
    ap.add_argument("--replay", metavar="RUN_JSON", help="no asking: re-decide a saved --out run (with --fit: refit)")
    args = ap.parse_args(argv)
    policy_path = Path(args.policy)
    policy = ReaderPolicy.load(policy_path) if policy_path.exists() else ReaderPolicy()
    if args.replay:
        saved = json.loads(Path(args.replay).read_text())
        rows, split = saved["asks"], saved["split"]
    else:
        if args.fit and args.split != "dev":
            ap.error("--fit only on --split dev: nothing is fitted on test articles")
        split = args.split
        root = Path(args.data_dir or tempfile.mkdtemp(prefix="reader-eval-"))
        articles, questions = squad.held_out(split)
        arts = {(a.language, a.title): a for a in articles}
        files = write_corpus(articles, root / "corpus")
        questions = sample(questions, args.per_pair)
        assistant = Assistant(data_dir=root / "index")
        reader = AnswerReader(model_dir=Path(args.model_dir))
        assistant.add(sorted(set(files.values())))
        t0 = time.perf_counter()
        rows = run_asks(assistant, reader, policy, questions, files, arts)
        print(f"{len(rows)} asks in {time.perf_counter() - t0:.0f}s", flush=True)
        assistant.close()
    report: dict = {"split": split, "asks": len(rows)}
    if args.fit:
        if split != "dev":
            ap.error("--fit only on dev runs")
        policy, notes = fit(rows, replace(policy, fitted_on=f"python -m evals.reader --split dev --fit: "
                                                          f"{len(rows)} dev asks ({time.strftime('%Y-%m-%d')})"))
        report["fit"] = notes
        policy.save(policy_path)
        print(f"wrote {policy_path}", flush=True)
    report["policy"] = asdict(policy)
    report["pairs"] = summarise(rows, policy)
    print(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({**report, "asks": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
