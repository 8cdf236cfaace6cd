"""The catalog: documents, their chunks and the keyword (BM25) index, in one SQLite file.

Chroma holds the vectors; this file is the source of truth for what is indexed. A document is
written here as ``pending`` before its vectors go to Chroma and flipped to ``ready`` after, so a crash
in between leaves a marker that ``Ingestor`` repairs on the next run. Readers only see ``ready``
documents. Every change to what readers see bumps ``generation`` (in the ``meta`` table, in the same
transaction), so a process that caches anything about the index (Chroma's in-memory HNSW above all)
learns from one read that another process changed it. The keyword side is SQLite's FTS5 (incremental, on disk, BM25 ranking), so it grows with
the collection without being rebuilt or held in memory.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from index.documents import Chunk, Document

_TOKEN = re.compile(r"\w+", re.UNICODE)

_SCHEMA = """
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

_BUMP = ("INSERT INTO meta VALUES ('generation', '1') "
         "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)")


@dataclass(frozen=True)
class DocumentInfo:
    """What ``documents()`` lists: a document's metadata without its text."""

    source: str
    title: str
    language: str
    date: str | None
    sha256: str
    chunks: int
    chars: int
    added_at: float


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, split the way the FTS5 ``unicode61`` tokenizer splits them."""
    return _TOKEN.findall(text.lower())


class Catalog:
    """Thread-safe access to the catalog file; every write is one transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- writes -------------------------------------------------------------------------------
    def stage(self, document: Document, chunks: list[Chunk]) -> int:
        """Replace any earlier version of the document with this one, marked ``pending``; the generation after."""
        with self._lock, self._transaction():
            self._conn.execute("DELETE FROM chunks WHERE source = ?", (document.source,))
            replaced = self._conn.execute("DELETE FROM documents WHERE source = ?", (document.source,)).rowcount
            generation = self._bump() if replaced else self._generation()
            self._conn.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    document.source, document.title, document.language, document.date, document.sha256,
                    document.path, document.text, len(chunks), time.time(),
                ),
            )
            self._conn.executemany(
                'INSERT INTO chunks (id, source, ordinal, start, "end", text, language) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [(c.id, c.source, c.ordinal, c.start, c.end, c.text, c.language) for c in chunks],
            )
        return generation

    def set_state(self, source: str, state: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE documents SET state = ? WHERE source = ?", (state, source))

    def mark_ready(self, sources: list[str]) -> int:
        """Make the staged documents visible to readers, all at once; the generation after."""
        with self._lock, self._transaction():
            self._conn.executemany("UPDATE documents SET state = 'ready' WHERE source = ?", [(s,) for s in sources])
            return self._bump() if sources else self._generation()

    def delete(self, source: str) -> int:
        """Drop every row of a document; the generation after."""
        with self._lock, self._transaction():
            self._conn.execute("DELETE FROM chunks WHERE source = ?", (source,))
            self._conn.execute("DELETE FROM documents WHERE source = ?", (source,))
            return self._bump()

    def generation(self) -> int:
        """How many times what readers see has changed (0 for a new catalog): one indexed read."""
        with self._lock:
            return self._generation()

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the index itself (``meta`` table), e.g. ``index_format``."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reads --------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def stored_document(self, source: str) -> Document | None:
        """A ready document as it was indexed (its text and where it was read from)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT source, text, title, language, sha256, date, path FROM documents "
                "WHERE source = ? AND state = 'ready'", (source,)
            ).fetchone()
        return Document(*row) if row else None

    def state_of(self, source: str) -> tuple[str, str] | None:
        """``(state, sha256)`` of a document, or None when it is not in the catalog."""
        with self._lock:
            row = self._conn.execute("SELECT state, sha256 FROM documents WHERE source = ?", (source,)).fetchone()
        return (row[0], row[1]) if row else None

    def unfinished(self) -> list[tuple[str, str]]:
        """``(source, state)`` of documents an interrupted ingest or removal left behind."""
        with self._lock:
            return self._conn.execute("SELECT source, state FROM documents WHERE state != 'ready'").fetchall()

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT source, title, language, date, sha256, chunks, length(text), added_at "
                "FROM documents WHERE state = 'ready' ORDER BY source"
            ).fetchall()
        return [DocumentInfo(*row) for row in rows]

    def document_text(self, source: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT text FROM documents WHERE source = ? AND state = 'ready'", (source,)
            ).fetchone()
        return row[0] if row else None

    def titles(self, sources: list[str]) -> dict[str, str]:
        """Titles of the given ready documents, by source."""
        unique = sorted(set(sources))
        if not unique:
            return {}
        with self._lock:
            rows = self._conn.execute(
                f"SELECT source, title FROM documents WHERE state = 'ready' AND source IN ({','.join('?' * len(unique))})",
                unique,
            ).fetchall()
        return dict(rows)

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        """The ready chunks among ``ids``, keyed by id (ids of removed documents are left out)."""
        if not ids:
            return {}
        with self._lock:
            rows = self._conn.execute(
                f'SELECT c.id, c.source, c.ordinal, c.start, c."end", c.text, c.language FROM chunks c '
                f"JOIN documents d ON d.source = c.source AND d.state = 'ready' "
                f"WHERE c.id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        return {row[0]: Chunk(*row) for row in rows}

    def chunk_ids(self, source: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM chunks WHERE source = ?", (source,))]

    def count_chunks(self, ready_only: bool = True) -> int:
        sql = "SELECT count(*) FROM chunks"
        if ready_only:
            sql += " JOIN documents d USING (source) WHERE d.state = 'ready'"
        with self._lock:
            return self._conn.execute(sql).fetchone()[0]

    def keyword_search(self, tokens: list[str], limit: int) -> list[tuple[str, float]]:
        """BM25 over ready chunks for any of ``tokens``: ``(chunk id, score)``, higher is better."""
        terms = sorted(set(tokens))
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.id, -bm25(chunks_fts) FROM chunks_fts "
                "JOIN chunks c ON c.rowid = chunks_fts.rowid "
                "JOIN documents d ON d.source = c.source AND d.state = 'ready' "
                "WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                (match, limit),
            ).fetchall()
        return [(row[0], float(row[1])) for row in rows]

    def document_frequencies(self, tokens: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks contain each token, and how many chunks there are."""
        terms = sorted(set(tokens))
        with self._lock:
            total = self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            if not terms:
                return {}, total
            rows = self._conn.execute(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(terms))})", terms
            ).fetchall()
        return dict(rows), total

    def _transaction(self):
        return _Transaction(self._conn)

    def _generation(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self) -> int:
        return self._conn.execute(_BUMP).fetchone()[0]


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def __enter__(self):
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False
