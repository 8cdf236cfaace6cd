"""The read path: retrieve passages, answer with checked citations; the Python API and the CLI.

``from rag import Assistant`` is the public entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.answers import Answer, AnswerChunk, Citation, Passage
    from rag.assistant import Assistant

__all__ = ["Answer", "AnswerChunk", "Assistant", "Citation", "Passage"]


def __getattr__(name: str):
    # Imported on first use, so `rag --help` does not pay for Chroma and llama-index.
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name in ("Answer", "AnswerChunk", "Citation", "Passage"):
        from rag import answers

        return getattr(answers, name)
    raise AttributeError(name)
