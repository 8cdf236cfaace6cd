"""index/ingest.py with the real embedder and embedded Chroma: idempotent adds, edits, removal, crash repair."""

from __future__ import annotations

import pytest

from index.catalog import tokenize
from index.chunking import chunk_document
from index.errors import BackendError, InputError
from index.ingest import IngestProgress, IngestReport
from index.loading import load_document

pytestmark = pytest.mark.slow


def chunk_ids(vector_ids: list[str]) -> set[str]:
    """The chunks that stored vector ids belong to (sentence vectors are ``chunk_id@start``)."""
    return {i.split("@")[0] for i in vector_ids}


def test_add_then_readd_is_idempotent(embedded_stack, corpus, corpus_names):
    progress = []
    first = embedded_stack.ingestor.run([corpus], progress=progress.append)
    assert sorted(first.added) == corpus_names and not first.updated and not first.skipped and not first.failed
    assert first.chunks_embedded == embedded_stack.catalog.count_chunks() > len(corpus_names)
    assert progress[0] == IngestProgress(0, first.chunks_embedded, 0, 3, "asean.txt")
    assert progress[-1] == IngestProgress(first.chunks_embedded, first.chunks_embedded, 3, 3, "")
    embedded_stack.assert_consistent()
    count = embedded_stack.store.count()

    second = embedded_stack.ingestor.run([corpus])
    assert sorted(second.skipped) == corpus_names and not second.added and not second.updated
    assert second.chunks_embedded == 0
    assert embedded_stack.store.count() == count
    assert second.summary() == "0 added, 0 updated, 3 unchanged (0 chunks embedded)"
    embedded_stack.assert_consistent()


def test_editing_a_file_replaces_its_chunks(embedded_stack, corpus, write):
    stack = embedded_stack
    stack.ingestor.run([corpus])
    path = corpus / "meta.txt"
    old_ids = stack.catalog.chunk_ids("meta.txt")
    assert len(old_ids) >= 2
    write(path, "Bản sửa: chỉ còn một câu về con wallaby.")

    report = stack.ingestor.run([corpus])
    assert report.updated == ["meta.txt"] and sorted(report.skipped) == ["asean.txt", "cambodge.md"]
    assert report.chunks_embedded == 1
    assert stack.catalog.chunk_ids("meta.txt") == ["meta.txt::0"]
    assert stack.catalog.document_text("meta.txt") == path.read_text(encoding="utf-8")
    # Old text is gone from both indexes, new text is in both.
    assert stack.catalog.keyword_search(["quokka"], 10) == []
    assert stack.catalog.keyword_search(["frankel"], 10) == []
    assert [i for i, _ in stack.catalog.keyword_search(["wallaby"], 10)] == ["meta.txt::0"]
    assert not any("Frankel" in text for text in stack.chroma_texts())
    vector = stack.embedder.embed_queries(["Bản sửa về con wallaby"])[0]
    assert stack.store.query(vector, 1)[0][0] == "meta.txt::0"
    stack.assert_consistent()


def test_remove_leaves_no_trace(embedded_stack, corpus):
    stack = embedded_stack
    stack.ingestor.run([corpus])
    before = stack.store.count()
    removed = len(stack.catalog.chunk_ids("cambodge.md"))

    assert stack.ingestor.remove("cambodge.md") is True
    assert stack.store.ids_for("cambodge.md") == []
    assert stack.store.count() == before - removed
    assert stack.catalog.keyword_search(["wombat"], 10) == []
    assert stack.catalog.document_text("cambodge.md") is None
    assert stack.catalog.state_of("cambodge.md") is None
    assert not any(i.startswith("cambodge.md::") for i in stack.chroma_items())
    vector = stack.embedder.embed_queries(["Combien d'internautes au Cambodge ?"])[0]
    assert all(not i.startswith("cambodge.md") for i, _ in stack.store.query(vector, 50))
    assert stack.ingestor.remove("cambodge.md") is False
    stack.assert_consistent()


