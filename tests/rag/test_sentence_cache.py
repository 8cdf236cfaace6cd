"""rag/sentence_cache.py with the real embedder and embedded Chroma: stored sentence vectors, read once, cached."""

from __future__ import annotations

import numpy as np
import pytest

from index.catalog import Catalog
from index.embedding import make_embedder
from index.ingest import Ingestor
from rag.settings import Settings
from index.store import VectorStore
from rag.sentence_cache import ChunkRef, SentenceVectors

pytestmark = pytest.mark.slow

TEXT = ("Chiều 20/3, Thứ trưởng Nguyễn Huy Dũng tiếp đoàn Meta do ông Rafael Frankel dẫn đầu. "
        "Hai bên bàn về chống lừa đảo trực tuyến. Meta cam kết gỡ bỏ tin giả nhanh hơn. "
        "Cuộc họp kết thúc lúc 17 giờ.")


class Counting:
    """Wraps a real object and counts calls of the named methods (the calls still go through)."""

    def __init__(self, inner, *names: str):
        self._inner = inner
        self.calls = dict.fromkeys(names, 0)

    def __getattr__(self, name):
        attribute = getattr(self._inner, name)
        if name not in self.calls:
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vectors")
    (folder / "docs").mkdir()
    (folder / "docs" / "meta.txt").write_text(TEXT, encoding="utf-8")
    settings = Settings(data_dir=folder / "data", chunk_chars=120)
    catalog, store, embedder = Catalog(settings.catalog_path), VectorStore(settings), make_embedder(settings)
    Ingestor(settings, catalog, store, embedder).run([folder / "docs"])
    chunks = list(catalog.chunks(catalog.chunk_ids("meta.txt")).values())
    assert len(chunks) >= 2
    yield store, embedder, chunks
    catalog.close()


def refs(chunks) -> list[ChunkRef]:
    return [ChunkRef(c.id, c.start, c.text) for c in chunks]


def test_chunk_sentences_are_the_stored_vectors_and_are_read_once(indexed):
    store, embedder, chunks = indexed
    counted_store = Counting(store, "sentence_vectors_by_id", "sentence_vectors")
    counted_embedder = Counting(embedder, "embed_passages")
    vectors = SentenceVectors(counted_embedder, counted_store)

    found = vectors.of_chunks(refs(chunks))
    assert set(found) == {c.id for c in chunks}
    stored_chunk_vectors = store.chunk_vectors([c.id for c in chunks])
    for chunk in chunks:
        sentences = found[chunk.id]
        texts = [TEXT[s:e] for s, e in sentences.spans]
        assert texts and " ".join(texts) == chunk.text
        # The rows are what ingest embedded for each sentence, and the chunk vector is their mean.
        expected = embedder.embed_passages(texts)
        assert np.allclose((sentences.vectors * expected).sum(axis=1), 1.0, atol=1e-4)
        assert float(sentences.vector @ stored_chunk_vectors[chunk.id]) == pytest.approx(1.0, abs=1e-4)
    assert counted_store.calls == {"sentence_vectors_by_id": 1, "sentence_vectors": 0}
    assert counted_embedder.calls["embed_passages"] == 0

    again = vectors.of_chunks(refs(chunks))
    assert counted_store.calls["sentence_vectors_by_id"] == 1 and vectors.hits == len(chunks)
    assert all(again[c.id] is found[c.id] for c in chunks)


def test_a_chunk_with_other_text_under_the_same_id_is_read_again(indexed):
    store, embedder, chunks = indexed
    counted_store = Counting(store, "sentence_vectors_by_id", "sentence_vectors")
    vectors = SentenceVectors(embedder, counted_store)
    vectors.of_chunks(refs(chunks[:1]))
    # Ids are positions (``source::0``): an edited document's first chunk keeps the id, not the text.
    # Cut differently from what ingest stored, it is read by chunk id, with the stored spans.
    edited = ChunkRef(chunks[0].id, chunks[0].start + 7, chunks[0].text[7:])
    found = vectors.of_chunks([edited])
    assert counted_store.calls == {"sentence_vectors_by_id": 2, "sentence_vectors": 1}
    assert found[chunks[0].id].spans[0][0] == chunks[0].start
    assert vectors.misses == 2


def test_unknown_chunks_are_left_out_and_capacity_is_kept(indexed):
    store, embedder, chunks = indexed
    counted_store = Counting(store, "sentence_vectors_by_id", "sentence_vectors")
    vectors = SentenceVectors(embedder, counted_store, chunk_capacity=1)
    assert vectors.of_chunks([ChunkRef("gone.txt::0", 0, "Không còn nữa.")]) == {}
    vectors.of_chunks(refs(chunks[:2]))
    reads = counted_store.calls["sentence_vectors_by_id"]
    vectors.of_chunks(refs(chunks[1:2]))  # the most recent one stayed
    assert counted_store.calls["sentence_vectors_by_id"] == reads
    vectors.of_chunks(refs(chunks[:1]))  # the other was evicted
    assert counted_store.calls["sentence_vectors_by_id"] == reads + 1


def test_prefetched_sentences_need_no_embedding_and_new_text_is_embedded_once(indexed):
    store, embedder, chunks = indexed
    counted_embedder = Counting(embedder, "embed_passages")
    vectors = SentenceVectors(counted_embedder, store)

    class Passage:  # what prefetch reads of a retrieved passage
        def __init__(self, chunk):
            self.chunk_id, self.start, self.text = chunk.id, chunk.start, chunk.text

    vectors.prefetch([Passage(c) for c in chunks])
    sentence = TEXT[chunks[0].start : TEXT.index(".", chunks[0].start) + 1]
    stored = vectors.get([sentence])
    assert counted_embedder.calls["embed_passages"] == 0
    assert float(stored[0] @ embedder.embed_passages([sentence])[0]) == pytest.approx(1.0, abs=1e-4)
    new = vectors.get(["Một câu chưa từng được lưu.", sentence, "Một câu chưa từng được lưu."])
    assert new.shape == (3, embedder.dim) and counted_embedder.calls["embed_passages"] == 1
    vectors.get(["Một câu chưa từng được lưu."])
    assert counted_embedder.calls["embed_passages"] == 1
