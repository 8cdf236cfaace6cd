"""The answer reader before/after, through ``Assistant.ask`` on held-out articles; and its dev-article fit.

    python -m evals.reader --split test [--per-pair 150] [--out reader-test.json]
    python -m evals.reader --split dev --fit          # the weights/thresholds of rag.reader.rerank.ReaderPolicy

Corpus: every paragraph of the split's articles (XQuAD Vietnamese and PIAF French, ``rag.reader.data``), one
file each, in one index. Questions: vi->vi and en->vi (XQuAD), fr->fr (PIAF). Each question is asked twice:
with its gold paragraph in the index (answerable) and with that paragraph removed (its sibling paragraphs
stay: hard negatives). The run is done once with the reader off (``RAG_READER=off``, today's selector) and
once with it on. Per pair it reports:

- ``accuracy``: the first cited sentence of the answerable ask holds the answer (the answer's offset in the
  gold paragraph lies inside the cited span); abstaining counts as wrong;
- ``false_abstention`` (answerable asks abstained) and ``abstained_removed`` (gold removed, abstained);
- ``auroc``: answerable vs gold-removed, ranked by the reader's probability (``Answer.confidence``); for
  today's selector, ``auroc_today_score`` ranks by its best evidence score, read from what the reader stage
  is given in the reader-on pass (the same retrieval, the same evidence);
- ``reader_ms_p50``: the reader stage's time per question (``Answer.timings["reader_s"]``).

The reader-on pass records what the reader stage saw and said. ``--fit`` (dev split only) chooses from it,
on dev articles, the blend weight of today's score (best P@1) and the probability thresholds for same- and
cross-language questions (best mean of "answered right with the gold paragraph" and "abstained without
it"): the defaults of ``rag.reader.rerank.ReaderPolicy``. ``--replay RUN.json`` recomputes a saved run's
reader-on numbers under the current ``ReaderPolicy`` with the pipeline's own decision rules (``decide``).
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

from rag import Assistant
from rag.facts import numbers_in
from rag.extractive import SupportPolicy
from rag.reader import data
from rag.reader.rerank import ReaderPolicy

PAIRS = ("vi->vi", "en->vi", "fr->fr")


def _file_name(article: data.Article, paragraph: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", article.title)[:40]
    return f"{article.language}_{slug}_{paragraph:02d}.txt"


def write_corpus(articles: list[data.Article], folder: Path) -> dict[tuple[str, str, int], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for a in articles:
        for p in a.paragraphs:
            path = folder / _file_name(a, p.index)
            if not path.exists() or path.read_text(encoding="utf-8") != p.text:
                path.write_text(p.text, encoding="utf-8")
            files[(a.language, a.title, p.index)] = path
    return files


def sample(questions: list[data.Question], per_pair: int | None, seed: int = 13) -> list[data.Question]:
    rng = random.Random(seed)
    out = []
    for pair in PAIRS:
        qs = [q for q in questions if q.pair == pair]
        out += qs if not per_pair or per_pair >= len(qs) else rng.sample(qs, per_pair)
    return out


def _answer_span(text: str, q: data.Question, original: str) -> tuple[int, int]:
    """The answer's span in the indexed document text (found near the dataset's offset)."""
    answer = q.answers[0]
    if text == original:
        return q.answer_start, q.answer_start + max(1, len(answer))
    hits = [m.start() for m in re.finditer(re.escape(answer), text)] or [q.answer_start]
    start = min(hits, key=lambda h: abs(h - q.answer_start))
    return start, start + max(1, len(answer))


def run_pass(assistant: Assistant, questions, files, articles, record: list | None,
             removed: bool = True) -> list[dict]:
    by_par: dict[tuple, list[data.Question]] = {}
    for q in questions:
        by_par.setdefault((q.context_language, q.article, q.paragraph), []).append(q)
    texts = {}
    rows = []
    for key, qs in by_par.items():
        path = files[key]
        src = path.name
        doc = assistant.document_text(src) or ""
        texts[key] = doc
        for gold in (True, False) if removed else (True,):
            if not gold:
                assistant.remove(src)
            for q in qs:
                if record is not None:
                    record.append({"id": q.id, "gold": gold})
                answer = assistant.ask(q.text)
                span = _answer_span(doc, q, articles[(q.context_language, q.article)].paragraphs[q.paragraph].text)
                first = answer.citations[0] if answer.citations else None
                ok = bool(first and first.source == src and first.start <= span[0] < first.end)
                rows.append({"id": q.id, "pair": q.pair, "gold": gold, "abstained": answer.abstained, "correct": ok,
                             "confidence": answer.confidence, "reader_s": answer.timings.get("reader_s"),
                             "source": src, "span": span})
            if not gold:
                assistant.add([path])
    return rows


def auroc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    s = np.array(pos + neg)
    ranks = s.argsort(kind="stable").argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def summarise(rows: list[dict], scores: dict[tuple[str, bool], float]) -> dict:
    out = {}
    for pair in PAIRS:
        gold = [r for r in rows if r["pair"] == pair and r["gold"]]
        removed = [r for r in rows if r["pair"] == pair and not r["gold"]]
        if not gold:
            continue
        times = [r["reader_s"] for r in gold + removed if r["reader_s"] is not None]
        out[pair] = {
            "n": len(gold),
            "accuracy": round(sum(r["correct"] for r in gold) / len(gold), 3),
            "false_abstention": round(sum(r["abstained"] for r in gold) / len(gold), 3),
            "abstained_removed": round(sum(r["abstained"] for r in removed) / max(len(removed), 1), 3),
            "auroc": _round(auroc([scores[(r["id"], True)] for r in gold if (r["id"], True) in scores],
                                  [scores[(r["id"], False)] for r in removed if (r["id"], False) in scores])),
            "reader_ms_p50": round(1000 * float(np.median(times)), 1) if times else None,
        }
    return out


def _round(x):
    return None if x is None else round(x, 3)


def recording(assistant: Assistant, log: list):
    """Keep what the reader stage was given and what it said: for the fit, the replay and today's-score AUROC."""
    stage = assistant.pipeline.reading
    inner = stage.run

    def run(question, language, evidence, passages):
        reading = inner(question, language, evidence, passages)
        top = evidence[: stage.policy.candidates]
        prob = {(e.source, e.start): p for e, p in zip(reading.evidence, reading.probabilities)}
        wanted = numbers_in(question)
        log[-1].update({
            "language_same": language == passages[top[0].passage].language if top else True,
            "today": top[0].score if top else float("-inf"),
            "cands": [(e.source, e.start, e.end, e.score, prob[(e.source, e.start)],
                       not wanted or wanted <= numbers_in(passages[e.passage].text)) for e in top]})
        return reading

    stage.run = run