def test_failed_files_are_reported_and_the_rest_indexed(embedded_stack, corpus, corpus_names, write):
    write(corpus / "empty.txt", "")
    (corpus / "latin1.txt").write_bytes("Café crème".encode("latin-1"))
    report = embedded_stack.ingestor.run([corpus])
    assert sorted(report.added) == corpus_names
    assert set(report.failed) == {"empty.txt", "latin1.txt"}
    assert "empty.txt" in report.failed["empty.txt"] and "UTF-8" in report.failed["latin1.txt"]
    assert report.summary() == f"3 added, 0 updated, 0 unchanged, 2 skipped ({report.chunks_embedded} chunks embedded)"


def test_names_give_uploads_their_citation_id(embedded_stack, tmp_path, write):
    upload = write(tmp_path / "gradio_tmp_8f3a.txt", "Uploaded notes about the Meta delegation.")
    report = embedded_stack.ingestor.run([upload], names=["Meta notes.txt"])
    assert report.added == ["Meta notes.txt"]
    assert [d.source for d in embedded_stack.catalog.documents()] == ["Meta notes.txt"]
    assert chunk_ids(embedded_stack.store.ids_for("Meta notes.txt")) == {"Meta notes.txt::0"}
    with pytest.raises(InputError):
        embedded_stack.ingestor.run([upload], names=["a.txt", "b.txt"])


def test_missing_path_raises(embedded_stack, tmp_path):
    with pytest.raises(InputError, match="nowhere"):
        embedded_stack.ingestor.run([tmp_path / "nowhere"])


def _stage_with_some_vectors(stack, path, source):
    """What a crash mid-ingest leaves: the document staged ``pending`` and part of its vectors in Chroma."""
    document = load_document(path, max_bytes=10**6, source=source)
    chunks = chunk_document(document, stack.settings.chunk_chars)
    stack.catalog.stage(document, chunks)
    stack.store.add(chunks[:1], [stack.embedder.embed_passages([document.text[s:e] for s, e in chunks[0].sentences])])
    return chunks


def test_pending_document_is_invisible_then_repaired(embedded_stack, corpus):
    stack = embedded_stack
    stack.ingestor.run([corpus / "asean.txt"])
    _stage_with_some_vectors(stack, corpus / "meta.txt", "meta.txt")
    assert chunk_ids(stack.store.ids_for("meta.txt")) == {"meta.txt::0"}
    # Readers never see the half-written document.
    assert [d.source for d in stack.catalog.documents()] == ["asean.txt"]
    assert stack.catalog.keyword_search(tokenize("Rafael Frankel quokka"), 10) == []

    assert stack.ingestor.repair() == ["meta.txt"]
    assert stack.store.ids_for("meta.txt") == []
    assert stack.catalog.state_of("meta.txt") is None and stack.catalog.unfinished() == []
    stack.assert_consistent()

    report = stack.ingestor.run([corpus])
    assert sorted(report.added) == ["cambodge.md", "meta.txt"] and report.skipped == ["asean.txt"]
    stack.assert_consistent()


def test_interrupted_edit_and_removal_are_finished_on_next_run(embedded_stack, corpus, write):
    stack = embedded_stack
    stack.ingestor.run([corpus])
    # An edit that crashed after staging: the old ready version was already replaced by a pending one.
    write(corpus / "meta.txt", "Phiên bản mới về con wallaby. Câu thứ hai của bản mới.")
    _stage_with_some_vectors(stack, corpus / "meta.txt", "meta.txt")
    # A removal that crashed after marking the document.
    stack.catalog.set_state("asean.txt", "deleting")
    assert sorted(d.source for d in stack.catalog.documents()) == ["cambodge.md"]

    report = stack.ingestor.run([corpus])  # every run repairs first
    assert sorted(report.added) == ["asean.txt", "meta.txt"] and report.skipped == ["cambodge.md"]
    assert [i for i, _ in stack.catalog.keyword_search(["wallaby"], 10)] == ["meta.txt::0"]
    assert stack.catalog.keyword_search(["quokka"], 10) == []
    stack.assert_consistent()


