"""index/loading.py: files in, Documents out (txt, md, html, pdf, docx); every refusal is an InputError naming the
file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.errors import InputError, UnsupportedFileError
from index.loading import find_date, iter_files, load_document, shortened
from tests import pages
from tests.pdf import make_pdf
from tests.word import (REPORT_TEXT, encrypted_docx, random_bytes_docx, report_docx,
                        zip_without_document_docx)

MB = 1_000_000


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def load(path: Path, **kwargs):
    return load_document(path, max_bytes=kwargs.pop("max_bytes", 64 * MB), **kwargs)


# -- formats ----------------------------------------------------------------------------------------
def test_txt_keeps_text_and_derives_metadata(tmp_path):
    text = "Meta's delegation visited Hanoi.\nIt was led by Rafael Frankel on 2024-03-20.\n"
    doc = load(write(tmp_path / "visit.txt", text))
    assert doc.source == "visit.txt"
    assert doc.text == text
    assert doc.title == "Meta's delegation visited Hanoi."
    assert doc.language == "en"
    assert doc.date == "2024-03-20"
    assert doc.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_txt_normalises_line_endings_and_bom(tmp_path):
    doc = load(write(tmp_path / "crlf.txt", "\ufeffFirst line.\r\nSecond line.\rThird.".encode("utf-8")))
    assert doc.text == "First line.\nSecond line.\nThird."


def test_source_override_keeps_the_uploaded_name(tmp_path):
    doc = load(write(tmp_path / "tmp1234.txt", "Some uploaded text."), source="notes from Minh.txt")
    assert doc.source == "notes from Minh.txt"


def test_markdown_title_from_heading(tmp_path):
    doc = load(write(tmp_path / "notes.md", "# Hội nghị an ninh mạng\n\nThứ trưởng Bùi Văn Nam chủ trì hội nghị.\n"))
    assert doc.title == "Hội nghị an ninh mạng"
    assert doc.language == "vi"


def test_html_title_and_visible_text_only(tmp_path):
    html = (
        "<html><head><title>Rapport sur le Cambodge</title><style>p {color: red}</style>"
        "<script>var secret = 'hidden script';</script></head>"
        "<body><h1>Titre</h1><p>Le Cambodge compte environ 12 millions d&#8217;internautes.</p>"
        "<p>Phnom&nbsp;Penh reconnaît l'importance de la sécurité.</p></body></html>"
    )
    doc = load(write(tmp_path / "page.html", html))
    assert doc.title == "Rapport sur le Cambodge"
    assert "12 millions d\u2019internautes" in doc.text
    assert "Phnom Penh reconnaît" in doc.text
    assert "hidden script" not in doc.text and "color: red" not in doc.text
    assert doc.language == "fr"


def test_pdf_text_layer_and_metadata_title(tmp_path):
    pdf = make_pdf(["Le Cambodge compte environ 12 millions d'internautes.", "Phnom Penh, le 12 décembre 2018."],
                   title="Conférence de Phnom Penh")
    doc = load(write(tmp_path / "conference.pdf", pdf))
    assert "12 millions d'internautes" in doc.text
    assert "décembre" in doc.text
    assert doc.title == "Conférence de Phnom Penh"
    assert doc.source == "conference.pdf"


def test_pdf_without_metadata_title_uses_first_line(tmp_path):
    doc = load(write(tmp_path / "plain.pdf", make_pdf(["Annual report", "Revenue grew by 4 percent."])))
    assert doc.title == "Annual report"


def test_long_first_line_title_is_shortened(tmp_path):
    first = "A first sentence that says what this is about. " + "More words follow here " * 10
    doc = load(write(tmp_path / "long.txt", first + "\nSecond line."))
    assert doc.title == "A first sentence that says what this is about."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" date 2018-12 L'ambassadeur du Vietnam au Cambodge.", "2018-12"),
        ("Hội thảo ngày 28/12/2020 tại Hà Nội.", "2020-12-28"),
        ("Published 2025-12-24, updated later.", "2025-12-24"),
        ("Chiều 20/3, Thứ trưởng tiếp đoàn Meta.", None),
        ("No date at all here.", None),
    ],
)
def test_find_date(text, expected):
    assert find_date(text) == expected


# -- web pages: the article, not the site around it ---------------------------------------------------
@pytest.mark.parametrize("page", [pages.semantic_page, pages.div_page], ids=["semantic", "divs"])
def test_a_page_is_its_article_without_menu_footer_cookie_banner_or_scripts(tmp_path, page):
    doc = load(write(tmp_path / "cau.html", page()))
    for body in pages.BODY_TEXTS:
        assert body in doc.text
    for chrome in pages.CHROME_TEXTS:
        assert chrome not in doc.text
    assert doc.title == "Cầu Long Biên được tu bổ | Báo Sông Hồng"
    assert doc.language == "vi" and doc.date == "2026-10-14"


def test_the_userdocs_press_release_loses_its_menu_and_footer():
    path = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "userdocs" / "lumora-press-release.html"
    doc = load(path)
    assert doc.text.startswith("# Lumora Solar opens its first factory in Vietnam\n\nDa Nang, 14 October 2026")
    assert doc.text.endswith("Sophie Lambert, communications manager\npress@lumora-solar.example\n+31 40 555 0192")
    for chrome in ("Home", "Careers", "All rights reserved", "Privacy", "Torenallee"):
        assert chrome not in doc.text


def test_a_page_of_bare_divs_keeps_inline_code_in_its_sentence(tmp_path):
    # trafilatura, which reads such pages, writes inline code as <pre>: it must stay inside the sentence.
    sentence = "Step {}: run <code>rag index seeds/</code> once, then ask questions about the articles it holds."
    html = ("<html><body><div class='menu'><a href='/'>Home</a> <a href='/docs'>Docs</a></div><div class='text'>"
            + "".join(f"<p>{sentence.format(n)}</p>" for n in range(1, 5))
            + "<pre>rag ask 'Who led the delegation?'</pre></div></body></html>")
    doc = load(write(tmp_path / "usage.html", html))
    assert "Step 4: run rag index seeds/ once, then ask questions about the articles it holds." in doc.text
    assert "rag ask 'Who led the delegation?'" in doc.text and "Home" not in doc.text


def test_a_small_page_is_all_body(tmp_path):
    # Too little text for main-content extraction to judge: the page as written, structure and all.
    html = "<html><body><h1>Note</h1><p>The ferry stopped in 1999.</p><ul><li>Since 1921</li></ul></body></html>"
    assert load(write(tmp_path / "note.html", html)).text == "# Note\n\nThe ferry stopped in 1999.\n\n- Since 1921"


@pytest.mark.parametrize(
    ("charset", "text"),
    [("utf-8", "Le conseil a voté la rénovation de l’église Saint-Étienne, fermée depuis l’été 2019."),
     ("iso-8859-1", "Le conseil a voté la rénovation de l’église Saint-Étienne, fermée depuis l’été 2019."),
     ("windows-1258", "Hội đồng nhân dân thành phố đã thông qua kế hoạch tu bổ nhà thờ lớn vào năm 2019.")],
)
def test_a_page_in_its_declared_charset_keeps_its_accents(tmp_path, charset, text):
    # A page is saved in its site's encoding; browsers read latin-1 as windows-1252 (the ’ is 0x92 there).
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head><body>'
    page += "".join(f"<div><p>{n}. {text}</p></div>" for n in range(1, 6)) + "</body></html>"
    data = _cp1258(page) if charset == "windows-1258" else page.encode("cp1252" if charset == "iso-8859-1" else charset)
    doc = load(write(tmp_path / "page.html", data))
    assert doc.text == "\n\n".join(f"{n}. {text}" for n in range(1, 6))


def _cp1258(text: str) -> bytes:
    """``text`` as windows-1258 writes it: vowels with their own marks (â, ơ...), tones as combining marks
    after them."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
                   + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def test_a_page_that_is_not_in_its_declared_charset_is_refused(tmp_path):
    data = '<meta charset="utf-8"><p>Café crème</p>'.encode("latin-1")
    with pytest.raises(InputError, match=r"page\.html: not valid UTF-8"):
        load(write(tmp_path / "page.html", data))


