"""rag/keywords.py: IDF-weighted coverage, where a token the text holds only with other diacritics counts less."""

from __future__ import annotations

import pytest

from index.catalog import Catalog, tokenize
from index.chunking import chunk_document
from index.documents import Document
from rag.keywords import FOLDED_WEIGHT, KeywordScorer


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    texts = {"table.txt": "Cái bàn gỗ ở Hạ Long.", "sale.txt": "Cửa hàng bán cá.", "friend.txt": "Bạn tôi ở Đà Nẵng.",
             "en.txt": "A ban on fishing."}
    for name, text in texts.items():
        document = Document(source=name, text=text, title=name, language="vi", sha256=name)
        catalog.stage(document, chunk_document(document, 200))
    catalog.mark_ready(list(texts))
    yield catalog
    catalog.close()


def test_an_exact_match_weighs_more_than_a_folded_one(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("bán"))
    exact, folded = scorer.coverage("Cửa hàng bán cá."), scorer.coverage("Cái bàn gỗ.")
    assert exact == pytest.approx(1.0)
    # "ban" folds four words of the collection together: rarer than none of them, and weighed down besides.
    assert 0 < folded < FOLDED_WEIGHT * exact
    assert scorer.coverage("Cá tươi.") == 0.0


def test_a_question_typed_without_accents_covers_the_accented_text(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("Where is Ha Long? Da Nang?"))
    assert scorer.coverage("Cái bàn gỗ ở Hạ Long.") > scorer.coverage("Cửa hàng bán cá.")
    assert scorer.coverage("Bạn tôi ở Đà Nẵng.") > 0  # đ folds to d
    assert {"ha", "da", "nang"} <= set(scorer.folded_search_tokens)
    # Without accents on either side the match is exact, and counts in full.
    assert KeywordScorer.of(catalog, tokenize("fishing")).coverage("A ban on fishing.") == pytest.approx(1.0)