def _small_documents(folder, write, count: int) -> list[str]:
    names = [f"note{i}.txt" for i in range(count)]
    for i, name in enumerate(names):
        write(folder / name, f"Ghi chú số {i} nói về con vật hiếm thứ {i}: loài okapi{i}.")
    return names


def _record_writes(stack, monkeypatch, fail_on: int | None = None) -> list[list[str]]:
    """The chunk ids of each ``store.add`` call, the real store still doing the work; call ``fail_on``
    (0-based) raises the way an unreachable Chroma server does, before anything is written."""
    writes: list[list[str]] = []
    real_add = stack.store.add

    def add(chunks, vectors):
        if fail_on is not None and len(writes) == fail_on:
            raise BackendError("chroma server http://127.0.0.1:9: add vectors failed: connection refused")
        writes.append([c.id for c in chunks])
        return real_add(chunks, vectors)

    monkeypatch.setattr(stack.store, "add", add)
    return writes


def test_small_documents_are_embedded_and_written_together(stack_with, tmp_path, write, monkeypatch):
    stack = stack_with(embed_batch=4)
    names = _small_documents(tmp_path / "docs", write, 6)
    writes = _record_writes(stack, monkeypatch)
    embedded: list[int] = []
    real_embed = stack.embedder.embed_passages
    monkeypatch.setattr(stack.embedder, "embed_passages", lambda texts: embedded.append(len(texts)) or real_embed(texts))
    visible = {}
    report = stack.ingestor.run([tmp_path / "docs"],
                                progress=lambda p: visible.setdefault(p.files_done, [d.source for d in stack.catalog.documents()]))
    assert report.added == names and report.chunks_embedded == 6
    # Four one-chunk documents fill a batch: one embedding call, one write; the last two go together.
    assert writes == [[f"{n}::0" for n in names[:4]], [f"{n}::0" for n in names[4:]]]
    assert embedded == [4, 2]
    # A staged document is invisible until its batch is written.
    assert visible[3] == [] and visible[4] == names[:4]
    stack.assert_consistent()
    answer_vector = stack.embedder.embed_queries(["loài okapi5"])[0]
    assert stack.store.query(answer_vector, 1)[0][0] == "note5.txt::0"


def test_a_failed_batch_write_leaves_its_documents_pending_then_repaired(stack_with, tmp_path, write, monkeypatch):
    stack = stack_with(embed_batch=4)
    names = _small_documents(tmp_path / "docs", write, 6)
    _record_writes(stack, monkeypatch, fail_on=1)
    with pytest.raises(BackendError):
        stack.ingestor.run([tmp_path / "docs"])
    # The first batch finished; the second was cut off, and nothing claims otherwise.
    assert [d.source for d in stack.catalog.documents()] == names[:4]
    assert sorted(s for s, _ in stack.catalog.unfinished()) == names[4:]
    monkeypatch.undo()
    report = stack.ingestor.run([tmp_path / "docs"])  # repairs first, then indexes what is missing
    assert report.added == names[4:] and report.skipped == names[:4]
    stack.assert_consistent()


def test_a_document_removed_while_staged_is_never_written(stack_with, tmp_path, write, monkeypatch):
    stack = stack_with(embed_batch=4)
    names = _small_documents(tmp_path / "docs", write, 3)
    writes = _record_writes(stack, monkeypatch)

    def remove_the_first(progress) -> None:
        if progress.files_done == 2:
            assert stack.ingestor.remove(names[0])

    stack.ingestor.run([tmp_path / "docs"], progress=remove_the_first)
    assert writes == [[f"{n}::0" for n in names[1:]]]
    assert [d.source for d in stack.catalog.documents()] == names[1:]
    assert stack.store.ids_for(names[0]) == []
    stack.assert_consistent()


