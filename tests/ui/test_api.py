"""The ``/chat`` endpoint of the running app, called through ``gradio_client`` as a program would."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError

pytestmark = pytest.mark.slow

META = "002_260f1e49892e43cf.txt"


@pytest.fixture(scope="module")
def client(ui_url: str) -> Client:
    return Client(ui_url, verbose=False, download_files=False)


def test_chat_returns_the_answer_with_checked_citations(client, ui_assistant):
    result = client.predict("Who led the Meta delegation?", [], api_name="/chat")
    assert set(result) >= {"text", "abstained", "citations", "mode"}
    assert "Rafael Frankel" in result["text"] and not result["abstained"] and result["mode"] == "extractive"
    assert META in {c["source"] for c in result["citations"]}
    for c in result["citations"]:
        assert f"[{c['n']}]" in result["text"]
        assert ui_assistant.document_text(c["source"])[c["start"] : c["end"]] == c["quote"]


def test_history_reaches_the_assistant(client, ui_assistant):
    history = ["Who led the Meta delegation?"]
    result = client.predict("What is his title?", history, api_name="/chat")
    direct = ui_assistant.ask("What is his title?", history=history)
    assert result["text"] == direct.text and not result["abstained"]
    assert result["text"] != ui_assistant.ask("What is his title?").text


def test_user_errors_come_back_as_their_message(client):
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", [], api_name="/chat")


def test_chat_answers_from_the_chosen_documents_only(client, ui_assistant):
    cambodia_fr = "001_2b62d3c3698cbca6.txt"
    result = client.predict("Combien d'internautes compte le Cambodge ?", [], [cambodia_fr], api_name="/chat")
    assert not result["abstained"] and {c["source"] for c in result["citations"]} == {cambodia_fr}
    result = client.predict("Who led the Meta delegation?", [], [cambodia_fr], api_name="/chat")
    assert result["abstained"] and {c["source"] for c in result["closest"]} == {cambodia_fr}


def test_an_unknown_document_name_comes_back_as_its_message(client):
    # Gradio carries a refusal as an error event with its message (gradio_client raises it), not as an HTTP status.
    with pytest.raises(AppError, match="nope.txt: no indexed document has this name"):
        client.predict("Who led the Meta delegation?", [], ["nope.txt"], api_name="/chat")


def test_only_chat_is_exposed_to_api_clients(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/chat"}


def test_unreachable_llm_falls_back_with_a_notice(fallback_url):
    result = Client(fallback_url, verbose=False).predict("Who led the Meta delegation?", [], api_name="/chat")
    assert result["mode"].startswith("extractive") and "Rafael Frankel" in result["text"]
    assert result["notice"] and "LLM" in result["notice"]


def test_auth_protects_the_api(ui_assistant, loopback_port):
    from ui.app import build_app, launch

    demo = build_app(ui_assistant)
    url = launch(demo, host="127.0.0.1", port=loopback_port(), auth=("reader", "s3cret"), block=False)
    try:
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        result = Client(url, auth=("reader", "s3cret"), verbose=False).predict(
            "Who led the Meta delegation?", [], api_name="/chat")
        assert "Rafael Frankel" in result["text"]
    finally:
        demo.close()
