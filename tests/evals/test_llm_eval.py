"""``python -m evals --llm`` against a real local OpenAI-compatible server (llama.cpp + SmolLM2-135M).

The 135M model answers poorly, so this pins the plumbing, not the scores: the eval runs in LLM mode,
records it, and the gate refuses to judge an LLM run against the offline baseline.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.server]


def test_llm_run_is_recorded_and_not_judged_by_the_offline_baseline(run_evals, seeds_eval, llm_server, tmp_path,
                                                                     monkeypatch):
    for name, value in {"RAG_LLM_BASE_URL": llm_server, "RAG_LLM_MODEL": "local-test", "RAG_LLM_TIMEOUT": "180",
                        "RAG_LLM_MAX_TOKENS": "60"}.items():
        monkeypatch.setenv(name, value)
    # The seeds index of the offline run is reused: nothing is embedded again.
    argv = ["--dataset", "seeds", "--llm", "--limit", "3", "--modes", "hybrid", "--top-k", "2",
            "--data-dir", str(seeds_eval.data_dir)]
    run = run_evals(argv, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    payload = run.payload()
    assert payload["config"]["llm"] is True
    assert "local-test" in payload["config"]["answerer"]
    assert "0 added" in payload["config"]["ingest"]
    assert sum(payload["config"]["answer_modes"].values()) == 3
    assert set(payload["config"]["answer_modes"]) <= {"llm", "extractive (fallback)"}
    assert all(c["abstained"] is not None for c in payload["cases"])

    refused = run_evals([*argv, "--gate"], tmp_path / "gated")
    assert refused.code == 2
    assert "the LLM is on, in the baseline it is off" in refused.stderr
