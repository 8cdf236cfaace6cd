"""rag/retrieval.py over the seeded index: dense, keyword and language-aware hybrid retrieval of a ``Query``."""

from __future__ import annotations

import hashlib

import pytest

from index.catalog import Catalog, tokenize
from index.chunking import chunk_document
from index.documents import Document
from index.embedding import make_embedder
from index.store import VectorStore
from rag.keywords import KeywordScorer
from rag.question import QuestionAnalysis
from rag.retrieval import Retriever
from rag.sentence_cache import SentenceVectors
from rag.settings import Settings

pytestmark = pytest.mark.slow

META = "002_260f1e49892e43cf.txt"
CAMBODIA_VI = "000_514266f0979d6470.txt"
ASEAN = "003_430fae2883786666.txt"


@pytest.fixture(scope="module")
def parts(seeded_dir):
    settings = Settings(data_dir=seeded_dir)
    catalog = Catalog(settings.catalog_path)
    store = VectorStore(settings)
    embedder = make_embedder(settings)
    yield settings, catalog, Search(QuestionAnalysis(settings, catalog, embedder),
                                    Retriever(settings, catalog, store, SentenceVectors(embedder, store)))
    catalog.close()


class Search:
    """The retrieval stage fed by the question stage, as the pipeline runs them."""

    def __init__(self, analysis: QuestionAnalysis, retriever: Retriever):
        self.analysis, self.retriever = analysis, retriever

    def run(self, question: str, k: int | None = None, mode: str | None = None, history: list[str] | None = None):
        query = self.analysis.run(question, history)
        passages = self.retriever.run(query, k=k, mode=mode)
        assert passages == self.retriever.run(query, k=k, mode=mode)  # a stage's run is a function of its input
        return passages


@pytest.fixture(scope="module")
def retriever(parts):
    return parts[2]


@pytest.fixture(scope="module")
def catalog(parts):
    return parts[1]


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
@pytest.mark.parametrize(
    "question", ["Who led the Meta delegation?", "Ai dẫn đầu đoàn công tác của Meta?", "Combien d'internautes au Cambodge ?"]
)
def test_every_mode_returns_ranked_passages_with_offsets(retriever, catalog, mode, question):
    passages = retriever.run(question, k=4, mode=mode)
    assert 1 <= len(passages) <= 4
    assert len({p.chunk_id for p in passages}) == len(passages)
    for p in passages:
        assert catalog.document_text(p.source)[p.start : p.end] == p.text
        assert p.chunk_id.startswith(p.source + "::")
        if mode == "dense":
            assert p.keyword is None and p.score == p.dense
        elif mode == "keyword":
            assert p.dense is None and p.score == p.keyword > 0
        else:
            assert p.dense is not None and 0 <= p.keyword <= 1
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_english_question_finds_the_vietnamese_meta_article_first(retriever):
    passages = retriever.run("Who led the Meta delegation?", k=5, mode="hybrid")
    assert passages[0].source == META
    assert any("Rafael Frankel" in p.text for p in passages[:3])


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("How many people in ASEAN use the Internet?", ASEAN),
        ("Campuchia có bao nhiêu người sử dụng Internet?", CAMBODIA_VI),
        ("Ông Rafael Frankel giữ chức vụ gì?", META),
    ],
)
def test_hybrid_and_dense_rank_the_right_article_first(retriever, question, source):
    assert retriever.run(question, k=3, mode="hybrid")[0].source == source
    assert retriever.run(question, k=3, mode="dense")[0].source == source


def test_keyword_mode_on_a_vietnamese_question(retriever):
    passages = retriever.run("Ông Rafael Frankel giữ chức vụ gì?", k=3, mode="keyword")
    assert passages[0].source == META and "Rafael Frankel" in passages[0].text
    assert retriever.run("Khu vực ASEAN có khoảng 480 triệu người dùng", k=3, mode="keyword")[0].source == ASEAN


def test_keyword_mode_without_shared_words_finds_nothing(retriever):
    assert retriever.run("zyzzyva quokkaesque", k=3, mode="keyword") == []


