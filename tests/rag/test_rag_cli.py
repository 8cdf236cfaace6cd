"""The ``rag`` command, run as a user runs it: a subprocess, offline (network guard on PYTHONPATH, no OPENAI_*).

Every run is checked for blocked connection attempts, so these tests also prove ``rag index`` and
``rag ask`` never reach for the internet.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ctrl_c import takes_ctrl_c

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
    # The bar counts chunks embedded (the slow part), files read follow it.
    chunks = int(first_index.stdout.split("(")[1].split()[0])
    assert first_index.stderr.lstrip().startswith("embedding:") and f"| {chunks}/{chunks} [" in first_index.stderr
    assert "chunk/s" in first_index.stderr or "s/chunk" in first_index.stderr
    assert "5/5 files" in first_index.stderr and "file/s" not in first_index.stderr
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


def test_ask_of_chosen_documents(cli, first_index):
    cambodia_vi, cambodia_fr = "000_514266f0979d6470.txt", "001_2b62d3c3698cbca6.txt"
    result = cli("ask", "Combien d'internautes compte le Cambodge ?", "--source", cambodia_fr, "--source",
                 f"seeds/{cambodia_vi}", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and {c["source"] for c in answer["citations"]} <= {cambodia_vi, cambodia_fr}
    answer = json.loads(cli("ask", "Who led the Meta delegation?", "--source", cambodia_fr, "--json").stdout)
    assert answer["abstained"] and "Rafael Frankel" not in answer["text"]
    assert {c["source"] for c in answer["closest"]} == {cambodia_fr}


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
        (("ask", "Who led the Meta delegation?", "--source", "nope.txt"), "nope.txt: no indexed document"),
    ],
    ids=["missing-path", "empty-question", "unknown-source"],
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
    assert missing.returncode == 2 and missing.stderr.startswith("error: nope.txt: not indexed")
    removed = cli("remove", META)
    assert removed.returncode == 0 and META in removed.stdout
    again = cli("index", "seeds/")
    assert again.stdout.startswith("1 added, 0 updated, 4 unchanged (")


# -- global options anywhere; one exit-status table for every command -----------------------------------
@pytest.mark.parametrize("argv", [["index", "x.txt"], ["ask", "q"], ["chat"], ["docs"], ["remove", "x.txt"], ["status"]],
                         ids=lambda argv: argv[0])
def test_data_dir_is_accepted_before_or_after_the_command(argv):
    from rag.cli import _parser

    before = _parser().parse_args(["--data-dir", "D", *argv])
    after = _parser().parse_args([*argv, "--data-dir", "D"])
    assert vars(before) == vars(after) and after.data_dir == "D"
    assert _parser().parse_args(argv).data_dir is None


def _rag(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(RAG), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_data_dir_after_the_command_indexes_there(tmp_path, subprocess_env):
    note = tmp_path / "okapi.txt"
    note.write_text("The okapi lives in the Ituri rainforest of Congo.\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    indexed = _rag("index", str(note), "--data-dir", str(data_dir), env=subprocess_env())
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith("1 added, 0 updated, 0 unchanged (")
    listed = _rag("docs", "--data-dir", str(data_dir), env=subprocess_env())
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["okapi.txt"]


def test_two_files_of_one_name_are_listed_asked_and_removed_apart(tmp_path, subprocess_env):
    for team, lead in (("teamA", "Minh Nguyen"), ("teamB", "Lan Tran")):
        (tmp_path / team).mkdir()
        (tmp_path / team / "notes.md").write_text(f"The team lead of {team} is {lead}.\n", encoding="utf-8")
    data = ("--data-dir", str(tmp_path / "data"))
    assert _rag(*data, "index", str(tmp_path / "teamA"), str(tmp_path / "teamB"), env=subprocess_env()).stdout \
        .startswith("2 added, 0 updated, 0 unchanged (")
    listed = _rag(*data, "docs", env=subprocess_env())
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["teamA/notes.md", "teamB/notes.md"]
    asked = _rag(*data, "ask", "Who is the team lead of teamB?", env=subprocess_env())
    assert "Lan Tran" in asked.stdout and "[1] teamB/notes.md (" in asked.stdout, asked.stdout
    ambiguous = _rag(*data, "remove", "notes.md", env=subprocess_env())
    assert ambiguous.returncode == 2 and ambiguous.stderr.strip().splitlines() == [
        "error: notes.md: 2 indexed documents have this name (teamA/notes.md, teamB/notes.md); give one of these "
        "names, or the path the file was indexed from"]
    removed = _rag(*data, "remove", str(tmp_path / "teamA" / "notes.md"), env=subprocess_env())
    assert removed.returncode == 0, removed.stderr
    listed = _rag(*data, "docs", env=subprocess_env())
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["notes.md"]


def test_docs_counts_in_the_singular_and_ends_a_shortened_title_with_an_ellipsis(tmp_path, subprocess_env):
    title = "A report on the okapi populations of the Ituri rainforest in the north-east of Congo"
    note = tmp_path / "okapi.md"
    note.write_text(f"# {title}\n\nThe okapi lives in the Ituri rainforest.\n", encoding="utf-8")
    data = ("--data-dir", str(tmp_path / "data"))
    assert _rag(*data, "index", str(note), env=subprocess_env()).returncode == 0
    (line,) = _rag(*data, "docs", env=subprocess_env()).stdout.splitlines()
    name, _language, chunks, _date, shown = line.split("\t")
    assert (name, chunks) == ("okapi.md", "1 chunk")
    assert shown.endswith("…") and len(shown) <= 60 and title.startswith(shown[:-1]) and shown[-2] != " "


def test_a_closed_stdout_ends_quietly(cli, first_index):
    """`rag ask ... | head -2`: the reader is gone before the answer is written; no traceback, 0 or 141."""
    read, write = os.pipe()
    with open(cli.log.parent / "stderr.txt", "w+") as stderr:
        proc = subprocess.Popen([str(RAG), "--data-dir", str(cli.data_dir), "ask", "Who led the Meta delegation?"],
                                cwd=ROOT, env=cli.env, stdout=write, stderr=stderr, stdin=subprocess.DEVNULL)
        os.close(write)
        os.close(read)
        assert proc.wait(timeout=600) in (0, 141)
        stderr.seek(0)
        assert stderr.read() == ""


def test_some_files_failed_exits_1_and_names_each_file_once(tmp_path, subprocess_env):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "okapi.txt").write_text("The okapi lives in the Ituri rainforest of Congo.\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    result = _rag("--data-dir", str(tmp_path / "data"), "index", str(folder), env=subprocess_env())
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == "1 added, 0 updated, 0 unchanged, 1 skipped (1 chunk embedded)"
    skipped = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert skipped == ["  skipped empty.txt: the file is empty; add text to it, or leave it out"]


@pytest.mark.parametrize("args", [("index",), ("frobnicate",), ("ask", "q", "--top-k", "many")],
                         ids=["missing-argument", "unknown-command", "bad-option"])
def test_usage_errors_exit_2(args, tmp_path, subprocess_env):
    result = _rag("--data-dir", str(tmp_path / "data"), *args, env=subprocess_env())
    assert result.returncode == 2 and "usage: rag" in result.stderr and "Traceback" not in result.stderr


def test_an_unusable_setting_exits_2_with_one_line(tmp_path, subprocess_env):
    result = _rag("--data-dir", str(tmp_path / "data"), "status", env=subprocess_env(RAG_TOP_K="many"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: invalid setting: RAG_TOP_K: ") and len(result.stderr.splitlines()) == 1


def test_ctrl_c_exits_130(tmp_path, subprocess_env):
    folder = tmp_path / "docs"
    folder.mkdir()
    sentence = "The okapi {} lives in the Ituri rainforest and eats the leaves of {} different plants. "
    for i in range(4):
        (folder / f"okapi{i}.txt").write_text("".join(sentence.format(i, n) for n in range(120)), encoding="utf-8")
    err = tmp_path / "stderr.log"
    with err.open("w") as stderr:
        proc = subprocess.Popen([str(RAG), "--data-dir", str(tmp_path / "data"), "index", str(folder)], cwd=ROOT,
                                env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL,
                                preexec_fn=takes_ctrl_c)
    deadline = time.monotonic() + 300
    while "embedding" not in err.read_text() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130, err.read_text()
    assert err.read_text().rstrip().endswith("interrupted") and "Traceback" not in err.read_text()


def test_a_bug_prints_its_traceback_and_exits_3(capsys):
    from rag.cli import run_command

    assert run_command(lambda: {}["missing"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and err.rstrip().endswith("please report it with the traceback above")


def test_a_data_dir_that_cannot_be_created_exits_2_with_one_line(tmp_path, subprocess_env):
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    result = _rag("--data-dir", str(tmp_path / "file" / "data"), "status", env=subprocess_env())
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {tmp_path / 'file'}") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", [["-m", "evals"], ["-m", "ui"]])
def test_evals_and_ui_share_the_exit_statuses(command, subprocess_env):
    usage = subprocess.run([sys.executable, *command, "--no-such-option"], cwd=ROOT, env=subprocess_env(),
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    bad = ["--modes", "fuzzy"] if command[-1] == "evals" else ["--host", "0.0.0.0"]
    refused = subprocess.run([sys.executable, *command, *bad], cwd=ROOT, env=subprocess_env(), capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
