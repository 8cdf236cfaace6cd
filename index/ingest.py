"""Paths in, an ``IngestReport`` out: load, chunk, embed and store each file, idempotently.

Unchanged files (same text hash) are skipped without embedding anything; a changed file replaces its
old chunks; ``remove`` deletes every trace. Files stream through, so a large folder never sits in
memory: documents are staged until they hold ``embed_batch`` chunks between them, then their sentences
are embedded together and written to Chroma in one call (small documents would otherwise pay an
embedding call and two Chroma writes each, ~40% on top of the embedding itself). Each document is
written to the catalog as ``pending`` first and marked ``ready`` once its vectors are in Chroma, so a
crash leaves nothing half-visible and the next run (or ``repair``) finishes the job. When someone
watches (a ``progress`` callback), the chunks to embed are counted first, by a quick read of every file,
so that progress is measured in the slow part: chunks embedded.

One writer at a time per data directory: ``run``, ``remove`` and ``repair`` hold ``ingest.lock`` (an OS
lock, see index/locks.py) from start to end, in any process or thread; a second writer waits for the
first, after telling ``waiting`` (by default a line on stderr) the pid it waits for. So whatever is
unfinished when a writer starts was left by one that died, and repairing it deletes nobody's work.
Readers never wait for writers.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import Catalog
from index.chunking import INDEX_FORMAT, chunk_document
from index.documents import Chunk, Document
from index.embedding import Embedder
from index.errors import InputError
from index.loading import iter_files, load_document
from index.locks import FileLock, Waiting
from index.settings import IndexSettings
from index.store import VectorStore


@dataclass
class IngestReport:
    """What one ``add`` call did, per document by the name users see (``failed``: by file name)."""

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
        """One line of counts; files that could not be indexed are "skipped", as their own lines say
        (``  skipped NAME: why``), and unchanged ones "unchanged"."""
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.skipped)} unchanged"]
        if self.failed:
            parts.append(f"{len(self.failed)} skipped")
        counts = ", ".join(parts) + f" ({counted(self.chunks_embedded, 'chunk')} embedded)"
        return f"{self.notice}\n{counts}" if self.notice else counts


def counted(n: int, noun: str) -> str:
    """``1 chunk``, ``2 chunks``: a count with its noun (regular plurals only)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class IngestProgress:
    """Where an ``add`` is. Embedding is the slow part (~8 chunks/s on 2 cores; reading runs at ~1,000
    files/s), so ``chunks_embedded`` of ``chunks_total`` measures the work; ``files_done`` were read."""

    chunks_embedded: int
    chunks_total: int
    files_done: int
    files_total: int
    current: str = ""
    """The file being read, or the last one read while its batch is embedded; empty at the end."""


Progress = Callable[[IngestProgress], None]
"""Called with an ``IngestProgress`` before each file is read, after each embedding call, and at the end."""


FORMAT_KEY = "index_format"
"""The catalog ``meta`` key holding the ``INDEX_FORMAT`` the index was built under."""


