"""The assistant's retrieval as a llama-index retriever, for llama-index query engines and agents.

``Assistant.as_retriever()`` returns a ``PassageRetriever``: a ``BaseRetriever`` around a retrieve callable
(question -> ``Passage``s, best first), so it needs no assistant of its own. Its nodes are our passages: the chunk
text, its score from the hybrid retrieval, and metadata that cites it (``source``, ``start``, ``end``
into the document text, ``language``). Plug it into ``RetrieverQueryEngine`` or any llama-index
component that takes a retriever. llama-index is imported only here and on the write path, so ``rag
ask`` does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.values import Passage


class PassageRetriever(BaseRetriever):
    """``retrieve(question)`` -> the passages of ``passages(question)`` as ``NodeWithScore`` (node id = chunk id)."""

    def __init__(self, passages: Callable[[str], list[Passage]]):
        super().__init__()
        self._passages = passages

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self._passages(query_bundle.query_str)
        keys = ["source", "start", "end", "language"]
        return [
            NodeWithScore(
                node=TextNode(
                    id_=p.chunk_id, text=p.text,
                    metadata={"source": p.source, "start": p.start, "end": p.end, "language": p.language},
                    excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=["start", "end", "language"],
                ),
                score=p.score,
            )
            for p in passages
        ]
