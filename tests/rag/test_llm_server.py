"""The LLM path against a real local OpenAI-compatible server (llama.cpp + SmolLM2-135M).

The 135M model is English-only and answers poorly, so these tests pin the protocol, never wording: the
server's tokens arrive piece by piece while it writes; every sentence the model wrote is either shown with
citations the checker accepts or dropped; an answer in mode "llm" is the model's own sentences, and a
fallback happens only when none of them is supported, with a notice. Over an English document the model
can answer, the answer must be the model's (mode "llm").
"""

from __future__ import annotations

import re
import time

import pytest

from index.embedding import make_embedder
from rag.settings import Settings
from index.store import VectorStore
from rag import Assistant
from rag.citations import CitationChecker
from rag.generation import parse_markers, split_complete
from rag.generation import NOT_FOUND
from rag.llm import ChatClient
from rag.sentence_cache import SentenceVectors

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.server]

# English, so that the English-only model can answer from it, and not about the seeds.
STATION = ("The Varga research station was founded in 1987 by the explorer Ilse Varga. "
           "It hosts 45 scientists who study glaciers. Its radio call sign is VRG045.\n")
STATION_QUESTION = "Who founded the Varga research station?"


@pytest.fixture
def deltas(monkeypatch) -> list[tuple[float, str]]:
    """Every piece ``ChatClient.stream`` receives from the server, with when it arrived (the real method,
    observed: each piece is passed on unchanged)."""
    arrivals: list[tuple[float, str]] = []
    original = ChatClient.stream

    def stream(self, *args, **kwargs):
        for delta in original(self, *args, **kwargs):
            arrivals.append((time.monotonic(), delta))
            yield delta

    monkeypatch.setattr(ChatClient, "stream", stream)
    return arrivals


@pytest.fixture(scope="module")
def station_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("station")
    (folder / "docs").mkdir()
    (folder / "docs" / "varga_station.txt").write_text(STATION, encoding="utf-8")
    assistant = Assistant(data_dir=folder / "data")
    assert assistant.add([folder / "docs"]).added == ["varga_station.txt"]
    assistant.close()
    return folder / "data"


def test_the_server_streams_tokens_while_it_writes(llm_server, deltas):
    client = ChatClient(Settings(llm_base_url=llm_server, llm_model="local-test", llm_timeout=120))
    sent = time.monotonic()
    text = "".join(client.stream([{"role": "user", "content": "Count from one to ten."}], max_tokens=32))
    assert text.strip() and len(deltas) >= 3, deltas
    first, last = deltas[0][0], deltas[-1][0]
    # Order in time, not speed: a reply written whole and then sent arrives at one instant, however it is
    # cut into events; tokens sent as they are generated arrive spread over most of the request.
    assert last - first > 0.25 * (last - sent), (first - sent, last - first)


def _claim(sentence: str) -> str:
    claim, _ = parse_markers(sentence)
    return re.sub(r"\s+([.!?…])$", r"\1", claim)


def _ask(data_dir, llm_server, question, deltas):
    """``(assistant, answer, pieces with arrival times, the model's raw reply)`` of one streamed question."""
    assistant = Assistant(data_dir=data_dir, llm_base_url=llm_server, llm_model="local-test", llm_timeout=180,
                          top_k=2, llm_max_tokens=80)
    pieces = [(time.monotonic(), piece) for piece in assistant.stream(question)]
    answer = pieces[-1][1].answer
    assert "".join(piece.text for _, piece in pieces) == answer.text
    return assistant, answer, pieces, "".join(delta for _, delta in deltas)


def _check_protocol(assistant, answer, raw, check_citations) -> tuple[list[str], list[str]]:
    """Every sentence of the model's reply is either shown with citations the checker accepts, or dropped
    because the checker finds no support for it; returns ``(shown claims, dropped claims)``."""
    check_citations(assistant, answer)
    complete, rest = split_complete(raw)
    written = [_claim(s) for s in complete + ([rest.strip()] if rest.strip() else [])]
    written = [c for c in written if c and NOT_FOUND not in c]
    embedder = make_embedder(assistant.settings)
    checker = CitationChecker(embedder, SentenceVectors(embedder, VectorStore(assistant.settings)))
    every = list(range(1, len(answer.passages) + 1))
    supported = {claim: {(answer.passages[s.passage].source, s.start, s.end)
                         for s in checker.check(claim, every, answer.passages)} for claim in written}
    if answer.mode != "llm":
        return [], written
    shown = [(claim.text, list(claim.citations)) for claim in answer.claims]
    by_n = {c.n: c for c in answer.citations}
    for claim, numbers in shown:
        assert claim in written, f"{claim!r} is not a sentence the model wrote: {raw!r}"
        for n in numbers:
            assert (by_n[n].source, by_n[n].start, by_n[n].end) in supported[claim], (claim, by_n[n])
    shown_claims = [claim for claim, _ in shown]
    dropped = [claim for claim in written if claim not in shown_claims]
    for claim in dropped:
        assert not supported[claim], f"{claim!r} has support {supported[claim]} but was not shown"
    return shown_claims, dropped


def test_a_real_llm_answer_over_english_text_is_the_models_own_and_verified(station_dir, llm_server, deltas,
                                                                            check_citations):
    assistant, answer, pieces, raw = _ask(station_dir, llm_server, STATION_QUESTION, deltas)
    assert len(deltas) > 1, "the server's reply came in one piece"
    assert answer.mode == "llm" and not answer.abstained and answer.notice is None, (answer.mode, raw, answer.notice)
    shown, _ = _check_protocol(assistant, answer, raw, check_citations)
    assert shown and all(c.source == "varga_station.txt" for c in answer.citations)
    assistant.close()


def test_a_real_llm_answer_over_the_seeds_shows_only_verified_sentences(seeded_dir, llm_server, deltas,
                                                                        check_citations):
    # Vietnamese passages and an English question: the tiny model writes nothing they support, so what is
    # pinned is the rule, whichever way the checker decides: each sentence shown with a citation the checker
    # accepts or dropped, and the offline answer (with the reason) only when nothing survived. Today the
    # checker once accepted what the model writes here (see the test below).
    question = "Who led the Meta delegation?"
    assistant, answer, pieces, raw = _ask(seeded_dir, llm_server, question, deltas)
    assert len(deltas) > 1, "the server's reply came in one piece"
    shown, dropped = _check_protocol(assistant, answer, raw, check_citations)
    if answer.mode == "llm":
        assert answer.abstained == (not shown and NOT_FOUND in raw)
    else:
        assert answer.mode == "extractive (fallback)", (answer.mode, raw)
        assert "no claim its passages support" in answer.notice
        assert answer.text == assistant.ask(question, use_llm=False).text
    assistant.close()


def test_what_the_model_wrote_about_meta_is_not_accepted_as_supported(seeded_assistant):
    # SmolLM2-135M's reply (temperature 0) to the question above, verbatim; checked here without the server
    # so the case does not depend on the model writing it again.
    claim = "The answer is: The CEO of the company, who was also a member of the team that created the Meta platform."
    passages = seeded_assistant.retrieve("Who led the Meta delegation?", top_k=2)
    embedder = make_embedder(seeded_assistant.settings)
    checker = CitationChecker(embedder, SentenceVectors(embedder, VectorStore(seeded_assistant.settings)))
    assert checker.check(claim, list(range(1, len(passages) + 1)), passages) == []
