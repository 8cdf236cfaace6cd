"""rag/pipeline.py: the whole read path driven through ``Pipeline``, stage by stage and end to end.

Real stages over the seeded index (real Chroma, real embedder); the LLM is a scripted OpenAI-protocol server
on loopback (tests/rag/scripted_llm.py).
"""

from __future__ import annotations

import pytest

from rag import Assistant
from rag.citations import CitationChecker
from rag.duplicates import CopyFilter
from rag.evidence import EvidenceRanking
from rag.extractive import ExtractiveAnswerer
from rag.generation import LLMAnswerer
from rag.pipeline import Pipeline
from rag.question import QuestionAnalysis
from rag.retrieval import Retriever
from rag.values import Answer, Claim, Query
from rag.verification import Verification

pytestmark = pytest.mark.slow

META = "Who led the Meta delegation?"


def test_the_stages_run_in_the_documented_order(seeded_assistant):
    pipeline = seeded_assistant.pipeline
    assert [type(s) for s in pipeline.stages()] == [QuestionAnalysis, Retriever, CopyFilter, EvidenceRanking,
                                                    ExtractiveAnswerer, Verification]
    assert all(callable(s.warm_up) and callable(s.run) for s in pipeline.stages())
    pipeline.warm_up()


def test_one_question_through_every_stage_by_hand_equals_the_pipeline(seeded_assistant):
    pipeline = seeded_assistant.pipeline
    query = pipeline.question.run(META)
    assert isinstance(query, Query)
    passages = pipeline.copies.run(pipeline.retrieval.run(query))
    evidence = pipeline.evidence.run(query, passages)
    titles = seeded_assistant._catalog.titles([p.source for p in passages])
    by_hand = pipeline.extractive.run(query.question, query.language, evidence, passages, titles)
    chunks = list(pipeline.run(META))
    answer = chunks[-1].answer
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.claims == by_hand.claims and answer.citations == by_hand.citations
    assert "".join(c.text for c in chunks) == answer.text
    assert "Rafael Frankel" in answer.plain and all(isinstance(c, Claim) for c in answer.claims)
    assert pipeline.retrieve(META) == pipeline.retrieval.run(query)


def test_timings_name_each_stage_once_and_do_not_overlap(seeded_assistant):
    answer = list(seeded_assistant.pipeline.run(META))[-1].answer
    parts = {k: v for k, v in answer.timings.items() if k != "total_s"}
    assert set(parts) == {"question_s", "retrieve_s", "evidence_s", "answer_s"}  # offline, reader off
    assert all(v >= 0 for v in parts.values())
    # Disjoint spans: had retrieve_s still held the question analysis, the parts would add up to more.
    assert sum(parts.values()) <= answer.timings["total_s"]


def test_an_unanswerable_question_abstains_with_one_uncited_claim(seeded_assistant):
    answer = list(seeded_assistant.pipeline.run("What is the airspeed of an unladen swallow?"))[-1].answer
    assert answer.abstained and answer.claims == [Claim("The documents don't say.")] and not answer.citations


@pytest.fixture(scope="module")
def llm_assistant(seeded_dir, llm):
    assistant = Assistant(data_dir=seeded_dir, llm_base_url=llm.base_url, llm_model="scripted", llm_timeout=5.0)
    yield assistant
    assistant.close()


def test_with_an_llm_the_answer_and_verification_stages_join_and_stream_claims(llm_assistant, llm):
    pipeline = llm_assistant.pipeline
    assert isinstance(pipeline, Pipeline) and isinstance(pipeline.llm, LLMAnswerer)
    assert [type(s) for s in pipeline.stages()][-2:] == [LLMAnswerer, Verification]
    assert isinstance(pipeline.verification.checker, CitationChecker)
    passages = llm_assistant.retrieve(META)
    n = next(i for i, p in enumerate(passages, start=1) if "Rafael Frankel" in p.text)
    llm.mode, llm.reply = "ok", (f"Rafael Frankel led the Meta delegation [{n}]. "
                                 f"The delegation travelled to the Moon [{n}].")
    chunks = list(pipeline.run(META))
    answer = chunks[-1].answer
    assert answer.mode == "llm" and [c.claim for c in chunks if c.claim] == answer.claims
    (claim,) = answer.claims  # the made-up sentence is not shown
    assert claim.text == "Rafael Frankel led the Meta delegation." and claim.citations == (1,)
    assert "Rafael Frankel" in answer.citations[0].quote
    assert "".join(c.text for c in chunks) == answer.text
