"""The README's speed tables quote the committed full run in ``benchmarks/results.json``, number for number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def section() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Speed and scale")
    return text[start : text.index("\n## ", start)].splitlines()


def row(lines: list[str], starts: str) -> str:
    found = [line for line in lines if line.startswith(starts)]
    assert len(found) == 1, f"one README row starting {starts!r}, found {len(found)}"
    return found[0]


def test_results_are_a_full_run(results, section):
    assert results["tiny"] is False and results["command"] == "python -m benchmarks"
    assert any(results["machine"]["date"][:16].replace("T", " ") in line for line in section)


def test_headline_numbers_match(results, section):
    assert f"**{results['ingest_ratio_vs_raw_embedder']:.2f}x**" in row(section, "| ingest throughput")
    assert f"**{results['retrieval_p50_ratio_vs_baseline']:.2f}x**" in row(section, "| retrieval p50 vs")
    assert f"**{results['answer_p50_ratio_vs_baseline_retrieval']:.2f}x**" in row(section, "| extractive answer p50")
    assert f"**{results['cold_start_s']:.2f} s**" in row(section, "| `rag ask` cold start")
    assert f"**{results['peak_rss_mb']:.0f} MB**" in row(section, "| peak RSS")
    growth = results["scaling_growth"]
    assert f"**{growth['latency_factor']:.1f}x for {growth['size_factor']:.0f}x chunks**" in row(section, "| retrieval p50, 1k")


def test_remote_embeddings_ratio_matches(results, section):
    ratio = results["remote_embeddings"]["endpoint_ratio_vs_in_process"]
    assert any(f"`input_type`: {ratio:.2f}x the" in line for line in section)


def test_scaling_rows_match(results, section):
    for entry in results["scaling"]:
        line = row(section, f"| {entry['chunks']:,} ({'synthetic' if entry['synthetic'] else 'real'}) | {entry['backend']} |")
        assert f"| {entry['p50_ms']:.1f} | {entry['p95_ms']:.1f} | {entry['search_p50_ms']:.1f} |" in line
        assert f"| {entry['keyword_p50_ms']:.1f} | {entry['keyword_all_terms_p50_ms']:.1f} | {entry['rss_mb']:.0f}" in line