def test_progress_counts_the_chunks_to_embed_up_front_and_each_embedding_call(stack_with, tmp_path, write):
    stack = stack_with(embed_batch=4)
    names = _small_documents(tmp_path / "docs", write, 6)
    write(tmp_path / "docs" / "empty.txt", "")
    stack.ingestor.run([tmp_path / "docs" / names[0]])  # unchanged next time: nothing to embed for it
    events = []
    report = stack.ingestor.run([tmp_path / "docs"], progress=events.append)
    assert report.chunks_embedded == 5 and len(report.failed) == 1
    assert {e.chunks_total for e in events} == {5}, "the total is known from the first event on"
    assert [e.chunks_embedded for e in events] == sorted(e.chunks_embedded for e in events)
    assert sorted({e.chunks_embedded for e in events}) == [0, 4, 5], "one step per embedding call"
    assert events[-1] == IngestProgress(5, 5, 7, 7, "")


# -- index format: a change of chunking rules re-chunks what is indexed ------------------------------
WRAPPED_NOTE = (
    "The first passenger train of the restored Saltmere line ran on 3 May\n"
    "1921, carrying two hundred guests from the harbour to the old market.\n"
)


def _old_rules_chunks(document, target):
    """Chunks as the format-1 chunker cut them: every line break ended a sentence."""
    from index.documents import Chunk

    chunks, position = [], 0
    for ordinal, line in enumerate(document.text.split("\n")):
        if line.strip():
            chunks.append(Chunk(id=f"{document.source}::{ordinal}", source=document.source, ordinal=ordinal,
                                start=position, end=position + len(line), text=line, language=document.language,
                                sentences=((position, position + len(line)),)))
        position += len(line) + 1
    return chunks


def test_a_changed_index_format_rechunks_on_the_next_add(embedded_stack, tmp_path, write, monkeypatch):
    import index.ingest as ingest
    from index.chunking import INDEX_FORMAT

    note = write(tmp_path / "notes" / "saltmere.txt", WRAPPED_NOTE)
    # An index built by the previous release: old rules, and no format recorded in the catalog.
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "chunk_document", _old_rules_chunks)
        patch.setattr(ingest, "INDEX_FORMAT", "1")
        embedded_stack.ingestor.run([note])
    embedded_stack.catalog._conn.execute("DELETE FROM meta")
    assert embedded_stack.catalog.count_chunks() == 2

    calls = []
    report = embedded_stack.ingestor.run([tmp_path / "notes"], progress=calls.append)
    assert report.rechunked == ["saltmere.txt"] and report.skipped == ["saltmere.txt"]
    assert report.notice.startswith("note: re-chunking 1 indexed document: ")
    assert report.summary().splitlines()[0] == report.notice
    assert calls[0].current == "re-chunking saltmere.txt" and calls[-1] == IngestProgress(1, 1, 1, 1, "")
    assert embedded_stack.catalog.meta("index_format") == INDEX_FORMAT
    chunk = embedded_stack.catalog.chunks(embedded_stack.catalog.chunk_ids("saltmere.txt"))
    assert [c.text for c in chunk.values()] == [WRAPPED_NOTE.strip()]
    embedded_stack.assert_consistent()
    # Once re-chunked, the next add does nothing more.
    again = embedded_stack.ingestor.run([tmp_path / "notes"])
    assert again.rechunked == [] and again.notice is None and again.chunks_embedded == 0


def test_a_fresh_index_records_its_format(embedded_stack, corpus):
    from index.chunking import INDEX_FORMAT

    assert embedded_stack.catalog.meta("index_format") is None
    report = embedded_stack.ingestor.run([corpus])
    assert report.notice is None and report.rechunked == []
    assert embedded_stack.catalog.meta("index_format") == INDEX_FORMAT


