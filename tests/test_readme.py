"""Every code block of README.md runs as written, and what it shows as output is what it prints.

Blocks are read from the README at test time, so a block added later is run too. By language:

- ``console``: ``$ command`` lines run in bash; the lines after one are its output, where ``...`` stands
  for any text (several lines included).
- ``bash``: the block runs as one bash script (``export`` carries over), each line checked on its own: it must
  exit 0, and a trailing ``# -> TEXT`` comment means TEXT is in what that line printed.
- ``python``: the block is executed; each ``# -> TEXT`` comment's TEXT must be in what it printed, in order.
- ``text`` (or a data format: ``json``, ``toml``, ``yaml``): a diagram or listing, not run. A block without a
  language fails: say what it is.

A block that cannot run here (it serves until stopped, or needs a machine we do not have) is preceded by
``<!-- readme-test: skip: REASON -->``; that set is pinned below, so it only grows on purpose.

Everything runs in a scratch folder holding a copy of ``seeds/`` plus the ``my_notes.md`` and ``report.pdf``
the examples name, offline (network guard), with no RAG_* / OPENAI_* settings from the machine. ``.rag``
starts as a copy of the seeded index, as ``make run`` leaves it; the Python example's ``some/dir`` starts
empty and really embeds the seeds.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pdf import make_pdf

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->")
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
SHOWN = re.compile(r"\s#\s->\s(.+?)\s*$")
UI_PORT = 7860  # the address the README's API example calls
LISTINGS = ("text", "json", "toml", "yaml")
# The blocks that may not run, by their first line; adding one is a decision, not a side effect.
MAY_SKIP = {
    "make run    # creates .venv, installs the pinned dependencies, indexes seeds/ and opens the chat on http://127.0.0.1:7860",
    "make run        # = python -m ui --index seeds/  -> http://127.0.0.1:7860 (another port: make run PORT=7861)",
    "chroma run --path /srv/chroma --host 127.0.0.1 --port 8000      # the Chroma server (installed with the project)",
}


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    skip: str | None

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language or 'none'}"


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        blocks.append(Block(match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1,
                            skip.group(1) if skip else None))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_blocks_and_few_of_them_are_skipped():
    assert len(BLOCKS) >= 8
    skipped = {b.code.splitlines()[0] for b in BLOCKS if b.skip}
    assert skipped <= MAY_SKIP, f"new skipped blocks: {skipped - MAY_SKIP}"


@pytest.fixture(scope="module")
def workdir(seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder: the seeds, a note and a PDF, and the seeded index where the examples look for one."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "seeds", work / "seeds")
    (work / "my_notes.md").write_text("# Notes\n\nThe okapi lives in the Ituri rainforest of Congo.\n", encoding="utf-8")
    (work / "report.pdf").write_bytes(make_pdf(["Quarterly report.", "The okapi count rose to 40 this quarter."]))
    shutil.copytree(seeded_dir, work / ".rag")  # what `make run` leaves behind
    (work / "home").mkdir()
    return work


@pytest.fixture(scope="module")
def shell_env(workdir: Path, subprocess_env) -> dict[str, str]:
    env = subprocess_env(HOME=str(workdir / "home"))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # The checkout's packages, wherever the shell runs (the README's commands use the installed ones).
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(ROOT)])
    return env


# Blocks marked not runnable are left out here rather than skipped (CI fails on any skip); the test above
# pins which they are.
RUNNABLE = [b for b in BLOCKS if not b.skip]


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_readme_block(block: Block, workdir: Path, shell_env: dict[str, str], seeded_dir: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    if block.language in LISTINGS:
        return
    if block.language == "console":
        run_console(block, workdir, shell_env)
    elif block.language in ("bash", "sh", "shell"):
        run_bash(block, workdir, shell_env, tmp_path)
    elif block.language == "python":
        run_python(block, workdir, seeded_dir, tmp_path, monkeypatch, capsys)
    else:
        pytest.fail(f"README line {block.line}: a block needs a language this test knows "
                    f"(console, bash, python, or {', '.join(LISTINGS)} for a listing), not {block.language!r}")


def run_console(block: Block, workdir: Path, env: dict[str, str]) -> None:
    sessions: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        else:
            assert sessions, f"README line {block.line}: output before any `$ command`"
            sessions[-1][1].append(line)
    for command, shown in sessions:
        result = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                                timeout=600, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, (command, result.stderr)
        pattern = ".*?".join(re.escape(part) for part in "\n".join(shown).split("..."))
        assert re.fullmatch(pattern, result.stdout.rstrip("\n"), re.S), \
            f"README line {block.line}: `{command}` printed\n{result.stdout}\nbut the README shows\n" + "\n".join(shown)


def run_bash(block: Block, workdir: Path, env: dict[str, str], tmp_path: Path) -> None:
    lines = [line for line in block.code.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    script = []
    for i, line in enumerate(lines):
        out = tmp_path / f"out{i}"
        script.append(f"{{ {line}\n}} > {out} 2>&1; echo $? > {out}.rc")
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, env=env, capture_output=True, text=True,
                            timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    for i, line in enumerate(lines):
        printed = (tmp_path / f"out{i}").read_text()
        assert (tmp_path / f"out{i}.rc").read_text().strip() == "0", f"README line {block.line}: `{line}`\n{printed}"
        shown = SHOWN.search(line)
        if shown:
            assert shown.group(1) in printed, f"README: `{line}` printed\n{printed}"


def run_python(block: Block, workdir: Path, seeded_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(workdir)
    with contextlib.ExitStack() as stack:
        if f"http://127.0.0.1:{UI_PORT}" in block.code:
            stack.enter_context(_chat_ui(seeded_dir, tmp_path))
        capsys.readouterr()
        exec(compile(block.code, f"README.md:{block.line}", "exec"), {"__name__": "__readme__"})  # noqa: S102
        printed = capsys.readouterr().out
    position = 0
    for line in block.code.splitlines():
        shown = SHOWN.search(line)
        if shown:
            found = printed.find(shown.group(1), position)
            assert found >= 0, f"README line {block.line}: `{line.strip()}` should print {shown.group(1)!r}:\n{printed}"
            position = found + len(shown.group(1))


@contextlib.contextmanager
def _chat_ui(seeded_dir: Path, tmp_path: Path):
    """The chat UI on the README's address (port 7860) over a copy of the seeded index."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", UI_PORT)) == 0:
            pytest.skip(f"port {UI_PORT} is taken on this machine: the README's API example calls that address")
    from rag import Assistant
    from ui.app import build_app, launch

    shutil.copytree(seeded_dir, tmp_path / "ui-data")
    assistant = Assistant(data_dir=tmp_path / "ui-data")
    demo = build_app(assistant)
    launch(demo, host="127.0.0.1", port=UI_PORT, block=False)
    try:
        yield
    finally:
        demo.close()
        assistant.close()
