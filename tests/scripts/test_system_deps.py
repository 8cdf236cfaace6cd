"""scripts/system-deps.sh: under CI, a Chromium it cannot install stops the build; locally it carries on.

The script runs for real in bash, with a stand-in ``apt-get`` first on PATH (it records its arguments and
fails or "succeeds" without installing anything) and ``CHROMIUM_PATH`` pointing where no browser is, so
the machine's packages are never touched, whether the test runs as root or not.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps.sh"


def _run(tmp_path: Path, *items: str, ci: str | None, apt_status: int = 100, chromium: Path | None = None):
    """``(result, apt-get calls)`` of ``system-deps.sh items`` with a stand-in apt-get exiting ``apt_status``."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "apt-get.calls"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexit {apt_status}\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["CHROMIUM_PATH"] = str(chromium or tmp_path / "no" / "chromium")
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run(["bash", str(SCRIPT), *items], env=env, capture_output=True, text=True, timeout=60)
    return result, calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_ci_fails_when_chromium_cannot_be_installed(tmp_path):
    result, _ = _run(tmp_path, "chromium", ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: cannot install Chromium" in result.stderr and "CI must run the browser tests" in result.stderr


def test_ci_fails_when_the_package_installs_no_browser_where_the_tests_look(tmp_path):
    # apt-get "succeeds" (e.g. a transitional package) but the binary is not at the expected path.
    result, calls = _run(tmp_path, "chromium", ci="true", apt_status=0)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: cannot install Chromium" in result.stderr
    if os.geteuid() == 0:
        assert "install -y -qq chromium" in calls
        assert "does not exist" in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_a_local_run_carries_on_with_a_warning(tmp_path, ci):
    result, _ = _run(tmp_path, "chromium", ci=ci)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: browser tests will be skipped" in result.stdout


def test_a_chromium_already_there_installs_nothing(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n", encoding="utf-8")
    chromium.chmod(0o755)
    result, calls = _run(tmp_path, "chromium", ci="true", chromium=chromium)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"chromium found at {chromium}" in result.stdout and calls == []


def test_unknown_items_are_refused(tmp_path):
    result, calls = _run(tmp_path, "nonsense", ci="true")
    assert result.returncode == 2 and "unknown item 'nonsense'" in result.stderr and calls == []