def test_large_k_returns_each_chunk_at_most_once(retriever, catalog):
    passages = retriever.run("an ninh mạng", k=50, mode="hybrid")
    assert len(passages) == len({p.chunk_id for p in passages}) <= catalog.count_chunks()


def test_default_k_and_mode_come_from_settings(parts):
    settings, _, retriever = parts
    passages = retriever.run("Who led the Meta delegation?")
    assert len(passages) == settings.top_k
    assert all(p.dense is not None and p.keyword is not None for p in passages)  # hybrid


def test_a_follow_up_is_retrieved_with_its_conversation(retriever):
    passages = retriever.run("How many use Facebook?", k=3, history=["How many Internet users does Cambodia have?"])
    assert passages[0].source in (CAMBODIA_VI, "001_2b62d3c3698cbca6.txt")


def test_keyword_scorer_coverage(catalog):
    scorer = KeywordScorer.of(catalog, tokenize("Rafael Frankel Meta"))
    assert scorer.coverage("ông Rafael Frankel của Meta") == pytest.approx(1.0)
    assert scorer.coverage("nothing in common") == 0.0
    partial = scorer.coverage("Meta")
    assert 0 < partial < scorer.coverage("Rafael Frankel")  # rarer words weigh more


def _catalog_of_sentences(path, sentences: list[str]) -> Catalog:
    """A catalog holding one ready document whose every sentence is a chunk of its own."""
    text = " ".join(sentences)
    document = Document("many.txt", text, "many", "en", hashlib.sha256(text.encode()).hexdigest())
    result = Catalog(path)
    result.stage(document, chunk_document(document, target_chars=1))
    result.set_state("many.txt", "ready")
    return result


@pytest.mark.parametrize("chunks, searched", [(40, ["common", "rare"]), (300, ["rare"]), (1200, ["rare"])])
def test_terms_in_most_chunks_are_scored_but_not_searched_in_large_collections(tmp_path, chunks, searched):
    sentences = [f"Common word number{i}." for i in range(chunks - 1)] + ["Common and rare."]
    catalog = _catalog_of_sentences(tmp_path / "catalog.sqlite3", sentences)
    scorer = KeywordScorer.of(catalog, tokenize("common rare"))
    assert scorer.search_tokens == searched
    # Still weighed: a text with both words covers more of the question than one with the rare word only.
    assert scorer.coverage("common rare") == pytest.approx(1.0)
    assert 1.0 > scorer.coverage("rare") > scorer.coverage("common") > 0
    assert catalog.keyword_search(scorer.search_tokens, 5)[0][0] == f"many.txt::{chunks - 1}"
    catalog.close()


# -- accents and chosen documents (issue 20) ------------------------------------------------------------
NOTES = {
    "ha-long.txt": "Vịnh Hạ Long là một vịnh thuộc tỉnh Quảng Ninh, bên bờ tây vịnh Bắc Bộ. "
                   "Vịnh có gần hai nghìn hòn đảo đá vôi.",
    "hop-tac-xa.txt": "Hợp tác xã Tân Phú có ba trăm xã viên. Hợp tác xã trồng lúa và rau sạch.",
    "da-lat.txt": "Đà Lạt nổi tiếng với hoa dã quỳ, đồi thông và khí hậu mát mẻ quanh năm.",
    "ban-go.txt": "Xưởng mộc Hưng Thịnh đóng bàn gỗ lim.",
    "ban-ca.txt": "Chợ Hưng Thịnh bán cá tươi mỗi sáng.",
    "khong-dau.txt": "Cho Hung Thinh ban ca tuoi moi sang.",  # the same, typed without accents
}


@pytest.fixture(scope="module")
def mixed(seeded_dir, tmp_path_factory):
    """The seeds (four Vietnamese articles, one French) plus short Vietnamese ``NOTES``, searched as the pipeline
    searches: a ``Search`` over a private copy of the seeded index."""
    import shutil

    from rag import Assistant

    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(seeded_dir, root / "data")
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    assistant = Assistant(data_dir=root / "data")
    assert sorted(assistant.add([root / name for name in NOTES]).added) == sorted(NOTES)
    settings = assistant.settings
    store = assistant._store
    yield Search(QuestionAnalysis(settings, assistant._catalog, assistant._embedder),
                 Retriever(settings, assistant._catalog, store, SentenceVectors(assistant._embedder, store)))
    assistant.close()


