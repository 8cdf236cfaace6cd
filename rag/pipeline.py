"""The read path, one stage after another, in one place:

    question -> retrieval -> copies -> evidence -> reading -> answer -> generate -> Answer

| stage      | class (module)                              | in -> out                                             |
|------------|---------------------------------------------|-------------------------------------------------------|
| question   | ``QuestionAnalysis`` (question.py)          | question, history -> ``Query``                        |
| retrieval  | ``Retriever`` (retrieval.py)                | ``Query`` -> ``Passage``s, best first                 |
| copies     | ``CopyFilter`` (duplicates.py)              | ``Passage``s -> the same without cross-file copies    |
| evidence   | ``EvidenceRanking`` (evidence.py)           | ``Query``, ``Passage``s -> ``Evidence`` sentences     |
| reading    | ``EvidenceReader`` (reader/rerank.py)       | ``Evidence`` -> ``Reading`` (skipped with RAG_READER=off) |
| answer     | ``ExtractiveAnswerer`` (extractive.py)      | ``Evidence`` (+ ``Reading``) -> ``Answer``, quotes checked |
| generate   | ``VerifiedLLM`` (below): ``LLMAnswerer`` (generation.py) then ``Verification`` (verification.py) | ``Query``, ``Passage``s -> ``Draft``s -> ``Claim``s citing what supports them -> ``Answer`` (with an LLM) |

``Pipeline.STAGES`` is this table; ``run`` calls each stage by its name through it, so a stage runs only in
this order (anything else raises), ``stages()`` lists what ``run`` calls, and every call is timed and shown
to the ``observers`` (``StageRun``: name, inputs, output, seconds) the same way: the hook evals and
benchmarks use to see inside a question instead of patching stages.

Every stage is built from settings (and the shared store, catalog, embedder and sentence cache), loads
nothing until ``warm_up()`` or its first ``run()``, and passes typed values on. ``Assistant`` (assistant.py) is
the facade over this pipeline; the CLI, the UI, the evals, the benchmarks and the calibration all go through it.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from index.catalog import Catalog
from index.embedding import Embedder
from index.errors import BackendError
from index.store import VectorStore
from rag.citations import CitationChecker
from rag.duplicates import CopyFilter
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
from rag.verification import CitationBook, Verification


@dataclass(frozen=True)
class StageRun:
    """One stage's call for one question, as observers see it: its inputs by parameter name, its output (for
    ``generate``, the final ``Answer``) and the seconds it took."""

    name: str
    inputs: dict[str, object]
    output: object
    seconds: float

    def summary(self) -> str:
        """One line for a log: ``retrieval 12.3 ms: query=Query, k=None, mode=None -> 5 Passage``."""
        inputs = ", ".join(f"{key}={_brief(value)}" for key, value in self.inputs.items())
        return f"{self.name} {self.seconds * 1000:.1f} ms: {inputs} -> {_brief(self.output)}"


Observer = Callable[[StageRun], None]


class Pipeline:
    """The read path's stages, wired once per assistant."""

    STAGES = (
        ("question", "question", "question_s"),
        ("retrieval", "retrieval", "retrieve_s"),
        ("copies", "copies", "retrieve_s"),
        ("evidence", "evidence", "evidence_s"),
        ("reading", "reading", "reader_s"),
        ("answer", "extractive", "answer_s"),
        ("generate", "verified_llm", "generate_s"),
    )
    """``(stage name, attribute holding the stage, the Answer.timings key its seconds add to)``, in run order."""

    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder,
                 sentences: SentenceVectors | None = None):
        self.settings = settings
        self.catalog, self.store, self.embedder = catalog, store, embedder
        self.sentences = SentenceVectors(embedder, store) if sentences is None else sentences
        self.question = QuestionAnalysis(settings, catalog, embedder)
        self.retrieval = Retriever(settings, catalog, store, self.sentences)
        self.copies = CopyFilter(settings)
        self.evidence = EvidenceRanking(settings, self.sentences)
        # The reader loads its model on its first question (or warm_up), so cold start stays fast.
        self.reading = EvidenceReader(AnswerReader(settings.reader_threads)) if settings.reader == "on" else None
        self.extractive = ExtractiveAnswerer(settings)
        self.llm = LLMAnswerer(settings) if settings.llm_enabled else None
        self.verification = Verification(CitationChecker(embedder, self.sentences, settings))
        self.verified_llm = VerifiedLLM(self.llm, self.verification) if self.llm is not None else None
        self.observers: list[Observer] = []
        """Called with every ``StageRun`` of every question this pipeline answers, in the thread that asks it."""

    def with_settings(self, **update) -> Pipeline:
        """The same read path with some settings changed (``keyword_weight=0.08``), sharing this one's catalog,
        store, embedder and sentence cache: how the calibration builds the stages it sweeps."""
        return Pipeline(self.settings.model_copy(update=update), self.catalog, self.store, self.embedder,
                        self.sentences)

    def stages(self) -> list:
        """The stages ``run`` calls, in its order (the reader and the LLM when configured)."""
        return [stage for _, attribute, _ in self.STAGES if (stage := getattr(self, attribute)) is not None]

    @contextmanager
    def observing(self, observer: Observer) -> Iterator[None]:
        """``observer`` sees every stage call of this pipeline while the ``with`` block runs (see ``StageRun``)."""
        self.observers.append(observer)
        try:
            yield
        finally:
            self.observers.remove(observer)

    def warm_up(self) -> None:
        """Load every model and connection now instead of on the first question."""
        for stage in self.stages():
            stage.warm_up()

    def retrieve(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
                 mode: str | None = None, sources: list[str] | None = None) -> list[Passage]:
        """The passages an answer is drawn from: the question (with an LLM, a follow-up rewritten as ``run`` does),
        retrieval and copy stages; what evals rank."""
        trace = _Trace(self)
        query = trace.run("question", question, history, rewriter=self.llm.rewrite if self.llm else None,
                          sources=sources)
        return trace.run("copies", trace.run("retrieval", query, k=top_k, mode=mode))

    def run(self, question: str, history: list[str] | None = None, *, top_k: int | None = None,
            mode: str | None = None, use_llm: bool | None = None,
            sources: list[str] | None = None) -> Iterator[AnswerChunk]:
        """Yield the answer as it is produced; the last piece carries the complete ``Answer``. ``sources``
        names the only documents to answer from (``QuestionAnalysis.documents``).

        ``Answer.timings`` (seconds, by ``STAGES``): ``question_s`` (question analysis: embedding, keyword
        statistics, an LLM rewrite of a follow-up), ``retrieve_s`` (retrieval and the copy filter), ``evidence_s``
        (evidence ranking), ``reader_s`` (the answer reader, when on), ``answer_s`` (the offline answer and its
        quote check), ``generate_s`` (the LLM's answer and its verification, with an LLM), ``total_s``.
        """
        trace = _Trace(self)
        use_llm = self.llm is not None if use_llm is None else (use_llm and self.llm is not None)
        query = trace.run("question", question, history, rewriter=self.llm.rewrite if use_llm else None,
                          sources=sources)
        passages = trace.run("copies", trace.run("retrieval", query, k=top_k, mode=mode))
        evidence = trace.run("evidence", query, passages)
        reading = None
        if self.reading is not None:
            reading = trace.run("reading", query.in_context, query.language, evidence, passages)
        titles = self.catalog.titles([p.source for p in passages])
        extractive = trace.run("answer", query.question, query.language, evidence, passages, titles, reading)
        if not use_llm:
            for i, word in enumerate(extractive.text.split(" ")):
                yield AnswerChunk(word if i == 0 else " " + word)
            yield AnswerChunk("", trace.timed(extractive))
            return
        answer = None
        for piece in trace.stream("generate", query.question, query.language, passages, titles, extractive):
            answer = piece.answer or answer
            if piece.text:
                yield piece
        yield AnswerChunk("", trace.timed(answer))


