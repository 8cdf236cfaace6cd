"""rag/keywords.py: IDF-weighted coverage, where accents are optional on one side and count less when missing."""

from __future__ import annotations

import pytest

from index.catalog import Catalog, tokenize
from index.chunking import chunk_document
from index.documents import Document
from rag.keywords import FOLDED_WEIGHT, KeywordScorer, accent_variants


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    texts = {"table.txt": "Cái bàn gỗ ở Hạ Long.", "sale.txt": "Cửa hàng bán cá.", "friend.txt": "Bạn tôi ở Đà Nẵng.",
             "en.txt": "A ban on fishing.", "coop.txt": "Hợp tác xã Tân Phú."}
    for name, text in texts.items():
        document = Document(source=name, text=text, title=name, language="vi", sha256=name)
        catalog.stage(document, chunk_document(document, 200))
    catalog.mark_ready(list(texts))
    yield catalog
    catalog.close()


def test_accent_variants():
    assert accent_variants(["ha", "long", "bán", "đà", "2024"]) == (["ha", "long", "2024"], ["ban", "da"])


def test_a_token_typed_without_accents_matches_the_accented_spellings_for_less(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("ban"))
    exact = scorer.coverage("A ban on fishing.")
    assert exact == pytest.approx(1.0)
    # "ban" stands for any of four words of the collection: common in the folded index, and weighed down besides.
    for text in ("Cái bàn gỗ.", "Cửa hàng bán cá.", "Bạn tôi."):
        assert 0 < scorer.coverage(text) < FOLDED_WEIGHT * exact
    assert scorer.coverage("Cá tươi.") == 0.0
    assert scorer.unaccented_search_tokens == ["ban"] and scorer.bare_search_tokens == []


def test_an_accented_token_matches_text_typed_without_accents_but_no_other_accents(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("bán"))
    assert scorer.coverage("Cửa hàng bán cá.") == pytest.approx(1.0)
    assert scorer.coverage("Cai ban go.") > 0  # the text has no accents: "ban" may be "bán"
    assert scorer.coverage("Cái bàn gỗ.") == 0.0  # "bàn" (table) is not "bán" (to sell)
    assert scorer.bare_search_tokens == ["ban"] and scorer.unaccented_search_tokens == []


def test_a_question_typed_without_accents_covers_the_accented_text(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("Where is Ha Long? Da Nang?"))
    assert scorer.coverage("Cái bàn gỗ ở Hạ Long.") > scorer.coverage("Cửa hàng bán cá.") == 0.0
    assert scorer.coverage("Bạn tôi ở Đà Nẵng.") > 0  # đ folds to d
    assert {"ha", "da", "nang"} <= set(scorer.unaccented_search_tokens)


def test_a_question_typed_all_without_accents_can_be_covered_as_much_as_a_folded_match_counts(catalog):
    # No chunk holds "hop", "tac" or "xa" as typed: their share of the question is the IDF of the words they fold.
    scorer = KeywordScorer.of(catalog, tokenize("hop tac xa"))
    assert scorer.coverage("Hợp tác xã Tân Phú.") == pytest.approx(FOLDED_WEIGHT)
    assert scorer.coverage("Hợp tác.") == pytest.approx(FOLDED_WEIGHT * 2 / 3, rel=0.05)


def test_the_folded_weight_is_a_setting_from_the_environment(catalog, monkeypatch):
    from rag.keywords import KeywordStatistics
    from rag.settings import RetrievalSettings

    monkeypatch.setenv("RAG_FOLDED_WEIGHT", "0.25")
    weight = RetrievalSettings().folded_weight
    assert weight == 0.25
    scorer = KeywordScorer(KeywordStatistics.read(catalog, tokenize("hop tac xa"), weight), tokenize("hop tac xa"))
    assert scorer.coverage("Hợp tác xã Tân Phú.") == pytest.approx(0.25)