ACCENTLESS_HYBRID = pytest.mark.xfail(strict=True, reason=(
    "dense retrieval reads Vietnamese typed without accents poorly (it ranks the French seed and the accentless "
    "note above), and keyword coverage only nudges it (RAG_KEYWORD_WEIGHT 0.06, fitted on accented questions): "
    "XQuAD questions typed without accents score hybrid MRR 0.49, keyword-only 0.81"))


@pytest.mark.parametrize(("question", "source", "mode"), [
    # An English question naming the place without its accents.
    ("Where is Ha Long Bay?", "ha-long.txt", "hybrid"),
    ("Where is Ha Long Bay?", "ha-long.txt", "keyword"),
    ("What is Da Lat famous for?", "da-lat.txt", "hybrid"),
    ("What is Da Lat famous for?", "da-lat.txt", "keyword"),
    # Vietnamese typed without accents.
    pytest.param("hop tac xa Tan Phu co bao nhieu xa vien?", "hop-tac-xa.txt", "hybrid", marks=ACCENTLESS_HYBRID),
    ("hop tac xa Tan Phu co bao nhieu xa vien?", "hop-tac-xa.txt", "keyword"),
])
def test_a_question_without_accents_finds_the_vietnamese_document(mixed, question, source, mode):
    assert mixed.run(question, k=3, mode=mode)[0].source == source


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
@pytest.mark.parametrize(("question", "source", "other"), [
    ("Chợ Hưng Thịnh bán gì?", "ban-ca.txt", "khong-dau.txt"),
    ("Cho Hung Thinh ban gi?", "khong-dau.txt", "ban-ca.txt"),
])
def test_the_spelling_typed_ranks_above_the_same_words_with_other_accents(mixed, mode, question, source, other):
    ranked = [p.source for p in mixed.run(question, k=5, mode=mode)]
    assert ranked[0] == source and other in ranked


def test_accents_are_optional_on_one_side_never_different_on_both(mixed):
    def keyword(question):
        return {p.source: p.keyword for p in mixed.run(question, k=10, mode="keyword")}

    sell = keyword("bán")
    assert "ban-go.txt" not in sell  # "bàn" (table) is another word than "bán" (to sell)
    assert max(sell, key=sell.get) == "ban-ca.txt" and sell["ban-ca.txt"] > sell["khong-dau.txt"] > 0
    bare = keyword("ban")
    assert {"ban-ca.txt", "ban-go.txt", "khong-dau.txt"} <= set(bare)
    assert bare["khong-dau.txt"] > bare["ban-ca.txt"] == pytest.approx(bare["ban-go.txt"], rel=0.2)


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_a_question_asked_of_chosen_documents_is_searched_in_them_only(mixed, mode):
    question = "Meta và Việt Nam hợp tác gì trong năm 2024?"
    assert mixed.run(question, k=5, mode=mode)[0].source == META
    chosen = mixed.analysis.run(question, sources=["hop-tac-xa.txt", "ban-ca.txt"])
    assert chosen.sources == ("hop-tac-xa.txt", "ban-ca.txt")
    passages = mixed.retriever.run(chosen, k=5, mode=mode)
    # The filter is inside the searches: the chosen documents' passages come back though none is near the top.
    assert passages and {p.source for p in passages} <= {"hop-tac-xa.txt", "ban-ca.txt"}


def test_a_document_name_nobody_has_is_an_input_error(mixed):
    from index.errors import InputError

    with pytest.raises(InputError, match="nope.txt: no indexed document has this name"):
        mixed.analysis.run("Who led the Meta delegation?", sources=["ha-long.txt", "nope.txt"])
    assert mixed.analysis.run("Who led the Meta delegation?", sources=[]).sources is None
