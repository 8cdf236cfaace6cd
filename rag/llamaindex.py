"""The assistant's retrieval as a llama-index retriever, for llama-index query engines and agents.

``Assistant.as_retriever()`` returns a ``BaseRetriever`` whose nodes are our passages: the chunk
text, its score from the hybrid retrieval, and metadata that cites it (``source``, ``start``, ``end``
into the document text, ``language``). Plug it into ``RetrieverQueryEngine`` or any llama-index
component that takes a retriever. llama-index is imported only here and on the write path, so ``rag
ask`` does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

if TYPE_CHECKING:
    from rag.assistant import Assistant


class AssistantRetriever(BaseRetriever):
    """``retrieve(question)`` -> our top passages as ``NodeWithScore`` (node id = chunk id)."""

    def __init__(self, assistant: Assistant, top_k: int | None = None, mode: str | None = None):
        super().__init__()
        self._assistant = assistant
        self._top_k = top_k
        self._mode = mode

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self._assistant.retrieve(query_bundle.query_str, top_k=self._top_k, mode=self._mode)
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
