"""The read path: retrieve passages, answer with checked citations; the Python API and the CLI.

``from rag import Assistant`` is the public entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.settings import Settings
    from rag.values import Answer, AnswerChunk, Citation, Claim, Passage

__all__ = ["Answer", "AnswerChunk", "Assistant", "Citation", "Claim", "Passage", "Settings"]


def __getattr__(name: str):
    # Imported on first use, so `rag --help` does not pay for Chroma and llama-index.
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name == "Settings":
        from rag.settings import Settings

        return Settings
    if name in ("Answer", "AnswerChunk", "Citation", "Claim", "Passage"):
        from rag import values

        return getattr(values, name)
    raise AttributeError(name)
