"""rag/settings.py: one settings object in sections, the environment's names, and the README's table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from index.settings import IndexSettings
from rag.settings import AnswerSettings, LLMSettings, RetrievalSettings, Settings, UISettings

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (IndexSettings, RetrievalSettings, AnswerSettings, LLMSettings, UISettings)


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
