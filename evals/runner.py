"""A ``Dataset`` and an ``Assistant`` in, a ``Run`` (one ``Outcome`` per question and mode) out.

Everything goes through the public API, as a user would: ``Assistant.add`` for the corpus (idempotent,
so a reused data dir embeds nothing twice), then ``Assistant.ask`` per question and retrieval mode.
The gold evidence is located in ``Assistant.document_text``, the text citations' offsets refer to.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from tqdm import tqdm

from evals.cases import Case, Dataset
from evals.metrics import CitedQuote, Outcome, Span, pair_name
from index.errors import RagError
from index.ingest import IngestProgress
from index.loading import file_locator, iter_files
from rag import Assistant

MODES = ("hybrid", "dense", "keyword")


class EvalError(RagError):
    """The eval cannot run or its result cannot be judged (corpus failed to index, baseline mismatch)."""


@dataclass
class Run:
    """The outcomes of one dataset and how they were produced."""

    dataset: str
    outcomes: list[Outcome]
    config: dict
    runtime_s: dict[str, float]
    notes: list[str] = field(default_factory=list)


def run(dataset: Dataset, assistant: Assistant, modes: tuple[str, ...] = MODES, top_k: int | None = None,
        use_llm: bool | None = None, retrieval_only: bool = False, quiet: bool = False) -> Run:
    """Index ``dataset.corpus`` and ask every case in every mode."""
    started = time.perf_counter()
    ingest = _ingest(dataset, assistant, quiet)
    ingest_s = time.perf_counter() - started
    languages = {d.source: d.language for d in assistant.documents()}
    notes: list[str] = []
    spans = {case.id: _gold_spans(case, assistant, notes) for case in dataset.cases}
    answer_modes: Counter[str] = Counter()
    notices: Counter[str] = Counter()
    outcomes: list[Outcome] = []
    asked = time.perf_counter()
    bar = tqdm(total=len(dataset.cases) * len(modes), desc=f"{dataset.name} questions", unit="q",
               file=sys.stderr, disable=quiet)
    for i, case in enumerate(dataset.cases):
        pair = pair_name(case.language, (languages.get(s, "?") for s in case.sources))
        # Rotating the mode order spreads the cold sentence-vector cache evenly over the modes' latencies.
        for mode in modes[i % len(modes):] + modes[: i % len(modes)]:
            t0 = time.perf_counter()
            answer = assistant.ask(case.question, top_k=top_k, mode=mode, use_llm=False if retrieval_only else use_llm)
            latency = time.perf_counter() - t0
            answer_modes[answer.mode] += 1
            if answer.notice:
                notices[answer.notice] += 1
            outcomes.append(Outcome(
                case_id=case.id, mode=mode, language=case.language, pair=pair, answerable=case.answerable,
                answers=case.answers, gold_sources=case.sources, gold_spans=spans[case.id],
                retrieved=tuple(p.source for p in answer.passages),
                answer_text=None if retrieval_only else answer.plain,
                abstained=None if retrieval_only else answer.abstained,
                citations=() if retrieval_only else tuple(
                    CitedQuote(c.source, c.start, c.end, c.quote) for c in answer.citations),
                latency_s=latency,
            ))
            bar.update()
    bar.close()
    notes += [f"{n} answers carried the notice: {text}" for text, n in notices.items()]
    status = assistant.status()
    config = {
        "dataset": dataset.name,
        "modes": list(modes),
        "top_k": top_k or assistant.settings.top_k,
        "llm": assistant.settings.llm_enabled and use_llm is not False and not retrieval_only,
        "retrieval_only": retrieval_only,
        "answer_modes": dict(answer_modes),
        "cases": len(dataset.cases),
        "documents": status["documents"],
        "chunks": status["chunks"],
        "embedder": status["embedder"],
        "answerer": status["mode"],
        "ingest": ingest,
    }
    finished = time.perf_counter()
    runtime = {"ingest": ingest_s, "questions": finished - asked, "total": finished - started}
    return Run(dataset.name, outcomes, config, {k: round(v, 2) for k, v in runtime.items()}, notes)


def _ingest(dataset: Dataset, assistant: Assistant, quiet: bool) -> str:
    """Add the corpus (unchanged files are skipped) and drop documents that are no longer part of it."""
    bar = tqdm(desc=f"{dataset.name} corpus", unit="file", file=sys.stderr, disable=quiet)

    def progress(p: IngestProgress) -> None:
        bar.total = p.files_total
        bar.n = p.files_done
        bar.refresh()

    try:
        report = assistant.add(list(dataset.corpus), progress=progress)
    finally:
        bar.close()
    if report.failed:
        failed = "; ".join(report.failed.values())  # each message starts with its file's name
        raise EvalError(f"{dataset.name}: {len(report.failed)} corpus files failed to index ({failed})")
    # By location: a document indexed from where the corpus used to be would otherwise share its names.
    wanted = {file_locator(path) for path in iter_files(list(dataset.corpus))}
    stale = [d.locator for d in assistant.documents() if d.locator not in wanted]
    for source in stale:
        assistant.remove(source)
    return report.summary() + (f", {len(stale)} stale removed" if stale else "")


def _gold_spans(case: Case, assistant: Assistant, notes: list[str]) -> tuple[Span, ...]:
    spans = []
    for ev in case.evidence:
        text = assistant.document_text(ev.source) or ""
        start = ev.start
        if start is None or text[start:start + len(ev.quote)] != ev.quote:
            start = text.find(ev.quote)
        if start < 0:
            notes.append(f"{case.id}: evidence not found in {ev.source}: {ev.quote[:60]!r}")
            continue
        spans.append(Span(ev.source, start, start + len(ev.quote)))
    return tuple(spans)
