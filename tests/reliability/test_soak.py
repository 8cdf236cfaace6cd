"""A short run of the multi-process soak (tests/reliability/soak.py; the 5-minute run is by hand)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.reliability.soak import run_soak

pytestmark = pytest.mark.slow


def test_short_soak_ui_and_assistants_asking_while_a_process_adds_and_removes(seeded_dir, tmp_path,
                                                                               subprocess_env):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    stats = run_soak(data_dir, tmp_path, seconds=25, env=subprocess_env(tmp_path / "netguard.log"), readers=2,
                     removals=2)
    assert stats["errors"] == [] and stats["index_problems"] == [], json.dumps(stats)
    # The run really interleaved: files came and went, and answers cited files the writer added.
    assert stats["files_removed"] >= 2 and stats["churn_citations"] >= 1, json.dumps(stats)
    assert all(n >= 2 for n in stats["asks_by_process"].values()), json.dumps(stats)
    assert not (tmp_path / "netguard.log").exists()
