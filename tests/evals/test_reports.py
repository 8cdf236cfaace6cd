"""The JSON, Markdown and PNG of one real seeds run exist and carry the same numbers."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from evals.report import COLUMNS, MISSING, PANELS, RETRIEVAL

pytestmark = pytest.mark.slow

LABELS = {label: key for key, label in COLUMNS}


def _tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """Markdown tables keyed by the heading above them; each row maps header -> cell."""
    tables: dict[str, list[dict[str, str]]] = {}
    heading, header = None, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading, header = line[3:], None
        elif line.startswith("|") and heading:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if header is None:
                header = cells
            elif not set(line) <= set("|-"):
                tables.setdefault(heading, []).append(dict(zip(header, cells)))
    return tables


def _same(cell: str, value) -> bool:
    if value is None:
        return cell == MISSING
    return cell != MISSING and float(cell) == pytest.approx(value, abs=5.01e-4)


def test_all_three_reports_are_written(seeds_eval):
    for suffix in ("json", "md", "png"):
        path = seeds_eval.out / f"seeds.{suffix}"
        assert path.is_file() and path.stat().st_size > 0, path
    payload = seeds_eval.payload()
    assert payload["config"]["modes"] == ["hybrid", "dense", "keyword"]
    assert len(payload["cases"]) == 3 * payload["config"]["cases"] == 3 * 75
    assert payload["config"]["answer_modes"] == {"extractive": 225}


def test_markdown_tables_equal_the_json(seeds_eval):
    payload = seeds_eval.payload()
    markdown = (seeds_eval.out / "seeds.md").read_text(encoding="utf-8")
    assert payload["run_id"] in markdown
    tables = _tables(markdown)
    compared = 0
    for mode, groups in payload["metrics"].items():
        rows = tables[f"Mode: {mode}"]
        assert [r["group"] for r in rows] == list(groups)
        for row in rows:
            for label, cell in row.items():
                if label != "group":
                    assert _same(cell, groups[row["group"]][LABELS[label]]), (mode, row["group"], label, cell)
                    compared += 1
        for row in tables["Retrieval by mode"]:
            for key, label in RETRIEVAL:
                assert _same(row[f"{mode} {label}"], groups[row["group"]][key]), (mode, row["group"], label)
                compared += 1
    assert compared > 500


def test_png_plots_the_json_numbers(seeds_eval):
    payload = seeds_eval.payload()
    with Image.open(seeds_eval.out / "seeds.png") as image:
        assert image.size[0] > 600
        plotted = json.loads(image.text["Description"])
    assert plotted["run_id"] == payload["run_id"]
    assert set(plotted["values"]) == {key for key, _ in PANELS}
    pairs = {g for g in payload["metrics"]["hybrid"] if "*" not in g}
    assert set(plotted["values"]["abstention_recall"]) == {"all", "en->none", "fr->none", "vi->none"}
    assert set(plotted["values"]["mrr"]) == {g for g in pairs if not g.endswith("none")}
    for key, groups in plotted["values"].items():
        for group, by_mode in groups.items():
            for mode, value in by_mode.items():
                assert value == pytest.approx(payload["metrics"][mode][group][key], abs=5.01e-4)


def test_case_records_add_up_to_the_metrics(seeds_eval):
    payload = seeds_eval.payload()
    for mode, groups in payload["metrics"].items():
        cases = [c for c in payload["cases"] if c["mode"] == mode]
        answerable = [c for c in cases if c["correct"] is not None]
        assert groups["all"]["answerable"] == len(answerable) == 60
        assert groups["all"]["accuracy"] == pytest.approx(sum(c["correct"] for c in answerable) / len(answerable))
        hit1 = sum(c["rank"] == 1 for c in answerable) / len(answerable)
        assert groups["all"]["hit@1"] == pytest.approx(hit1)
        # Right or wrong, every row keeps what the assistant said, so a matcher's false positive can be audited.
        assert all(isinstance(c["answer"], str) and c["answer"] for c in cases)
