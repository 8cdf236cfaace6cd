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
from contextlib import nullcontext

import numpy as np

from index.documents import Chunk
from index.errors import BackendError, raised_by
from index.locks import FileLock
from index.settings import IndexSettings

_SPACE = {"hnsw": {"space": "cosine"}}
_STALE = "Error finding id"  # Chroma's message when its in-memory index lacks an id (see ``reopen``)


class VectorStore:
    """Chunk and sentence vectors keyed by id, grouped by document source for deletion. Chroma is opened (its
    folder created, a server's heartbeat checked, the collections' index files loaded) by ``open()`` or the
    first call that needs it, not when the store is made."""

    def __init__(self, settings: IndexSettings):
        self._settings = settings
        self._embedded = not settings.chroma_host
        # Writes exclude loads of the index files (see ``reopen``); a server needs none of this.
        self._files_lock = FileLock(settings.data_dir / "chroma.lock") if self._embedded else None
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._client = None
        self._writers = None
        self.generation: int | None = None
        """The catalog generation this client's view of the collections reflects (set by its owners)."""
        self.location = (f"chroma server http://{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host
                         else f"embedded chroma at {settings.chroma_dir}")

    def open(self) -> None:
        """Open Chroma now, if this store has not yet (``BackendError`` when it cannot)."""
        with self._open_lock:
            if self._client is None:
                with self._loading():
                    self._open()

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = self._settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_host:
                client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                             settings=chroma_settings)
                client.heartbeat()
            else:
                try:
                    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                except OSError as exc:  # raised by our call, which is_chroma_failure would take for a bug
                    raise _cannot_open(settings, exc) from None
                client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
            self._chunks = client.get_or_create_collection(
                settings.collection, configuration=_SPACE, embedding_function=None
            )
            self._sentences = client.get_or_create_collection(
                f"{settings.collection}_sentences", configuration=_SPACE, embedding_function=None
            )
            self.max_batch = client.get_max_batch_size()
            # Chroma loads a collection's HNSW files on first use: do it now, under ``_loading``.
            for collection in (self._chunks, self._sentences):
                collection.get(limit=1, include=["embeddings"])
            self._client = client  # last: a set client means the collections are ready
        except Exception as exc:
            if not is_chroma_failure(exc):
                raise
            raise _cannot_open(settings, exc) from None

    def reopen(self, generation: int | None = None) -> None:
        """Drop what this process holds in memory of an embedded store and read it again from disk.

        Chroma's embedded ``PersistentClient`` is not process-safe: each process keeps its own HNSW index
        in memory, loaded once, and never sees another process's writes to it (chroma-core/chroma#2399,
        #3769: "Chroma is not process-safe", use a server; #3792: a second process's queries keep the
        old index while ``get`` already sees the new rows). When the two disagree, reads that join them
        fail with "Error finding id" (the HNSW index lacks an id the metadata has: chroma-core/chroma
        #4460). A new client is not enough either: clients of one path share a ``System`` cached per
        path in ``SharedSystemClient`` (chroma-core/chroma#2536, #3792), so the old client is closed
        first (its ``System`` stops when no other client holds it) and, if this process still caches
        one for the path, the cache is cleared (``clear_system_cache``, which does not stop anything).
        A writer must do this too before writing, or its stale index would be persisted over the newer
        one on disk (MemPalace/mempalace#2002). With a Chroma server there is one owner: nothing to do.
        A store not opened yet has nothing to drop: it reads the files when it opens.
        """
        with self._open_lock:
            if self._embedded and self._client is not None:
                from chromadb.api.shared_system_client import SharedSystemClient

                with self._loading(), self._lock:
                    identifier = self._client._identifier
                    self._client.close()
                    self._client = None
                    if identifier in SharedSystemClient._identifier_to_system:
                        SharedSystemClient.clear_system_cache()
                    self._writers = None
                    self._open()
            self.generation = generation

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
        self.open()
        with self._writing(), self._guard("add vectors"):
            sentence_store, chunk_store = self._llama_stores()
            for store, nodes in ((sentence_store, sentence_nodes), (chunk_store, chunk_nodes)):
                for i in range(0, len(nodes), self.max_batch):
                    store.add(nodes[i : i + self.max_batch])

    def delete_source(self, source: str) -> None:
        self.open()
        with self._writing(), self._guard("delete vectors"):
            sentence_store, chunk_store = self._llama_stores()
            chunk_store.delete(ref_doc_id=source)
            sentence_store.delete(ref_doc_id=source)

    def query(self, vector: np.ndarray, k: int, sources: list[str] | tuple[str, ...] | None = None
              ) -> list[tuple[str, float]]:
        """The ``k`` chunks closest to ``vector``: ``(chunk id, cosine)``; ``sources``: of these documents only
        (ids; Chroma filters on the ``document_id`` it files each vector under before ranking)."""
        if sources is not None and not sources:
            return []
        where = {"document_id": {"$in": list(sources)}} if sources else None
        result = self._read("query", lambda: self._chunks.query(
            query_embeddings=[vector.tolist()], n_results=k, where=where, include=["distances"]))
        # In cosine space distance = 1 - cosine; an empty collection returns no ids.
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def chunk_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._read("get vectors", lambda: self._chunks.get(ids=ids, include=["embeddings"]))
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))

    def sentence_vectors(self, chunk_ids: list[str]) -> list[tuple[str, int, int, np.ndarray]]:
        """``(chunk id, start, end, vector)`` of every sentence of the given chunks."""
        if not chunk_ids:
            return []
        got = self._read("get sentence vectors", lambda: self._sentences.get(
            where={"chunk_id": {"$in": list(chunk_ids)}}, include=["embeddings", "metadatas"]))
        return [(m["chunk_id"], int(m["start"]), int(m["end"]), np.asarray(e, dtype=np.float32))
                for m, e in zip(got["metadatas"], got["embeddings"])]

    def sentence_vectors_by_id(self, sentence_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of sentence ids (``{chunk id}@{start}``, see ``add``); unknown ids are left out.

        Looking sentences up by id stays fast as the collection grows; a ``where`` filter on their chunk
        id costs ~25 ms at 300k sentences, and a filtered nearest-neighbour query far more.
        """
        if not sentence_ids:
            return {}
        got = self._read("get sentence vectors", lambda: self._sentences.get(ids=sentence_ids, include=["embeddings"]))
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))

    def ids_for(self, source: str) -> list[str]:
        self.open()
        with self._guard("list vectors"):
            return self._chunks.get(where={"document_id": source}, include=[])["ids"] + \
                self._sentences.get(where={"document_id": source}, include=[])["ids"]

    def count(self) -> int:
        """Chunk vectors stored."""
        self.open()
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

    def _loading(self):
        """No writer rewrites an embedded store's files while this process loads them; creating them
        is a write (two processes creating one store at once collide in Chroma's schema migrations)."""
        if not self._embedded:
            return nullcontext()
        if (self._settings.chroma_dir / "chroma.sqlite3").exists():
            return self._files_lock.shared()
        return self._files_lock.exclusive()

    def _writing(self):
        """Exclusive use of an embedded store's files: a write may persist the HNSW index files."""
        return self._files_lock.exclusive() if self._embedded else nullcontext()

    def _read(self, action: str, read):
        """``read()``; when another process wrote vectors since this client loaded its index, which the
        catalog generation only catches on the next question, the index is read again and ``read``
        retried once (a question that started just before a writer made its documents ready)."""
        self.open()
        try:
            with self._guard(action):
                return read()
        except BackendError as exc:
            if not (self._embedded and _STALE in str(exc)):
                raise
        self.reopen(self.generation)
        with self._guard(action):
            return read()


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
        if exc is not None and not isinstance(exc, BackendError) and is_chroma_failure(exc):
            raise BackendError(f"{self._location}: {self._action} failed: {exc}") from exc
        return False


def is_chroma_failure(exc: BaseException) -> bool:
    """True for what chromadb raises when the store fails, as opposed to a bug in our code.

    Chroma's own ``ChromaError`` family (the Rust bindings raise its ``InternalError`` etc., "Error finding id"
    included) always counts. Errors of general types count only when chromadb's code raised them, not ours
    (``index.errors.raised_by``): SQLite under the embedded store, httpx's errors and a bare ``Exception`` (how
    ``chromadb.api.base_http_client._raise_chroma_error`` reports an HTTP error it has no type for) from a
    server, the OS (disk, permissions), and ``ValueError`` (chromadb's validation of what it reads back).
    Anything else (TypeError, AttributeError, KeyError..., or a ValueError of our own) propagates: a bug."""
    import sqlite3

    import httpx
    from chromadb.errors import ChromaError

    if isinstance(exc, ChromaError):
        return True
    general = type(exc) is Exception or isinstance(exc, (httpx.HTTPError, OSError, sqlite3.Error, ValueError))
    return general and raised_by(exc, "chromadb")


def _cannot_open(settings: IndexSettings, exc: BaseException) -> BackendError:
    return BackendError(f"cannot open the vector store ({_describe(settings)}): {exc}")


def _describe(settings: IndexSettings) -> str:
    if settings.chroma_host:
        return f"Chroma server at {settings.chroma_host}:{settings.chroma_port}; is `chroma run` up?"
    return f"embedded Chroma at {settings.chroma_dir}"
