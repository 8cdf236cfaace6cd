"""The assistant's one settings object, with offline defaults, in sections that say who reads them.

    Settings()                      # defaults + RAG_* environment variables
    Settings(data_dir="x", top_k=8) # explicit values win over the environment

``Settings`` is one flat object (``settings.top_k``, ``RAG_TOP_K``) assembled from its sections; each stage
takes the section it reads, so a constructor's signature says which settings can change it:

- ``IndexSettings`` (index/settings.py): data directory, vector store, embedder, chunking — the write path;
- ``RetrievalSettings``: how passages are found (retrieval.py, the question analysis, the copy filter);
- ``AnswerSettings``: how an answer is chosen from the passages (evidence, extractive answer, reader);
- ``VerificationSettings``: when a passage sentence supports a claim (citations.py);
- ``LLMSettings``: the optional LLM endpoint (llm.py, generation.py); also ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``;
- ``UISettings``: the chat app (ui/).

Every number a stage was fitted or tuned with is a field, with a description saying where it came from;
``python -m evals.calibrate`` prints the ``RAG_*`` lines of the values it fits.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings

from index.settings import CONFIG, IndexSettings


class RetrievalSettings(BaseSettings):
    """Read by ``QuestionAnalysis``, ``Retriever`` and ``CopyFilter``."""

    model_config = CONFIG

    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field("hybrid", description="Retrieval strategy.")
    candidates: int = Field(20, ge=5, description="Candidates each ranker contributes before fusion.")
    keyword_weight: float = Field(
        0.06, ge=0, description="Weight of keyword coverage in hybrid fusion (fitted on XQuAD, python -m evals.calibrate; "
        "also sets evidence_keyword_weight when that is not set)."
    )
    sentence_weight: float = Field(
        0.5, ge=0, le=1, description="Share of a chunk's dense score that comes from its best sentence (fitted on XQuAD)."
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
    copy_min_containment: float = Field(
        0.8, gt=0, le=1, description="Two passages of different documents are copies when this share of the shorter "
        "one's word n-grams (copy_shingle_words) occurs in the other (rag/duplicates.py). The first version's "
        "choice, never fitted."
    )
    folded_weight: float = Field(
        0.5, gt=0, le=1, description="Weight of a keyword match found only with diacritics folded (Ha Long for Hạ "
        "Long), against 1 for an exact one, in keyword search and coverage. Chosen and measured on XQuAD "
        "(vi->vi hybrid MRR unchanged, accentless vi questions 0.36 -> 0.49), not fitted."
    )
    copy_shingle_words: int = Field(
        3, ge=1, description="Words per n-gram when passages are compared for copies. The first version's choice, "
        "never fitted."
    )


class AnswerSettings(BaseSettings):
    """Read by ``EvidenceRanking``, ``ExtractiveAnswerer`` (its ``SupportPolicy``) and the reader."""

    model_config = CONFIG

    evidence_passages: int = Field(
        3, ge=1, description="The best N passages whose sentences compete to answer. The first version's choice, "
        "never fitted (the calibration fits the other evidence constants at 3)."
    )
    evidence_keyword_weight: float = Field(
        0.06, ge=0, validation_alias=AliasChoices("evidence_keyword_weight", "RAG_EVIDENCE_KEYWORD_WEIGHT",
                                                  "RAG_KEYWORD_WEIGHT"),
        description="Weight of keyword coverage in a sentence's evidence score; the abstention thresholds were fitted "
        "on scores made with it. One value with keyword_weight until both had a section: RAG_KEYWORD_WEIGHT still "
        "sets it when RAG_EVIDENCE_KEYWORD_WEIGHT is unset.",
    )
    answer_type_bonus: float = Field(
        0.01, ge=0, description="Score bonus for a sentence holding the kind of answer asked for (number, date, person)."
    )
    reader: Literal["on", "off"] = Field(
        "on", description="Re-score the best sentences with the answer reader (rag/reader); off = cosine selector only."
    )
    reader_threads: int = Field(2, ge=1, description="CPU threads for the answer reader.")
    min_score_same_language: float = Field(
        0.8925, description="Evidence score the best sentence needs for an answer when it is in the question's "
        "language; below it the answer abstains (fitted on XQuAD, python -m evals.calibrate)."
    )
    min_score_cross_language: float = Field(
        0.8075, description="The same for a sentence in another language than the question, whose similarities run "
        "lower (fitted on XQuAD; the fit's best, 0.795, answers more but abstains less, the weaker side already, so "
        "0.8075 stays)."
    )
    extra_margin: float = Field(
        0.01, ge=0, description="A further sentence is quoted only when its score is within this of the best one's. "
        "The first version's choice, never fitted."
    )
    max_sentences: int = Field(3, ge=1, description="Sentences an extractive answer quotes at most.")
    max_closest: int = Field(3, ge=0, description="Closest sentences an abstention shows at most (one per passage).")


class VerificationSettings(BaseSettings):
    """Read by ``CitationChecker`` (citations.py): when a passage sentence supports a claim of the LLM's."""

    model_config = CONFIG

    claim_min_similarity: float = Field(
        0.84, description="e5 similarity a sentence needs to support a claim: accepts 1% of XQuAD's same-paragraph "
        "wrong sentences (0.82: 7%; python -m evals.calibrate)."
    )
    claim_name_slack: float = Field(
        0.02, ge=0, description="How much lower a sentence may score when every name and number of the claim is in "
        "it: the smallest with the best F1 on the claim set's fit half (python -m evals.claims --sweep); 0.06 "
        "verified made-up facts about named people."
    )


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
    llm_rewrite_max_tokens: int = Field(
        80, ge=8, description="Upper bound on a follow-up question rewritten to stand alone. The first version's "
        "choice, never fitted."
    )
    llm_temperature: float = Field(
        0.0, ge=0, le=2, description="Sampling temperature; 0 = the same passages give the same answer."
    )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)


class UISettings(BaseSettings):
    """Read by the chat app (ui/)."""

    model_config = CONFIG

    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the chat UI (`python -m ui`, `make run PORT=N`).")


class Settings(IndexSettings, RetrievalSettings, AnswerSettings, VerificationSettings, LLMSettings, UISettings):
    """Every section in one object: what ``Assistant``, the CLI, the UI and the evals pass around."""

    model_config = CONFIG
