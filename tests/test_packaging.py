"""``pyproject.toml`` builds without setuptools warnings (the licence is an SPDX string with its file)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_the_wheel_builds_without_warnings_and_carries_the_licence(tmp_path):
    if tuple(int(x) for x in version("setuptools").split(".")[:2]) < (77, 0):
        pytest.skip(f"setuptools {version('setuptools')} is older than the build-system's floor (77.0.3)")
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".rag", "test-output", "__pycache__",
                                                                "*.egg-info", "build", "tests", "benchmarks"))
    # No build isolation: the installed setuptools builds it, so the test needs no package index.
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                             "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(source)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "warning" not in output.lower(), output
    wheel, = (tmp_path / "dist").glob("rag_assistant-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    assert "License-Expression: MIT" in metadata.splitlines()
