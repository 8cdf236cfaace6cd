"""A data directory as ``rag index`` wrote it before documents had ids of their own (up to commit 21eeaa9):
a document's id was its bare file name, and the catalog had no ``name`` or ``locator`` column.

The catalog's schema and rows are written with that version's SQL, copied below; Chroma's side (ids
``NAME::ORDINAL``, metadata naming the document by that id) is what ``VectorStore`` still writes for such an id.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from index.chunking import INDEX_FORMAT, chunk_document
from index.embedding import make_embedder
from index.ingest import FORMAT_KEY
from index.loading import load_document
from index.settings import IndexSettings
from index.store import VectorStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    language TEXT NOT NULL,
    date TEXT,
    sha256 TEXT NOT NULL,
    path TEXT,
    text TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'deleting')),
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def write_legacy_data_dir(settings: IndexSettings, files: list[Path]) -> None:
    """Index ``files`` into ``settings.data_dir`` the old way: each under its bare file name (one per name)."""
    documents = [load_document(path, max_bytes=10**7) for path in files]
    assert len({d.source for d in documents}) == len(documents), "the old format holds one file per name"
    settings.catalog_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(settings.catalog_path)
    conn.executescript(SCHEMA)
    store, embedder = VectorStore(settings), make_embedder(settings)
    for document in documents:
        chunks = chunk_document(document, settings.chunk_chars)
        conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?)",
            (document.source, document.title, document.language, document.date, document.sha256, document.path,
             document.text, len(chunks), time.time()),
        )
        conn.executemany(
            'INSERT INTO chunks (id, source, ordinal, start, "end", text, language) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [(c.id, c.source, c.ordinal, c.start, c.end, c.text, c.language) for c in chunks],
        )
        texts = [[c.text[s - c.start : e - c.start] for s, e in c.sentences] for c in chunks]
        store.add(chunks, [embedder.embed_passages(t) for t in texts])
    conn.execute("INSERT INTO meta VALUES ('generation', ?)", (str(len(documents)),))
    conn.execute("INSERT INTO meta VALUES (?, ?)", (FORMAT_KEY, INDEX_FORMAT))
    conn.commit()
    conn.close()