# -- Word documents (built with python-docx in the test) ----------------------------------------------
def test_docx_body_in_reading_order_with_the_table_where_it_stands(tmp_path):
    doc = load(report_docx(tmp_path / "report.docx"))
    assert doc.text == REPORT_TEXT
    assert doc.title == "Báo cáo quý 3"  # no title in the properties: the first heading
    assert doc.language == "vi" and doc.source == "report.docx"


def test_docx_title_from_its_properties(tmp_path):
    assert load(report_docx(tmp_path / "r.docx", title="Quarterly report, Q3")).title == "Quarterly report, Q3"


def test_docx_merged_cells_once_nested_tables_as_words_and_line_breaks_kept(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Cả năm"
    table.cell(0, 2).text = "Ghi chú"
    table.cell(1, 0).text = "2026"
    table.cell(1, 1).add_table(rows=1, cols=2).rows[0].cells[1].text = "lồng nhau"
    paragraph = document.add_paragraph("First line")
    paragraph.add_run().add_break()
    paragraph.add_run("second line.")
    document.add_paragraph("   ")
    document.save(tmp_path / "cells.docx")
    text = load(tmp_path / "cells.docx").text
    assert text == "| Cả năm | Ghi chú |\n| 2026 | lồng nhau |  |\n\nFirst line\nsecond line."


# -- refusals: an InputError worded "NAME: what happened; what to do" ------------------------------------
def assert_one_family(name: str, message: str) -> None:
    """The message names the file once, at its start, then says what happened and, after "; ", what to do."""
    assert message.startswith(f"{name}: ") and message.count(name) == 1, message
    happened, _, todo = message.removeprefix(f"{name}: ").partition("; ")
    assert happened and todo, f"what to do is missing: {message}"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n\t \n", "no text"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("controls.txt", b"ab\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 50, "binary"),
        ("latin1.txt", "Café au lait, crème brûlée.".encode("latin-1"), "UTF-8"),
        ("scan.pdf", make_pdf([]), "no text layer"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "PDF"),
        ("empty.html", b"<html><head><title>t</title></head><body><script>x()</script></body></html>", "no text"),
    ],
)
def test_refusals_name_the_file(tmp_path, name, data, reason):
    path = write(tmp_path / name, data)
    with pytest.raises(InputError) as info:
        load(path)
    assert_one_family(name, str(info.value))
    assert reason.lower() in str(info.value).lower()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (random_bytes_docx, "cannot read this Word file (BadZipFile: File is not a zip file)"),
        (zip_without_document_docx, "(KeyError: \"There is no item named 'word/document.xml'"),
        (encrypted_docx, "the Word file is password-protected; save a copy without the password"),
        (lambda path: write(path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)), "old Word 97-2003 document"),
    ],
    ids=["random-bytes", "no-document-xml", "password", "old-doc"],
)
def test_a_broken_or_locked_word_file_is_one_refusal(tmp_path, make, reason):
    with pytest.raises(InputError) as info:
        load(make(tmp_path / "x.docx"))
    message = str(info.value)
    assert_one_family("x.docx", message)
    assert reason in message and "\n" not in message


