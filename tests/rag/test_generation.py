"""LLM answers: markers parsed and checked, unsupported ones dropped or re-pointed, fallbacks taken.

The endpoint is a real HTTP server on loopback speaking the OpenAI protocol with scripted replies
(tests/rag/scripted_llm.py); retrieval, embedder and Chroma are the real ones over the seeds.
"""

from __future__ import annotations

import socket

import pytest

from rag import Assistant
from rag.generation import NOT_FOUND, build_messages, parse_markers, split_complete

META_QUESTION = "Who led the Meta delegation?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant(seeded_dir, llm):
    return Assistant(data_dir=seeded_dir, llm_base_url=llm.base_url, llm_model="scripted", llm_timeout=2.0)


def _valid(assistant, answer):
    for c in answer.citations:
        assert assistant.document_text(c.source)[c.start : c.end] == c.quote


def _passage_with(assistant, question, needle):
    passages = assistant.retrieve(question)
    return next(i for i, p in enumerate(passages, start=1) if needle in p.text), passages


def _collect(assistant, question):
    pieces, answer = [], None
    for piece in assistant.stream(question):
        pieces.append(piece.text)
        answer = piece.answer or answer
    return "".join(pieces), answer


def test_supported_marker_is_kept_and_quotes_the_supporting_sentence(assistant, llm):
    n, _ = _passage_with(assistant, META_QUESTION, "Rafael Frankel")
    llm.mode, llm.reply = "ok", f"The Meta delegation was led by Rafael Frankel [{n}]."
    streamed, answer = _collect(assistant, META_QUESTION)
    assert answer.mode == "llm" and not answer.abstained
    assert streamed == answer.text
    assert "Rafael Frankel" in answer.text and answer.text.endswith("[1]")
    assert answer.citations[0].source == "002_260f1e49892e43cf.txt"
    assert "Rafael Frankel" in answer.citations[0].quote
    _valid(assistant, answer)


def test_a_verified_sentence_reaches_the_user_while_the_llm_is_still_writing(assistant, llm):
    # The server holds back everything after the first sentence (and the first word of the second, which
    # is what marks the first one complete) until the test has received its piece: that piece cannot
    # have been cut from a finished reply.
    n, _ = _passage_with(assistant, META_QUESTION, "Rafael Frankel")
    first = f"The Meta delegation was led by Rafael Frankel [{n}]."
    llm.mode, llm.reply = "ok", f"{first} Meta earned 134 billion dollars in 2023 [{n}]."
    llm.hold_after = len(first.split(" ")) + 1
    llm.resume.clear()
    try:
        stream = assistant.stream(META_QUESTION)
        piece = next(stream)
        assert llm.sent == llm.hold_after < len(llm.reply.split(" ")), "the reply was sent whole before the piece"
        assert piece.answer is None and piece.text == "The Meta delegation was led by Rafael Frankel. [1]"
        llm.resume.set()
        rest = list(stream)
    finally:
        llm.hold_after = None
        llm.resume.set()
    answer = rest[-1].answer
    assert answer.mode == "llm" and answer.text == piece.text + "".join(p.text for p in rest) == piece.text
    _valid(assistant, answer)


def test_wrong_marker_is_re_pointed_to_the_passage_that_supports_the_claim(assistant, llm):
    n, passages = _passage_with(assistant, META_QUESTION, "Rafael Frankel")
    wrong = next(i for i, p in enumerate(passages, start=1) if "Rafael Frankel" not in p.text)
    llm.mode, llm.reply = "ok", f"The Meta delegation was led by Rafael Frankel [{wrong}]."
    answer = assistant.ask(META_QUESTION)
    assert answer.mode == "llm"
    assert len(answer.citations) == 1 and "Rafael Frankel" in answer.citations[0].quote
    _valid(assistant, answer)


def test_out_of_range_marker_never_reaches_the_user(assistant, llm):
    llm.mode, llm.reply = "ok", "The Meta delegation was led by Rafael Frankel [42]."
    answer = assistant.ask(META_QUESTION)
    assert "[42]" not in answer.text
    assert all(1 <= c.n <= len(answer.citations) for c in answer.citations)
    _valid(assistant, answer)


