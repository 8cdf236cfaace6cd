"""Faults: a Chroma server that dies mid-ingest, a ``rag index`` killed with SIGKILL mid-folder, LLM
endpoints that break mid-stream. Nothing half-written is ever visible, and the next run finishes the job.

(Down, slow and garbage LLM endpoints are in tests/rag/test_generation.py; here: what those leave out.)
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from index.errors import BackendError
from rag.settings import Settings
from rag import Assistant
from tests.reliability.harness import META_QUESTION, BrokenLLM, index_problems

pytestmark = pytest.mark.slow

ANIMALS = ["quokka", "wombat", "axolotl", "okapi", "pangolin", "tapir", "numbat", "kakapo", "saola", "dugong",
           "quoll", "bilby", "takin", "gharial", "markhor"]


def write_documents(folder: Path, count: int, sentences: int = 6) -> list[str]:
    """``count`` small documents, each with its own animal; returns their names in folder order."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, animal in enumerate(ANIMALS[:count]):
        text = " ".join(f"Survey {i}.{j} counted {100 * i + j} {animal}s near station {animal.upper()}-{j}."
                        for j in range(sentences))
        name = f"{i:02d}_{animal}.txt"
        (folder / name).write_text(text + "\n", encoding="utf-8")
        names.append(name)
    return names


# -- the consistency check itself --------------------------------------------------------------------
def test_the_consistency_check_sees_missing_vectors_and_keywords(tmp_path):
    """The check the fault tests rely on fails on each kind of damage it is meant to catch."""
    assistant = Assistant(data_dir=tmp_path / "data", chunk_chars=100)
    write_documents(tmp_path / "docs", 2)
    assistant.add([tmp_path / "docs"])
    settings = assistant.settings
    assert index_problems(settings) == []

    store = assistant._store  # reaching in on purpose: this damage cannot be done through the API
    store._sentences.delete(ids=[store._sentences.get(limit=1)["ids"][0]])
    assert any("sentences without a vector" in p for p in index_problems(settings))
    store._chunks.delete(ids=["00_quokka.txt::0"])
    assert any("chunks without a vector" in p for p in index_problems(settings))
    with sqlite3.connect(settings.catalog_path) as conn:
        conn.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT min(rowid) FROM chunks)")
    assert any("keyword index" in p for p in index_problems(settings))
    with sqlite3.connect(settings.catalog_path) as conn:
        conn.execute("UPDATE documents SET state = 'pending' WHERE source = '01_wombat.txt'")
    problems = index_problems(settings)
    assert any("01_wombat.txt is left 'pending'" in p for p in problems)
    assert any("vectors of no ready document" in p for p in problems)
    assistant.close()


# -- Chroma server down --------------------------------------------------------------------------------
@pytest.mark.server
def test_chroma_server_killed_mid_ingest(own_chroma, tmp_path):
    names = write_documents(tmp_path / "docs", 4)
    assistant = Assistant(data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=own_chroma.port,
                          chunk_chars=100, embed_batch=2)
    assert assistant.add([tmp_path / "docs" / names[0]]).added == [names[0]]

    def kill_before_the_third(progress) -> None:
        if progress.files_done == 2:
            own_chroma.kill()

    with pytest.raises(BackendError) as info:
        assistant.add([tmp_path / "docs"], progress=kill_before_the_third)
    message = str(info.value)
    assert f"chroma server http://127.0.0.1:{own_chroma.port}" in message and "failed" in message
    assert "Traceback" not in message and len(message) < 600
    # What was finished is listed; the document cut off is not, and nothing claims otherwise.
    assert [d.source for d in assistant.documents()] == names[:2]
    assert assistant.document_text(names[2]) is None
    with pytest.raises(BackendError, match=f"127.0.0.1:{own_chroma.port}"):
        assistant.ask("How many okapis were counted?")
    with pytest.raises(BackendError, match="is `chroma run` up"):
        Assistant(data_dir=tmp_path / "other", chroma_host="127.0.0.1", chroma_port=own_chroma.port).warm_up()
    # A removal while the store is down fails loudly and is finished later, never left half-done.
    with pytest.raises(BackendError):
        assistant.remove(names[0])

    own_chroma.start()
    assert index_problems(assistant.settings, allow_unfinished=True) == []
    assert [d.source for d in assistant.documents()] == [names[1]]
    report = assistant.add([tmp_path / "docs"])
    assert report.added == [names[0], names[2], names[3]] and report.skipped == [names[1]], report
    assert index_problems(assistant.settings) == []
    answer = assistant.ask("How many okapis were counted near station OKAPI-2?")
    assert answer.citations and answer.citations[0].source == names[3]
    assistant.close()


