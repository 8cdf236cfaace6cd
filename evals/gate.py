"""Report payloads and ``baseline.json`` in, a verdict out: which gated metrics fell below their floor.

The baseline records, per dataset, the configuration it was measured in (retrieval mode, top_k, LLM
on/off), the measured values and the floors (measured minus ``margin``) or ceilings (a count, plus
one) that CI holds the pipeline to. A run in another configuration cannot be compared: that is an
error, not a pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.runner import EvalError

BASELINE = Path(__file__).resolve().parent / "baseline.json"
MARGIN = 0.03
# Higher is better for these; a drop below measured - MARGIN fails the gate.
_QA_FLOORS = {"all": ("hit@1", "hit@5", "mrr", "accuracy", "citation_precision", "citation_recall",
                      "abstention_precision", "abstention_recall")}
FLOORS = {
    "seeds": _QA_FLOORS,
    "xquad": {pair: ("hit@1", "hit@5", "mrr", "accuracy") for pair in ("vi->vi", "en->vi")},
    # The fixed 200-question sample of XQuAD's test articles: the XQuAD check that runs on every make test.
    "xquad-sample": {pair: ("hit@1", "hit@5", "mrr", "accuracy", "citation_precision", "citation_recall")
                     for pair in ("vi->vi", "en->vi")},
    # Plain questions over documents a new user adds, held like the seeds once its baseline is measured; until
    # then ``check`` reports it as not in the baseline, not gated.
    "userdocs": _QA_FLOORS,
}
# The seeds test split is reported, never gated: a floor there would invite tuning on it.
# Counts where lower is better; more than measured + 1 fails the gate.
CEILINGS = {name: {"all": ("false_abstentions",)} for name in ("seeds", "userdocs")}
# The claim checker on the labelled claim set (``python -m evals.claims --gate``): a broken checker fails here.
CLAIM_FLOORS = {group: ("precision", "recall") for group in ("all", "split:report")}
DEFAULT_CONFIG = {"mode": "hybrid", "top_k": 5, "llm": False}
COMMENT = [
    "Floors and ceilings for `python -m evals --gate` (CI). Each dataset entry says the configuration it was",
    "measured in; a gated run must use the same one. floor = measured value - margin (0.03), ceiling =",
    "measured count + 1; measured values come from the run named in run_id. Regenerate after a deliberate",
    "change with `python -m evals --dataset all --modes hybrid --update-baseline` (and, for `claims`,",
    "`python -m evals.claims --update-baseline`) and review the diff: a lower floor must be justified in the",
    "commit message. The seeds test split is reported, never gated.",
]


def load(path: Path = BASELINE) -> dict:
    if not path.exists():
        raise EvalError(f"no baseline at {path}; create one with: python -m evals --update-baseline")
    return json.loads(path.read_text(encoding="utf-8"))


def check(payloads: dict[str, dict], baseline: dict) -> tuple[list[str], list[str]]:
    """``(failures, lines)``: every gated metric of the datasets in ``payloads``, checked against its bound."""
    failures: list[str] = []
    lines: list[str] = []
    for name, payload in payloads.items():
        entry = baseline.get("datasets", {}).get(name)
        if entry is None:
            lines.append(f"{name}: not in the baseline, not gated")
            continue
        mode = comparable(name, payload["config"], entry["config"])
        if payload["config"].get("limit"):
            lines.append(f"{name}: run on a subset (--limit {payload['config']['limit']}); floors are for the full set")
        metrics = payload["metrics"][mode]
        for kind, bounds in (("floor", entry.get("floors", {})), ("ceiling", entry.get("ceilings", {}))):
            for group, limits in bounds.items():
                for key, bound in limits.items():
                    _judge(f"{name} {mode} {group} {key}", metrics.get(group, {}).get(key), kind, bound, failures, lines)
    return failures, lines


def _judge(label: str, value: float | None, kind: str, bound: float, failures: list[str], lines: list[str]) -> None:
    """Append ``label``'s verdict against its ``kind`` ("floor" or "ceiling") ``bound`` to ``failures`` or ``lines``."""
    if value is None:
        failures.append(f"FAIL {label}: not measured in this run ({kind} {bound})")
    elif (value < bound) if kind == "floor" else (value > bound):
        failures.append(f"FAIL {label} = {_fmt(value)}, {kind} {bound}")
    else:
        lines.append(f"ok   {label} = {_fmt(value)} ({kind} {bound})")