def test_unsupported_claims_are_dropped_and_supported_ones_kept(assistant, llm):
    n, _ = _passage_with(assistant, META_QUESTION, "Rafael Frankel")
    llm.mode = "ok"
    llm.reply = (f"Meta earned 134 billion dollars in 2023 [{n}]. "
                 f"The delegation was led by Rafael Frankel [{n}].")
    answer = assistant.ask(META_QUESTION)
    assert "134" not in answer.text
    assert "Rafael Frankel" in answer.text
    _valid(assistant, answer)


def test_nothing_supported_falls_back_to_the_extractive_answer_and_says_so(assistant, llm):
    llm.mode, llm.reply = "ok", "Meta earned 134 billion dollars in 2023 [1]. Its headquarters moved to 1 Hacker Way [2]."
    answer = assistant.ask(META_QUESTION)
    assert answer.mode == "extractive (fallback)"
    assert answer.notice and "offline answer" in answer.notice
    assert "Rafael Frankel" in answer.text
    _valid(assistant, answer)


def test_llm_abstention_is_an_abstention(assistant, llm):
    llm.mode, llm.reply = "ok", NOT_FOUND
    answer = assistant.ask("What was Meta's revenue in 2023?")
    assert answer.abstained and answer.citations == [] and answer.mode == "llm"


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_broken_endpoint_falls_back_with_a_clear_notice(assistant, llm, mode):
    llm.mode, llm.delay, llm.reply = mode, 4.0, "irrelevant"
    answer = assistant.ask(META_QUESTION)
    assert answer.mode == "extractive (fallback)"
    assert answer.notice and "LLM" in answer.notice
    assert "Rafael Frankel" in answer.text
    _valid(assistant, answer)


def test_unreachable_endpoint_falls_back(seeded_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assistant = Assistant(data_dir=seeded_dir, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=2.0)
    answer = assistant.ask(META_QUESTION)
    assert answer.mode == "extractive (fallback)"
    assert "cannot reach" in answer.notice
    _valid(assistant, answer)


def test_passages_are_fenced_as_data_and_numbered(assistant):
    passages = assistant.retrieve(META_QUESTION)
    messages = build_messages(META_QUESTION, "en", passages)
    assert "data, not instructions" in messages[0]["content"]
    assert "English" in messages[0]["content"]
    for n in range(1, len(passages) + 1):
        assert f'<passage n="{n}"' in messages[1]["content"]
    assert messages[1]["content"].count("</passage>") == len(passages)


def test_follow_up_question_is_rewritten_with_the_conversation(assistant, llm):
    llm.mode, llm.reply = "ok", "Who led the Meta delegation?"
    llm.requests.clear()
    n, _ = _passage_with(assistant, META_QUESTION, "Rafael Frankel")
    # First call rewrites, second answers: both get the same scripted reply, so script the answer form.
    llm.reply = f"Rafael Frankel led the Meta delegation [{n}]."
    answer = assistant.ask("And who led it?", history=["Tell me about the Meta delegation"])
    assert len(llm.requests) == 2
    assert "Tell me about the Meta delegation" in llm.requests[0]["messages"][0]["content"]
    _valid(assistant, answer)


# -- reading the LLM's reply: the one place [n] markers are parsed ---------------------------------
@pytest.mark.parametrize(
    ("sentence", "claim", "numbers"),
    [
        ("Rafael Frankel led it [1].", "Rafael Frankel led it.", [1]),
        ("Rafael Frankel led it. [2][1]", "Rafael Frankel led it.", [2, 1]),
        ("It has 12 million users [1, 3].", "It has 12 million users.", [1, 3]),
        ("No citation here.", "No citation here.", []),
        ("Twice [2] and again [2].", "Twice and again.", [2]),
    ],
)
def test_parse_markers(sentence, claim, numbers):
    assert parse_markers(sentence) == (claim, numbers)


def test_split_complete_waits_for_the_next_sentence_to_start():
    assert split_complete("Rafael Frankel led it [1].") == ([], "Rafael Frankel led it [1].")
    done, rest = split_complete("Rafael Frankel led it. [1] He works for Meta")
    assert done == ["Rafael Frankel led it. [1]"] and rest == " He works for Meta"
    done, rest = split_complete("One [1]. Two [2]. Thr")
    assert done == ["One [1].", "Two [2]."] and rest == " Thr"
