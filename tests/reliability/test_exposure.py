"""Exposure: the UI listens on loopback unless told otherwise and limits uploads by size and type; the
API key never shows in a repr, status, error, notice, log line, CLI output or the UI page.

(Refusing a non-loopback ``--host`` without ``--auth`` is tests/ui/test_main.py's; the login itself is
tests/ui/test_api.py::test_auth_protects_the_api.)
"""

from __future__ import annotations

import inspect
import logging
import shutil
import urllib.error
import urllib.request
import uuid

import psutil
import pytest

from rag.settings import Settings
from rag import Assistant
from tests.reliability.harness import META_QUESTION, SECRET, BrokenLLM

pytestmark = pytest.mark.slow

MB = 1_000_000


# -- the UI's network surface --------------------------------------------------------------------------
def test_loopback_is_the_default_everywhere():
    from ui.__main__ import _parser
    from ui.app import launch

    assert _parser().parse_args([]).host == "127.0.0.1"
    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"


@pytest.fixture(scope="module")
def secret_app(seeded_dir, tmp_path_factory, free_port):
    """The real app on a loopback port, configured with an API key and a 1 MB upload limit; yields
    ``(url, port, assistant)``. The LLM endpoint echoes the key back in its error, like a careless proxy."""
    from ui.app import build_app, launch

    data_dir = tmp_path_factory.mktemp("secret_ui") / "data"
    shutil.copytree(seeded_dir, data_dir)
    server = BrokenLLM("echo401")
    assistant = Assistant(data_dir=data_dir, llm_base_url=server.base_url, llm_api_key=SECRET, max_file_mb=1,
                          llm_timeout=5)
    demo = build_app(assistant)
    port = free_port()
    url = launch(demo, port=port, block=False, max_file_mb=assistant.settings.max_file_mb).rstrip("/")
    try:
        yield url, port, assistant, server
    finally:
        demo.close()
        server.close()
        assistant.close()


def test_the_ui_listens_on_loopback_only(secret_app):
    _, port, _, _ = secret_app
    listening = [c.laddr for c in psutil.Process().net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def _upload(url: str, name: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}/gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_uploads_over_the_size_limit_are_refused_by_the_server(secret_app):
    url, *_ = secret_app
    assert _upload(url, "small.txt", b"A small file. " * 1000) == 200
    assert _upload(url, "big.txt", b"A big file. " * (MB // 6)) == 413


def test_uploads_of_other_types_are_refused_before_the_handler(secret_app):
    import gradio as gr
    from gradio.data_classes import FileData, ListFiles

    from ui.app import build_app

    _, _, assistant, _ = secret_app
    uploader = next(b for b in build_app(assistant).blocks.values() if getattr(b, "elem_id", None) == "upload")
    with pytest.raises(gr.Error, match="Invalid file type"):
        uploader.preprocess(ListFiles(root=[FileData(path="/tmp/setup.exe", orig_name="setup.exe")]))
    assert uploader.preprocess(ListFiles(root=[FileData(path="/tmp/notes.md", orig_name="notes.md")])) == [
        "/tmp/notes.md"]


# -- secrets -------------------------------------------------------------------------------------------
def test_settings_never_print_keys(monkeypatch):
    monkeypatch.setenv("RAG_LLM_API_KEY", SECRET)
    settings = Settings()
    assert settings.llm_api_key == SECRET and settings.llm_enabled
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    monkeypatch.delenv("RAG_LLM_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert SECRET not in repr(Settings()) and Settings().llm_api_key == SECRET
    assert SECRET not in repr(Settings(embed_api_key=SECRET))


def test_status_errors_notices_and_logs_never_show_the_key(secret_app, caplog):
    _, _, assistant, server = secret_app
    caplog.set_level(logging.DEBUG)
    assert SECRET not in repr(assistant.status()) and SECRET not in repr(assistant.settings)
    answer = assistant.ask(META_QUESTION)
    assert server.keys and server.keys[-1] == f"Bearer {SECRET}", "the key was really sent"
    assert answer.mode == "extractive (fallback)" and "401" in answer.notice
    assert SECRET not in repr(answer)
    assert SECRET not in caplog.text
    assert caplog.records, "logging was captured"


def test_unreachable_endpoint_errors_never_show_the_key(seeded_dir, free_port, caplog):
    caplog.set_level(logging.DEBUG)
    assistant = Assistant(data_dir=seeded_dir, llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
                          llm_api_key=SECRET, llm_timeout=3)
    answer = assistant.ask(META_QUESTION)
    assert answer.notice and "cannot reach" in answer.notice
    assert SECRET not in repr(answer) and SECRET not in caplog.text


def test_the_ui_page_never_shows_the_key(secret_app):
    url, *_ = secret_app
    pages = {}
    for path in ("/", "/config", "/gradio_api/info"):
        with urllib.request.urlopen(url + path, timeout=30) as response:
            pages[path] = response.read().decode("utf-8", "replace")
    assert "Answer mode" in pages["/config"], "the status panel (mode, endpoint) is part of what was checked"
    for path, page in pages.items():
        assert SECRET not in page, path


def test_cli_never_prints_the_key(seeded_dir, tmp_path, cli_factory):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    server = BrokenLLM("echo401")
    cli = cli_factory(data_dir)
    env = {"RAG_LLM_API_KEY": SECRET, "RAG_LLM_BASE_URL": server.base_url, "RAG_LLM_TIMEOUT": "5"}
    try:
        status = cli("status", env=env)
        ask = cli("ask", META_QUESTION, env=env)
    finally:
        server.close()
    assert server.keys == [f"Bearer {SECRET}"], "the key was really sent"
    assert status.returncode == ask.returncode == 0
    assert "mode: llm" in status.stdout and "note: the LLM" in ask.stdout and "refused the request (401)" in ask.stdout
    for result in (status, ask):
        assert SECRET not in result.stdout + result.stderr