def _items(rows: list[dict], log: list[dict]) -> list[dict]:
    by_key = {(r["id"], r["gold"]): r for r in rows}
    items = []
    for entry in log:
        r = by_key.get((entry["id"], entry["gold"]))
        if r is None or "cands" not in entry:
            continue
        c = entry["cands"]
        probs = np.clip(np.array([x[4] for x in c], dtype=np.float64), 1e-7, 1 - 1e-7)
        items.append({"pair": r["pair"], "gold": entry["gold"], "same": entry["language_same"], "cands": c,
                      "today": entry["today"],
                      "hits": [s == r["source"] and a <= r["span"][0] < b for s, a, b, *_ in c],
                      "scores": np.array([x[3] for x in c], dtype=np.float64),
                      "logits": np.log(probs / (1 - probs)), "probs": probs})
    return items


def _std(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-6) if len(x) > 1 else np.zeros_like(x)


def decide(item: dict, policy: ReaderPolicy, margin: float = SupportPolicy().extra_margin) -> tuple[bool, bool, float]:
    """``(abstained, first citation right, probability)`` as ``EvidenceReader`` + ``ExtractiveAnswerer`` decide."""
    if not item["cands"]:
        return True, False, 0.0
    blend = _std(item["logits"]) + policy.evidence_weight * _std(item["scores"])
    order = np.argsort(-blend, kind="stable")
    best = int(order[0])
    p = float(item["probs"][best])
    threshold = policy.min_probability_same_language if item["same"] else policy.min_probability_cross_language
    if p < threshold or not item["cands"][best][5]:
        return True, False, p
    chosen = [int(i) for i in order[:3] if blend[i] >= blend[best] - margin]
    first = min(chosen, key=lambda i: (item["cands"][i][0], item["cands"][i][1]))
    return False, bool(item["hits"][first]), p


def replay(items: list[dict], policy: ReaderPolicy) -> dict:
    """The reader-on numbers for ``policy`` from recorded reader outputs (same decisions as the pipeline)."""
    out = {}
    for pair in PAIRS:
        gold = [decide(it, policy) for it in items if it["pair"] == pair and it["gold"]]
        removed = [decide(it, policy) for it in items if it["pair"] == pair and not it["gold"]]
        if gold:
            out[pair] = {"n": len(gold), "accuracy": round(float(np.mean([d[1] for d in gold])), 3),
                         "false_abstention": round(float(np.mean([d[0] for d in gold])), 3),
                         "abstained_removed": round(float(np.mean([d[0] for d in removed])), 3) if removed else None,
                         "auroc": _round(auroc([d[2] for d in gold], [d[2] for d in removed]))}
    return out


