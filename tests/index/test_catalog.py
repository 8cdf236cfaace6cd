"""index/catalog.py: documents, chunks and the FTS5 keyword index in SQLite; only ``ready`` documents are visible."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from index.catalog import Catalog, fold, shortest_unique_ends, tokenize
from index.chunking import chunk_document
from index.documents import Document


def make_doc(source: str, text: str, language: str = "en") -> Document:
    return Document(source=source, text=text, title=source, language=language, sha256=f"sha-{hash(text)}")


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "sub" / "catalog.sqlite3")
    yield catalog
    catalog.close()


def stage_ready(catalog: Catalog, document: Document, target: int = 100):
    chunks = chunk_document(document, target)
    catalog.stage(document, chunks)
    catalog.set_state(document.source, "ready")
    return chunks


def test_tokenize_matches_unicode_words():
    assert tokenize("Rafael Frankel, Giám đốc — 2024!") == ["rafael", "frankel", "giám", "đốc", "2024"]


def test_pending_documents_are_invisible_until_ready(catalog):
    doc = make_doc("a.txt", "Zebras graze at dawn. Lions sleep at noon.")
    chunks = chunk_document(doc, 100)
    catalog.stage(doc, chunks)
    assert catalog.state_of("a.txt") == ("pending", doc.sha256)
    assert catalog.unfinished() == [("a.txt", "pending")]
    assert catalog.documents() == []
    assert catalog.document_text("a.txt") is None
    assert catalog.chunks([c.id for c in chunks]) == {}
    assert catalog.keyword_search(["zebras"], 5) == []
    assert catalog.count_chunks() == 0 and catalog.count_chunks(ready_only=False) == len(chunks)

    catalog.set_state("a.txt", "ready")
    assert catalog.unfinished() == []
    [info] = catalog.documents()
    assert (info.source, info.chunks, info.chars, info.sha256) == ("a.txt", len(chunks), len(doc.text), doc.sha256)
    assert catalog.document_text("a.txt") == doc.text
    assert catalog.chunks([c.id for c in chunks]) == {c.id: c for c in chunks}
    assert [i for i, _ in catalog.keyword_search(["zebras"], 5)] == [chunks[0].id]


def test_keyword_search_ranks_by_bm25(catalog):
    stage_ready(catalog, make_doc("a.txt", "Hanoi hosted the meeting. The meeting was long."))
    stage_ready(catalog, make_doc("b.txt", "Meta met ministers in Hanoi. Meta proposed an MOU. Meta Meta Meta."))
    stage_ready(catalog, make_doc("c.txt", "Phnom Penh is the capital of Cambodia."))
    hits = catalog.keyword_search(tokenize("Meta Hanoi"), 10)
    sources = [h[0].split("::")[0] for h in hits]
    assert sources[0] == "b.txt" and "a.txt" in sources and "c.txt" not in sources
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert catalog.keyword_search([], 10) == []
    assert catalog.keyword_search(['quote"s', "or", "and", "near"], 10) == []  # FTS syntax is escaped


def test_vietnamese_tokens_keep_their_diacritics(catalog):
    stage_ready(catalog, make_doc("vi.txt", "Ông Rafael Frankel dẫn đầu đoàn Meta. Đà Nẵng là thành phố.", "vi"))
    assert catalog.keyword_search(["dẫn"], 5)
    assert catalog.keyword_search(["đà", "nẵng"], 5)
    assert catalog.keyword_search(["dan"], 5) == []  # "dẫn" is not "dan": Vietnamese tone marks carry meaning


def test_fold_drops_diacritics_and_spells_out_the_letters_without_a_base():
    assert fold("Vịnh Hạ Long, Đà Nẵng, hợp tác xã") == "Vinh Ha Long, Da Nang, hop tac xa"
    assert fold("Élève, cœur, Æsir, naïve") == "Eleve, coeur, AEsir, naive"
    assert fold("e\u0301") == "e"  # decomposed text (as some editors save it) folds the same
    assert fold("plain ASCII 2024") == "plain ASCII 2024"


def test_the_folded_index_finds_text_typed_without_accents(catalog):
    chunks = stage_ready(catalog, make_doc("vi.txt", "Vịnh Hạ Long ở Quảng Ninh. Đà Nẵng là thành phố.", "vi"))
    stage_ready(catalog, make_doc("fr.txt", "L'élève étudie à Besançon.", "fr"))
    assert catalog.keyword_search(["ha"], 5) == []  # the exact index keeps "hạ" apart from "ha"
    assert [i for i, _ in catalog.keyword_search(["ha"], 5, folded=True)] == [chunks[0].id]
    assert [i for i, _ in catalog.keyword_search(["da", "nang"], 5, folded=True)] == [chunks[0].id]  # đ is d
    assert [i.split("::")[0] for i, _ in catalog.keyword_search(["eleve", "besancon"], 5, folded=True)] == ["fr.txt"]
    df, total = catalog.document_frequencies(["ha", "da", "eleve", "hạ"], folded=True)
    assert df == {"ha": 1, "da": 1, "eleve": 1} and total == 2  # the folded index holds folded terms only
    catalog.delete("vi.txt")
    assert catalog.keyword_search(["ha"], 5, folded=True) == []
    assert catalog.document_frequencies(["ha"], folded=True) == ({}, 1)


def test_ctrl_c_inside_the_folding_that_sqlite_calls_is_still_ctrl_c(catalog, monkeypatch):
    # SIGINT lands at any bytecode; inside the triggers' fold() SQLite would report it as its own error.
    stage_ready(catalog, make_doc("a.txt", "Otters sleep all day long in the river."))

    def interrupted(text: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("index.catalog.fold", interrupted)
    document = make_doc("b.txt", "Beavers build dams across the river.")
    with pytest.raises(KeyboardInterrupt):
        catalog.stage(document, chunk_document(document, 100))
    monkeypatch.undo()
    assert [d.source for d in catalog.documents()] == ["a.txt"]  # rolled back whole
    with pytest.raises(sqlite3.OperationalError):  # other failures of a statement stay what they are
        catalog._conn.execute("SELECT * FROM no_such_table")


def test_keyword_search_within_chosen_documents(catalog):
    stage_ready(catalog, make_doc("a.txt", "Otters, otters, otters."))
    stage_ready(catalog, make_doc("b.txt", "Otters sleep all day long in the river."))
    stage_ready(catalog, make_doc("c.txt", "Otters swim."))

    def documents(hits):
        return [i.split("::")[0] for i, _ in hits]

    assert documents(catalog.keyword_search(["otters"], 1)) == ["a.txt"]
    # The filter is part of the search: the best chunk of the chosen documents comes back, not an empty top 1.
    assert documents(catalog.keyword_search(["otters"], 1, sources=["b.txt", "c.txt"])) == ["c.txt"]
    assert documents(catalog.keyword_search(["otters"], 5, sources=["b.txt", "c.txt"])) == ["c.txt", "b.txt"]
    assert documents(catalog.keyword_search(["otters"], 5, folded=True, sources=["b.txt"])) == ["b.txt"]
    assert catalog.keyword_search(["otters"], 5, sources=[]) == []


def test_restaging_replaces_chunks_and_keywords(catalog):
    stage_ready(catalog, make_doc("a.txt", "The old version mentions quokkas. It has two sentences."))
    assert catalog.keyword_search(["quokkas"], 5)
    new_chunks = stage_ready(catalog, make_doc("a.txt", "The new version mentions wombats only."))
    assert catalog.keyword_search(["quokkas"], 5) == []
    assert [i for i, _ in catalog.keyword_search(["wombats"], 5)] == [new_chunks[0].id]
    assert catalog.chunk_ids("a.txt") == [c.id for c in new_chunks]
    assert len(catalog.documents()) == 1


def test_delete_removes_document_chunks_and_keywords(catalog):
    stage_ready(catalog, make_doc("a.txt", "Axolotls regrow limbs."))
    stage_ready(catalog, make_doc("b.txt", "Bonobos share food."))
    catalog.delete("a.txt")
    assert catalog.state_of("a.txt") is None
    assert catalog.chunk_ids("a.txt") == []
    assert catalog.keyword_search(["axolotls"], 5) == []
    assert catalog.document_frequencies(["axolotls"]) == ({}, 1)
    assert [d.source for d in catalog.documents()] == ["b.txt"]


def test_document_frequencies(catalog):
    stage_ready(catalog, make_doc("a.txt", "Meta and Hanoi."))
    stage_ready(catalog, make_doc("b.txt", "Meta and Phnom Penh."))
    df, total = catalog.document_frequencies(["meta", "hanoi", "absent"])
    assert df == {"meta": 2, "hanoi": 1} and total == 2


def test_catalog_persists_across_reopen(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    first = Catalog(path)
    stage_ready(first, make_doc("a.txt", "Persisted text about pangolins."))
    first.close()
    second = Catalog(path)
    assert second.document_text("a.txt") == "Persisted text about pangolins."
    assert second.keyword_search(["pangolins"], 5)
    second.close()


def test_concurrent_writes_and_reads(catalog):
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                stage_ready(catalog, make_doc(f"{n}-{i}.txt", f"Thread {n} writes document {i} about otters."))
                catalog.keyword_search(["otters"], 3)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(catalog.documents()) == 40


def test_generation_counts_changes_readers_can_see(tmp_path, catalog):
    assert catalog.generation() == 0
    doc = make_doc("a.txt", "Zebras graze at dawn.")
    assert catalog.stage(doc, chunk_document(doc, 100)) == 0  # pending: nothing visible changed
    assert catalog.mark_ready(["a.txt"]) == 1 == catalog.generation()
    edited = make_doc("a.txt", "Zebras graze at dusk.")
    assert catalog.stage(edited, chunk_document(edited, 100)) == 2  # the ready version is gone
    assert catalog.mark_ready(["a.txt"]) == 3
    assert catalog.mark_ready([]) == 3
    assert catalog.delete("a.txt") == 4
    # Another connection (another process) reads the same counter, committed with the change.
    other = Catalog(tmp_path / "sub" / "catalog.sqlite3")
    assert other.generation() == 4
    other.close()


def test_shown_names_are_the_shortest_ends_no_other_locator_has():
    assert shortest_unique_ends({"a": "/home/u/notes.md"}) == {"a": "notes.md"}
    assert shortest_unique_ends({"a": "/x/teamA/notes.md", "b": "/x/teamB/notes.md"}) == {
        "a": "teamA/notes.md", "b": "teamB/notes.md"}
    assert shortest_unique_ends({"a": "/x/2023/q1/notes.md", "b": "/y/2024/q1/notes.md"}) == {
        "a": "2023/q1/notes.md", "b": "2024/q1/notes.md"}
    # A document kept from before locators, without a path: its id (its file name) is its shown name.
    assert shortest_unique_ends({"notes.md": "notes.md", "notes.md#1": "/x/notes.md"}) == {
        "notes.md": "notes.md", "notes.md#1": "x/notes.md"}


def test_an_old_catalog_gets_names_and_locators_on_open(tmp_path):
    import sqlite3

    from tests.legacy_index import SCHEMA

    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    (tmp_path / "docs").mkdir()
    conn.executemany("INSERT INTO documents VALUES (?, 't', 'en', NULL, 's', ?, 'Text.', 1, 'ready', 0)",
                     [("a.txt", str(tmp_path / "docs" / ".." / "docs" / "a.txt")), ("b.txt", None)])
    conn.commit()
    conn.close()
    catalog = Catalog(path)
    try:
        assert [(d.source, d.id, d.locator) for d in catalog.documents()] == [
            ("a.txt", "a.txt", (tmp_path / "docs" / "a.txt").as_posix()), ("b.txt", "b.txt", "b.txt")]
        assert catalog.located((tmp_path / "docs" / "a.txt").as_posix()) == "a.txt"
        assert catalog.resolve(str(tmp_path / "docs" / "a.txt")) == "a.txt"
    finally:
        catalog.close()
    Catalog(path).close()  # opening a migrated catalog again changes nothing


def test_an_old_catalog_gets_the_folded_index_of_its_chunks_on_open(tmp_path):
    import sqlite3

    from tests.legacy_index import SCHEMA

    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO documents VALUES ('vi.txt', 't', 'vi', NULL, 's', NULL, ?, 1, 'ready', 0)",
                 ("Hợp tác xã Đồng Tâm.",))
    conn.execute("INSERT INTO chunks (id, source, ordinal, start, \"end\", text, language) "
                 "VALUES ('vi.txt::0', 'vi.txt', 0, 0, 20, 'Hợp tác xã Đồng Tâm.', 'vi')")
    conn.commit()
    conn.close()
    catalog = Catalog(path)
    try:
        assert [i for i, _ in catalog.keyword_search(["hop", "tac", "xa"], 5, folded=True)] == ["vi.txt::0"]
        assert catalog.document_frequencies(["dong"], folded=True) == ({"dong": 1}, 1)
        assert [i for i, _ in catalog.keyword_search(["hợp"], 5)] == ["vi.txt::0"]
    finally:
        catalog.close()
    reopened = Catalog(path)  # filled once: opening it again adds nothing twice
    try:
        assert reopened.document_frequencies(["dong"], folded=True) == ({"dong": 1}, 1)
        reopened.delete("vi.txt")
        assert reopened.document_frequencies(["dong"], folded=True) == ({}, 0)
    finally:
        reopened.close()
