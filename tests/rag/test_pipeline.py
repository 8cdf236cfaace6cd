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
from rag.pipeline import Pipeline, StageRun, VerifiedLLM
from rag.question import QuestionAnalysis
from rag.reader.rerank import EvidenceReader
from rag.retrieval import Retriever
from rag.values import Answer, Claim, Query
from rag.verification import Verification

pytestmark = pytest.mark.slow

META = "Who led the Meta delegation?"


@pytest.fixture(scope="module")
def selector_assistant(seeded_dir):
    """The same seeds with ``RAG_READER=off``: the cosine selector alone, no ``reading`` stage."""
    assistant = Assistant(data_dir=seeded_dir, reader="off")
    yield assistant
    assistant.close()


@pytest.mark.parametrize("reader", ["on", "off"])
def test_the_stages_run_in_the_documented_order(seeded_assistant, selector_assistant, reader):
    pipeline = (seeded_assistant if reader == "on" else selector_assistant).pipeline
    kinds = [QuestionAnalysis, Retriever, CopyFilter, EvidenceRanking, EvidenceReader, ExtractiveAnswerer]
    names = ["question", "retrieval", "copies", "evidence", "reading", "answer"]
    if reader == "off":  # the default is on; off skips exactly the reading stage
        kinds.remove(EvidenceReader)
        names.remove("reading")
    assert [type(s) for s in pipeline.stages()] == kinds
    assert all(callable(s.warm_up) and callable(s.run) for s in pipeline.stages())
    pipeline.warm_up()
    seen: list[StageRun] = []
    with pipeline.observing(seen.append):
        list(pipeline.run(META))
    # What ran is what stages() lists, in its order, each once.
    assert [r.name for r in seen] == names
    assert [getattr(pipeline, attribute) for name, attribute, _ in pipeline.STAGES
            if name in {r.name for r in seen}] == pipeline.stages()
    assert pipeline.observers == []  # the hook is gone after the block
    list(pipeline.run(META))
    assert len(seen) == len(names)


def test_observers_see_each_stages_inputs_outputs_and_seconds(seeded_assistant):
    pipeline = seeded_assistant.pipeline
    seen: dict[str, StageRun] = {}
    with pipeline.observing(lambda record: seen.setdefault(record.name, record)):
        answer = list(pipeline.run(META))[-1].answer
    query = seen["question"].output
    assert isinstance(query, Query) and seen["question"].inputs["question"] == META
    assert seen["retrieval"].inputs == {"query": query, "k": None, "mode": None}
    assert seen["copies"].inputs["passages"] == seen["retrieval"].output
    assert seen["evidence"].inputs["passages"] == seen["copies"].output == answer.passages
    assert seen["answer"].inputs["evidence"] == seen["evidence"].output == seen["reading"].inputs["evidence"]
    assert seen["answer"].inputs["reading"] == seen["reading"].output  # the reader's order reaches the answer
    assert seen["answer"].output.claims == answer.claims  # the same answer, before its timings were added
    assert all(r.seconds >= 0 for r in seen.values())
    assert answer.timings["retrieve_s"] == pytest.approx(seen["retrieval"].seconds + seen["copies"].seconds)
    assert answer.timings["evidence_s"] == pytest.approx(seen["evidence"].seconds)
    assert seen["retrieval"].summary().startswith("retrieval ") and "-> 5 Passage" in seen["retrieval"].summary()


def test_a_stage_called_out_of_the_documented_order_is_refused(seeded_assistant):
    from rag.pipeline import _Trace

    trace = _Trace(seeded_assistant.pipeline)
    query = trace.run("question", META)
    passages = trace.run("retrieval", query)
    trace.run("evidence", query, passages)
    with pytest.raises(RuntimeError, match="'copies' called after 'evidence'"):
        trace.run("copies", passages)


def test_one_question_through_every_stage_by_hand_equals_the_pipeline(seeded_assistant):
    pipeline = seeded_assistant.pipeline
    query = pipeline.question.run(META)
    assert isinstance(query, Query)
    passages = pipeline.copies.run(pipeline.retrieval.run(query))
    evidence = pipeline.evidence.run(query, passages)
    reading = pipeline.reading.run(query.in_context, query.language, evidence, passages)
    titles = pipeline.catalog.titles([p.source for p in passages])
    by_hand = pipeline.extractive.run(query.question, query.language, evidence, passages, titles, reading)
    chunks = list(pipeline.run(META))
    answer = chunks[-1].answer
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.claims == by_hand.claims and answer.citations == by_hand.citations
    assert "".join(c.text for c in chunks) == answer.text
    assert "Rafael Frankel" in answer.plain and all(isinstance(c, Claim) for c in answer.claims)
    assert pipeline.retrieve(META) == passages == pipeline.copies.run(pipeline.retrieval.run(query))


@pytest.mark.parametrize("reader", ["on", "off"])
def test_timings_name_each_stage_once_and_do_not_overlap(seeded_assistant, selector_assistant, reader):
    assistant = seeded_assistant if reader == "on" else selector_assistant
    answer = list(assistant.pipeline.run(META))[-1].answer
    parts = {k: v for k, v in answer.timings.items() if k != "total_s"}
    expected = {"question_s", "retrieve_s", "evidence_s", "answer_s"} | ({"reader_s"} if reader == "on" else set())
    assert set(parts) == expected  # offline
    assert all(v >= 0 for v in parts.values())
    # Disjoint spans: had retrieve_s still held the question analysis, the parts would add up to more.
    assert sum(parts.values()) <= answer.timings["total_s"]


def test_the_reader_reads_a_follow_up_after_the_question_it_follows(seeded_assistant, check_citations):
    seen: dict[str, StageRun] = {}
    with seeded_assistant.pipeline.observing(lambda record: seen.setdefault(record.name, record)):
        answer = seeded_assistant.ask("What is his title?", history=[META])
    assert seen["reading"].inputs["question"] == f"{META} What is his title?"
    assert not answer.abstained, answer.text
    assert "Giám đốc Chính sách công" in answer.citations[0].quote  # Frankel's title, in the sentence naming him
    check_citations(seeded_assistant, answer)


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
    assert [type(s) for s in pipeline.stages()][-2:] == [ExtractiveAnswerer, VerifiedLLM]
    assert (pipeline.verified_llm.llm, pipeline.verified_llm.verification) == (pipeline.llm, pipeline.verification)
    assert isinstance(pipeline.verification, Verification)
    assert isinstance(pipeline.verification.checker, CitationChecker)
    passages = llm_assistant.retrieve(META)
    n = next(i for i, p in enumerate(passages, start=1) if "Rafael Frankel" in p.text)
    llm.mode, llm.reply = "ok", (f"Rafael Frankel led the Meta delegation [{n}]. "
                                 f"The delegation travelled to the Moon [{n}].")
    seen: list[StageRun] = []
    with pipeline.observing(seen.append):
        chunks = list(pipeline.run(META))
    answer = chunks[-1].answer
    assert [r.name for r in seen] == ["question", "retrieval", "copies", "evidence", "reading", "answer", "generate"]
    assert seen[-1].output.claims == answer.claims and answer.timings["generate_s"] == pytest.approx(seen[-1].seconds)
    assert answer.mode == "llm" and [c.claim for c in chunks if c.claim] == answer.claims
    (claim,) = answer.claims  # the made-up sentence is not shown
    assert claim.text == "Rafael Frankel led the Meta delegation." and claim.citations == (1,)
    assert "Rafael Frankel" in answer.citations[0].quote
    assert "".join(c.text for c in chunks) == answer.text
