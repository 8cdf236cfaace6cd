"""``python -m evals`` refuses what it cannot run, with a message instead of a traceback."""

from __future__ import annotations

import pytest

from evals.cli import main


def test_unknown_mode_is_refused(capsys):
    assert main(["--modes", "hybrid,fuzzy"]) == 2
    assert "unknown mode(s) fuzzy" in capsys.readouterr().err


def test_llm_without_an_endpoint_is_refused(capsys, monkeypatch):
    for name in ("RAG_LLM_BASE_URL", "OPENAI_BASE_URL", "RAG_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--llm"]) == 2
    assert "--llm needs an LLM endpoint" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for option in ("--dataset", "--llm", "--top-k", "--modes", "--data-dir", "--limit", "--out", "--gate"):
        assert option in out


@pytest.mark.parametrize("argv, problem", [
    (["--modes", "dense,keyword"], "mode hybrid was not run"),
    (["--top-k", "9"], "top_k is 9, the baseline's is 5"),
    (["--retrieval-only"], "retrieval only"),
])
def test_gate_refuses_a_configuration_the_baseline_cannot_judge_before_running(argv, problem, capsys):
    assert main(["--gate", *argv]) == 2
    err = capsys.readouterr().err
    assert "cannot be compared with the baseline" in err and problem in err


def test_index_fingerprint_follows_embedding_settings():
    from evals.cli import index_fingerprint
    from rag.settings import Settings

    assert index_fingerprint(Settings()) == index_fingerprint(Settings(top_k=9))
    assert index_fingerprint(Settings()) != index_fingerprint(Settings(chunk_chars=800))
    assert index_fingerprint(Settings()) != index_fingerprint(Settings(embed_backend="openai", embed_base_url="http://x"))
