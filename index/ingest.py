"""Paths in, an ``IngestReport`` out: load, chunk, embed and store each file, idempotently.

Unchanged files (same text hash) are skipped without embedding anything; a changed file replaces its
old chunks; ``remove`` deletes every trace. Files stream through, so a large folder never sits in
memory: documents are staged until they hold ``embed_batch`` chunks between them, then their sentences
are embedded together and written to Chroma in one call (small documents would otherwise pay an
embedding call and two Chroma writes each, ~40% on top of the embedding itself). Each document is
written to the catalog as ``pending`` first and marked ``ready`` once its vectors are in Chroma, so a
crash leaves nothing half-visible and the next run (or ``repair``) finishes the job. Within a process
one batch is written or one document removed at a time; readers never wait for that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import Catalog
from index.chunking import INDEX_FORMAT, chunk_document
from index.documents import Chunk, Document
from index.embedding import Embedder
from index.errors import InputError
from index.loading import iter_files, load_document
from index.settings import Settings
from index.store import VectorStore


@dataclass
class IngestReport:
    """What one ``add`` call did, per file name."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    chunks_embedded: int = 0
    rechunked: list[str] = field(default_factory=list)
    """Documents re-chunked because the index was built under other chunking rules (``INDEX_FORMAT``)."""
    notice: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.skipped)} unchanged"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        counts = ", ".join(parts) + f" ({self.chunks_embedded} chunks embedded)"
        return f"{self.notice}\n{counts}" if self.notice else counts


