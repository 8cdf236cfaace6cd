"""tests/ci_skips.py: with CI set, a skipped test fails the run and the summary says which and why.

Each case runs pytest for real, in a child process, on a small test folder of its own, with the plugin
loaded the way any pytest plugin can be (``-p tests.ci_skips``); the exit status is what CI sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ci_skips import on_ci

ROOT = Path(__file__).resolve().parents[1]

INI = """\
[pytest]
markers =
    slow: slow
    server: server
    llm: llm
    browser: browser
"""

SKIPPING = '''
import pytest

def test_runs():
    assert True

@pytest.mark.browser
def test_needs_a_browser():
    pytest.skip("/usr/bin/chromium not found")

@pytest.fixture
def server():
    pytest.skip("llama-cpp-python is not importable")

@pytest.mark.llm
@pytest.mark.server
def test_needs_a_server(server):
    pass

def test_unmarked():
    pytest.skip("no reason at all")

@pytest.mark.xfail(strict=True, reason="known wrong")
def test_known_wrong():
    assert False
'''


def _run(tmp_path: Path, files: dict[str, str], ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only pytest itself and the plugin under test: a faster start
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.ci_skips", "-p", "no:cacheprovider",
                           "-q", "-rs", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_skips_fail_the_run_on_ci_and_are_counted_per_marker(tmp_path):
    result = _run(tmp_path, {"test_skipping.py": SKIPPING}, ci="true")
    out = result.stdout
    assert result.returncode == 1, out
    assert "skipped tests fail the run on CI" in out
    assert "per marker: browser 1, llm 1, server 1, unmarked 1" in out
    for line in ["SKIPPED test_skipping.py::test_needs_a_browser [browser]: /usr/bin/chromium not found",
                 "SKIPPED test_skipping.py::test_needs_a_server [llm, server]: llama-cpp-python is not importable",
                 "SKIPPED test_skipping.py::test_unmarked [unmarked]: no reason at all"]:
        assert line in out, out
    assert "test_known_wrong" not in out.split("skipped tests fail the run on CI")[1]  # xfail is no skip
    assert "1 passed, 3 skipped, 1 xfailed" in out


def test_skips_pass_when_not_on_ci(tmp_path):
    result = _run(tmp_path, {"test_skipping.py": SKIPPING}, ci=None)
    assert result.returncode == 0, result.stdout
    assert "skipped tests fail the run on CI" not in result.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in result.stdout


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("0", False), ("false", False),
                                                 ("No", False), ("true", True), ("1", True), ("yes", True)])
def test_what_counts_as_ci(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert on_ci() is expected


def test_a_run_without_skips_passes_on_ci(tmp_path):
    files = {"test_fine.py": "def test_one():\n    assert True\n\n"
                             "import pytest\n\n@pytest.mark.xfail(strict=True, reason='x')\n"
                             "def test_two():\n    assert False\n"}
    result = _run(tmp_path, files, ci="1")
    assert result.returncode == 0, result.stdout
    assert "skipped tests fail the run on CI" not in result.stdout


def test_a_module_skipped_at_collection_fails_on_ci(tmp_path):
    files = {"test_browser.py": 'import pytest\n\nplaywright = pytest.importorskip("no_such_module_xyz")\n\n'
                                "def test_page():\n    pass\n",
             "test_other.py": "def test_other():\n    assert True\n"}
    result = _run(tmp_path, files, ci="true")
    assert result.returncode == 1, result.stdout
    assert "SKIPPED test_browser.py [unmarked]: could not import 'no_such_module_xyz'" in result.stdout


def test_a_failing_run_with_skips_still_fails(tmp_path):
    files = {"test_mixed.py": SKIPPING + "\ndef test_broken():\n    assert False\n"}
    result = _run(tmp_path, files, ci="true")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "per marker:" in result.stdout


def test_the_suite_loads_the_plugin(request):
    assert request.config.pluginmanager.has_plugin("tests.ci_skips")
