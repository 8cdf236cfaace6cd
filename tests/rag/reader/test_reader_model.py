"""The committed reader model (rag/reader/model/) through the assistant, as ``RAG_READER=on`` runs it: it loads
from package data, reads the seeds and answers or abstains with verified citations. Its quality is measured by
``python -m evals.reader``; these tests pin that the shipped files and policy work end to end."""

from __future__ import annotations

import pytest

from rag import Assistant
from rag.reader.policy import ReaderPolicy
from rag.reader.reader import MODEL_DIR


def test_the_model_files_and_their_fitted_policy_are_in_the_package():
    assert (MODEL_DIR / "lower.onnx").stat().st_size > 1_000_000
    assert (MODEL_DIR / "upper.onnx").stat().st_size > 1_000_000
    policy = ReaderPolicy.load(MODEL_DIR / "policy.json")
    assert policy.fitted_on.startswith("python -m evals.reader --split dev --fit")


@pytest.fixture(scope="module")
def reading_assistant(seeded_dir):
    assistant = Assistant(data_dir=seeded_dir, reader="on")
    yield assistant
    assistant.close()


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Who led the Meta delegation?", "Ai dẫn đầu đoàn công tác của Meta?"])
def test_the_reader_answers_from_the_sentence_that_names_the_leader(reading_assistant, question, check_citations):
    answer = reading_assistant.ask(question)
    assert not answer.abstained, answer.text
    assert "Rafael Frankel" in answer.citations[0].quote
    assert "reader_s" in answer.timings
    check_citations(reading_assistant, answer)


@pytest.mark.slow
def test_the_reader_abstains_when_the_seeds_do_not_say(reading_assistant):
    answer = reading_assistant.ask("What was Meta's revenue in 2023?")
    assert answer.abstained and not answer.citations
    assert answer.closest
