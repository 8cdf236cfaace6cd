"""The read path, one stage after another, in one place:

    question -> retrieval -> copies -> evidence -> reading -> answer -> verification -> Answer

| stage          | class (module)                            | in -> out                                       |
|----------------|-------------------------------------------|-------------------------------------------------|
| question       | ``QuestionAnalysis`` (question.py)        | question, history -> ``Query``                  |
| retrieval      | ``Retriever`` (retrieval.py)              | ``Query`` -> ``Passage``s, best first           |
| copies         | ``CopyFilter`` (duplicates.py)            | ``Passage``s -> the same without cross-file copies |
| evidence       | ``EvidenceRanking`` (evidence.py)         | ``Query``, ``Passage``s -> ``Evidence`` sentences |
| reading        | ``EvidenceReader`` (reader/rerank.py)     | ``Evidence`` -> ``Reading`` (only with RAG_READER=on) |
| answer         | ``ExtractiveAnswerer`` (extractive.py)    | ``Evidence`` (+ ``Reading``) -> ``Answer``      |
|                | ``LLMAnswerer`` (generation.py)           | ``Query``, ``Passage``s -> ``Draft``s (with an LLM) |
| verification   | ``Verification`` (verification.py)        | ``Draft`` -> ``Claim`` citing what supports it  |

Every stage is built from settings (and the shared store, catalog, embedder and sentence cache), loads
nothing until ``warm_up()`` or its first ``run()``, and passes typed values on. ``Assistant`` (assistant.py) is
the facade over this pipeline; the CLI, the UI, the evals, the benchmarks and the calibration all go through it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from index.catalog import Catalog
from index.embedding import Embedder
from index.errors import BackendError
from index.store import VectorStore
from rag.citations import CitationChecker
from rag.duplicates import CopyFilter, with_copies
from rag.evidence import EvidenceRanking
from rag.extractive import ExtractiveAnswerer, abstention
from rag.generation import LLMAnswerer
from rag.question import QuestionAnalysis
from rag.reader.reader import AnswerReader
from rag.reader.rerank import EvidenceReader
from rag.retrieval import Retriever
from rag.sentence_cache import SentenceVectors
from rag.settings import Settings
from rag.values import Answer, AnswerChunk, Claim, Passage
from rag.verification import CitationBook, Verification, quotes_hold


class Pipeline:
    """The read path's stages, wired once per assistant."""

    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder):
        self.settings = settings
        self._catalog = catalog
        self.sentences = SentenceVectors(embedder, store)
        self.question = QuestionAnalysis(settings, catalog, embedder)
        self.retrieval = Retriever(settings, catalog, store, self.sentences)
        self.copies = CopyFilter()
        self.evidence = EvidenceRanking(settings, settings.keyword_weight, self.sentences)
        # The reader loads its model on its first question (or warm_up), so cold start stays fast.
        self.reading = EvidenceReader(AnswerReader(settings.reader_threads)) if settings.reader == "on" else None
        self.extractive = ExtractiveAnswerer()
        self.llm = LLMAnswerer(settings) if settings.llm_enabled else None
        self.verification = Verification(CitationChecker(embedder, self.sentences))
        self.verified_llm = VerifiedLLM(self.llm, self.verification) if self.llm is not None else None

    def stages(self) -> list:
        """The stages in the order a question goes through them (the LLM and the reader when configured)."""
        return [s for s in (self.question, self.retrieval, self.copies, self.evidence, self.reading,
                            self.extractive, self.llm, self.verification) if s is not None]

    def warm_up(self) -> None:
        """Load every model and connection now instead of on the first question."""
        for stage in self.stages():
            stage.warm_up()

    def retrieve(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
                 mode: str | None = None, sources: list[str] | None = None) -> list[Passage]:
        """The question and retrieval stages alone (no LLM rewrite, no copy filter): what evals rank."""
        return self.retrieval.run(self.question.run(question, history, sources=sources), k=top_k, mode=mode)

    def run(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
            mode: str | None = None, use_llm: bool | None = None,
            sources: list[str] | None = None) -> Iterator[AnswerChunk]:
        """Yield the answer as it is produced; the last piece carries the complete ``Answer``. ``sources``
        names the only documents to answer from (``QuestionAnalysis.documents``).

        ``Answer.timings`` (seconds): ``question_s`` (question analysis: embedding, keyword statistics, an LLM
        rewrite of a follow-up), ``retrieve_s`` (retrieval and the copy filter), ``evidence_s`` (evidence
        ranking), ``reader_s`` (the answer reader, when on), ``answer_s`` (the offline answer and its quote
        check), ``generate_s`` (the LLM's answer and its verification, with an LLM), ``total_s``.
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        use_llm = self.llm is not None if use_llm is None else (use_llm and self.llm is not None)
        query = self.question.run(question, history, rewriter=self.llm.rewrite if use_llm else None,
                                  sources=sources)
        timings["question_s"] = time.perf_counter() - t0
        t_stage = time.perf_counter()
        passages = self.copies.run(self.retrieval.run(query, k=top_k, mode=mode))
        timings["retrieve_s"] = time.perf_counter() - t_stage
        t_stage = time.perf_counter()
        evidence = self.evidence.run(query, passages)
        timings["evidence_s"] = time.perf_counter() - t_stage
        reading = None
        if self.reading is not None:
            t_stage = time.perf_counter()
            reading = self.reading.run(query.question, query.language, evidence, passages)
            timings["reader_s"] = time.perf_counter() - t_stage
        t_stage = time.perf_counter()
        titles = self._catalog.titles([p.source for p in passages])
        extractive = quotes_hold(self.extractive.run(query.question, query.language, evidence, passages, titles,
                                                     reading))
        timings["answer_s"] = time.perf_counter() - t_stage
        if not use_llm:
            for i, word in enumerate(extractive.text.split(" ")):
                yield AnswerChunk(word if i == 0 else " " + word)
            extractive.timings = {**timings, "total_s": time.perf_counter() - t0}
            yield AnswerChunk("", with_copies(extractive))
            return
        t_stage = time.perf_counter()
        answer = None
        for piece in self.verified_llm.run(query.question, query.language, passages, titles, extractive):
            answer = piece.answer or answer
            if piece.text:
                yield piece
        timings["generate_s"] = time.perf_counter() - t_stage
        answer.timings = {**timings, "total_s": time.perf_counter() - t0}
        yield AnswerChunk("", with_copies(answer))



class VerifiedLLM:
    """The LLM answer stage and verification, sentence by sentence: each sentence is shown once verification
    accepts it. If the endpoint fails, or no sentence survives, the offline answer is returned instead, with
    a notice saying why."""

    def __init__(self, llm: LLMAnswerer, verification: Verification):
        self.llm = llm
        self.verification = verification

    def run(self, question: str, language: str, passages: list[Passage], titles: dict[str, str],
            offline: Answer) -> Iterator[AnswerChunk]:
        book = CitationBook(titles)
        claims: list[Claim] = []
        not_found = False
        try:
            for draft in self.llm.run(question, language, passages):
                not_found = not_found or draft.not_found
                claim = self.verification.run(draft, passages, book)
                if claim is not None:
                    yield AnswerChunk(claim.render() if not claims else " " + claim.render(), claim=claim)
                    claims.append(claim)
        except BackendError as exc:
            if claims:
                yield AnswerChunk("", Answer(question=question, claims=claims, abstained=False,
                                             citations=book.citations, passages=passages, language=language,
                                             mode="llm", notice=f"{exc}; the answer may be incomplete."))
            else:
                yield _fallback(offline, f"{exc}; showing the offline answer instead.")
            return
        if not_found and not claims:
            answer = abstention(question, language, passages, offline.closest or offline.citations, mode="llm")
            yield AnswerChunk(answer.text, answer)
        elif not claims:
            yield _fallback(offline, "the LLM's answer had no claim its passages support; "
                            "showing the offline answer instead.")
        else:
            yield AnswerChunk("", Answer(question=question, claims=claims, abstained=False, citations=book.citations,
                                         passages=passages, language=language, mode="llm"))


def _fallback(extractive: Answer, notice: str) -> AnswerChunk:
    extractive.notice = notice
    extractive.mode = "extractive (fallback)"
    return AnswerChunk(extractive.text, extractive)
