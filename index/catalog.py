"""The catalog: documents, their chunks and the keyword (BM25) index, in one SQLite file.

Chroma holds the vectors; this file is the source of truth for what is indexed. A document is
written here as ``pending`` before its vectors go to Chroma and flipped to ``ready`` after, so a crash
in between leaves a marker that ``Ingestor`` repairs on the next run. Readers only see ``ready``
documents. Every change to what readers see bumps ``generation`` (in the ``meta`` table, in the same
transaction), so a process that caches anything about the index (Chroma's in-memory HNSW above all)
learns from one read that another process changed it. A document's id never changes; the name users see
is computed from every document's ``locator`` when asked (``shown_names``), so it grows from ``notes.md``
to ``teamA/notes.md`` when a second ``notes.md`` arrives. The keyword side is SQLite's FTS5 (incremental, on disk, BM25 ranking), so it grows with
the collection without being rebuilt or held in memory. It has two indexes: ``chunks_fts`` keeps every
diacritic (Vietnamese tone marks tell ``bàn`` from ``bán`` and ``bạn``), ``chunks_folded`` holds the same text
with diacritics folded (``fold``: ``Hạ Long`` -> ``ha long``, ``đ`` -> ``d``), so that text typed without
accents is found too; callers weigh its matches below exact ones.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.documents import Chunk, Document
from index.errors import InputError

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Letters that are not a base letter plus combining marks, so NFD leaves them whole.
_UNMARKED = str.maketrans({"đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})

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
    added_at REAL NOT NULL,
    name TEXT,
    locator TEXT
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

# The folded keyword index, created (and filled from the chunks already indexed) by ``_add_folded_index``.
# Contentless: the folded text is only tokenized, never stored. ``fold`` is this module's, registered on every
# connection (a connection without it cannot write chunks: it fails, rather than leave the index stale).
_FOLDED = [
    "CREATE VIRTUAL TABLE chunks_folded USING fts5(text, content='', tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE chunks_folded_vocab USING fts5vocab(chunks_folded, 'row')",
    "CREATE TRIGGER chunks_folded_ai AFTER INSERT ON chunks BEGIN "
    "INSERT INTO chunks_folded(rowid, text) VALUES (new.rowid, fold(new.text)); END",
    "CREATE TRIGGER chunks_folded_ad AFTER DELETE ON chunks BEGIN "
    "INSERT INTO chunks_folded(chunks_folded, rowid, text) VALUES ('delete', old.rowid, fold(old.text)); END",
    "INSERT INTO chunks_folded(rowid, text) SELECT rowid, fold(text) FROM chunks",
]

# After ``_migrate``: a catalog written before documents had a name and locator has these columns only then.
_NAME_INDEXES = """
CREATE INDEX IF NOT EXISTS documents_name ON documents(name);
CREATE INDEX IF NOT EXISTS documents_locator ON documents(locator);
"""

_BUMP = ("INSERT INTO meta VALUES ('generation', '1') "
         "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)")


@dataclass(frozen=True)
class DocumentInfo:
    """What ``documents()`` lists: a document's metadata without its text."""

    source: str
    """The name users see, as citations show it (see ``shown_names``)."""
    title: str
    language: str
    date: str | None
    sha256: str
    chunks: int
    chars: int
    added_at: float
    id: str
    """The document's id in the index, which never changes."""
    locator: str
    """Where it came from: a file's absolute path, or ``uploads/SHA/NAME`` for an upload (what names it for sure)."""


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, split the way the FTS5 ``unicode61`` tokenizer splits them."""
    return _TOKEN.findall(text.lower())


def fold(text: str) -> str:
    """``text`` without diacritics, as the folded keyword index holds it: ``Hạ Long`` -> ``Ha Long``,
    ``Đà Nẵng`` -> ``Da Nang``, ``élève`` -> ``eleve``, ``cœur`` -> ``coeur``."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).translate(_UNMARKED)


