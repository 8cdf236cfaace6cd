"""Several processes on one data directory: the UI and a Python ``Assistant`` keep answering (and see the
new document) while ``rag index`` adds one; two ``rag index`` runs at once leave both folders indexed
exactly once. (A writer killed with SIGKILL is in test_faults.py; the soak in soak.py.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from rag.settings import Settings
from tests.reliability.harness import META, META_QUESTION, SEEDS, index_problems
from tests.reliability.processes import AskerProcess, UiProcess, citation_errors
from tests.reliability.test_faults import write_documents
from tests.reliability.workers import churn_text

pytestmark = pytest.mark.slow

NEW = "station_notes.txt"
NEW_QUESTION = "When was the Varga-7 research station founded?"


def test_ui_and_assistant_answer_about_a_document_another_process_indexed(seeded_dir, tmp_path, cli_factory,
                                                                           subprocess_env, free_port):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    env = subprocess_env(tmp_path / "netguard.log")
    ui = UiProcess(data_dir, free_port(), env, tmp_path / "ui.log")
    asker = AskerProcess(data_dir, env, tmp_path / "asker.log")
    try:
        # Both readers have the index open, and have loaded Chroma's index into memory, before the write.
        for reader in (ui.chat, asker.ask):
            record = reader(META_QUESTION)
            assert citation_errors(record, texts) == [] and record["citations"][0]["source"] == META, record

        (tmp_path / NEW).write_text(churn_text(7), encoding="utf-8")
        texts[NEW] = churn_text(7)
        result = cli_factory(data_dir)("index", str(tmp_path / NEW))
        assert result.returncode == 0 and result.stdout.startswith("1 added"), result.stdout + result.stderr

        for reader in (ui.chat, asker.ask):
            new, old = reader(NEW_QUESTION), reader(META_QUESTION)
            assert citation_errors(new, texts) == [] and citation_errors(old, texts) == [], (new, old)
            assert new["citations"] and new["citations"][0]["source"] == NEW, new
            assert "1807" in new["text"], new
            assert old["citations"] and old["citations"][0]["source"] == META, old
        assert ui.proc.poll() is None and asker.proc.poll() is None
    finally:
        ui.stop()
        asker.stop()
    assert not (tmp_path / "netguard.log").exists()


def test_two_rag_index_runs_at_once_index_both_folders_exactly_once(tmp_path, cli_factory):
    first = write_documents(tmp_path / "first", 8)
    second = [f"b_{name}" for name in write_documents(tmp_path / "second_src", 8)]
    (tmp_path / "second").mkdir()
    for name in second:
        shutil.move(tmp_path / "second_src" / name.removeprefix("b_"), tmp_path / "second" / name)
    data_dir = tmp_path / "data"
    cli = cli_factory(data_dir)
    cli.env.update(RAG_CHUNK_CHARS="100", RAG_EMBED_BATCH="2")  # many small writes: the runs overlap
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    procs = [cli.popen("index", str(tmp_path / folder), out=log) for folder, log in zip(("first", "second"), logs)]
    for proc in procs:
        assert proc.wait(timeout=900) == 0, [log.read_text() for log in logs]
    outputs = [log.read_text() for log in logs]
    for output, names in zip(outputs, (first, second)):
        assert f"{len(names)} added, 0 updated, 0 unchanged" in output, output
        assert "Traceback" not in output, output
    # One ran first; the other said it waited for it, by pid.
    waited = [re.findall(r"waiting for another indexing process \(pid (\d+)\)", output) for output in outputs]
    assert sorted(map(len, waited)) == [0, 1], outputs
    waiter = 0 if waited[0] else 1
    assert int(waited[waiter][0]) == procs[1 - waiter].pid

    docs = cli("docs", "--json")
    assert docs.returncode == 0
    assert sorted(d["source"] for d in json.loads(docs.stdout)) == sorted(first + second)
    assert index_problems(Settings(data_dir=data_dir, chunk_chars=100)) == []


def test_a_second_writer_waits_while_the_first_holds_the_lock(tmp_path, cli_factory):
    """``rag index`` says whom it waits for, and writes nothing until the holder lets go."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cli = cli_factory(data_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from index.locks import FileLock\n"
         "with FileLock(Path(sys.argv[1]) / 'ingest.lock').exclusive():\n"
         "    print('held', flush=True); time.sleep(10)\n"
         "print(time.time(), flush=True)",
         str(data_dir)],
        stdout=subprocess.PIPE, text=True, env=cli.env)
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / NEW).write_text(churn_text(3), encoding="utf-8")
        result = cli("index", str(tmp_path / NEW))
        released = float(holder.stdout.readline())
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0 and result.stdout.startswith("1 added"), result.stdout + result.stderr
    assert f"waiting for another indexing process (pid {holder.pid})" in result.stderr
    [document] = json.loads(cli("docs", "--json").stdout)
    assert document["added_at"] > released
