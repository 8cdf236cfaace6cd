"""A ``Run`` in, three files out: ``<dataset>.json``, ``<dataset>.md`` and ``<dataset>.png``.

All three are rendered from one payload (``build``), so they carry the same numbers and the same
``run_id``; the PNG also stores the values it plots in its ``Description`` text chunk.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from evals.metrics import summarize_groups
from evals.runner import Run

# (metrics key, table header); fractions print with 3 decimals, counts as integers.
COLUMNS = (
    ("n", "n"), ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("accuracy", "accuracy"),
    ("citation_precision", "cit. precision"), ("citation_recall", "cit. recall"),
    ("abstention_precision", "abst. precision"), ("abstention_recall", "abst. recall"),
    ("false_abstentions", "false abst."), ("latency_p50_s", "p50 s"), ("latency_p95_s", "p95 s"),
)
RETRIEVAL = (("mrr", "MRR"), ("hit@1", "hit@1"), ("hit@5", "hit@5"))
PANELS = (
    ("mrr", "retrieval MRR"), ("hit@5", "retrieval hit@5"), ("accuracy", "answer accuracy"),
    ("citation_precision", "citation precision"), ("abstention_recall", "abstention recall (unanswerable)"),
    ("latency_p95_s", "latency p95 (s)"),
)
COUNTS = {"n", "answerable", "false_abstentions"}
MISSING = "–"


def build(run: Run) -> dict:
    """The report as plain data: config, runtimes, metrics per mode and group, one record per outcome."""
    metrics = summarize_groups(run.outcomes)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    digest = hashlib.sha256(json.dumps(metrics, sort_keys=True).encode()).hexdigest()[:8]
    cases = []
    for o in run.outcomes:
        supported = o.supported()
        cases.append({
            "id": o.case_id, "mode": o.mode, "pair": o.pair, "rank": o.rank, "abstained": o.abstained,
            "correct": o.correct, "citations": len(supported), "supported_citations": sum(supported),
            "latency_s": round(o.latency_s, 4),
            # Every answer, right or wrong, so a false positive of the matcher can be audited.
            "answer": o.answer_text,
        })
    return {
        "dataset": run.dataset,
        "run_id": f"{run.dataset}-{created[:19].replace(':', '')}-{digest}",
        "created": created,
        "config": run.config,
        "runtime_s": run.runtime_s,
        "notes": run.notes,
        "metrics": metrics,
        "cases": cases,
    }


def write(payload: dict, out_dir: Path) -> list[Path]:
    """Write the JSON, Markdown and PNG reports of ``payload``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / payload["dataset"]
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".png")]
    paths[0].write_text(to_json(payload), encoding="utf-8")
    paths[1].write_text(markdown(payload), encoding="utf-8")
    chart(payload, paths[2])
    return paths


def to_json(payload: dict) -> str:
    """Indented JSON with one line per case record, so the file stays small and diffs line by line."""
    head = json.dumps({k: v for k, v in payload.items() if k != "cases"}, ensure_ascii=False, indent=1)
    cases = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in payload["cases"])
    return head[:-2] + ',\n "cases": [\n' + cases + "\n ]\n}\n"


def fmt(key: str, value) -> str:
    if value is None:
        return MISSING
    return str(int(value)) if key in COUNTS else f"{value:.3f}"


def markdown(payload: dict) -> str:
    """Summary tables: retrieval per mode side by side, then every metric of each mode per group."""
    config, metrics = payload["config"], payload["metrics"]
    modes = list(metrics)
    lines = [
        f"# Eval report: {payload['dataset']}",
        "",
        f"Run `{payload['run_id']}`: {config['cases']} questions x {len(modes)} modes over "
        f"{config['documents']} documents ({config['chunks']} chunks); top_k {config['top_k']}, "
        f"answers: {config['answerer'] if not config['retrieval_only'] else 'not generated (retrieval only)'}; "
        f"embedder {config['embedder']}; commit {config.get('commit') or 'unknown'}.",
        f"Runtime: ingest {payload['runtime_s']['ingest']} s ({config['ingest']}), "
        f"questions {payload['runtime_s']['questions']} s, total {payload['runtime_s']['total']} s.",
        "",
        "Groups: `all`, each question language (`en->*`), and each pair question language -> "
        "language(s) of the gold documents (`none` = unanswerable).",
        "",
        "## Retrieval by mode",
        "",
    ]
    groups = [g for g in metrics[modes[0]] if metrics[modes[0]][g].get("answerable")]
    header = ["group", "n"] + [f"{mode} {label}" for _, label in RETRIEVAL for mode in modes]
    rows = [[g, fmt("n", metrics[modes[0]][g]["answerable"])]
            + [fmt(key, metrics[mode][g][key]) for key, _ in RETRIEVAL for mode in modes] for g in groups]
    lines += _table(header, rows)
    for mode in modes:
        lines += ["", f"## Mode: {mode}", ""]
        rows = [[g] + [fmt(key, m[key]) for key, _ in COLUMNS] for g, m in metrics[mode].items()]
        lines += _table(["group"] + [label for _, label in COLUMNS], rows)
    if payload["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in payload["notes"]]
    return "\n".join(lines) + "\n"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def chart(payload: dict, path: Path) -> None:
    """Bars per language pair (and ``all``), one colour per mode, one panel per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = payload["metrics"]
    modes = list(metrics)
    groups = [g for g in metrics[modes[0]] if not g.endswith("*")]
    plotted: dict[str, dict[str, dict[str, float]]] = {}
    fig, axes = plt.subplots(3, 2, figsize=(max(10, 1.1 * len(groups) + 4), 11), constrained_layout=True)
    width = 0.8 / len(modes)
    for ax, (key, title) in zip(axes.flat, PANELS):
        shown = [g for g in groups if any(metrics[m].get(g, {}).get(key) is not None for m in modes)]
        plotted[key] = {g: {m: round(metrics[m][g][key], 3) for m in modes if metrics[m][g].get(key) is not None}
                        for g in shown}
        ax.set_title(title)
        if not shown:
            ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        for j, mode in enumerate(modes):
            xs = [i + (j - (len(modes) - 1) / 2) * width for i, g in enumerate(shown) if mode in plotted[key][g]]
            ys = [plotted[key][g][mode] for g in shown if mode in plotted[key][g]]
            ax.bar(xs, ys, width, label=mode)
        ax.set_xticks(range(len(shown)), [f"{g}\n(n={metrics[modes[0]][g]['n']})" for g in shown], fontsize=8)
        if not key.startswith("latency"):
            ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=len(modes))
    fig.suptitle(f"{payload['dataset']} eval ({payload['run_id']}): bars per language pair, one colour per mode")
    fig.savefig(path, dpi=90, metadata={
        "Title": f"{payload['dataset']} eval",
        "Description": json.dumps({"run_id": payload["run_id"], "values": plotted}),
    })
    plt.close(fig)
