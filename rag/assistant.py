"""The Python API: ``Assistant`` is the facade over the write path (index/) and the read path (``Pipeline``).

    assistant = Assistant(data_dir="some/dir")
    assistant.add(["seeds/"])
    answer = assistant.ask("Who led the Meta delegation?")
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from index.catalog import Catalog, DocumentInfo
from index.embedding import make_embedder
from index.ingest import IngestReport, Ingestor, Progress
from index.locks import Waiting
from index.store import VectorStore
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.values import Answer, AnswerChunk, Passage


class Assistant:
    """Question answering over a document collection, with every claim cited.

    Making one stores its settings and wires the stages; nothing is opened, created or loaded (the data
    directory, Chroma, the embedder's model) until ``warm_up()`` or the first call that needs it, which
    is also where a data directory that cannot be used is reported.
    """

    def __init__(self, data_dir: str | Path | None = None, settings: Settings | None = None, **overrides):
        if settings is None:
            if data_dir is not None:
                overrides["data_dir"] = Path(data_dir)
            settings = Settings(**overrides)
        elif data_dir is not None or overrides:
            settings = settings.model_copy(update={**overrides, **({"data_dir": Path(data_dir)} if data_dir else {})})
        self.settings = settings
        self._catalog = Catalog(settings.catalog_path)
        self._store = VectorStore(settings)
        self._generation: int | None = None
        """The catalog generation the sentence cache reflects; None until the first question reads it."""
        self._sync_lock = threading.Lock()
        self._embedder = make_embedder(settings)
        self._ingestor = Ingestor(settings, self._catalog, self._store, self._embedder)
        self.pipeline = Pipeline(settings, self._catalog, self._store, self._embedder)

    def warm_up(self) -> None:
        """Open the index and load the models now (embedder, and the answer reader when on) instead of on the
        first question."""
        self._sync()
        self.pipeline.warm_up()

    # -- documents ----------------------------------------------------------------------------
    def add(self, paths: list[str | Path] | str | Path, progress: Progress | None = None,
            names: list[str] | None = None, waiting: Waiting | None = None) -> IngestReport:
        """Index files and folders; unchanged files are skipped, changed ones replaced. While another
        process indexes into the same data directory this waits for it, after calling ``waiting(pid)``
        (default: a "waiting for another indexing process" line on stderr)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self._ingestor.run(list(paths), progress=progress, names=names, waiting=waiting)

    def remove(self, ref: str, waiting: Waiting | None = None) -> bool:
        """Delete a document from every index; False if it was not there. ``ref`` is the path it was indexed
        from, its name as citations show it, or its id; a name several documents have is an ``InputError``
        listing them."""
        return self._ingestor.remove(ref, waiting=waiting)

    def documents(self) -> list[DocumentInfo]:
        return self._catalog.documents()

    def document_text(self, ref: str) -> str | None:
        """The text of a document (named as ``remove`` takes it), or None when it is not indexed."""
        source = self._catalog.resolve(ref)
        return self._catalog.document_text(source) if source is not None else None

    # -- questions ----------------------------------------------------------------------------
    def retrieve(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
                 mode: str | None = None, sources: list[str] | None = None) -> list[Passage]:
        """The passages ``ask`` would answer from, without answering (for evals and benchmarks)."""
        self._sync()
        return self.pipeline.retrieve(question, history, top_k=top_k, mode=mode, sources=sources)

    def as_retriever(self, top_k: int | None = None, mode: str | None = None):
        """This retrieval as a llama-index ``BaseRetriever`` (see ``rag/llamaindex.py``)."""
        from rag.llamaindex import PassageRetriever  # llama-index is loaded only by those who ask for it

        return PassageRetriever(lambda question: self.retrieve(question, top_k=top_k, mode=mode))

    def ask(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
            mode: str | None = None, use_llm: bool | None = None, sources: list[str] | None = None) -> Answer:
        """Answer ``question``; ``history`` is the user's earlier questions, most recent last. ``sources``: answer
        from these documents only, each named as ``remove`` takes it (a name no document has is an
        ``InputError``); None or empty: from all."""
        answer = None
        for piece in self.stream(question, history, top_k=top_k, mode=mode, use_llm=use_llm, sources=sources):
            answer = piece.answer or answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
               mode: str | None = None, use_llm: bool | None = None,
               sources: list[str] | None = None) -> Iterator[AnswerChunk]:
        """Yield the answer as it is produced; the last piece carries the complete ``Answer`` (``sources``: as
        for ``ask``)."""
        self.pipeline.question.validate(question)  # before catching up with other processes' writes
        self._sync()
        yield from self.pipeline.run(question, history, top_k=top_k, mode=mode, use_llm=use_llm, sources=sources)

    def status(self) -> dict:
        """What the assistant runs on: answer mode, model, vector store, counts."""
        return {
            "mode": f"llm ({self.settings.llm_model} at {self.settings.llm_base_url or 'api.openai.com'})"
            if self.pipeline.llm else "offline extractive",
            "vector_store": self._store.location,
            "embedder": self._embedder.name,
            "documents": len(self.documents()),
            "chunks": self._catalog.count_chunks(),
            "top_k": self.settings.top_k,
        }

    def close(self) -> None:
        self._catalog.close()

    def _sync(self) -> None:
        """Catch up with other processes' writes to the data directory: one SQLite read per question.

        The catalog (SQLite, WAL) always shows the latest committed state, and so do the keyword
        statistics read from it. What this process holds in memory does not: Chroma's embedded index
        (reopened, see ``VectorStore.reopen``) and the sentence vectors read from it (a question that
        raced a writer may have cached vectors of a document's previous version under its new text).
        ``token_set``'s cache maps a text to its tokens and can never be stale, so it is kept. The first call
        reads the generation before the store opens (``reopen`` of a store not open yet only records it),
        so a write in between makes the next question reopen it.
        """
        generation = self._catalog.generation()
        if generation == self._generation:
            return
        with self._sync_lock:
            if generation == self._generation:
                return
            if generation != self._store.generation:  # else this process's own ingest is the writer
                self._store.reopen(generation)
            self.pipeline.sentences.clear()
            self._generation = generation