class Ingestor:
    """Write path stage: documents into the catalog (text + keywords) and Chroma (vectors)."""

    def __init__(self, settings: IndexSettings, catalog: Catalog, store: VectorStore, embedder: Embedder):
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._embedder = embedder
        self._lock = FileLock(settings.data_dir / "ingest.lock")
        self._held = threading.local()

    def run(self, paths: list[str | Path], progress: Progress | None = None, names: list[str] | None = None,
            waiting: Waiting | None = None) -> IngestReport:
        """Index files and folders; ``names`` are the file names of uploads (``paths`` their temporary copies).

        A file is one document, found again by its path: indexing it again updates it, and another file
        of the same name is another document, unless it has the same text (a copy). An upload is found
        again by its name and text."""
        with self._writer(waiting) as outermost:
            if outermost:  # else this thread's own run, which holds the lock, has staged the unfinished rows
                self._repair()
            return self._run(paths, progress, names)

    def _run(self, paths: list[str | Path], progress: Progress | None, names: list[str] | None) -> IngestReport:
        report = IngestReport()
        files = list(iter_files(paths)) if names is None else [Path(p) for p in paths]
        if names is not None and len(names) != len(files):
            raise InputError("names must match paths one to one")
        max_bytes = int(self._settings.max_file_mb * 1_000_000)
        staged: list[tuple[Document, list[Chunk]]] = []
        # Counted up front (reading is ~100x faster than embedding) so that the bar's rate and ETA are the
        # embedding's; only asked for when someone watches.
        total = self._chunks_to_embed(files, names, max_bytes) if progress else 0
        tracker = _Tracker(progress, len(files), total)
        self._upgrade(report, staged, tracker)
        # Whatever is still staged when a run is cut off stays pending for the next run's repair.
        for done, path in enumerate(files):
            name = names[done] if names is not None else path.name
            tracker.reading(done, _printable(name))
            try:
                document = self._identified(load_document(path, max_bytes=max_bytes,
                                                          source=names[done] if names is not None else None))
            except InputError as exc:
                report.failed[_failure_key(report, name, path)] = str(exc)
                continue
            source = document.source
            previous = self._catalog.state_of(source)
            # Staged earlier in this run: pending until its batch is written.
            unchanged = previous == ("ready", document.sha256) or (
                previous == ("pending", document.sha256) and any(d.source == source for d, _ in staged))
            if unchanged:
                report.skipped.append(source)
                continue
            chunks = chunk_document(document, self._settings.chunk_chars)
            if not chunks:
                report.failed[_failure_key(report, name, path)] = (
                    f"{document.name}: no sentences found; add some text with words, or leave the file out")
                continue
            self._stage(document, chunks, replaces=previous is not None)
            staged.append((document, chunks))
            report.chunks_embedded += len(chunks)
            tracker.staged(len(chunks))
            if sum(len(chunks) for _, chunks in staged) >= self._settings.embed_batch:
                self._write(staged, tracker.embedded)
            (report.updated if previous else report.added).append(source)
        tracker.reading(len(files), tracker.current)
        self._write(staged, tracker.embedded)
        tracker.reading(len(files), "")
        # The names users see, once every document of the run is in: a second notes.md changes the first's.
        shown = self._catalog.shown_names(report.added + report.updated + report.skipped + report.rechunked)
        for names_ in (report.added, report.updated, report.skipped, report.rechunked):
            names_[:] = [_printable(shown.get(source, source)) for source in names_]
        return report

    def _identified(self, document: Document) -> Document:
        """The document under its id: that of the document already indexed from its locator, else that of one
        with the same file name and text (the file uploaded again, or a copy of an indexed file: a moved or
        copied folder indexed again adds nothing), else a new one."""
        source = self._catalog.located(document.locator)
        if source is None:
            source = self._catalog.with_text(document.name, document.sha256)
        source = source or self._catalog.new_id(document.name, document.locator)
        return dataclasses.replace(document, source=source)

    def _upgrade(self, report: IngestReport, staged: list[tuple[Document, list[Chunk]]], tracker: _Tracker) -> None:
        """Re-chunk (and re-embed) every document indexed under other chunking rules than ``INDEX_FORMAT``;
        the progress bar counts their chunks with the files' (runs under the writer lock, like ``run``).

        The sentence spans stored with the vectors must be those the read path finds, so an index is
        never used with old spans: a document is re-read from its file when that still loads (a loader
        change counts too), else re-chunked from the text the catalog holds.
        """
        stored = self._catalog.meta(FORMAT_KEY)
        if stored == INDEX_FORMAT:
            return
        sources = [d.source for d in self._catalog.documents()]
        if not sources:
            self._catalog.set_meta(FORMAT_KEY, INDEX_FORMAT)
            return
        report.notice = (f"note: re-chunking {counted(len(sources), 'indexed document')}: the sentence rules changed "
                         f"(index format {stored or '1'} -> {INDEX_FORMAT}); this happens once")
        max_bytes = int(self._settings.max_file_mb * 1_000_000)
        for source in sources:
            tracker.reading(0, f"re-chunking {_printable(source)}")
            document = self._catalog.stored_document(source)
            if document is None:  # removed meanwhile
                continue
            if document.path and Path(document.path).is_file():
                try:
                    loaded = load_document(document.path, max_bytes=max_bytes, source=document.name)
                    document = dataclasses.replace(loaded, source=document.source, locator=document.locator)
                except InputError:
                    pass  # the file changed into something unreadable: keep the text indexed before
            chunks = chunk_document(document, self._settings.chunk_chars)
            if not chunks:
                continue
            self._stage(document, chunks, replaces=True)
            staged.append((document, chunks))
            report.rechunked.append(source)
            report.chunks_embedded += len(chunks)
            tracker.staged(len(chunks))
            if sum(len(c) for _, c in staged) >= self._settings.embed_batch:
                self._write(staged, tracker.embedded)
        self._write(staged, tracker.embedded)
        self._catalog.set_meta(FORMAT_KEY, INDEX_FORMAT)

    def remove(self, ref: str, waiting: Waiting | None = None) -> bool:
        """Delete a document from Chroma and the catalog; False when it was not indexed. ``ref`` is the
        path it was indexed from, the name users see or its id (``Catalog.resolve``: an ambiguous name is an
        ``InputError`` listing the candidates)."""
        with self._writer(waiting):
            source = self._catalog.resolve(ref)
            if source is None:
                return False
            self._catalog.set_state(source, "deleting")
            self._store.delete_source(source)
            self._store.generation = self._catalog.delete(source)
            return True

    def repair(self, waiting: Waiting | None = None) -> list[str]:
        """Finish what an interrupted ingest or removal left: drop pending and half-deleted documents."""
        with self._writer(waiting):
            return self._repair()

    @contextmanager
    def _writer(self, waiting: Waiting | None) -> Iterator[bool]:
        """Hold the data directory's writer lock, with a Chroma client that has every earlier writer's
        vectors (see ``VectorStore.reopen``: writing through a stale one would lose theirs). A thread
        that already holds it (a progress callback that removes a document) goes on; yields whether
        this is the outermost hold."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield False
            finally:
                self._held.depth -= 1
            return
        with self._lock.exclusive(waiting or _say_waiting):
            generation = self._catalog.generation()
            if generation != self._store.generation:
                self._store.reopen(generation)
            self._held.depth = 1
            try:
                yield True
            finally:
                self._held.depth = 0

    def _repair(self) -> list[str]:
        repaired = []
        for source, _state in self._catalog.unfinished():
            self._store.delete_source(source)
            self._store.generation = self._catalog.delete(source)
            repaired.append(source)
        return repaired

    def _stage(self, document: Document, chunks: list[Chunk], replaces: bool) -> None:
        """Put the document in the catalog as pending; a new version of a document drops its old vectors."""
        self._store.generation = self._catalog.stage(document, chunks)
        if replaces:
            # A source the catalog never had has no vectors: staging comes before any vector write.
            self._store.delete_source(document.source)

    def _chunks_to_embed(self, files: list[Path], names: list[str] | None, max_bytes: int) -> int:
        """How many chunks ``run`` will embed for ``files``: unreadable and unchanged files count none."""
        total = 0
        for i, path in enumerate(files):
            try:
                document = load_document(path, max_bytes=max_bytes, source=names[i] if names is not None else None)
            except InputError:
                continue
            source = self._catalog.located(document.locator)
            if source is None and names is not None:
                source = self._catalog.with_text(document.name, document.sha256)
            if source is None or self._catalog.state_of(source) != ("ready", document.sha256):
                total += len(chunk_document(document, self._settings.chunk_chars))
        return total

    def _write(self, staged: list[tuple[Document, list[Chunk]]],
               embedded: Callable[[int], None] = lambda chunks: None) -> None:
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
            embedded(len(part))
            offset = 0
            for chunk in part:
                per_chunk.append(vectors[offset : offset + len(chunk.sentences)])
                offset += len(chunk.sentences)
        if chunks:
            self._store.add(chunks, per_chunk)
        # This writer's client has just written them: its view stays current (no reopen).
        self._store.generation = self._catalog.mark_ready([d.source for d, _ in live])
        staged.clear()


class _Tracker:
    """What a run has read, staged and embedded so far, told to ``progress`` (when there is one)."""

    def __init__(self, progress: Progress | None, files_total: int, chunks_total: int):
        self._progress, self._files_total, self._chunks_total = progress, files_total, chunks_total
        self._files_done, self._staged, self._embedded, self.current = 0, 0, 0, ""

    def reading(self, files_done: int, current: str) -> None:
        self._files_done, self.current = files_done, current
        self._tell()

    def staged(self, chunks: int) -> None:
        self._staged += chunks

    def embedded(self, chunks: int) -> None:
        self._embedded += chunks
        self._tell()

    def _tell(self) -> None:
        if self._progress:
            # The count made up front can fall short when a file changes on disk meanwhile.
            total = max(self._chunks_total, self._staged)
            self._progress(IngestProgress(self._embedded, total, self._files_done, self._files_total, self.current))


def _say_waiting(pid: int | None) -> None:
    print(f"waiting for another indexing process{f' (pid {pid})' if pid else ''}", file=sys.stderr, flush=True)


def _failure_key(report: IngestReport, name: str, path: Path) -> str:
    """The file's name, or its path when another file of that name failed already."""
    return _printable(name if name not in report.failed else str(path))


def _printable(name: str) -> str:
    """``name`` with control characters escaped, so showing a file name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)
