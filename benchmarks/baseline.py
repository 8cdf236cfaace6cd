"""The baseline: a plain llama-index ``VectorStoreIndex`` over ``ChromaVectorStore``, same embedder.

Built the way llama-index's docs build one: ``VectorStoreIndex.from_documents`` with its default
transformations (``SentenceSplitter``), an embedded Chroma collection created with defaults, and
queried with ``index.as_retriever(similarity_top_k=5).retrieve(q)``. Only the embedder is ours
(``E5Embedding`` wraps the project's embedder, query and passage sides kept apart as e5 needs), and
``Settings.llm`` is ``None`` (llama-index's ``MockLLM``), so nothing ever reaches OpenAI.
"""

from __future__ import annotations

import time
from pathlib import Path

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import BaseEmbedding

from index.embedding import Embedder


class E5Embedding(BaseEmbedding):
    """llama-index embedding model over an ``index.embedding.Embedder`` (queries vs passages kept apart)."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs):
        super().__init__(model_name=embedder.name, embed_batch_size=64, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


class LlamaIndexBaseline:
    """``build`` files into a default ``VectorStoreIndex``; ``retrieve`` a question's top-5 sources."""

    def __init__(self, embedder: Embedder, chroma_dir: Path):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Settings

        Settings.llm = None  # llama-index's MockLLM: never OpenAI
        Settings.embed_model = E5Embedding(embedder)
        client = chromadb.PersistentClient(path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False))
        self._collection = client.get_or_create_collection("baseline")
        self._retriever = None
        self.nodes = 0

    def build(self, files: list[Path]) -> float:
        """Index ``files`` (file name kept as metadata, not embedded); returns the wall time in seconds."""
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        start = time.perf_counter()
        documents = [
            Document(text=f.read_text(encoding="utf-8"), metadata={"source": f.name},
                     excluded_embed_metadata_keys=["source"], excluded_llm_metadata_keys=["source"])
            for f in files
        ]
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=self._collection))
        index = VectorStoreIndex.from_documents(documents, storage_context=storage)
        self._retriever = index.as_retriever(similarity_top_k=5)
        elapsed = time.perf_counter() - start
        self.nodes = self._collection.count()
        return elapsed

    def retrieve(self, question: str) -> list[str]:
        """Sources of the top-5 nodes, best first."""
        return [hit.node.metadata["source"] for hit in self._retriever.retrieve(question)]