def test_a_copy_of_an_indexed_file_elsewhere_is_the_same_document(embedded_stack, tmp_path, write):
    stack = embedded_stack
    original = write(tmp_path / "docs" / "notes.md", "The team lead is Minh. Its mascot is a quokka.")
    assert stack.ingestor.run([original.parent]).added == ["notes.md"]
    copy = tmp_path / "moved" / "notes.md"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    report = stack.ingestor.run([copy.parent])
    assert report.skipped == ["notes.md"] and not report.added and report.chunks_embedded == 0
    assert [d.source for d in stack.catalog.documents()] == ["notes.md"]
    # Once the copy says something else it is a document of its own.
    write(copy, "The team lead is Lan. Its mascot is a wombat.")
    assert stack.ingestor.run([copy.parent]).added == ["moved/notes.md"]
    stack.assert_consistent()


def test_two_files_with_one_name_are_two_documents(embedded_stack, tmp_path, write):
    stack = embedded_stack
    a = write(tmp_path / "teamA" / "notes.md", "The team lead of team A is Minh. Its mascot is a quokka.")
    b = write(tmp_path / "teamB" / "notes.md", "The team lead of team B is Lan. Its mascot is a wombat.")
    assert stack.ingestor.run([tmp_path / "teamA"]).added == ["notes.md"]
    assert [d.source for d in stack.catalog.documents()] == ["notes.md"]

    report = stack.ingestor.run([tmp_path / "teamB"])
    assert report.added == ["teamB/notes.md"] and not report.updated
    documents = stack.catalog.documents()
    assert [d.source for d in documents] == ["teamA/notes.md", "teamB/notes.md"]
    assert [d.locator for d in documents] == [a.as_posix(), b.as_posix()]
    assert documents[0].id == "notes.md" and documents[1].id.startswith("notes.md#")
    for word in ("quokka", "wombat"):
        assert len(stack.catalog.keyword_search([word], 10)) == 1
    stack.assert_consistent()

    # The same paths again: nothing changes; an edit updates its own document only.
    again = stack.ingestor.run([tmp_path])
    assert sorted(again.skipped) == ["teamA/notes.md", "teamB/notes.md"] and again.chunks_embedded == 0
    write(a, "The team lead of team A is now Hoa.")
    edited = stack.ingestor.run([tmp_path])
    assert edited.updated == ["teamA/notes.md"] and edited.skipped == ["teamB/notes.md"]
    assert stack.catalog.document_text(documents[1].id) == b.read_text(encoding="utf-8")

    # Removed by the path it was indexed from, the other is plain notes.md again.
    assert stack.ingestor.remove(str(b)) is True
    assert [(d.source, d.id) for d in stack.catalog.documents()] == [("notes.md", "notes.md")]
    stack.assert_consistent()


def test_one_run_over_two_folders_adds_both_files_of_one_name(embedded_stack, tmp_path, write):
    for team in ("2023", "2024"):
        write(tmp_path / "reports" / team / "q1.txt", f"The revenue in {team} grew. It was a good year.")
    report = embedded_stack.ingestor.run([tmp_path / "reports"])
    assert sorted(report.added) == ["2023/q1.txt", "2024/q1.txt"] and not report.failed


def test_remove_takes_a_path_a_shown_name_or_an_id_and_refuses_an_ambiguous_name(embedded_stack, tmp_path, write):
    stack = embedded_stack
    for team in ("teamA", "teamB"):
        write(tmp_path / team / "notes.md", f"Notes of {team}. They are short.")
    write(tmp_path / "teamA" / "plan.md", "The plan of team A. It is shorter.")
    stack.ingestor.run([tmp_path])
    with pytest.raises(InputError, match=r"notes\.md: 2 indexed documents .*teamA/notes\.md, teamB/notes\.md"):
        stack.ingestor.remove("notes.md")
    assert len(stack.catalog.documents()) == 3
    b_id = next(d.id for d in stack.catalog.documents() if d.source == "teamB/notes.md")
    assert stack.ingestor.remove("teamA/notes.md") is True
    assert stack.ingestor.remove(b_id) is True
    assert stack.ingestor.remove("plan.md") is True
    assert stack.ingestor.remove("plan.md") is False
    assert stack.catalog.documents() == []
    stack.assert_consistent()


