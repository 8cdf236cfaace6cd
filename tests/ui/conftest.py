"""UI fixtures: the real app over a writable copy of the seeded index, served on a free loopback port."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def ui_assistant(seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """An ``Assistant`` over a private copy of ``seeded_dir``: UI tests may add and delete documents."""
    from rag import Assistant

    data_dir = tmp_path_factory.mktemp("ui") / "data"
    shutil.copytree(seeded_dir, data_dir)
    assistant = Assistant(data_dir=data_dir)
    yield assistant
    assistant.close()


@pytest.fixture(scope="session")
def ui_url(ui_assistant) -> Iterator[str]:
    """The real Gradio app (``build_app`` + ``launch``) running in this process; yields its base URL."""
    from ui.app import build_app, launch

    demo = build_app(ui_assistant, reindex_paths=[ROOT / "seeds"])
    url = launch(demo, host="127.0.0.1", port=_free_port(), block=False,
                 max_file_mb=ui_assistant.settings.max_file_mb)
    try:
        yield url.rstrip("/")
    finally:
        demo.close()


@pytest.fixture(scope="session")
def fallback_url(seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app configured for an LLM endpoint nobody listens on (a free loopback port): every answer falls back."""
    from rag import Assistant

    data_dir = tmp_path_factory.mktemp("ui_fallback") / "data"
    shutil.copytree(seeded_dir, data_dir)
    yield from serve(Assistant(data_dir=data_dir, llm_base_url=f"http://127.0.0.1:{_free_port()}/v1", llm_timeout=5))


def serve(assistant, port: int | None = None) -> Iterator[str]:
    """The chat app over ``assistant`` on a loopback port, yielding its URL; closes both afterwards."""
    from ui.app import build_app, launch

    demo = build_app(assistant)
    url = launch(demo, host="127.0.0.1", port=port or _free_port(), block=False)
    try:
        yield url.rstrip("/")
    finally:
        demo.close()
        assistant.close()


@pytest.fixture(scope="session")
def loopback_port():
    """``loopback_port()`` -> a port that is free on 127.0.0.1 right now."""
    return _free_port
