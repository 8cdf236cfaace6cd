"""Skips that CI notices: with ``CI`` set, a run in which any test was skipped fails.

Locally a missing Chromium or llama.cpp server skips the tests that need it, with the reason. On CI the
test tools are installed by ``make test``, so a skip there means a test that passed without running:
the run's exit status becomes 1 and the summary counts the skips per marker (``browser``, ``llm``,
``server``, ``slow``, or ``unmarked``) and lists each one with its reason.

The rule is every skip, not only the marked ones: CI is the one platform the suite targets, so no skip
is legitimate there (none is platform-conditional today). A module skipped as a whole at collection
(``pytest.importorskip`` at module level) counts as one skip of the module. Expected failures
(``xfail``) are not skips. ``CI`` unset, empty, ``0``, ``false`` or ``no`` means not CI.

Registered by ``tests/conftest.py`` (``pytest_plugins``); a plain pytest plugin, so it can also be
loaded with ``-p tests.ci_skips``.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import pytest

MARKERS = ("browser", "llm", "server", "slow")


@dataclass(frozen=True)
class Skip:
    nodeid: str
    markers: tuple[str, ...]
    reason: str


_skips: list[Skip] = []


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        markers = tuple(m for m in MARKERS if m in report.keywords)
        _skips.append(Skip(report.nodeid, markers, _reason(report)))


def pytest_collectreport(report) -> None:
    if report.skipped:
        _skips.append(Skip(report.nodeid, (), _reason(report)))


def pytest_sessionfinish(session, exitstatus) -> None:
    if on_ci() and _skips and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if not (on_ci() and _skips):
        return
    counts = Counter(marker for skip in _skips for marker in (skip.markers or ("unmarked",)))
    tr = terminalreporter
    tr.section("skipped tests fail the run on CI", sep="=", red=True, bold=True)
    tr.line("per marker: " + ", ".join(f"{marker} {n}" for marker, n in sorted(counts.items())))
    for skip in _skips:
        tr.line(f"SKIPPED {skip.nodeid} [{', '.join(skip.markers) or 'unmarked'}]: {skip.reason}")
    tr.line("CI installs every test tool (make test): a skip here is a test that did not run.")
