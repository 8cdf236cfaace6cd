"""ui/app.py's chat handler, called as Gradio calls it: a question the assistant refuses (empty, no words, too
long) is not asked; a warning says why, the console logs it in one line, and the box keeps the text to edit."""

from __future__ import annotations

import logging

import gradio as gr
import pytest

SKIP = gr.skip()
NOTE = "The Quillon Observatory was built in 1931 by the astronomer Mira Koss.\n"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory):
    """A real assistant over one short note (quick to embed)."""
    from rag import Assistant

    folder = tmp_path_factory.mktemp("ui_app")
    (folder / "quillon_notes.txt").write_text(NOTE, encoding="utf-8")
    assistant = Assistant(data_dir=folder / "data")
    assert assistant.add([folder / "quillon_notes.txt"]).added
    yield assistant
    assistant.close()


@pytest.fixture
def ask(assistant, monkeypatch):
    """``(ask, runs)``: the chat's handler of the real app, and the questions that reached the pipeline."""
    from ui.app import build_app

    runs: list[str] = []
    run = assistant.pipeline.run

    def spy(question, *args, **kwargs):
        runs.append(question)
        return run(question, *args, **kwargs)

    monkeypatch.setattr(assistant.pipeline, "run", spy)
    handler = next(f.fn for f in build_app(assistant).fns.values() if f.name == "ask")
    return handler, runs


def refused(ask, question: str, caplog) -> str:
    """Send ``question`` and check it was not asked: every output untouched; returns the one warning shown."""
    handler, runs = ask
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "answer"}]
    with caplog.at_level(logging.WARNING, logger="ui.app"), pytest.warns(UserWarning) as shown:
        outputs = list(handler(question, history, ["earlier"], 5, []))
    assert outputs == [(SKIP, SKIP, SKIP, SKIP)], "the box keeps the text; chat, history and sources are unchanged"
    assert runs == [], "nothing reached the pipeline"
    assert len(shown) == 1
    message = str(shown[0].message)
    assert [r.getMessage() for r in caplog.records] == [f"chat refused: {message[0].lower()}{message[1:]}"]
    return message


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_an_empty_question_is_not_asked_and_says_so(ask, question, caplog):
    assert refused(ask, question, caplog) == "The question is empty; type a question"


def test_a_question_without_words_is_not_asked_and_says_so(ask, caplog):
    assert refused(ask, " ?!… ", caplog) == "The question has no words; type a question"


def test_an_over_long_question_is_refused_with_its_length_and_the_limit_and_kept(ask, caplog):
    message = refused(ask, "why " * 600, caplog)
    assert message == "The question is 2399 characters long; the limit is 2000 (RAG_MAX_QUESTION_CHARS)"


def test_an_accepted_question_clears_the_box_and_is_answered(ask, caplog):
    handler, runs = ask
    with caplog.at_level(logging.WARNING, logger="ui.app"):
        outputs = list(handler("  Who built the Quillon Observatory? ", [], [], 5, []))
    assert runs == ["Who built the Quillon Observatory?"]
    assert all(box == "" for box, *_ in outputs), "cleared from the first update on"
    _, chat, questions, sources = outputs[-1]
    assert chat[0] == {"role": "user", "content": "Who built the Quillon Observatory?"}
    assert "Mira Koss" in chat[1]["content"] and "quillon_notes.txt" in sources
    assert questions == ["Who built the Quillon Observatory?"]
    assert not caplog.records
