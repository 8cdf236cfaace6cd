"""Vectors in Chroma, written through llama-index's ``ChromaVectorStore``: embedded or a Chroma server.

Two collections: one vector per chunk, and one per sentence of each chunk under ``{chunk id}@{start}``
(the chunk's vector is the normalised mean of its sentences', so each sentence is embedded once).
Sentence vectors let a long chunk match a question that only one of its sentences answers, and let the
answerer pick that sentence without embedding anything at question time. Chroma never embeds anything
itself (its default model would be downloaded); collections use cosine space.
Reads go to the collections directly and fetch distances or vectors only: turning 40 hits back into
llama-index nodes cost 3.5 ms of a 4.4 ms query (0.9 ms direct), and not importing llama-index on the
read path takes ~0.5 s off every ``rag ask``.
"""

from __future__ import annotations

import threading

import numpy as np

from index.documents import Chunk
from index.errors import BackendError
from index.settings import Settings

_SPACE = {"hnsw": {"space": "cosine"}}


class VectorStore:
    """Chunk and sentence vectors keyed by id, grouped by document source for deletion."""

    def __init__(self, settings: Settings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

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
            self._chunks = self._client.get_or_create_collection(
                settings.collection, configuration=_SPACE, embedding_function=None
            )
            self._sentences = self._client.get_or_create_collection(
                f"{settings.collection}_sentences", configuration=_SPACE, embedding_function=None
            )
            self.max_batch = self._client.get_max_batch_size()
        except Exception as exc:  # chromadb raises many unrelated types for one cause: it is unreachable
            raise BackendError(f"cannot open the vector store ({_describe(settings)}): {exc}") from None
        self._writers = None
        self._lock = threading.Lock()

    def add(self, chunks: list[Chunk], sentence_vectors: list[np.ndarray]) -> None:
        """Store chunks given the vectors of their sentences (one array per chunk, one row per sentence)."""
        chunk_nodes, sentence_nodes = [], []
        for chunk, vectors in zip(chunks, sentence_vectors, strict=True):
            mean = vectors.mean(axis=0)
            chunk_nodes.append(_node(chunk.id, chunk.text, mean / max(float(np.linalg.norm(mean)), 1e-12), chunk,
                                     chunk.start, chunk.end))
            for (start, end), vector in zip(chunk.sentences, vectors, strict=True):
                text = chunk.text[start - chunk.start : end - chunk.start]
                sentence_nodes.append(_node(f"{chunk.id}@{start}", text, vector, chunk, start, end))
        sentence_store, chunk_store = self._llama_stores()
        with self._guard("add vectors"):
            for store, nodes in ((sentence_store, sentence_nodes), (chunk_store, chunk_nodes)):
                for i in range(0, len(nodes), self.max_batch):
                    store.add(nodes[i : i + self.max_batch])

    def delete_source(self, source: str) -> None:
        sentence_store, chunk_store = self._llama_stores()
        with self._guard("delete vectors"):
            chunk_store.delete(ref_doc_id=source)
            sentence_store.delete(ref_doc_id=source)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` chunks closest to ``vector``: ``(chunk id, cosine)``."""
        with self._guard("query"):
            result = self._chunks.query(query_embeddings=[vector.tolist()], n_results=k, include=["distances"])
        # In cosine space distance = 1 - cosine; an empty collection returns no ids.
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def chunk_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        with self._guard("get vectors"):
            got = self._chunks.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))

    def sentence_vectors(self, chunk_ids: list[str]) -> list[tuple[str, int, int, np.ndarray]]:
        """``(chunk id, start, end, vector)`` of every sentence of the given chunks."""
        if not chunk_ids:
            return []
        with self._guard("get sentence vectors"):
            got = self._sentences.get(where={"chunk_id": {"$in": list(chunk_ids)}}, include=["embeddings", "metadatas"])
        return [(m["chunk_id"], int(m["start"]), int(m["end"]), np.asarray(e, dtype=np.float32))
                for m, e in zip(got["metadatas"], got["embeddings"])]

    def sentence_vectors_by_id(self, sentence_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of sentence ids (``{chunk id}@{start}``, see ``add``); unknown ids are left out.

        Looking sentences up by id stays fast as the collection grows; a ``where`` filter on their chunk
        id costs ~25 ms at 300k sentences, and a filtered nearest-neighbour query far more.
        """
        if not sentence_ids:
            return {}
        with self._guard("get sentence vectors"):
            got = self._sentences.get(ids=sentence_ids, include=["embeddings"])
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))

    def ids_for(self, source: str) -> list[str]:
        with self._guard("list vectors"):
            return self._chunks.get(where={"document_id": source}, include=[])["ids"] + \
                self._sentences.get(where={"document_id": source}, include=[])["ids"]

    def count(self) -> int:
        """Chunk vectors stored."""
        with self._guard("count vectors"):
            return self._chunks.count()

    def _llama_stores(self):
        """llama-index's ``ChromaVectorStore`` for (sentences, chunks), imported on the first write only."""
        if self._writers is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._writers = (ChromaVectorStore(chroma_collection=self._sentences),
                             ChromaVectorStore(chroma_collection=self._chunks))
        return self._writers

    def _guard(self, action: str):
        return _Guard(self._lock, action, self.location)


def _node(node_id: str, text: str, vector: np.ndarray, chunk: Chunk, start: int, end: int):
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    keys = ["source", "chunk_id", "start", "end", "language"]
    node = TextNode(
        id_=node_id, text=text, embedding=np.asarray(vector, dtype=np.float32).tolist(),
        metadata={"source": chunk.source, "chunk_id": chunk.id, "start": start, "end": end, "language": chunk.language},
        excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys,
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.source)
    return node


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