def test_an_error_python_docx_did_not_raise_is_not_called_a_broken_word_file(tmp_path, monkeypatch):
    import docx

    def document(stream):
        raise KeyError("a bug, not the file")

    path = report_docx(tmp_path / "fine.docx")
    monkeypatch.setattr(docx, "Document", document)
    with pytest.raises(KeyError, match="a bug, not the file"):
        load(path)


def test_any_error_pypdf_raises_is_a_broken_pdf(tmp_path):
    # An unknown stream filter: pypdf raises NotImplementedError, not one of its PdfReadErrors.
    pdf = make_pdf(["Hello world sentence here."]).replace(b"<< /Length", b"<< /Filter /Bogus /Length", 1)
    with pytest.raises(InputError, match=r"bogus\.pdf: cannot read this PDF \(NotImplementedError"):
        load(write(tmp_path / "bogus.pdf", pdf))


def test_an_error_pypdf_did_not_raise_is_not_called_a_broken_pdf(tmp_path, monkeypatch):
    import pypdf

    def reader(stream):
        raise ValueError("a bug, not the file")

    monkeypatch.setattr(pypdf, "PdfReader", reader)
    with pytest.raises(ValueError, match="a bug, not the file"):
        load(write(tmp_path / "fine.pdf", make_pdf(["Hello world sentence here."])))


def test_too_large_is_refused_before_reading(tmp_path):
    path = write(tmp_path / "big.txt", "word " * 1000)
    with pytest.raises(InputError, match=r"big\.txt.*limit.*RAG_MAX_FILE_MB") as info:
        load(path, max_bytes=1000)
    assert_one_family("big.txt", str(info.value))


@pytest.mark.parametrize("name", ["report.doc", "slides.pptx", "README", "photo.jpg"])
def test_unsupported_extension(tmp_path, name):
    path = write(tmp_path / name, "some text that would decode fine")
    with pytest.raises(UnsupportedFileError) as info:
        load(path)
    assert isinstance(info.value, InputError)
    assert_one_family(name, str(info.value))
    assert ".pdf" in str(info.value)


# -- folders ---------------------------------------------------------------------------------------
def test_iter_files_walks_folders_and_skips_hidden_and_unsupported(tmp_path):
    write(tmp_path / "a.txt", "a")
    write(tmp_path / "sub" / "b.md", "b")
    write(tmp_path / "sub" / "c.pdf", make_pdf(["c"]))
    write(tmp_path / "sub" / "d.pptx", "d")
    write(tmp_path / ".hidden" / "e.txt", "e")
    write(tmp_path / "sub" / ".f.txt", "f")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.txt", "sub/b.md", "sub/c.pdf"]


def test_iter_files_yields_a_named_file_even_if_unsupported(tmp_path):
    # An explicitly named file is handed to the loader, which then refuses it with a reason.
    path = write(tmp_path / "x.pptx", "d")
    assert list(iter_files([path])) == [path]