class _Trace:
    """One question's way through a pipeline's stages: each is called by its name in ``Pipeline.STAGES``, never
    before one that precedes it there; its seconds go to the timings and its ``StageRun`` to the observers."""

    def __init__(self, pipeline: Pipeline):
        self._pipeline = pipeline
        self._names = [name for name, _, _ in pipeline.STAGES]
        self._next = 0
        self._started = time.perf_counter()
        self.timings: dict[str, float] = {}

    def run(self, name: str, *args, **kwargs):
        stage = self._enter(name)
        started = time.perf_counter()
        output = stage.run(*args, **kwargs)
        self._leave(name, stage, args, kwargs, output, time.perf_counter() - started)
        return output

    def stream(self, name: str, *args) -> Iterator[AnswerChunk]:
        """A stage that yields ``AnswerChunk``s, timed until its last one (what the reader does between pieces
        included); observers see the final ``Answer`` as its output."""
        stage = self._enter(name)
        started = time.perf_counter()
        answer = None
        for piece in stage.run(*args):
            answer = piece.answer or answer
            yield piece
        self._leave(name, stage, args, {}, answer, time.perf_counter() - started)

    def timed(self, answer: Answer) -> Answer:
        """``answer`` with the timings of this question's stages and its total so far."""
        return dataclasses.replace(answer, timings={**self.timings, "total_s": time.perf_counter() - self._started})

    def _enter(self, name: str):
        index = self._names.index(name)
        if index < self._next:
            raise RuntimeError(f"stage {name!r} called after {self._names[self._next - 1]!r}: "
                               "out of the order Pipeline.STAGES documents")
        self._next = index + 1
        return getattr(self._pipeline, self._pipeline.STAGES[index][1])

    def _leave(self, name: str, stage, args: tuple, kwargs: dict, output, seconds: float) -> None:
        key = self._pipeline.STAGES[self._names.index(name)][2]
        self.timings[key] = self.timings.get(key, 0.0) + seconds
        observers = list(self._pipeline.observers)
        if observers:
            inputs = dict(inspect.signature(stage.run).bind(*args, **kwargs).arguments)
            record = StageRun(name, inputs, output, seconds)
            for observer in observers:
                observer(record)


def _brief(value) -> str:
    """A value in a few characters: ``5 Passage``, ``Query``, ``'Who led...'``, ``None``."""
    if isinstance(value, (list, tuple)):
        return f"{len(value)} {type(value[0]).__name__}" if value else "[]"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is None or isinstance(value, (int, float, bool)):
        return repr(value)
    return type(value).__name__


class VerifiedLLM:
    """The LLM answer stage and verification, sentence by sentence: each sentence is shown once verification
    accepts it. If the endpoint fails, or no sentence survives, the offline answer is returned instead, with
    a notice saying why."""

    def __init__(self, llm: LLMAnswerer, verification: Verification):
        self.llm = llm
        self.verification = verification

    def warm_up(self) -> None:
        self.llm.warm_up()
        self.verification.warm_up()

    def run(self, question: str, language: str, passages: list[Passage], titles: dict[str, str],
            offline: Answer) -> Iterator[AnswerChunk]:
        book = CitationBook(titles, passages)
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
    answer = dataclasses.replace(extractive, notice=notice, mode="extractive (fallback)")
    return AnswerChunk(answer.text, answer)