def test_a_second_upload_of_another_file_with_the_same_name_is_added(embedded_stack, tmp_path, write):
    stack = embedded_stack
    first = write(tmp_path / "tmp1" / "upload.txt", "The first notes. They mention a quokka.")
    second = write(tmp_path / "tmp2" / "upload.txt", "Other notes. They mention a wombat.")
    assert stack.ingestor.run([first], names=["notes.md"]).added == ["notes.md"]
    assert stack.ingestor.run([first], names=["notes.md"]).skipped == ["notes.md"]
    report = stack.ingestor.run([second], names=["notes.md"])
    assert len(report.added) == 1 and report.added[0].endswith("/notes.md") and not report.updated
    assert [d.title for d in stack.catalog.documents()] != [] and len(stack.catalog.documents()) == 2
    for word in ("quokka", "wombat"):
        assert len(stack.catalog.keyword_search([word], 10)) == 1
    stack.assert_consistent()


def test_a_data_directory_written_before_document_ids_keeps_working(tmp_path, write):
    from index.settings import IndexSettings
    from tests.index.conftest import make_stack
    from tests.legacy_index import write_legacy_data_dir

    notes = write(tmp_path / "teamA" / "notes.md", "The team lead of team A is Minh. Its mascot is a quokka.")
    other = write(tmp_path / "teamA" / "other.txt", "Another file. It speaks of axolotls.")
    data_dir = tmp_path / "data"
    write_legacy_data_dir(IndexSettings(data_dir=data_dir, chunk_chars=120), [notes, other])
    stack = make_stack(data_dir)
    try:
        assert [(d.source, d.id) for d in stack.catalog.documents()] == [("notes.md", "notes.md"),
                                                                          ("other.txt", "other.txt")]
        stack.assert_consistent()
        # The same files again are the same documents; another notes.md is another document.
        assert sorted(stack.ingestor.run([tmp_path / "teamA"]).skipped) == ["notes.md", "other.txt"]
        write(tmp_path / "teamB" / "notes.md", "The team lead of team B is Lan.")
        assert stack.ingestor.run([tmp_path / "teamB"]).added == ["teamB/notes.md"]
        assert [d.source for d in stack.catalog.documents()] == ["other.txt", "teamA/notes.md", "teamB/notes.md"]
        write(notes, "The team lead of team A is now Hoa.")
        assert stack.ingestor.run([notes]).updated == ["teamA/notes.md"]
        assert stack.catalog.document_text("notes.md") == notes.read_text(encoding="utf-8")
        assert stack.ingestor.remove(str(notes)) is True
        assert [d.source for d in stack.catalog.documents()] == ["notes.md", "other.txt"]
        stack.assert_consistent()
    finally:
        stack.catalog.close()


def test_the_summary_words_files_as_their_lines_do_and_counts_one_in_the_singular():
    report = IngestReport(added=["a.txt"], failed={"empty.txt": "empty.txt: the file is empty"}, chunks_embedded=1)
    assert report.summary() == "1 added, 0 updated, 0 unchanged, 1 skipped (1 chunk embedded)"
    assert IngestReport(chunks_embedded=2).summary().endswith("(2 chunks embedded)")