def fit(items: list[dict]) -> ReaderPolicy:
    """On dev articles: the blend weight with the best P@1 (gold paragraph present), then per relation the
    threshold with the best mean of "answered right with the gold paragraph" and "abstained without it"."""
    weights = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    open_policy = ReaderPolicy(min_probability_same_language=0.0, min_probability_cross_language=0.0)

    def p1(w):
        return np.mean([decide(it, replace(open_policy, evidence_weight=w))[1] for it in items if it["gold"]])

    policy = replace(open_policy, evidence_weight=max(weights, key=p1))
    grid = [round(float(t), 3) for t in np.arange(0.01, 0.99, 0.005)]
    for same, field_name in ((True, "min_probability_same_language"), (False, "min_probability_cross_language")):
        sub = [it for it in items if it["same"] == same]

        def objective(t):
            decisions = [(it["gold"], decide(it, replace(policy, **{field_name: t}))) for it in sub]
            right = np.mean([d[1] for g, d in decisions if g])
            abstained = np.mean([d[0] for g, d in decisions if not g])
            return (right + abstained) / 2

        policy = replace(policy, **{field_name: max(grid, key=objective)})
    return policy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument("--per-pair", type=int, default=None, help="a seeded sample of questions per pair")
    ap.add_argument("--fit", action="store_true", help="fit the reader policy (dev split only)")
    ap.add_argument("--modes", default="off,on")
    ap.add_argument("--data-dir", help="where to keep the corpus files and indexes (default: a temp dir)")
    ap.add_argument("--out", help="write the numbers (and per-question rows) as JSON here")
    ap.add_argument("--replay", metavar="RUN_JSON",
                    help="no asking: the reader-on numbers of a saved --out run under today's ReaderPolicy")
    args = ap.parse_args(argv)
    if args.replay:
        saved = json.loads(Path(args.replay).read_text())["per_question"]["on"]
        print(json.dumps({"split": json.loads(Path(args.replay).read_text())["split"], "policy": asdict(ReaderPolicy()),
                          "replay": replay(_items(saved["rows"], saved["log"]), ReaderPolicy())}, indent=1))
        return 0
    if args.fit and args.split != "dev":
        ap.error("--fit only on --split dev: thresholds are never fitted on test articles")
    root = Path(args.data_dir or tempfile.mkdtemp(prefix="reader-eval-"))
    articles, questions = data.load(args.split)
    arts = {(a.language, a.title): a for a in articles}
    files = write_corpus(articles, root / "corpus")
    questions = sample(questions, args.per_pair)
    report: dict = {"split": args.split, "questions": len(questions)}
    today: dict = {}
    kept: dict = {}
    for mode in args.modes.split(","):
        # One index for both passes: each pass leaves it as it found it, and add() skips unchanged files.
        assistant = Assistant(data_dir=root / "index", reader=mode)
        t0 = time.perf_counter()
        assistant.add(sorted(set(files.values())))
        log: list[dict] | None = [] if mode == "on" else None
        if mode == "on":
            recording(assistant, log)
        rows = run_pass(assistant, questions, files, arts, log)
        if mode == "on":
            scores = {(r["id"], r["gold"]): r["confidence"] if r["confidence"] is not None else 0.0 for r in rows}
            today = {(e["id"], e["gold"]): e.get("today", float("-inf")) for e in log}
            items = _items(rows, log)
            if args.fit:
                fitted = fit(items)
                report["fit"] = {**asdict(fitted), "dev_replay": replay(items, fitted)}
            report["replay_shipped_policy"] = replay(items, ReaderPolicy())
        else:
            scores = {}
        kept[mode] = {"rows": rows, "log": log}
        report[f"reader_{mode}"] = summarise(rows, scores)
        report[f"reader_{mode}"]["wall_s"] = round(time.perf_counter() - t0)
        assistant.close()
    if today:
        # Today's selector's confidence is its best evidence score, the number its abstention thresholds apply to.
        report["auroc_today_score"] = {
            pair: _round(auroc([today[(q.id, True)] for q in questions if q.pair == pair and (q.id, True) in today],
                               [today[(q.id, False)] for q in questions if q.pair == pair and (q.id, False) in today]))
            for pair in PAIRS}
    print(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({**report, "per_question": kept}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
