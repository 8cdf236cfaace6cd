"""The LLM path against a real local OpenAI-compatible server (llama.cpp + SmolLM2-135M).

The 135M model is English-only and answers poorly, so these tests pin the protocol, never wording:
tokens stream in, markers are parsed and verified, and whatever the model says, every citation the
user sees quotes its document exactly.
"""

from __future__ import annotations

import pytest

from index.settings import Settings
from rag import Assistant
from rag.llm import ChatClient

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.server]


def test_chat_client_streams_several_deltas(llm_server):
    client = ChatClient(Settings(llm_base_url=llm_server, llm_model="local-test", llm_timeout=120))
    deltas = list(client.stream([{"role": "user", "content": "Count from one to five."}], max_tokens=24))
    assert len(deltas) > 1 and "".join(deltas).strip()


def test_answers_from_a_real_llm_are_verified_before_they_are_shown(seeded_dir, llm_server):
    assistant = Assistant(data_dir=seeded_dir, llm_base_url=llm_server, llm_model="local-test",
                          llm_timeout=180, top_k=2, llm_max_tokens=80)
    pieces, answer = [], None
    for piece in assistant.stream("Who led the Meta delegation?"):
        pieces.append(piece.text)
        answer = piece.answer or answer
    assert "".join(pieces) == answer.text
    assert answer.mode in ("llm", "extractive (fallback)")
    if answer.mode == "extractive (fallback)":
        assert answer.notice
    for c in answer.citations:
        assert assistant.document_text(c.source)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.text
