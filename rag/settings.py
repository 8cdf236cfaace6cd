"""The assistant's one settings object, with offline defaults, in sections that say who reads them.

    Settings()                      # defaults + RAG_* environment variables
    Settings(data_dir="x", top_k=8) # explicit values win over the environment

``Settings`` is one flat object (``settings.top_k``, ``RAG_TOP_K``) assembled from its sections; each stage
takes the section it reads, so a constructor's signature says which settings can change it:

- ``IndexSettings`` (index/settings.py): data directory, vector store, embedder, chunking — the write path;
- ``RetrievalSettings``: how passages are found (retrieval.py, the question analysis);
- ``AnswerSettings``: how an answer is chosen from the passages (evidence, extractive answer, reader);
- ``LLMSettings``: the optional LLM endpoint (llm.py, generation.py); also ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``;
- ``UISettings``: the chat app (ui/).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings

from index.settings import CONFIG, IndexSettings


class RetrievalSettings(BaseSettings):
    """Read by ``QuestionAnalysis`` and ``Retriever``."""

    model_config = CONFIG

    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field("hybrid", description="Retrieval strategy.")
    candidates: int = Field(20, ge=5, description="Candidates each ranker contributes before fusion.")
    keyword_weight: float = Field(
        0.06, ge=0, description="Weight of keyword coverage in hybrid fusion and in the evidence score "
        "(fitted on XQuAD, python -m evals.calibrate)."
    )
    sentence_weight: float = Field(
        0.5, ge=0, le=1, description="Share of a chunk's dense score that comes from its best sentence."
    )
    history_turns: int = Field(
        2, ge=0, description="Earlier questions of a conversation that inform a follow-up (the last N). The first "
        "version's choice, never fitted: no eval set has conversations (tests/rag/test_assistant.py checks a follow-up)."
    )
    history_weight: float = Field(
        0.5, ge=0, description="Weight of each earlier question in the query vector (the question itself has 1), "
        "so the question's own words outvote the conversation's. Not fitted either, for the same reason."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")


class AnswerSettings(BaseSettings):
    """Read by the evidence, answer and reader stages."""

    model_config = CONFIG

    evidence_passages: int = Field(
        3, ge=1, description="The best N passages whose sentences compete to answer. The first version's choice, "
        "never fitted (the calibration fits the other evidence constants at 3)."
    )
    answer_type_bonus: float = Field(
        0.01, ge=0, description="Score bonus for a sentence holding the kind of answer asked for (number, date, person)."
    )
    reader: Literal["on", "off"] = Field(
        "off", description="Re-score the best sentences with the answer reader (rag/reader); off = cosine selector only."
    )
    reader_threads: int = Field(2, ge=1, description="CPU threads for the answer reader.")


class LLMSettings(BaseSettings):
    """Read by ``ChatClient`` (llm.py) and ``LLMAnswerer`` (generation.py)."""

    model_config = CONFIG

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

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)


class UISettings(BaseSettings):
    """Read by the chat app (ui/)."""

    model_config = CONFIG

    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the chat UI (`python -m ui`, `make run PORT=N`).")


class Settings(IndexSettings, RetrievalSettings, AnswerSettings, LLMSettings, UISettings):
    """Every section in one object: what ``Assistant``, the CLI, the UI and the evals pass around."""

    model_config = CONFIG