# -- formats: Word files and web pages as they are stored --------------------------------------------
def test_broken_word_files_are_one_skip_line_each_and_the_good_one_is_indexed(embedded_stack, tmp_path):
    from tests.word import encrypted_docx, random_bytes_docx, report_docx, zip_without_document_docx

    folder = tmp_path / "reports"
    report_docx(folder / "good.docx")
    random_bytes_docx(folder / "x.docx")
    zip_without_document_docx(folder / "nodoc.docx")
    encrypted_docx(folder / "locked.docx")
    report = embedded_stack.ingestor.run([folder])
    assert report.added == ["good.docx"]
    assert sorted(report.failed) == ["locked.docx", "nodoc.docx", "x.docx"]
    for name, message in report.failed.items():
        assert message.startswith(f"{name}: ") and "\n" not in message
    assert report.summary() == f"1 added, 0 updated, 0 unchanged, 3 skipped ({report.chunks_embedded} chunks embedded)"
    # The table is stored where it stands, and a cell is found by its words.
    text = embedded_stack.catalog.document_text("good.docx")
    assert text.index("- Đà Nẵng đứng thứ hai.") < text.index("| Hà Nội | 48 tỷ đồng |") < text.index("## Kết luận")
    assert embedded_stack.catalog.keyword_search(tokenize("48 tỷ đồng"), 5)
    embedded_stack.assert_consistent()


@pytest.mark.parametrize("page", ["semantic_page", "div_page"])
def test_a_web_page_is_stored_without_its_chrome_and_every_offset_points_into_the_stored_text(embedded_stack,
                                                                                              tmp_path, page):
    from index.chunking import sentences
    from tests import pages

    path = tmp_path / "site" / "cau.html"
    path.parent.mkdir()
    path.write_text(getattr(pages, page)(), encoding="utf-8")
    assert embedded_stack.ingestor.run([path]).added == ["cau.html"]
    stored = embedded_stack.catalog.document_text("cau.html")
    assert stored == load_document(path, max_bytes=10**6).text
    embedded_stack.assert_consistent()  # every vector's text is the stored text at its offsets
    chunks = embedded_stack.catalog.chunks(embedded_stack.catalog.chunk_ids("cau.html")).values()
    quotable = [stored[s.start + c.start : s.end + c.start] for c in chunks for s in sentences(c.text) if s.statement]
    assert "Le pont Paul-Doumer a été inauguré en 1902 ; sa restauration s'achèvera en 2027." in quotable
    for text in [*embedded_stack.chroma_texts(), *quotable]:
        assert not any(chrome in text for chrome in pages.CHROME_TEXTS), text
    for chrome in ("Copyright", "cookies", "Home", "tracking"):
        assert embedded_stack.catalog.keyword_search(tokenize(chrome), 5) == [], chrome
    assert embedded_stack.catalog.keyword_search(tokenize("Doumer"), 5)


def test_a_web_page_indexed_with_its_chrome_is_re_read_without_it(embedded_stack, tmp_path, monkeypatch):
    import index.ingest as ingest
    import index.loading as loading
    from tests import pages

    path = tmp_path / "site" / "cau.html"
    path.parent.mkdir()
    path.write_text(pages.semantic_page(), encoding="utf-8")
    # What the previous release stored: the whole page, menu and footer included.
    with monkeypatch.context() as patch:
        patch.setattr(loading, "_marked_main", lambda soup: None)
        patch.setattr(loading, "_extracted", lambda soup: None)
        patch.setattr(ingest, "INDEX_FORMAT", "2")
        embedded_stack.ingestor.run([path])
    assert "All rights reserved" in embedded_stack.catalog.document_text("cau.html")

    report = embedded_stack.ingestor.run([path])
    assert report.rechunked == ["cau.html"] and report.skipped == ["cau.html"]
    assert embedded_stack.catalog.document_text("cau.html") == load_document(path, max_bytes=10**6).text
    assert not any("All rights reserved" in text for text in embedded_stack.chroma_texts())
    assert embedded_stack.catalog.keyword_search(tokenize("Copyright"), 5) == []
    embedded_stack.assert_consistent()
