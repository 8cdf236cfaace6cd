"""rag/question.py: a question and its conversation in, a typed ``Query`` out, over the seeded catalog."""

from __future__ import annotations

import numpy as np
import pytest

from index.catalog import Catalog
from index.embedding import make_embedder
from index.errors import InputError
from rag.question import QuestionAnalysis
from rag.settings import Settings
from rag.values import Query

pytestmark = pytest.mark.slow


class CountingCatalog:
    """The real catalog, counting the document-frequency reads a question costs."""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog
        self.reads = 0

    def document_frequencies(self, tokens, **options):
        self.reads += 1
        return self._catalog.document_frequencies(tokens, **options)

    def resolve(self, ref):
        return self._catalog.resolve(ref)


@pytest.fixture(scope="module")
def parts(seeded_dir):
    settings = Settings(data_dir=seeded_dir)
    catalog = Catalog(settings.catalog_path)
    yield settings, CountingCatalog(catalog), make_embedder(settings)
    catalog.close()


@pytest.fixture(scope="module")
def analysis(parts):
    settings, catalog, embedder = parts
    stage = QuestionAnalysis(settings, catalog, embedder)
    stage.warm_up()
    return stage


def test_a_question_becomes_a_typed_query(analysis, parts):
    reads = parts[1].reads
    query = analysis.run("  Who led the Meta delegation?  ")
    assert isinstance(query, Query)
    assert query.question == query.search == "Who led the Meta delegation?"
    assert query.language == "en" and query.expected == "person" and query.context == ()
    assert np.linalg.norm(query.vector) == pytest.approx(1.0, abs=1e-5)
    assert {"meta", "delegation"} <= set(query.retrieval_tokens)
    # Keyword statistics are read once (from the exact and the folded index) and shared by retrieval's and
    # evidence's scorers.
    assert parts[1].reads == reads + 2
    assert query.retrieval_keywords.idf == query.evidence_keywords.idf
    assert query.evidence_keywords.coverage("Rafael Frankel led the Meta delegation") > 0.5


@pytest.mark.parametrize(("question", "language", "expected"), [
    ("Ai dẫn đầu đoàn công tác của Meta?", "vi", "person"),
    ("Combien d'internautes au Cambodge ?", "fr", "number"),
    ("Khi nào diễn ra cuộc họp?", "vi", "date"),
    ("What did the ministry propose?", "en", None),
])
def test_language_and_the_kind_of_answer_asked_for(analysis, question, language, expected):
    query = analysis.run(question)
    assert (query.language, query.expected) == (language, expected)


def test_earlier_questions_pull_the_vector_and_add_keywords(analysis, parts):
    settings = parts[0]
    alone = analysis.run("How many use Facebook?")
    history = ["", "Ignored: more than history_turns back", "What about Laos?", "How many Internet users does Cambodia have?"]
    follow_up = analysis.run("How many use Facebook?", history)
    assert follow_up.context == tuple(history[-settings.history_turns:])
    assert np.linalg.norm(follow_up.vector) == pytest.approx(1.0, abs=1e-5)
    assert float(alone.vector @ follow_up.vector) < 0.999
    assert "cambodia" in follow_up.retrieval_tokens and "cambodia" not in follow_up.evidence_keywords.tokens
    # The weight of the conversation is the setting's: with weight 0 the vector is the question's own.
    unweighted = QuestionAnalysis(settings.model_copy(update={"history_weight": 0.0}), parts[1], parts[2])
    assert float(unweighted.run("How many use Facebook?", history).vector @ alone.vector) == pytest.approx(1.0, abs=1e-5)


def test_a_rewriter_makes_a_follow_up_standalone(analysis):
    calls = []

    def rewriter(question, context):
        calls.append((question, list(context)))
        return "How many people in Cambodia use Facebook?"

    query = analysis.run("And Facebook?", ["How many Internet users does Cambodia have?"], rewriter=rewriter)
    assert calls == [("And Facebook?", ["How many Internet users does Cambodia have?"])]
    assert query.question == "And Facebook?" and query.search == "How many people in Cambodia use Facebook?"
    assert query.context == () and "cambodia" in query.evidence_keywords.tokens
    assert analysis.run("And Facebook?", rewriter=rewriter).search == "And Facebook?"  # no conversation: no rewrite
    assert len(calls) == 1


@pytest.mark.parametrize("question", ["", "   ", "?!", "x" * 2001])
def test_questions_that_cannot_be_asked_are_refused(analysis, question):
    with pytest.raises(InputError):
        analysis.run(question)
