"""Paths in, an ``IngestReport`` out: load, chunk, embed and store each file, idempotently.

Unchanged files (same text hash) are skipped without embedding anything; a changed file replaces its
old chunks; ``remove`` deletes every trace. Files stream through one at a time, so a large folder
never sits in memory. Each document is written to the catalog as ``pending`` first and marked
``ready`` once its vectors are in Chroma, so a crash leaves nothing half-visible and the next run
(or ``repair``) finishes the job. Within a process one document is written or removed at a time;
readers never wait for that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import Catalog
from index.chunking import chunk_document
from index.embedding import Embedder
from index.errors import InputError, RagError
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

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.skipped)} unchanged"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts) + f" ({self.chunks_embedded} chunks embedded)"


Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, current_file)`` while ingesting."""


class Ingestor:
    """Write path stage: documents into the catalog (text + keywords) and Chroma (vectors)."""

    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder):
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._embedder = embedder
        # One document is written or removed at a time in this process: a second run's repair must not
        # delete the document a first run has staged but not finished (two uploads at once in the UI).
        self._lock = threading.Lock()

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
        for done, path in enumerate(files):
            source = names[done] if names is not None else path.name
            if progress:
                progress(done, len(files), _printable(source))
            try:
                document = load_document(path, max_bytes=max_bytes, source=source)
                source = document.source
            except InputError as exc:
                report.failed[_printable(source)] = str(exc)
                continue
            with self._lock:
                previous = self._catalog.state_of(source)
                if source in seen and previous != ("ready", document.sha256):
                    where = "" if names is not None else f" ({seen[source]}, not {path})"
                    report.failed[source] = (f"{source}: a different file with this name was already indexed in "
                                             f"this run{where}; file names are citation ids, so rename one of them")
                    continue
                seen.setdefault(source, path)
                if previous == ("ready", document.sha256):
                    report.skipped.append(source)
                    continue
                report.chunks_embedded += self._index(document)
            (report.updated if previous else report.added).append(source)
        if progress:
            progress(len(files), len(files), "")
        return report

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
            self._store.delete_source(source)
            self._catalog.delete(source)
            repaired.append(source)
        return repaired

    def _index(self, document) -> int:
        chunks = chunk_document(document, self._settings.chunk_chars)
        if not chunks:
            raise RagError(f"{document.source}: no sentences found")
        self._catalog.stage(document, chunks)
        self._store.delete_source(document.source)
        # Sentences are what gets embedded; a chunk's vector is the mean of its sentences' (store.py).
        batch = self._settings.embed_batch
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            texts = [document.text[s:e] for c in part for s, e in c.sentences]
            vectors = self._embedder.embed_passages(texts)
            per_chunk, offset = [], 0
            for chunk in part:
                per_chunk.append(vectors[offset : offset + len(chunk.sentences)])
                offset += len(chunk.sentences)
            self._store.add(part, per_chunk)
        self._catalog.set_state(document.source, "ready")
        return len(chunks)


def _printable(name: str) -> str:
    """``name`` with control characters escaped, so showing a file name cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)
