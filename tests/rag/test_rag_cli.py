"""The ``rag`` command, run as a user runs it: a subprocess, offline (network guard on PYTHONPATH, no OPENAI_*).

Every run is checked for blocked connection attempts, so these tests also prove ``rag index`` and
``rag ask`` never reach for the internet.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
RAG = Path(sys.executable).parent / "rag"
META = "002_260f1e49892e43cf.txt"


class Cli:
    """Runs ``rag --data-dir DIR ...`` from the project root with a guarded environment."""

    def __init__(self, data_dir: Path, env: dict[str, str], log: Path):
        self.data_dir, self.env, self.log = data_dir, env, log

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run([str(RAG), "--data-dir", str(self.data_dir), *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        assert not self.log.exists(), f"`rag {' '.join(args)}` tried to reach the network:\n{self.log.read_text()}"
        assert "Traceback" not in result.stderr, result.stderr
        return result


@pytest.fixture(scope="module")
def cli(tmp_path_factory, subprocess_env) -> Cli:
    folder = tmp_path_factory.mktemp("cli")
    log = folder / "netguard.log"
    return Cli(folder / "data", subprocess_env(log), log)


@pytest.fixture(scope="module")
def first_index(cli) -> subprocess.CompletedProcess:
    return cli("index", "seeds/")


def test_the_guard_is_active_in_subprocesses(cli, subprocess_env, tmp_path):
    log = tmp_path / "blocked.log"
    probe = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"  # TEST-NET-1, never routed
    result = subprocess.run([sys.executable, "-c", probe], env=subprocess_env(log), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "network guard" in result.stderr
    assert "192.0.2.1" in log.read_text()


def test_the_guard_is_active_in_this_process(netguard):
    with pytest.raises(ConnectionRefusedError, match="network guard"):
        socket.create_connection(("192.0.2.1", 80), timeout=2)
    assert "192.0.2.1" in netguard.attempts.pop()  # acknowledged: this attempt was the test
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        socket.create_connection(server.getsockname(), timeout=2).close()  # loopback stays allowed


def test_index_then_index_again(cli, first_index):
    assert first_index.returncode == 0, first_index.stderr
    assert first_index.stdout.startswith("5 added, 0 updated, 0 unchanged (")
    again = cli("index", "seeds/")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0 added, 0 updated, 5 unchanged (0 chunks embedded)"


def test_ask_json(cli, first_index):
    result = cli("ask", "Who led the Meta delegation?", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and "Rafael Frankel" in answer["text"]
    assert any(c["source"] == META and "Rafael Frankel" in c["quote"] for c in answer["citations"])
    for c in answer["citations"]:
        assert (SEEDS / c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["text"]


def test_ask_prints_the_answer_and_its_sources(cli, first_index):
    result = cli("ask", "Combien d'internautes compte le Cambodge ?")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "12 millions" in lines[0] or "12 triệu" in lines[0]
    assert any(line.strip().startswith("[1] ") and ".txt (" in line for line in lines[1:])


def test_an_abstention_prints_the_closest_passages(cli, first_index):
    question = "What is the boiling point of mercury at sea level?"
    result = cli("ask", question)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "The documents don't say."
    label = lines.index("Closest passages — none of them states the answer:")
    shown = [line for line in lines[label + 1 :] if line.startswith("  ")]
    assert shown and all(line.startswith(f"  {n}. ") and ".txt (" in line for n, line in enumerate(shown, 1))
    assert not any(line.strip().startswith("[") for line in lines)
    answer = json.loads(cli("ask", question, "--json").stdout)
    assert answer["abstained"] and answer["citations"] == [] and "[" not in answer["text"]
    for c in answer["closest"]:
        assert (SEEDS / c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]


def test_docs_and_status(cli, first_index):
    docs = cli("docs")
    assert docs.returncode == 0
    assert [line.split("\t")[0] for line in docs.stdout.splitlines()] == sorted(p.name for p in SEEDS.iterdir())
    status = cli("status")
    assert "mode: offline extractive" in status.stdout and "documents: 5" in status.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("index", "/nonexistent/folder"), "/nonexistent/folder"),
        (("ask", ""), "empty"),
    ],
    ids=["missing-path", "empty-question"],
)
def test_user_errors_exit_2_with_one_line(cli, first_index, args, needle):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr


def test_no_command_prints_help(cli):
    result = cli()
    assert result.returncode == 2 and "usage: rag" in result.stdout


def test_remove_then_index_again(cli, first_index):
    # Last in this module: it changes the shared index.
    missing = cli("remove", "nope.txt")
    assert missing.returncode == 1 and "nope.txt" in missing.stderr
    removed = cli("remove", META)
    assert removed.returncode == 0 and META in removed.stdout
    again = cli("index", "seeds/")
    assert again.stdout.startswith("1 added, 0 updated, 4 unchanged (")