FORMAT_KEY = "index_format"
"""The catalog ``meta`` key holding the ``INDEX_FORMAT`` the index was built under."""

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, current_file)`` while ingesting."""


class Ingestor:
    """Write path stage: documents into the catalog (text + keywords) and Chroma (vectors)."""

    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder):
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._embedder = embedder
        # One batch is written or one document removed at a time in this process, and a run's repair
        # must not delete what another run has staged but not written yet (two uploads at once in the UI).
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()

    def run(self, paths: list[str | Path], progress: Progress | None = None, names: list[str] | None = None) -> IngestReport:
        """Index files and folders; ``names`` gives citation ids for single files (uploads keep their name)."""
        with self._lock:
            self._repair()
        report = IngestReport()
        files = list(iter_files(paths)) if names is None else [Path(p) for p in paths]
        if names is not None and len(names) != len(files):
            raise InputError("names must match paths one to one")
        max_bytes = int(self._settings.max_file_mb * 1_000_000)
        seen: dict[str, Path] = {}
        staged: list[tuple[Document, list[Chunk]]] = []
        try:
            offset = self._upgrade(report, staged, len(files), progress)
            for done, path in enumerate(files):
                source = names[done] if names is not None else path.name
                if progress:
                    progress(offset + done, offset + len(files), _printable(source))
                try:
                    document = load_document(path, max_bytes=max_bytes, source=source)
                    source = document.source
                except InputError as exc:
                    report.failed[_printable(source)] = str(exc)
                    continue
                with self._lock:
                    previous = self._catalog.state_of(source)
                    # Staged by this run or another one of this process: pending until its batch is written.
                    unchanged = previous == ("ready", document.sha256) or (
                        previous == ("pending", document.sha256) and source in self._in_flight)
                    if source in seen and not unchanged:
                        where = "" if names is not None else f" ({seen[source]}, not {path})"
                        report.failed[source] = (f"{source}: a different file with this name was already indexed "
                                                 f"in this run{where}; file names are citation ids, so rename one of them")
                        continue
                    seen.setdefault(source, path)
                    if unchanged:
                        report.skipped.append(source)
                        continue
                    chunks = chunk_document(document, self._settings.chunk_chars)
                    if not chunks:
                        report.failed[source] = f"{source}: no sentences found"
                        continue
                    self._stage(document, chunks, replaces=previous is not None)
                    staged.append((document, chunks))
                    report.chunks_embedded += len(chunks)
                    if sum(len(chunks) for _, chunks in staged) >= self._settings.embed_batch:
                        self._write(staged)
                (report.updated if previous else report.added).append(source)
            with self._lock:
                self._write(staged)
        finally:
            # Whatever is still staged was cut off: it stays pending for the next run's repair.
            with self._lock:
                self._in_flight.difference_update(d.source for d, _ in staged)
        if progress:
            progress(offset + len(files), offset + len(files), "")
        return report

    def _upgrade(self, report: IngestReport, staged: list[tuple[Document, list[Chunk]]], files: int,
                 progress: Progress | None) -> int:
        """Re-chunk (and re-embed) every document indexed under other chunking rules than ``INDEX_FORMAT``;
        returns how many there were, so the progress bar counts them before the ``files`` to add.

        The sentence spans stored with the vectors must be those the read path finds, so an index is
        never used with old spans: a document is re-read from its file when that still loads (a loader
        change counts too), else re-chunked from the text the catalog holds.
        """
        with self._lock:
            stored = self._catalog.meta(FORMAT_KEY)
            if stored == INDEX_FORMAT:
                return 0
            sources = [d.source for d in self._catalog.documents()]
            if not sources:
                self._catalog.set_meta(FORMAT_KEY, INDEX_FORMAT)
                return 0
        report.notice = (f"note: re-chunking {len(sources)} indexed document(s): the sentence rules changed "
                         f"(index format {stored or '1'} -> {INDEX_FORMAT}); this happens once")
        max_bytes = int(self._settings.max_file_mb * 1_000_000)
        for done, source in enumerate(sources):
            if progress:
                progress(done, len(sources) + files, f"re-chunking {_printable(source)}")
            with self._lock:
                document = self._catalog.stored_document(source)
                if document is None:  # removed meanwhile
                    continue
                if document.path and Path(document.path).is_file():
                    try:
                        document = load_document(document.path, max_bytes=max_bytes, source=source)
                    except InputError:
                        pass  # the file changed into something unreadable: keep the text indexed before
                chunks = chunk_document(document, self._settings.chunk_chars)
                if not chunks:
                    continue
                self._stage(document, chunks, replaces=True)
                staged.append((document, chunks))
                report.rechunked.append(source)
                report.chunks_embedded += len(chunks)
                if sum(len(c) for _, c in staged) >= self._settings.embed_batch:
                    self._write(staged)
        with self._lock:
            self._write(staged)
            self._catalog.set_meta(FORMAT_KEY, INDEX_FORMAT)
        return len(sources)

    def remove(self, source: str) -> bool:
        """Delete a document from Chroma and the catalog; False when it was not indexed."""
        with self._lock:
            if self._catalog.state_of(source) is None:
                return False
            self._catalog.set_state(source, "deleting")
            self._store.delete_source(source)
            self._catalog.delete(source)
            return True

    def repair(self) -> list[str]:
        """Finish what an interrupted ingest or removal left: drop pending and half-deleted documents."""
        with self._lock:
            return self._repair()

    def _repair(self) -> list[str]:
        repaired = []
        for source, _state in self._catalog.unfinished():
            if source in self._in_flight:
                continue
            self._store.delete_source(source)
            self._catalog.delete(source)
            repaired.append(source)
        return repaired

    def _stage(self, document: Document, chunks: list[Chunk], replaces: bool) -> None:
        """Put the document in the catalog as pending; a new version of a document drops its old vectors."""
        self._catalog.stage(document, chunks)
        if replaces:
            # A source the catalog never had has no vectors: staging comes before any vector write.
            self._store.delete_source(document.source)
        self._in_flight.add(document.source)

    def _write(self, staged: list[tuple[Document, list[Chunk]]]) -> None:
        """Embed the staged documents' sentences, ``embed_batch`` chunks per call, write their vectors in
        one go and mark them ready. A document removed meanwhile (no longer pending) is left out."""
        live = [(d, c) for d, c in staged if self._catalog.state_of(d.source) == ("pending", d.sha256)]
        chunks = [c for _, document_chunks in live for c in document_chunks]
        # Sentences are what gets embedded; a chunk's vector is the mean of its sentences' (store.py).
        per_chunk = []
        batch = self._settings.embed_batch
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            texts = [c.text[s - c.start : e - c.start] for c in part for s, e in c.sentences]
            vectors = self._embedder.embed_passages(texts)
            offset = 0
            for chunk in part:
                per_chunk.append(vectors[offset : offset + len(chunk.sentences)])
                offset += len(chunk.sentences)
        if chunks:
            self._store.add(chunks, per_chunk)
        for document, _ in live:
            self._catalog.set_state(document.source, "ready")
        self._in_flight.difference_update(d.source for d, _ in staged)
        staged.clear()


def _printable(name: str) -> str:
    """``name`` with control characters escaped, so showing a file name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)
