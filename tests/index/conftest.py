"""Fixtures of the write-path tests: a real catalog + Chroma + embedder + Ingestor over a fresh data dir."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.catalog import Catalog
from index.embedding import Embedder, make_embedder
from index.ingest import Ingestor
from index.settings import IndexSettings
from index.store import VectorStore

_collections = itertools.count()


@dataclass
class Stack:
    """The write path wired as ``Assistant`` wires it, plus a direct view of what Chroma holds."""

    settings: IndexSettings
    catalog: Catalog
    store: VectorStore
    embedder: Embedder
    ingestor: Ingestor

    def chroma_items(self) -> dict[str, tuple[str, dict]]:
        """Every vector Chroma holds for this stack (chunks, sentences...): id -> (text, metadata), read back
        through a separate chromadb client from each collection whose name starts with ours."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.settings.chroma_host:
            client = chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                         settings=chroma_settings)
        else:
            client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
        items = {}
        for collection in client.list_collections():
            if collection.name == self.settings.collection or collection.name.startswith(self.settings.collection + "_"):
                got = client.get_collection(collection.name).get(include=["documents", "metadatas"])
                items.update({i: (t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])})
        return items

    def chroma_texts(self) -> list[str]:
        return [text for text, _ in self.chroma_items().values()]

    def assert_consistent(self) -> None:
        """Chroma holds vectors for exactly the catalog's ready chunks, and every vector's text is the
        document text at the offsets it records."""
        ready = {d.id: self.catalog.document_text(d.id) for d in self.catalog.documents()}
        chunk_ids = {i for source in ready for i in self.catalog.chunk_ids(source)}
        seen = set()
        for item_id, (text, meta) in self.chroma_items().items():
            assert meta["source"] in ready, f"{item_id}: vector of a document that is not indexed"
            chunk_id = meta.get("chunk_id", item_id)
            assert chunk_id in chunk_ids, f"{item_id}: vector of a chunk the catalog does not have"
            assert ready[meta["source"]][meta["start"] : meta["end"]] == text, f"{item_id}: stale text"
            seen.add(chunk_id)
        assert seen == chunk_ids, f"chunks without vectors: {sorted(chunk_ids - seen)}"
        for source in ready:
            assert {i.split("@")[0] for i in self.store.ids_for(source)} == set(self.catalog.chunk_ids(source))
        assert self.store.count() == self.catalog.count_chunks() == len(chunk_ids)


def make_stack(data_dir: Path, **overrides) -> Stack:
    settings = IndexSettings(data_dir=data_dir, chunk_chars=120, **overrides)
    catalog = Catalog(settings.catalog_path)
    store = VectorStore(settings)
    embedder = make_embedder(settings)
    return Stack(settings, catalog, store, embedder, Ingestor(settings, catalog, store, embedder))


@pytest.fixture(params=["embedded", pytest.param("server", marks=[pytest.mark.server, pytest.mark.slow])])
def stack(request, tmp_path) -> Stack:
    """The write path over embedded Chroma in ``tmp_path``, or over the session's real Chroma server
    (a fresh collection per test)."""
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        result = make_stack(tmp_path, chroma_host=host, chroma_port=port, collection=f"test{next(_collections)}")
    else:
        result = make_stack(tmp_path)
    yield result
    result.catalog.close()


@pytest.fixture
def embedded_stack(tmp_path) -> Stack:
    """The write path over embedded Chroma only."""
    result = make_stack(tmp_path)
    yield result
    result.catalog.close()


@pytest.fixture
def stack_with(tmp_path):
    """``stack_with(**settings) -> Stack``: the write path over embedded Chroma with other settings."""
    made = []

    def make(**overrides) -> Stack:
        made.append(make_stack(tmp_path / f"data{len(made)}", **overrides))
        return made[-1]

    yield make
    for result in made:
        result.catalog.close()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def write():
    """``write(path, text) -> path``: a UTF-8 file, parent folders created."""
    return _write


# Small documents in three languages, each with a word no other document has.
DOCS = {
    "meta.txt": "Chiều 20/3, Thứ trưởng Nguyễn Huy Dũng tiếp đoàn Meta do ông Rafael Frankel dẫn đầu. "
                "Hai bên bàn về chống lừa đảo trực tuyến và hợp tác năm 2024. Từ riêng: quokka.",
    "cambodge.md": "# Conférence\n\nLe Cambodge compte environ 12 millions d'internautes. "
                   "La conférence s'est tenue le 12 décembre à Phnom Penh. Mot unique : wombat.",
    "asean.txt": "The ASEAN+3 cyber security conference was held in Hanoi on 28 December 2020. "
                 "About 480 million people in ASEAN use the Internet. Unique word: axolotl.",
}


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A folder holding ``DOCS``; their names are ``sorted(corpus_names)``."""
    folder = tmp_path / "corpus"
    for name, text in DOCS.items():
        _write(folder / name, text)
    return folder


@pytest.fixture(scope="session")
def corpus_names() -> list[str]:
    return sorted(DOCS)
