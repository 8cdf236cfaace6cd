"""The Python API: ``Assistant`` wires the write path (index/) and the read path (rag/) together.

    assistant = Assistant(data_dir="some/dir")
    assistant.add(["seeds/"])
    answer = assistant.ask("Who led the Meta delegation?")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from index.catalog import Catalog, DocumentInfo, tokenize
from index.embedding import make_embedder
from index.errors import InputError
from index.ingest import IngestReport, Ingestor, Progress
from index.language import detect_language
from index.locks import Waiting
from index.settings import Settings
from index.store import VectorStore
from rag.answers import Answer, AnswerChunk, Passage
from rag.duplicates import CopyFilter, with_copies
from rag.evidence import answer_type, rank_evidence
from rag.extractive import ExtractiveAnswerer
from rag.reader.reader import AnswerReader
from rag.reader.rerank import EvidenceReader
from rag.retrieval import KeywordScorer, Retriever
from rag.vectors import SentenceVectors


class Assistant:
    """Question answering over a document collection, with every claim cited."""

    def __init__(self, data_dir: str | Path | None = None, settings: Settings | None = None, **overrides):
        if settings is None:
            if data_dir is not None:
                overrides["data_dir"] = Path(data_dir)
            settings = Settings(**overrides)
        elif data_dir is not None or overrides:
            settings = settings.model_copy(update={**overrides, **({"data_dir": Path(data_dir)} if data_dir else {})})
        self.settings = settings
        self._catalog = Catalog(settings.catalog_path)
        # Read before opening the store, so a write in between makes the first question reopen it.
        self._generation = self._catalog.generation()
        self._store = VectorStore(settings)
        self._store.generation = self._generation
        self._sync_lock = threading.Lock()
        self._embedder = make_embedder(settings)
        self._ingestor = Ingestor(settings, self._catalog, self._store, self._embedder)
        self._sentences = SentenceVectors(self._embedder, self._store)
        self._retriever = Retriever(settings, self._catalog, self._store, self._embedder, self._sentences)
        self._extractive = ExtractiveAnswerer()
        self._copies = CopyFilter()
        # The reader loads its model on its first question (or EvidenceReader.warm_up), so cold start stays fast.
        self._evidence_reader = EvidenceReader(AnswerReader(settings.reader_threads)) if settings.reader == "on" else None
        self._generator = None
        if settings.llm_enabled:
            from rag.generation import LLMAnswerer

            self._generator = LLMAnswerer(settings, self._sentences, self._embedder)

    # -- documents ----------------------------------------------------------------------------
    def add(self, paths: list[str | Path] | str | Path, progress: Progress | None = None,
            names: list[str] | None = None, waiting: Waiting | None = None) -> IngestReport:
        """Index files and folders; unchanged files are skipped, changed ones replaced. While another
        process indexes into the same data directory this waits for it, after calling ``waiting(pid)``
        (default: a "waiting for another indexing process" line on stderr)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self._ingestor.run(list(paths), progress=progress, names=names, waiting=waiting)

    def remove(self, source: str, waiting: Waiting | None = None) -> bool:
        """Delete a document (by file name) from every index; False if it was not there."""
        return self._ingestor.remove(source, waiting=waiting)

    def documents(self) -> list[DocumentInfo]:
        return self._catalog.documents()

    def document_text(self, source: str) -> str | None:
        return self._catalog.document_text(source)

    # -- questions ----------------------------------------------------------------------------
    def retrieve(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
                 mode: str | None = None) -> list[Passage]:
        """The passages ``ask`` would answer from, without answering (for evals and benchmarks)."""
        question = self._validate(question)
        self._sync()
        return self._retriever.run(question, k=top_k, mode=mode, context=_context(history))

    def as_retriever(self, top_k: int | None = None, mode: str | None = None):
        """This retrieval as a llama-index ``BaseRetriever`` (see ``rag/llamaindex.py``)."""
        from rag.llamaindex import AssistantRetriever

        return AssistantRetriever(self, top_k=top_k, mode=mode)

    def ask(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
            mode: str | None = None, use_llm: bool | None = None) -> Answer:
        """Answer ``question``; ``history`` is the user's earlier questions, most recent last."""
        answer = None
        for piece in self.stream(question, history, top_k=top_k, mode=mode, use_llm=use_llm):
            answer = piece.answer or answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
               mode: str | None = None, use_llm: bool | None = None) -> Iterator[AnswerChunk]:
        """Yield the answer as it is produced; the last piece carries the complete ``Answer``."""
        question = self._validate(question)
        self._sync()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        language = detect_language(question)
        if language == "und" and history:
            language = detect_language(" ".join(history[-1:] + [question]))
        context = _context(history)
        use_llm = self._generator is not None if use_llm is None else (use_llm and self._generator is not None)
        if use_llm and context:
            question_for_retrieval = self._generator.rewrite(question, context)
            context = []
        else:
            question_for_retrieval = question
        query_vector = self._retriever.query_vector(question_for_retrieval, context)
        passages = self._retriever.run(question_for_retrieval, k=top_k, mode=mode, context=context,
                                       query_vector=query_vector)
        passages = self._copies.run(passages)  # the same text in two files is cited once
        timings["retrieve_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        keywords = KeywordScorer(self._catalog, tokenize(question_for_retrieval))
        evidence = rank_evidence(query_vector, passages[:3], keywords, self._sentences,
                                 self.settings.keyword_weight, answer_type(question, language),
                                 self.settings.answer_type_bonus)
        titles = self._catalog.titles([p.source for p in passages])
        reading = None
        if self._evidence_reader is not None:
            t_read = time.perf_counter()
            reading = self._evidence_reader.run(question, language, evidence, passages)
            timings["reader_s"] = time.perf_counter() - t_read
        extractive = self._extractive.run(question, language, evidence, passages, titles, reading)
        timings["evidence_s"] = time.perf_counter() - t1
        if not use_llm:
            yield from _stream_text(extractive)
            extractive.timings = {**timings, "total_s": time.perf_counter() - t0}
            yield AnswerChunk("", with_copies(extractive))
            return
        t2 = time.perf_counter()
        answer = None
        for piece in self._generator.stream(question, language, passages, titles, extractive):
            answer = piece.answer or answer
            if piece.text:
                yield AnswerChunk(piece.text)
        timings["generate_s"] = time.perf_counter() - t2
        answer.timings = {**timings, "total_s": time.perf_counter() - t0}
        yield AnswerChunk("", with_copies(answer))

    def status(self) -> dict:
        """What the assistant runs on: answer mode, model, vector store, counts."""
        return {
            "mode": f"llm ({self.settings.llm_model} at {self.settings.llm_base_url or 'api.openai.com'})"
            if self._generator else "offline extractive",
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
        ``token_set``'s cache maps a text to its tokens and can never be stale, so it is kept.
        """
        generation = self._catalog.generation()
        if generation == self._generation:
            return
        with self._sync_lock:
            if generation == self._generation:
                return
            if generation != self._store.generation:  # else this process's own ingest is the writer
                self._store.reopen(generation)
            self._sentences.clear()
            self._generation = generation

    def _validate(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty; type a question")
        question = question.strip()
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)"
            )
        if not any(ch.isalnum() for ch in question):
            raise InputError("the question has no words; type a question")
        return question


def _context(history: list[str] | None) -> list[str]:
    return [h for h in (history or []) if isinstance(h, str) and h.strip()][-2:]


def _stream_text(answer: Answer) -> Iterator[AnswerChunk]:
    for i, word in enumerate(answer.text.split(" ")):
        yield AnswerChunk(word if i == 0 else " " + word)
