"""The answer reader as a torch model: e5-small split in two (PreTTR / DeFormer style), plus three heads.

    Lower(e5)   word vectors of ONE text (``query: Q`` or ``passage: S``) + mask -> its layer-L token states.
                e5's embedding LayerNorm and layers 1..L, frozen: exactly what the bi-encoder computes, so the
                states of every training text are computed once and cached (``training.states``).
    Upper(e5)   the question's and the sentence's layer-L states side by side -> layers L+1..12 with attention
                across the two texts (initialised from e5's; trained) -> heads:
      score     scale * (cos(mean Q part, mean S part) - offset) + a zero-initialised linear term on the pooled
                pair. The cross-text attention starts almost closed (a learned per-layer, per-head bias, ``gate``,
                initialised at ``GATE_INIT``), so before training the score IS the bi-encoder's cosine, scaled.
      null      the no-answer logit of a group (SQuAD 2.0's null option): a learned constant plus a
                zero-initialised linear term on the question part's mean state, averaged over the group's pairs.
      span      start/end logits over the sentence's tokens (the short answer).

The runtime (``rag.reader``) runs both halves exported to ONNX; this module is training-only (torch).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rag.reader.weights import E5File

GATE_INIT = -4.0
"""Initial bias on attention between the two texts: exp(-4) ~ 2% weight, so the joint layers start as e5's."""
SCALE_INIT = 50.0
"""Initial score scale: e5's cosines of a question with its candidates differ by hundredths."""
OFFSET_INIT = 0.85
"""Initial cosine at which a sentence's score equals the null logit (about today's same-language threshold)."""


class Layer(nn.Module):
    """A post-LN BERT layer (erf-GELU), as e5-small; ``dropout`` on attention weights and sublayer outputs."""

    def __init__(self, h: int, heads: int, ff: int, eps: float, dropout: float = 0.0):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(h, h) for _ in range(4))
        self.fi, self.fo = nn.Linear(h, ff), nn.Linear(ff, h)
        self.aln, self.oln = nn.LayerNorm(h, eps=eps), nn.LayerNorm(h, eps=eps)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1))
        ctx = (att @ v).transpose(1, 2).reshape(b, t, h)
        x = self.aln(x + self.drop(self.ao(ctx)))
        return self.oln(x + self.drop(self.fo(F.gelu(self.fi(x)))))

    def load(self, e5: E5File, i: int) -> None:
        with torch.no_grad():
            for name in ("q", "k", "v", "ao", "fi", "fo"):
                lin = getattr(self, name)
                lin.weight.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.w")).view_as(lin.weight))
                lin.bias.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.b")))
            for name in ("aln", "oln"):
                ln = getattr(self, name)
                ln.weight.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.w")))
                ln.bias.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.b")))


def _mask_bias(mask: torch.Tensor, dtype) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].to(dtype)) * -1e4


class Lower(nn.Module):
    """Word vectors [n, t, H] + mask [n, t] of single texts -> their states after layer ``split`` [n, t, H]."""

    def __init__(self, e5: E5File, split: int):
        super().__init__()
        s = e5.shape
        self.pos = nn.Parameter(torch.from_numpy(e5.array("emb.pos").reshape(s.max_positions, s.hidden)),
                                requires_grad=False)
        self.type0 = nn.Parameter(torch.from_numpy(e5.array("emb.type").reshape(-1, s.hidden)[0].copy()),
                                  requires_grad=False)
        self.eln = nn.LayerNorm(s.hidden, eps=s.eps)
        self.layers = nn.ModuleList(Layer(s.hidden, s.heads, s.ff, s.eps) for _ in range(split))
        with torch.no_grad():
            self.eln.weight.copy_(torch.from_numpy(e5.array("emb.ln.w")))
            self.eln.bias.copy_(torch.from_numpy(e5.array("emb.ln.b")))
        for i, layer in enumerate(self.layers):
            layer.load(e5, i)
        self.requires_grad_(False)

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = vectors.shape[1]
        x = self.eln(vectors + self.pos[:t] + self.type0)
        bias = _mask_bias(mask, x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class Upper(nn.Module):
    """Joint states [n, t, H] (question tokens then sentence tokens), mask [n, t], segment [n, t] (1 = question)
    -> ``score`` [n], ``null`` [n] (the pair's share of its group's no-answer logit: average it over the group),
    ``start``/``end`` [n, t] (span logits, -1e4 outside the sentence)."""

    def __init__(self, e5: E5File, split: int, dropout: float = 0.1):
        super().__init__()
        s = e5.shape
        self.split = split
        self.layers = nn.ModuleList(Layer(s.hidden, s.heads, s.ff, s.eps, dropout) for _ in range(split, s.layers))
        for i, layer in enumerate(self.layers):
            layer.load(e5, split + i)
        self.gate = nn.Parameter(torch.full((len(self.layers), s.heads), GATE_INIT))
        self.log_scale = nn.Parameter(torch.tensor(math.log(SCALE_INIT)))
        self.offset = nn.Parameter(torch.tensor(OFFSET_INIT))
        self.pair = nn.Linear(4 * s.hidden, 1)
        self.null_bias = nn.Parameter(torch.tensor(0.0))
        self.null = nn.Linear(s.hidden, 1)
        self.span = nn.Linear(s.hidden, 2)
        with torch.no_grad():
            for lin in (self.pair, self.null):
                lin.weight.zero_()
                lin.bias.zero_()
            self.span.weight.normal_(0, 0.02)
            self.span.bias.zero_()

    def head_params(self) -> list[nn.Parameter]:
        return [self.log_scale, self.offset, self.null_bias, *self.pair.parameters(), *self.null.parameters(),
                *self.span.parameters()]

    def forward(self, x: torch.Tensor, mask: torch.Tensor, segment: torch.Tensor):
        dtype = x.dtype
        pad = _mask_bias(mask, dtype)  # [n, 1, 1, t]
        seg = segment.to(dtype)
        cross = (seg[:, :, None] != seg[:, None, :]).to(dtype)[:, None]  # [n, 1, t, t]
        for i, layer in enumerate(self.layers):
            x = layer(x, pad + cross * self.gate[i][None, :, None, None])
        m = mask.to(dtype)
        qm, sm = m * seg, m * (1 - seg)
        q = (x * qm[..., None]).sum(1) / qm.sum(1, keepdim=True).clamp(min=1)
        s = (x * sm[..., None]).sum(1) / sm.sum(1, keepdim=True).clamp(min=1)
        cos = F.cosine_similarity(q, s, dim=-1)
        score = self.log_scale.exp() * (cos - self.offset) + self.pair(torch.cat([q, s, q * s, (q - s).abs()], -1))[:, 0]
        null = self.null_bias + self.null(q)[:, 0]
        span = self.span(x)
        outside = (1 - sm) * -1e4
        return score, null, span[..., 0] + outside, span[..., 1] + outside


def load_lower_upper(e5: E5File, split: int, dropout: float = 0.1) -> tuple[Lower, Upper]:
    return Lower(e5, split), Upper(e5, split, dropout)


def word_vectors(e5: E5File) -> torch.Tensor:
    """The frozen word embeddings, dequantised once (250k x 384 fp32, ~384 MB)."""
    return torch.from_numpy(e5.array("emb.word").reshape(e5.shape.vocab, e5.shape.hidden))


def pad_ids(ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    t = max(len(x) for x in ids)
    table = np.zeros((len(ids), t), dtype=np.int64)
    mask = np.zeros((len(ids), t), dtype=np.int64)
    for i, x in enumerate(ids):
        table[i, : len(x)] = x
        mask[i, : len(x)] = 1
    return table, mask