def test_iter_files_missing_path(tmp_path):
    with pytest.raises(InputError, match="nowhere.txt") as info:
        list(iter_files([tmp_path / "nowhere.txt"]))
    assert_one_family(str(tmp_path / "nowhere.txt"), str(info.value))


def test_seeds_load_unchanged():
    seeds = sorted(Path(__file__).resolve().parents[2].joinpath("seeds").iterdir())
    docs = [load(p) for p in seeds]
    assert [d.language for d in docs] == ["vi", "fr", "vi", "vi", "vi"]
    for path, doc in zip(seeds, docs):
        assert doc.text == path.read_text(encoding="utf-8")


# -- citation ids -----------------------------------------------------------------------------------
def test_source_is_the_last_path_component(tmp_path):
    path = write(tmp_path / "x.txt", "Some text.")
    assert load(path, source="C:\\Users\\minh\\notes.txt").source == "notes.txt"
    assert load(path, source="../../etc/notes.txt").source == "notes.txt"


@pytest.mark.parametrize("name", ["bad\nname.txt", "bell\x07.txt", "..", "a" * 300 + ".txt"])
def test_unshowable_names_are_refused(tmp_path, name):
    path = write(tmp_path / "x.txt", "Some text.")
    with pytest.raises(InputError):
        load(path, source=name)


# -- wrapped text, structure and titles --------------------------------------------------------------
WRAPPED_PDF_LINES = [
    "Saltmere Railway",
    "The first passenger train of the restored Saltmere line ran on 3 May",
    "1921, carrying two hundred guests from the harbour to the old market. The",
    "line was built by the Saltmere Harbour Company, whose engineers had restor-",
    "ed the viaduct over the river the winter before. Trains ran every Sunday.",
    "Timetable",
]


def test_pdf_wrapped_lines_are_joined_and_hyphenation_undone(tmp_path):
    doc = load(write(tmp_path / "saltmere.pdf", make_pdf(WRAPPED_PDF_LINES)))
    assert doc.text.split("\n\n") == [
        "Saltmere Railway",
        "The first passenger train of the restored Saltmere line ran on 3 May 1921, carrying two hundred guests "
        "from the harbour to the old market. The line was built by the Saltmere Harbour Company, whose engineers "
        "had restored the viaduct over the river the winter before. Trains ran every Sunday.",
        "Timetable",
    ]
    assert doc.title == "Saltmere Railway"


def test_html_blocks_are_paragraphs_and_inline_tags_stay_in_the_sentence(tmp_path):
    html = (
        "<html><body><h1>Kestrel Point Lighthouse</h1>\n<p>The lighthouse was <b>built</b> in\n1852 by the "
        "<a href='/b'>harbour board</a>.</p><figure><img src='/img/tower.jpg?w=300'>"
        "<figcaption>The tower in 1900</figcaption></figure><ul><li>Height: 30 m</li></ul></body></html>"
    )
    doc = load(write(tmp_path / "kestrel.html", html))
    assert doc.text == ("# Kestrel Point Lighthouse\n\nThe lighthouse was built in 1852 by the harbour board.\n\n"
                        "tower.jpg\nThe tower in 1900\n\n- Height: 30 m")
    assert doc.title == "Kestrel Point Lighthouse"


def test_html_comments_stay_invisible(tmp_path):
    doc = load(write(tmp_path / "c.html", "<p>Visible text here.<!-- a hidden note --></p>"))
    assert doc.text == "Visible text here."


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        ("cap.txt", " date 2018-12 L'ambassadeur prend la parole à la tribune. Photo: VNA\n\n"
                    "Phnom Penh (VNA) – Non seulement chaque pays, mais aussi les gouvernements et la communauté "
                    "internationale doivent se coordonner.", "Phnom Penh (VNA) – Non seulement chaque pays, mais aussi les gouvernements et…"),
        ("meta.txt", " date 2025-12-24 Đề xuất mô hình đại sứ công nghệ\n\nTPO - Các chuyên gia đề xuất.",
         "Đề xuất mô hình đại sứ công nghệ"),
        ("img.md", "photo.jpg\nA caption\n\nSome text first.\n\n# The heading\n\nBody.", "The heading"),
    ],
)
def test_titles_skip_captions_and_metadata_and_cut_at_a_word(tmp_path, name, text, title):
    doc = load(write(tmp_path / name, text))
    assert doc.title == title
    assert len(doc.title) <= 80


def test_shortened_text_ends_with_an_ellipsis_at_a_word_boundary():
    assert shortened("A short title", 60) == "A short title"
    cut = shortened("The conference on cyber security, held in Hanoi in December", 30)
    assert cut == "The conference on cyber…" and len(cut) <= 30
    assert shortened("x" * 40, 10) == "x" * 9 + "…"
