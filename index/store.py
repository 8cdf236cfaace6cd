"""Vectors in Chroma, through llama-index's ``ChromaVectorStore``: embedded or a Chroma server.

Chunks go in with their embeddings (Chroma never embeds anything itself: its default model would be
downloaded); queries come back as ``(chunk id, cosine similarity)``. The collection uses cosine space.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from index.documents import Chunk
from index.errors import BackendError
from index.settings import Settings


class VectorStore:
    """One Chroma collection of chunk vectors, keyed by chunk id, grouped by document source."""

    def __init__(self, settings: Settings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_host:
                self._client = chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
                self._client.heartbeat()
                self.location = f"chroma server http://{settings.chroma_host}:{settings.chroma_port}"
            else:
                settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
                self.location = f"embedded chroma at {settings.chroma_dir}"
            self._collection = self._client.get_or_create_collection(
                settings.collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        except Exception as exc:  # chromadb raises many unrelated types for one cause: it is unreachable
            raise BackendError(f"cannot open the vector store ({_describe(settings)}): {exc}") from None
        self._store = ChromaVectorStore(chroma_collection=self._collection)
        self._lock = threading.Lock()
        self.max_batch = self._client.get_max_batch_size()

    def add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            node = TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=vector.tolist(),
                metadata={"source": chunk.source, "ordinal": chunk.ordinal, "start": chunk.start, "end": chunk.end,
                          "language": chunk.language},
                excluded_embed_metadata_keys=["source", "ordinal", "start", "end", "language"],
                excluded_llm_metadata_keys=["ordinal", "start", "end"],
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.source)
            nodes.append(node)
        with self._guard("add vectors"):
            for i in range(0, len(nodes), self.max_batch):
                self._store.add(nodes[i : i + self.max_batch])

    def delete_source(self, source: str) -> None:
        with self._guard("delete vectors"):
            self._store.delete(ref_doc_id=source)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        with self._guard("query"):
            if self._collection.count() == 0:
                return []
            result = self._store.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k))
        # ChromaVectorStore reports exp(-distance); in cosine space distance = 1 - cosine.
        return [(i, 1.0 + math.log(max(s, 1e-30))) for i, s in zip(result.ids or [], result.similarities or [])]

    def similarities(self, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` with the stored vectors of ``ids`` (missing ids are left out)."""
        with self._guard("get vectors"):
            got = self._collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return {}
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        return dict(zip(got["ids"], (matrix @ vector).tolist()))

    def ids_for(self, source: str) -> list[str]:
        with self._guard("list vectors"):
            return self._collection.get(where={"document_id": source}, include=[])["ids"]

    def count(self) -> int:
        with self._guard("count vectors"):
            return self._collection.count()

    def _guard(self, action: str):
        return _Guard(self._lock, action, self.location)


class _Guard:
    """Serialises calls and turns Chroma's failures into one ``BackendError`` that names the store."""

    def __init__(self, lock: threading.Lock, action: str, location: str):
        self._lock, self._action, self._location = lock, action, location

    def __enter__(self):
        self._lock.acquire()

    def __exit__(self, exc_type, exc, tb):
        self._lock.release()
        if exc is not None and not isinstance(exc, BackendError):
            raise BackendError(f"{self._location}: {self._action} failed: {exc}") from exc
        return False


def _describe(settings: Settings) -> str:
    if settings.chroma_host:
        return f"Chroma server at {settings.chroma_host}:{settings.chroma_port}; is `chroma run` up?"
    return f"embedded Chroma at {settings.chroma_dir}"