# -- SIGKILL in the middle of a folder -------------------------------------------------------------------
def _wait_until_mid_ingest(catalog: Path, proc, timeout: float = 240) -> tuple[int, list[str]]:
    """Poll the catalog (read-only) until at least two documents are ready and another is being written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "rag index finished before it could be killed"
        if catalog.exists():
            try:
                with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1) as conn:
                    rows = conn.execute("SELECT source, state FROM documents").fetchall()
            except sqlite3.OperationalError:
                rows = []
            ready = [s for s, state in rows if state == "ready"]
            pending = [s for s, state in rows if state == "pending"]
            if len(ready) >= 2 and pending:
                return len(ready), pending
        time.sleep(0.02)
    raise AssertionError("rag index never reached the middle of the folder")


def test_sigkill_mid_folder_then_rerun_completes(tmp_path, cli_factory):
    names = write_documents(tmp_path / "big_folder", 15)
    data_dir = tmp_path / "data"
    cli = cli_factory(data_dir)
    cli.env.update(RAG_CHUNK_CHARS="100", RAG_EMBED_BATCH="2")
    proc = cli.popen("index", str(tmp_path / "big_folder"), out=tmp_path / "first_run.log")
    try:
        _wait_until_mid_ingest(data_dir / "catalog.sqlite3", proc)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()

    # "Restart": open what the dead process left (a copy, so this process's Chroma cache never goes stale).
    crashed = tmp_path / "crashed"
    shutil.copytree(data_dir, crashed)
    settings = Settings(data_dir=crashed, chunk_chars=100)
    assert index_problems(settings, allow_unfinished=True) == []
    assistant = Assistant(settings=settings)
    ready = [d.source for d in assistant.documents()]
    assert 2 <= len(ready) < 15 and ready == names[: len(ready)]
    cut_off = names[len(ready)]
    animal = cut_off.split("_", 1)[1].removesuffix(".txt")
    answer = assistant.ask(f"How many {animal}s were counted near station {animal.upper()}-1?")
    assert all(c.source in ready for c in answer.citations), "a half-indexed document was cited"
    assistant.close()

    # The dead writer held the writer lock (its pid is still in the file), and the kernel released it.
    assert (data_dir / "ingest.lock").read_text() == str(proc.pid)
    result = cli("index", str(tmp_path / "big_folder"))
    assert result.returncode == 0, result.stderr
    assert "waiting for another indexing process" not in result.stderr
    assert result.stdout.startswith(f"{15 - len(ready)} added, 0 updated, {len(ready)} unchanged ("), result.stdout
    final = tmp_path / "final"
    shutil.copytree(data_dir, final)
    final_settings = Settings(data_dir=final, chunk_chars=100)
    assert index_problems(final_settings) == []
    assistant = Assistant(settings=final_settings)
    assert [d.source for d in assistant.documents()] == names
    answer = assistant.ask(f"How many {animal}s were counted near station {animal.upper()}-1?")
    assert answer.citations and answer.citations[0].source == cut_off
    assistant.close()


# -- LLM endpoints that break mid-answer ----------------------------------------------------------------
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "close-delimited"])
def test_llm_connection_dropped_mid_stream_keeps_what_was_verified(seeded_dir, check_citations, chunked):
    passages = Assistant(data_dir=seeded_dir).retrieve(META_QUESTION)
    n = next(i for i, p in enumerate(passages, start=1) if "Rafael Frankel" in p.text)
    server = BrokenLLM("truncate", reply=f"Rafael Frankel led the Meta delegation [{n}]. He also said that the",
                       chunked=chunked)
    try:
        assistant = Assistant(data_dir=seeded_dir, llm_base_url=server.base_url, llm_model="broken", llm_timeout=5)
        streamed, answer = "", None
        for piece in assistant.stream(META_QUESTION):
            streamed += piece.text
            answer = piece.answer or answer
    finally:
        server.close()
    check_citations(assistant, answer)
    assert streamed == answer.text
    assert answer.mode == "llm" and answer.text.startswith("Rafael Frankel led the Meta delegation")
    assert "He also said" not in answer.text, "an unfinished sentence is never shown"
    assert answer.notice and "incomplete" in answer.notice


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "close-delimited"])
def test_llm_connection_dropped_before_any_sentence_falls_back(seeded_dir, check_citations, chunked):
    server = BrokenLLM("truncate", reply="Rafael Frankel led", chunked=chunked)
    try:
        assistant = Assistant(data_dir=seeded_dir, llm_base_url=server.base_url, llm_model="broken", llm_timeout=5)
        answer = assistant.ask(META_QUESTION)
    finally:
        server.close()
    check_citations(assistant, answer)
    assert answer.mode == "extractive (fallback)", answer.text
    assert "Rafael Frankel" in answer.text
    assert answer.notice and "LLM" in answer.notice and "offline answer" in answer.notice


def test_cli_ask_with_the_llm_down_prints_the_notice_and_the_offline_answer(seeded_dir, tmp_path, cli_factory,
                                                                            free_port):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    port = free_port()
    result = cli_factory(data_dir)("ask", META_QUESTION,
                                   env={"RAG_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "RAG_LLM_TIMEOUT": "5"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Rafael Frankel" in lines[0]
    assert any(line.startswith(f"note: cannot reach the LLM at http://127.0.0.1:{port}/v1") for line in lines)
    assert any(line.strip().startswith("[1] ") for line in lines)
