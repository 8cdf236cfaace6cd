"""rag/settings.py: one settings object in sections, the environment's names, and the README's table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from index.settings import IndexSettings
from rag.extractive import ExtractiveAnswerer
from rag.settings import AnswerSettings, LLMSettings, RetrievalSettings, Settings, UISettings, VerificationSettings
from rag.values import Evidence, Passage

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (IndexSettings, RetrievalSettings, AnswerSettings, VerificationSettings, LLMSettings, UISettings)


def test_every_setting_belongs_to_exactly_one_section():
    names = [name for section in SECTIONS for name in section.model_fields]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(Settings.model_fields)


def test_the_environment_and_keywords_set_them(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("RAG_EVIDENCE_PASSAGES", "2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = Settings(data_dir=tmp_path, history_turns=1)
    assert (settings.top_k, settings.evidence_passages, settings.history_turns) == (7, 2, 1)
    assert settings.llm_enabled and settings.catalog_path == tmp_path / "catalog.sqlite3"


def test_every_setting_says_what_it_does():
    assert [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()] == []


def test_the_old_keyword_weight_variable_still_sets_the_evidence_weight_unless_that_is_set(monkeypatch):
    monkeypatch.setenv("RAG_KEYWORD_WEIGHT", "0.1")
    assert (Settings().keyword_weight, Settings().evidence_keyword_weight) == (0.1, 0.1)
    assert Settings(evidence_keyword_weight=0.03).evidence_keyword_weight == 0.03
    monkeypatch.setenv("RAG_EVIDENCE_KEYWORD_WEIGHT", "0.02")
    assert (Settings().keyword_weight, Settings().evidence_keyword_weight) == (0.1, 0.02)


def _answer_from(score: float):
    """The extractive answer stage, built from the environment's settings, on one Vietnamese sentence."""
    text = "Phái đoàn Meta do ông Rafael Frankel dẫn đầu."
    passage = Passage(chunk_id="meta.txt::0", source="meta.txt", start=0, end=len(text), text=text, language="vi",
                      score=score)
    evidence = [Evidence(0, "meta.txt", 0, len(text), text, cosine=score, coverage=0.0, score=score)]
    return ExtractiveAnswerer(Settings()).run("Ai dẫn đầu phái đoàn Meta?", "vi", evidence, [passage], {})


def test_a_fitted_threshold_set_in_the_environment_flips_an_answer_to_an_abstention(monkeypatch):
    assert not _answer_from(0.93).abstained  # above today's 0.8925
    monkeypatch.setenv("RAG_MIN_SCORE_SAME_LANGUAGE", "0.95")
    assert _answer_from(0.93).abstained
    assert _answer_from(0.96).claims[0].citations == (1,)


def test_the_readme_table_lists_each_setting_once_in_its_section_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):readme.index("## Layout")]
    section_rows = re.split(r"^\| \*\*", table, flags=re.M)[1:]
    assert len(section_rows) == len(SECTIONS)
    for rows, section in zip(section_rows, SECTIONS):
        listed = dict(re.findall(r"^\| `RAG_([A-Z_]+)[^`]*` \| `([^`]*)` \|", rows, flags=re.M))
        expected = {name.upper(): "unset" if field.default is None else str(field.default)
                    for name, field in section.model_fields.items()}
        assert listed == expected, section.__name__


def test_the_write_path_imports_nothing_of_the_read_path():
    code = ("import sys, index.ingest, index.store, index.embedding, index.settings; "
            "print(sorted(m for m in sys.modules if m == 'rag' or m.startswith(('rag.', 'ui'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