def update(payloads: dict[str, dict], path: Path = BASELINE, margin: float = MARGIN) -> dict:
    """Rewrite the entries of the datasets in ``payloads`` from their measured values; others are kept."""
    baseline = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    datasets = baseline.get("datasets", {})
    for name, payload in payloads.items():
        if name not in FLOORS and name not in CEILINGS:
            continue
        config = {**DEFAULT_CONFIG, **datasets.get(name, {}).get("config", {})}
        mode = comparable(name, payload["config"], config)
        metrics = payload["metrics"][mode]
        measured, floors, ceilings = {}, {}, {}
        for group, keys in FLOORS.get(name, {}).items():
            values = {k: metrics[group][k] for k in keys if metrics.get(group, {}).get(k) is not None}
            measured.setdefault(group, {}).update({k: round(v, 3) for k, v in values.items()})
            floors[group] = {k: round(max(0.0, v - margin), 3) for k, v in values.items()}
        for group, keys in CEILINGS.get(name, {}).items():
            values = {k: metrics[group][k] for k in keys if metrics.get(group, {}).get(k) is not None}
            measured.setdefault(group, {}).update(values)
            ceilings[group] = {k: v + 1 for k, v in values.items()}
        datasets[name] = {"config": config, "run_id": payload["run_id"], "measured": measured,
                          "floors": floors, "ceilings": ceilings}
    baseline = {"comment": COMMENT, "margin": margin, "datasets": datasets,
                **({"claims": baseline["claims"]} if "claims" in baseline else {})}
    path.write_text(json.dumps(baseline, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return baseline


def check_claims(groups: dict[str, dict], baseline: dict) -> tuple[list[str], list[str]]:
    """``(failures, lines)`` of the claim checker's precision/recall (``evals.claims.score``) against its floors."""
    entry = baseline.get("claims")
    if entry is None:
        raise EvalError("the baseline has no claims entry; create it with: python -m evals.claims --update-baseline")
    failures, lines = [], []
    for group, floors in entry["floors"].items():
        for key, floor in floors.items():
            _judge(f"claims {group} {key}", groups.get(group, {}).get(key), "floor", floor, failures, lines)
    return failures, lines


def update_claims(groups: dict[str, dict], path: Path = BASELINE, margin: float = MARGIN) -> dict:
    """Rewrite the baseline's ``claims`` entry from measured precision/recall; the datasets are kept."""
    baseline = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    measured = {g: {k: round(groups[g][k], 3) for k in keys if groups.get(g, {}).get(k) is not None}
                for g, keys in CLAIM_FLOORS.items()}
    floors = {g: {k: round(max(0.0, v - margin), 3) for k, v in values.items()} for g, values in measured.items()}
    baseline = {"comment": COMMENT, "margin": margin, "datasets": baseline.get("datasets", {}),
                "claims": {"measured": measured, "floors": floors}}
    path.write_text(json.dumps(baseline, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return baseline


def _fmt(value: float | int) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def comparable(name: str, run: dict, expected: dict) -> str:
    """The mode to compare; raises ``EvalError`` when the run's configuration (``modes``, ``top_k``, ``llm``,
    ``retrieval_only``) differs from the baseline's."""
    problems = []
    if expected["mode"] not in run["modes"]:
        problems.append(f"mode {expected['mode']} was not run (--modes {','.join(run['modes'])})")
    if run["top_k"] != expected["top_k"]:
        problems.append(f"top_k is {run['top_k']}, the baseline's is {expected['top_k']}")
    if run["llm"] != expected["llm"]:
        problems.append(f"the LLM is {'on' if run['llm'] else 'off'}, in the baseline it is "
                        f"{'on' if expected['llm'] else 'off'} (--llm/--no-llm)")
    if run.get("retrieval_only"):
        problems.append("the run was retrieval only (answer metrics are gated)")
    if problems:
        raise EvalError(f"{name}: this run cannot be compared with the baseline: " + "; ".join(problems))
    return expected["mode"]
