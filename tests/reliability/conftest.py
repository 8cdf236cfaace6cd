"""Reliability fixtures: a writable copy of the seeded index, a ``rag`` runner with a private HOME, and a
Chroma server of the test's own (which the test may kill)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import ChromaProcess, Cli


# -- assistants -------------------------------------------------------------------------------------
@pytest.fixture
def seeded_copy(seeded_dir: Path, tmp_path: Path):
    """``(assistant, data_dir)`` over a private copy of the seeded index: tests may change it."""
    from rag import Assistant

    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    assistant = Assistant(data_dir=data_dir)
    yield assistant, data_dir
    assistant.close()


# -- the CLI as a user runs it --------------------------------------------------------------------
@pytest.fixture
def cli_factory(tmp_path: Path, subprocess_env):
    """``cli_factory(data_dir) -> Cli``: working directory and HOME are fresh folders under ``tmp_path``."""

    def make(data_dir: Path) -> Cli:
        home, cwd = tmp_path / "home", tmp_path / "cwd"
        home.mkdir(exist_ok=True)
        cwd.mkdir(exist_ok=True)
        log = tmp_path / "netguard.log"
        return Cli(data_dir, cwd, subprocess_env(log, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache")), log)

    return make


# -- a Chroma server of the test's own -----------------------------------------------------------------
@pytest.fixture
def own_chroma(tmp_path: Path, subprocess_env, free_port) -> Iterator[ChromaProcess]:
    server = ChromaProcess(tmp_path / "chroma_server", free_port(), subprocess_env())
    yield server.start()
    server.kill()
