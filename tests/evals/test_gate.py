"""The CI gate: bounds from baseline.json hold today, and a broken retriever makes the gate fail."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals import gate
from evals.runner import EvalError


class RandomEmbedder:
    """Implements ``index.embedding.Embedder`` with random unit vectors: retrieval without meaning."""

    def __init__(self, dim: int = 384, seed: int = 0):
        self.dim = dim
        self.name = "random-unit-vectors"
        self._rng = np.random.default_rng(seed)

    def _random(self, n: int) -> np.ndarray:
        vectors = self._rng.standard_normal((n, self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._random(len(texts))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._random(len(texts))


def _payload(mode: str = "hybrid", top_k: int = 5, llm: bool = False, **metrics) -> dict:
    return {"run_id": "test", "config": {"modes": [mode], "top_k": top_k, "llm": llm, "retrieval_only": False},
            "metrics": {mode: {"all": metrics}}}


BASELINE = {"datasets": {"seeds": {
    "config": {"mode": "hybrid", "top_k": 5, "llm": False},
    "floors": {"all": {"accuracy": 0.8, "hit@5": 0.9}},
    "ceilings": {"all": {"false_abstentions": 2}},
}}}


def test_check_passes_at_the_bounds():
    failures, lines = gate.check({"seeds": _payload(accuracy=0.8, **{"hit@5": 0.95}, false_abstentions=2)}, BASELINE)
    assert failures == []
    assert len(lines) == 3


def test_check_names_every_metric_out_of_bounds():
    failures, _ = gate.check({"seeds": _payload(accuracy=0.79, **{"hit@5": 0.95}, false_abstentions=3)}, BASELINE)
    assert len(failures) == 2
    assert "seeds hybrid all accuracy = 0.790, floor 0.8" in failures[0]
    assert "false_abstentions = 3, ceiling 2" in failures[1]


def test_a_metric_missing_from_the_run_fails():
    failures, _ = gate.check({"seeds": _payload(accuracy=0.9, false_abstentions=0)}, BASELINE)
    assert failures == ["FAIL seeds hybrid all hit@5: not measured in this run (floor 0.9)"]


@pytest.mark.parametrize("config", [{"mode": "dense"}, {"top_k": 10}, {"llm": True}])
def test_a_run_in_another_configuration_is_an_error_not_a_pass(config):
    with pytest.raises(EvalError, match="cannot be compared"):
        gate.check({"seeds": _payload(**config, accuracy=1.0, **{"hit@5": 1.0}, false_abstentions=0)}, BASELINE)


def test_update_sets_floors_margin_below_measured(tmp_path):
    path = tmp_path / "baseline.json"
    metrics = {"hit@1": 0.5, "hit@5": 0.9, "mrr": 0.7, "accuracy": 0.02, "citation_precision": 1.0,
               "citation_recall": 1.0, "abstention_precision": 0.5, "abstention_recall": None, "false_abstentions": 4}
    written = gate.update({"seeds": _payload(**metrics)}, path, margin=0.03)
    assert json.loads(path.read_text()) == written
    entry = written["datasets"]["seeds"]
    assert entry["floors"]["all"]["hit@5"] == 0.87
    assert entry["floors"]["all"]["accuracy"] == 0.0
    assert "abstention_recall" not in entry["floors"]["all"]
    assert entry["ceilings"]["all"] == {"false_abstentions": 5}
    assert gate.check({"seeds": _payload(**metrics)}, written)[0] == []


def test_committed_baseline_gates_seeds_in_offline_hybrid_mode():
    baseline = gate.load()
    entry = baseline["datasets"]["seeds"]
    assert entry["config"] == {"mode": "hybrid", "top_k": 5, "llm": False}
    assert {"accuracy", "citation_precision", "hit@5", "abstention_recall"} <= set(entry["floors"]["all"])
    for group, floors in entry["floors"].items():
        for key, floor in floors.items():
            assert floor == pytest.approx(max(0.0, entry["measured"][group][key] - baseline["margin"]), abs=1e-3)


@pytest.mark.slow
def test_gate_passes_on_the_real_pipeline(seeds_eval):
    assert seeds_eval.code == 0, seeds_eval.stdout + seeds_eval.stderr
    assert "gate passed" in seeds_eval.stdout
    assert "ok   seeds hybrid all accuracy" in seeds_eval.stdout


@pytest.mark.slow
def test_gate_fails_when_retrieval_is_broken(run_evals, tmp_path, monkeypatch):
    # The Assistant builds its embedder through this name; every vector it stores or queries is now noise.
    monkeypatch.setattr("rag.assistant.make_embedder", lambda settings: RandomEmbedder())
    broken = run_evals(["--dataset", "seeds", "--modes", "hybrid", "--no-llm", "--data-dir", str(tmp_path / "data"),
                        "--gate"], tmp_path / "reports")
    assert broken.code == 1, broken.stdout + broken.stderr
    assert "gate FAILED" in broken.stdout
    assert "FAIL seeds hybrid all accuracy" in broken.stdout
    assert broken.payload()["config"]["embedder"] == "random-unit-vectors"
