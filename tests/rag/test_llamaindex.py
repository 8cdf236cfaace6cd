"""rag/llamaindex.py: the assistant's retrieval used through llama-index's own retriever and query engine."""

from __future__ import annotations

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers.no_text import NoText

pytestmark = pytest.mark.slow

META = "002_260f1e49892e43cf.txt"


def test_retriever_returns_our_passages_as_citable_nodes(seeded_assistant):
    retriever = seeded_assistant.as_retriever(top_k=3)
    hits = retriever.retrieve("Who led the Meta delegation?")
    passages = seeded_assistant.retrieve("Who led the Meta delegation?", top_k=3)
    assert [h.node.node_id for h in hits] == [p.chunk_id for p in passages]
    assert [h.score for h in hits] == pytest.approx([p.score for p in passages])
    assert hits[0].node.metadata["source"] == META
    assert any("Rafael Frankel" in h.node.get_content() for h in hits)
    for hit in hits:  # every node cites its exact span of the document
        text = seeded_assistant.document_text(hit.node.metadata["source"])
        assert text[hit.node.metadata["start"] : hit.node.metadata["end"]] == hit.node.get_content()


def test_a_llama_index_query_engine_runs_on_it(seeded_assistant):
    # ``NoText``: the engine retrieves and returns its source nodes without calling any LLM.
    engine = RetrieverQueryEngine(seeded_assistant.as_retriever(mode="dense"), response_synthesizer=NoText(llm=MockLLM()))
    response = engine.query("Combien d'internautes compte le Cambodge ?")
    sources = [n.node.metadata["source"] for n in response.source_nodes]
    assert len(sources) == seeded_assistant.settings.top_k
    assert not response.response  # nothing was generated
    assert any("12 millions" in n.node.get_content() or "12 triệu" in n.node.get_content() for n in response.source_nodes)


def test_the_retriever_needs_only_a_retrieve_callable():
    from rag.llamaindex import PassageRetriever
    from rag.values import Passage

    passage = Passage(chunk_id="c1", source="a.txt", start=4, end=9, text="Hanoi", language="vi", score=0.7)
    asked = []
    retriever = PassageRetriever(lambda question: asked.append(question) or [passage])
    [hit] = retriever.retrieve("Where?")
    assert asked == ["Where?"]
    assert (hit.node.node_id, hit.node.get_content(), hit.score) == ("c1", "Hanoi", pytest.approx(0.7))
    assert hit.node.metadata == {"source": "a.txt", "start": 4, "end": 9, "language": "vi"}