class Catalog:
    """Thread-safe access to the catalog file; every write is one transaction. The file (and its folder) is
    opened, created or migrated on first use, not when the catalog is made."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    @property
    def _conn(self) -> sqlite3.Connection:
        with self._lock:
            if self._connection is None:
                if self._closed:  # as sqlite3 says it of a connection closed after use
                    raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
                self._connection = self._open()
            return self._connection

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.create_function("fold", 1, _sql_fold, deterministic=True)
            conn.executescript(_SCHEMA)
            self._migrate(conn)
            conn.executescript(_NAME_INDEXES)
            self._add_folded_index(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Give documents indexed before names and ids were two things their name and locator.

        Their id was their file name, and stays so (Chroma's vectors are filed under it); their locator is
        the absolute path they were read from, so indexing that file again updates them, and another file
        of the same name is another document.
        """
        from index.loading import file_locator

        columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
        if "locator" in columns:
            return
        with _Transaction(conn):
            columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
            if "locator" in columns:  # another process migrated it meanwhile
                return
            conn.execute("ALTER TABLE documents ADD COLUMN name TEXT")
            conn.execute("ALTER TABLE documents ADD COLUMN locator TEXT")
            rows = conn.execute("SELECT source, path FROM documents").fetchall()
            conn.executemany(
                "UPDATE documents SET name = ?, locator = ? WHERE source = ?",
                [(source, file_locator(path) if path and Path(path).name == source else source, source)
                 for source, path in rows],
            )

    @staticmethod
    def _add_folded_index(conn: sqlite3.Connection) -> None:
        """Create the folded keyword index, filled from the chunks a catalog written before it already holds
        (SQL over the stored text: nothing is re-read or re-embedded)."""
        exists = "SELECT 1 FROM sqlite_master WHERE name = 'chunks_folded'"
        if conn.execute(exists).fetchone():
            return
        with _Transaction(conn):
            if conn.execute(exists).fetchone():  # another process added it meanwhile
                return
            for statement in _FOLDED:
                conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._closed = True

    # -- writes -------------------------------------------------------------------------------
    def stage(self, document: Document, chunks: list[Chunk]) -> int:
        """Replace any earlier version of the document with this one, marked ``pending``; the generation after."""
        with self._lock, self._transaction():
            self._conn.execute("DELETE FROM chunks WHERE source = ?", (document.source,))
            replaced = self._conn.execute("DELETE FROM documents WHERE source = ?", (document.source,)).rowcount
            generation = self._bump() if replaced else self._generation()
            self._conn.execute(
                "INSERT INTO documents (source, title, language, date, sha256, path, text, chunks, state, added_at, "
                "name, locator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    document.source, document.title, document.language, document.date, document.sha256,
                    document.path, document.text, len(chunks), time.time(), document.name,
                    document.locator or document.source,
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
                "SELECT source, text, title, language, sha256, date, path, locator FROM documents "
                "WHERE source = ? AND state = 'ready'", (source,)
            ).fetchone()
        return Document(*row) if row else None

    def located(self, locator: str) -> str | None:
        """The id of the document (in any state) that came from ``locator``, if any."""
        with self._lock:
            row = self._conn.execute("SELECT source FROM documents WHERE locator = ?", (locator,)).fetchone()
        return row[0] if row else None

    def with_text(self, name: str, sha256: str) -> str | None:
        """The id of a ready document with this file name and text (hash), if any."""
        with self._lock:
            row = self._conn.execute("SELECT source FROM documents WHERE name = ? AND sha256 = ? AND state = 'ready' "
                                     "ORDER BY added_at LIMIT 1", (name, sha256)).fetchone()
        return row[0] if row else None

    def new_id(self, name: str, locator: str) -> str:
        """An id no document has: the file name while it is free, else the name and a hash of the locator."""
        digest = hashlib.sha256(locator.encode("utf-8")).hexdigest()
        candidates = [name] + [f"{name}#{digest[:n]}" for n in range(8, len(digest) + 1, 4)]
        with self._lock:
            for candidate in candidates:
                if not self._conn.execute("SELECT 1 FROM documents WHERE source = ?", (candidate,)).fetchone():
                    return candidate
        raise AssertionError(f"{name}: every id taken")  # 15 ids, 14 of them hashes: never in practice

    def shown_names(self, sources: list[str] | set[str]) -> dict[str, str]:
        """The names users see for the given ids: each the shortest end of its locator that no other ready
        document's locator ends with (``notes.md``, or ``teamA/notes.md`` when there is a ``teamB/notes.md``)."""
        unique = sorted(set(sources))
        if not unique:
            return {}
        with self._lock:
            names = [r[0] for r in self._conn.execute(
                f"SELECT DISTINCT name FROM documents WHERE source IN ({','.join('?' * len(unique))})", unique)]
        shown = self._named(names)
        return {source: shown[source][0] for source in unique if source in shown}

    def resolve(self, ref: str) -> str | None:
        """The id of the document ``ref`` names: its locator or the path it was indexed from, the name users
        see (or enough of its path's end to tell it from the others of that name), or its id; None if none.
        A locator always names one document; an id that is also a file name two documents have does not.

        Raises ``InputError`` listing the candidates when ``ref`` fits several documents.
        """
        parts = [p for p in re.split(r"[\\/]", ref.strip()) if p not in ("", ".")]
        if not parts:
            return None
        if len(parts) > 1 or ref.startswith("~"):
            from index.loading import file_locator

            source = self.located(ref) or self.located(file_locator(ref))
            if source is not None:
                return source
        named = self._named([parts[-1]])
        exact = [source for source, (shown, _) in named.items() if shown == ref]
        if exact:
            return exact[0]
        fits = [source for source, (_, locator) in named.items()
                if [p for p in locator.split("/") if p][-len(parts):] == parts]
        if len(fits) > 1:
            listed = ", ".join(sorted(named[s][0] for s in fits))
            raise InputError(f"{ref}: {len(fits)} indexed documents have this name ({listed}); "
                             "give one of these names, or the path the file was indexed from")
        if fits:
            return fits[0]
        with self._lock:
            row = self._conn.execute("SELECT source FROM documents WHERE source = ?", (ref,)).fetchone()
        return row[0] if row else None

    def _named(self, names: list[str]) -> dict[str, tuple[str, str]]:
        """``id -> (shown name, locator)`` of every ready document with one of these file names."""
        if not names:
            return {}
        with self._lock:
            rows = self._conn.execute(
                f"SELECT source, name, locator FROM documents WHERE state = 'ready' "
                f"AND name IN ({','.join('?' * len(names))})", names).fetchall()
        groups: dict[str, dict[str, str]] = {}
        for source, name, locator in rows:
            groups.setdefault(name, {})[source] = locator
        return {source: (shown, groups[name][source]) for name, group in groups.items()
                for source, shown in shortest_unique_ends(group).items()}

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
        """Every ready document, by the name users see."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT source, title, language, date, sha256, chunks, length(text), added_at, name, locator "
                "FROM documents WHERE state = 'ready'"
            ).fetchall()
        groups: dict[str, dict[str, str]] = {}
        for row in rows:
            groups.setdefault(row[8], {})[row[0]] = row[9]
        shown = {source: name for group in groups.values() for source, name in shortest_unique_ends(group).items()}
        return sorted((DocumentInfo(shown[row[0]], *row[1:8], row[0], row[9]) for row in rows),
                      key=lambda d: d.source)

    def document_text(self, source: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT text FROM documents WHERE source = ? AND state = 'ready'", (source,)
            ).fetchone()
        return row[0] if row else None

    def titles(self, shown: list[str]) -> dict[str, str]:
        """Titles of the given ready documents, by the names users see (``Passage.source``)."""
        wanted = set(shown)
        ids = {source: name for source, (name, _) in self._named(sorted({n.rsplit("/", 1)[-1] for n in wanted})).items()
               if name in wanted}
        if not ids:
            return {}
        with self._lock:
            rows = self._conn.execute(
                f"SELECT source, title FROM documents WHERE source IN ({','.join('?' * len(ids))})", list(ids)
            ).fetchall()
        return {ids[source]: title for source, title in rows}

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

    def keyword_search(self, tokens: list[str], limit: int, *, folded: bool = False,
                       sources: list[str] | tuple[str, ...] | None = None) -> list[tuple[str, float]]:
        """BM25 over ready chunks for any of ``tokens``: ``(chunk id, score)``, higher is better. ``folded``:
        in the folded index (give folded tokens, ``fold``); ``sources``: only in these documents (ids)."""
        terms = sorted(set(tokens))
        if not terms or sources is not None and not sources:
            return []
        table = "chunks_folded" if folded else "chunks_fts"
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        within = f"AND c.source IN ({','.join('?' * len(sources))}) " if sources else ""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT c.id, -bm25({table}) FROM {table} "
                f"JOIN chunks c ON c.rowid = {table}.rowid "
                "JOIN documents d ON d.source = c.source AND d.state = 'ready' "
                f"WHERE {table} MATCH ? {within}ORDER BY rank LIMIT ?",
                (match, *(sources or ()), limit),
            ).fetchall()
        return [(row[0], float(row[1])) for row in rows]

    def document_frequencies(self, tokens: list[str], *, folded: bool = False) -> tuple[dict[str, int], int]:
        """How many chunks contain each token (``folded``: each folded token, in the folded index), and how
        many chunks there are."""
        terms = sorted(set(tokens))
        vocabulary = "chunks_folded_vocab" if folded else "chunks_vocab"
        with self._lock:
            total = self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            if not terms:
                return {}, total
            rows = self._conn.execute(
                f"SELECT term, doc FROM {vocabulary} WHERE term IN ({','.join('?' * len(terms))})", terms
            ).fetchall()
        return dict(rows), total

    def _transaction(self):
        return _Transaction(self._conn)

    def _generation(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self) -> int:
        return self._conn.execute(_BUMP).fetchone()[0]


def shortest_unique_ends(locators: dict[str, str]) -> dict[str, str]:
    """``id -> shown name`` for documents of one file name, given ``id -> locator``: the fewest last parts
    of each locator that no other locator ends with; the id where none do (two locators, one the end of
    the other: a document indexed before locators were kept, without a path)."""
    split = {source: [p for p in locator.split("/") if p] for source, locator in locators.items()}
    shown = {}
    for source, parts in split.items():
        others = [other for s, other in split.items() if s != source]
        shown[source] = next(("/".join(parts[-k:]) for k in range(1, len(parts) + 1)
                              if all(other[-k:] != parts[-k:] for other in others)), source)
    return shown


_interrupted = threading.local()


def _sql_fold(text: str) -> str:
    """``fold`` as SQLite calls it (the folded index's triggers). A Ctrl-C that lands inside it reaches the caller
    as SQLite's "user-defined function raised exception"; it is noted so that ``_Transaction`` raises it as what
    it is (the CLI's exit 130, not a bug)."""
    try:
        return fold(text)
    except KeyboardInterrupt:
        _interrupted.pending = True
        raise


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def __enter__(self):
        _interrupted.pending = False
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        if getattr(_interrupted, "pending", False) and isinstance(exc, sqlite3.OperationalError):
            _interrupted.pending = False
            raise KeyboardInterrupt from exc
        return False
