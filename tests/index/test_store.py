"""index/store.py on embedded Chroma and on a real ``chroma run`` server: the same ingest, query and removal."""

from __future__ import annotations

import sqlite3

import pytest

from index.chunking import chunk_document
from index.errors import BackendError
from index.loading import load_document
from index.settings import IndexSettings
from index.store import VectorStore

pytestmark = pytest.mark.slow


def test_empty_store(stack):
    assert stack.store.count() == 0
    assert stack.store.query(stack.embedder.embed_queries(["anything"])[0], 5) == []
    assert stack.store.ids_for("nothing.txt") == []


def test_query_scores_are_cosine_similarities(stack, corpus):
    stack.ingestor.run([corpus / "asean.txt"])
    document = load_document(corpus / "asean.txt", max_bytes=10**6)
    chunks = chunk_document(document, stack.settings.chunk_chars)
    assert len(chunks) >= 2 and stack.store.count() == len(chunks)

    # Every sentence is stored under "{chunk id}@{start}" with the vector of its own text.
    start, end = chunks[1].sentences[0]
    vector = stack.embedder.embed_passages([document.text[start:end]])[0]
    by_id = stack.store.sentence_vectors_by_id([f"{chunks[1].id}@{start}", f"{chunks[1].id}@{end}"])
    assert list(by_id) == [f"{chunks[1].id}@{start}"]
    assert float(by_id[f"{chunks[1].id}@{start}"] @ vector) == pytest.approx(1.0, abs=1e-4)
    rows = stack.store.sentence_vectors([chunks[1].id])
    assert sorted((s, e) for _, s, e, _ in rows) == list(chunks[1].sentences)

    stored = stack.store.chunk_vectors([c.id for c in chunks] + ["missing::0"])
    assert set(stored) == {c.id for c in chunks}
    for chunk in chunks:
        assert float(stored[chunk.id] @ stored[chunk.id]) == pytest.approx(1.0, abs=1e-4)
    hits = stack.store.query(stored[chunks[1].id], len(chunks))
    assert hits[0][0] == chunks[1].id and hits[0][1] == pytest.approx(1.0, abs=1e-3)
    for chunk_id, score in hits:
        assert score == pytest.approx(float(stored[chunk_id] @ stored[chunks[1].id]), abs=1e-3)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)

    stack.store.delete_source("asean.txt")
    assert stack.store.count() == 0 and stack.store.ids_for("asean.txt") == []


def test_ingest_edit_remove_cycle(stack, corpus, corpus_names, write):
    first = stack.ingestor.run([corpus])
    assert sorted(first.added) == corpus_names
    stack.assert_consistent()
    assert stack.ingestor.run([corpus]).chunks_embedded == 0

    write(corpus / "asean.txt", "Edited: the conference now only mentions a numbat.")
    assert stack.ingestor.run([corpus]).updated == ["asean.txt"]
    assert not any("480 million" in text for text in stack.chroma_texts())
    vector = stack.embedder.embed_queries(["Which animal does the edited text mention?"])[0]
    assert "asean.txt::0" in [i for i, _ in stack.store.query(vector, 3)]
    stack.assert_consistent()

    assert stack.ingestor.remove("meta.txt")
    assert stack.store.ids_for("meta.txt") == []
    assert stack.catalog.keyword_search(["quokka"], 5) == []
    stack.assert_consistent()


def test_a_query_within_chosen_documents_ranks_only_theirs(stack, corpus):
    stack.ingestor.run([corpus])
    vector = stack.embedder.embed_queries(["Who led the Meta delegation?"])[0]
    assert stack.store.query(vector, 1)[0][0].startswith("meta.txt::")
    # Filtered inside Chroma, before the top k: the nearest of the chosen documents, not an empty top 1.
    [(chunk_id, _)] = stack.store.query(vector, 1, sources=["asean.txt"])
    assert chunk_id.startswith("asean.txt::")
    chosen = stack.store.query(vector, 50, sources=["asean.txt", "cambodge.md"])
    assert {i.split("::")[0] for i, _ in chosen} == {"asean.txt", "cambodge.md"}
    assert len(chosen) == len(stack.catalog.chunk_ids("asean.txt")) + len(stack.catalog.chunk_ids("cambodge.md"))
    assert stack.store.query(vector, 5, sources=[]) == []


def test_a_second_client_sees_the_same_vectors(stack, corpus):
    stack.ingestor.run([corpus])
    other = VectorStore(stack.settings)
    assert other.count() == stack.store.count() > 0
    assert sorted(other.ids_for("meta.txt")) == sorted(stack.store.ids_for("meta.txt"))


def test_unreachable_server_is_a_backend_error_at_first_use(tmp_path, free_port):
    port = free_port()  # nothing listens there
    settings = IndexSettings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=port)
    store = VectorStore(settings)  # stores its settings only
    with pytest.raises(BackendError) as info:
        store.count()
    assert f"127.0.0.1:{port}" in str(info.value) and "chroma run" in str(info.value)


def test_making_an_embedded_store_touches_no_file_until_it_opens(tmp_path):
    store = VectorStore(IndexSettings(data_dir=tmp_path / "data"))
    assert not (tmp_path / "data").exists() and store.location == f"embedded chroma at {tmp_path / 'data' / 'chroma'}"
    store.open()
    assert store.count() == 0 and (tmp_path / "data" / "chroma" / "chroma.sqlite3").exists()


def test_chromas_own_errors_are_store_failures(stack):
    stack.store.open()
    with pytest.raises(BackendError, match=r"get vectors failed: Expected include item"):
        with stack.store._guard("get vectors"):
            stack.store._chunks.get(ids=["x"], include=["bogus"])  # chromadb's own validation: a ValueError


@pytest.mark.parametrize("error", [ValueError("ours"), OSError("ours"), Exception("ours"), sqlite3.Error("ours")])
def test_the_same_types_raised_by_our_code_stay_bugs(stack, error):
    from rag.cli import run_command

    def ours():
        with stack.store._guard("query"):
            raise error

    with pytest.raises(type(error)) as info:
        ours()
    assert not isinstance(info.value, BackendError)
    assert run_command(ours) == 3  # a traceback, not "chroma ... query failed" and exit 2


def test_a_closed_catalog_inside_a_store_call_is_not_a_chroma_failure(stack):
    stack.catalog.close()
    with pytest.raises(sqlite3.ProgrammingError):
        with stack.store._guard("count vectors"):
            stack.catalog.count_chunks()
