"""Files in, ``Document`` records out: txt, md, html, pdf and docx, with title, date, language and hash.

Paths may be files or folders (walked recursively, hidden files skipped). Every refusal is an
``InputError`` worded ``NAME: what happened; what to do`` (the family of messages in index/errors.py).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.chunking import FULL_LINE, title_candidate
from index.documents import Document
from index.errors import InputError, UnsupportedFileError, raised_by
from index.language import detect_language

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_DATE_PATTERNS = (
    re.compile(r"\bdate\s+(\d{4}-\d{2}(?:-\d{2})?)\b", re.IGNORECASE),
    re.compile(r"\b(\d{4}-\d{2}-\d{2})\b"),
    re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b"),
)


def iter_files(paths: list[str | Path]) -> Iterator[Path]:
    """Expand folders into the supported files below them; single files are yielded as given."""
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
            raise InputError(f"{raw}: no such file or folder; check the path{where}")
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        else:
            yield path


MAX_NAME_CHARS = 200


def source_name(name: str) -> str:
    """The citation id for a file name: its last path component, refused if it cannot be shown safely."""
    base = re.split(r"[\\/]", name.strip())[-1]
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        raise InputError(f"{base!r}: file names with control characters are refused; rename the file")
    if base in ("", ".", ".."):
        raise InputError(f"{name!r}: not a file name; give the document a name such as notes.txt")
    if len(base) > MAX_NAME_CHARS:
        raise InputError(f"{base[:40]}...: the file name is {len(base)} characters, the limit is {MAX_NAME_CHARS}; "
                         "rename the file")
    return base


def load_document(path: str | Path, *, max_bytes: int, source: str | None = None) -> Document:
    """Read one file into a ``Document`` whose id is its file name until the ``Ingestor`` gives it one.

    A file is located by its absolute path; ``source`` names an upload (the user's file name, where ``path``
    is a temporary copy), which is located by its name and text, so a second upload of another
    ``notes.md`` is another document and the same file uploaded again is the same one.
    """
    path = Path(path)
    upload = bool(source)
    source = source_name(source or path.name)
    # The type is the user's file name's: an upload may sit in a temporary file with another suffix.
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            f"{source}: unsupported file type '{suffix or '(none)'}'; save it as one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{source}: the file is empty; add text to it, or leave it out")
    if size > max_bytes:
        raise InputError(
            f"{source}: the file is {size / 1e6:.1f} MB, the limit is {max_bytes / 1e6:.1f} MB; split it, or raise "
            "the limit with RAG_MAX_FILE_MB"
        )
    data = path.read_bytes()
    if suffix == ".pdf":
        text, title = _pdf_text(data, source)
    elif suffix == ".docx":
        text, title = _docx_text(data, source)
    else:
        raw = _decode(data, source, _declared_charset(data) if suffix in (".html", ".htm") else None)
        if suffix in (".html", ".htm"):
            text, title = _html_text(raw)
        else:
            text, title = raw, None
    if not text.strip():
        raise InputError(f"{source}: no text found in the file; check that it is the document you meant")
    title = title or _first_line_title(text, suffix) or source
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(
        source=source,
        text=text,
        title=title,
        language=detect_language(text),
        sha256=sha256,
        date=find_date(text),
        path=str(path),
        locator=f"{UPLOADS}/{sha256[:12]}/{source}" if upload else file_locator(path),
    )


UPLOADS = "uploads"
"""First part of an upload's locator (a file's is an absolute path, so the two cannot meet)."""


def file_locator(path: str | Path) -> str:
    """A file's absolute path, its folder's links resolved but not the file's own: a link to a file elsewhere
    keeps its name, and ``a/b/../notes.md`` is ``a/notes.md``."""
    path = Path(path).expanduser()
    return (Path(os.path.realpath(path.parent)) / path.name).as_posix()


def find_date(text: str) -> str | None:
    """The first date the text states near its start, as ISO ``YYYY-MM[-DD]``."""
    head = text[:3000]
    for pattern in _DATE_PATTERNS:
        match = pattern.search(head)
        if not match:
            continue
        if len(match.groups()) == 3:
            day, month, year = (int(g) for g in match.groups())
            if 1 <= day <= 31 and 1 <= month <= 12:
                return f"{year:04d}-{month:02d}-{day:02d}"
            continue
        return match.group(1)
    return None


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)


def _declared_charset(data: bytes) -> str | None:
    """The encoding a web page declares in a ``<meta>`` near its start, if any."""
    match = _CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _in_charset(data: bytes, charset: str | None) -> str | None:
    """``data`` decoded as ``charset``, composed (NFC); None without a charset or when it does not decode."""
    if not charset:
        return None
    try:
        codec = codecs.lookup(charset).name
        # Browsers read latin-1 and ASCII as windows-1252; windows-1258 writes Vietnamese tones as combining marks.
        text = data.decode("cp1252" if codec in ("iso8859-1", "ascii") else codec)
    except (LookupError, UnicodeDecodeError):
        return None
    return unicodedata.normalize("NFC", text)


_BINARY = "this looks like a binary file, not text; only text files (UTF-8), HTML, PDF and Word (.docx) can be indexed"


def _decode(data: bytes, source: str, charset: str | None = None) -> str:
    """UTF-8 text, or text in the ``charset`` a web page declares (a page is saved in its site's encoding)."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{source}: {_BINARY}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _in_charset(data, charset)
        if text is None:
            raise InputError(f"{source}: not valid UTF-8 (first bad byte at offset {exc.start}); save it as UTF-8 "
                             "and add it again") from None
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > max(8, len(text[:8192]) // 100):
        raise InputError(f"{source}: {_BINARY}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Elements that start a paragraph of their own; inline elements (a, b, span...) stay inside their sentence.
_HTML_BLOCKS = ["p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "ul", "ol", "li",
                "table", "tr", "blockquote", "pre", "figcaption", "dl", "dt", "dd", "hr", "address",
                "h1", "h2", "h3", "h4", "h5", "h6"]


def _html_text(raw: str) -> tuple[str, str | None]:
    """A page's main content as text (``_html_layout``), its title the ``<title>``, else the first ``<h1>``/``<h2>``.

    The main content is the one region the markup names once its chrome is dropped (``_marked_main``), else
    what trafilatura extracts (``_extracted``), else the page without its marked chrome.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title_tag = soup.find("title") or soup.find(["h1", "h2"])
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    return _html_layout(_marked_main(soup) or _extracted(soup) or soup), title or None


# What a page's markup marks as no part of its content: menus, side bars, forms, dialogs.
_CHROME_TAGS = ["nav", "aside", "form", "button", "dialog", "select"]
_CHROME_ROLES = ["navigation", "banner", "contentinfo", "search", "complementary", "dialog", "alertdialog"]
_CONSENT = re.compile(r"cookie|consent|gdpr", re.I)
# trafilatura writes inline code as <pre> as well: one inside these is words of their sentence.
_TEXT_PARENTS = ["p", "li", "td", "th", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"]


def _marked_main(soup: BeautifulSoup) -> Tag | None:
    """Drop what the markup marks as chrome (``_CHROME_TAGS``, ``_CHROME_ROLES``, a ``<header>`` or ``<footer>``
    outside the article, cookie/consent boxes), then the one main region the page names: its ``<main>`` (or
    ``role=main``), else its one ``<article>``; None when it names none or several."""
    chrome = soup.find_all(_CHROME_TAGS) + soup.find_all(attrs={"role": _CHROME_ROLES})
    chrome += [tag for tag in soup.find_all(["header", "footer"])
               if not tag.find_parent(["article", "main"]) and not tag.find_parent(attrs={"role": "main"})]
    chrome += [tag for tag in soup.find_all(True) if tag.name not in ("html", "body", "main", "article")
               and _CONSENT.search(" ".join([tag.get("id") or "", *(tag.get("class") or [])]))]
    for tag in chrome:
        if not tag.decomposed:
            tag.decompose()
    regions = soup.find_all("main") or soup.find_all(attrs={"role": "main"})
    if len(regions) != 1:
        regions = soup.find_all("article")
    return regions[0] if len(regions) == 1 else None


def _extracted(soup: BeautifulSoup) -> BeautifulSoup | None:
    """trafilatura's main content of the page, as HTML; None when it holds less than trafilatura's own
    minimum of text (too little to judge by: a page that short is all body)."""
    from bs4 import BeautifulSoup
    from trafilatura import extract
    from trafilatura.settings import DEFAULT_CONFIG

    # Precision: its balanced mode rescues a thin result with a dump of the page's text, paragraphs run together.
    html = extract(str(soup), output_format="html", favor_precision=True, include_tables=True, include_images=True,
                   include_links=False, include_comments=False)
    found = BeautifulSoup(html or "", "html.parser")
    if len(found.get_text(strip=True)) < DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE"):
        return None
    for pre in found.find_all("pre"):
        if pre.find_parent(_TEXT_PARENTS):
            pre.unwrap()
    return found


def _html_layout(soup: Tag) -> str:
    """Visible text, one paragraph per block element (blank lines between), headings as ``#`` lines,
    list items as ``-`` lines and images as their file name, so the chunker sees the page's structure."""
    from bs4 import NavigableString

    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    # Line breaks in the HTML source are spaces; the structure comes from the elements below.
    for string in soup.find_all(string=True):
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(re.sub(r"\s+", " ", string))
    # A figure is its image's file name with the caption on the next line: the caption is the image's.
    for figure in soup.find_all("figure"):
        caption = figure.find("figcaption")
        parts = [_image_name(img) for img in figure.find_all("img")]
        parts.append(caption.get_text(" ", strip=True) if caption else "")
        figure.replace_with("\n\n" + "\n".join(p for p in parts if p) + "\n\n")
    for tag in soup.find_all("img"):
        name = _image_name(tag)
        tag.replace_with(f"\n{name}\n" if name else "")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.insert_after(" ")
    for tag in soup.find_all(_HTML_BLOCKS):
        if tag.name[0] == "h" and tag.name[1:].isdigit():
            tag.insert(0, "#" * int(tag.name[1:]) + " ")
        elif tag.name == "li":
            tag.insert(0, "- ")
        tag.insert_before("\n" if tag.name == "li" else "\n\n")
        tag.insert_after("\n" if tag.name == "li" else "\n\n")
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in soup.get_text("").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _image_name(tag) -> str:
    """An ``<img>``'s file name when it is an image file's (what a page's text shows for a picture)."""
    name = re.split(r"[\\/]", (tag.get("src") or "").split("?")[0])[-1]
    return name if re.search(r"\.(jpe?g|png|gif|webp|svg|bmp|tiff?)$", name, re.I) else ""


def _pdf_text(data: bytes, source: str) -> tuple[str, str | None]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except Exception as exc:
        # pypdf raises many types for broken files (its PdfReadError, but also NotImplementedError, KeyError...):
        # whatever pypdf's code raised is the file's fault, anything else a bug of ours.
        if not raised_by(exc, "pypdf"):
            raise
        raise InputError(f"{source}: cannot read this PDF ({type(exc).__name__}: {exc}); open it and save or "
                         "export it again as PDF") from None
    text = "\n\n".join(_join_pdf_lines(page) for page in pages if page.strip())
    if not text.strip():
        raise InputError(f"{source}: the PDF has no text layer (a scan?); run OCR on it first")
    return text, (meta_title or None)


def _join_pdf_lines(page: str) -> str:
    """A page's text with wrapped lines joined and end-of-line hyphenation undone, paragraphs apart.

    A PDF's text layer has one line per printed line. A line at least ``FULL_LINE`` of the page's usual
    width, or followed by a lower-case word, continues on the next; a shorter line followed by a capital
    (a title, a paragraph's last line) ends its paragraph.
    """
    lines = [line.strip() for line in page.split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return ""
    width = lengths[round(0.9 * (len(lengths) - 1))]
    paragraphs: list[str] = []
    current, previous = "", ""
    for i, line in enumerate(lines):
        if not line:
            paragraphs.append(current)
            current = previous = ""
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        # A short unpunctuated line after a finished sentence, with a capital or nothing after it: a heading.
        heading = (len(line) < FULL_LINE * width and line[0].isupper() and line[-1] not in ".!?…:;,"
                   and re.search(r"[.!?…:]\W*$", current) and (not following or following[0].isupper()))
        if not current:
            current = line
        elif heading:
            paragraphs.append(current)
            current = line
        elif current.endswith("-") and current[-2:-1].isalpha() and line[0].islower():
            current = current[:-1] + line  # "restor-" + "ed"
        elif current.endswith("-") and current[-2:-1].isalpha():
            current += line  # "Franco-" + "Vietnamese": the hyphen is the word's own
        elif len(previous) >= FULL_LINE * width or not line[0].isupper():
            current += " " + line
        else:
            paragraphs.append(current)
            current = line
        previous = line
    paragraphs.append(current)
    return "\n\n".join(p for p in paragraphs if p)


# A password-protected Office file is an OLE compound file (as old .doc files are) holding an EncryptedPackage.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_DOCX_HEADING = re.compile(r"(?:Heading (\d)|Title)$")


def _docx_text(data: bytes, source: str) -> tuple[str, str | None]:
    """A Word document's body in reading order: paragraphs apart, headings as ``#`` lines, list items as
    ``-`` lines, each table row a ``|`` line of its cells where the table stands. The title is the
    document's own (core properties), else its first heading."""
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise InputError(f"{source}: the Word file is password-protected; save a copy without the password "
                             "and add that")
        raise InputError(f"{source}: this is an old Word 97-2003 document (.doc), not a .docx; open it and save it "
                         "as .docx")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [block for item in document.iter_inner_content() for block in _docx_blocks(item)]
        title = document.core_properties.title.strip()
    except Exception as exc:
        # A broken package fails anywhere inside python-docx (its own errors, zipfile's, lxml's, KeyError...):
        # whatever python-docx's code raised is the file's fault, anything else a bug of ours.
        if not raised_by(exc, "docx"):
            raise
        what = "not a zip package" if isinstance(exc, PackageNotFoundError) else f"{type(exc).__name__}: {exc}"
        raise InputError(f"{source}: cannot read this Word file ({' '.join(what.split())}); open it in Word or "
                         "LibreOffice and save it again as .docx") from None
    blocks = [(kind, line) for kind, line in blocks if line]
    text = blocks[0][1] if blocks else ""
    for (before, _), (kind, line) in zip(blocks, blocks[1:]):
        # A list's items and a table's rows are lines of one paragraph.
        text += ("\n" if kind == before and kind in ("list", "row") else "\n\n") + line
    heading = next((line.lstrip("#").strip() for kind, line in blocks if kind == "heading"), None)
    return text, title or heading


def _docx_blocks(item: Paragraph | Table) -> list[tuple[str, str]]:
    """``(kind, line)`` for a paragraph (``heading``, ``list`` or ``text``) or each row of a table (``row``)."""
    from docx.table import Table

    if isinstance(item, Table):
        rows = [[_docx_cell_text(cell) for cell in _distinct(row.cells)] for row in item.rows]
        return [("row", "| " + " | ".join(cells) + " |") for cells in rows if any(cells)]
    style = item.style.name if item.style is not None else ""
    words = " ".join(item.text.split())
    heading = _DOCX_HEADING.match(style)
    if heading and words:
        return [("heading", "#" * min(int(heading.group(1) or 1), 6) + " " + words)]
    # Numbering (bullets, numbers) is set on the paragraph or by a List style; python-docx has no API for it.
    if words and (style.startswith("List") or item._p.pPr is not None and item._p.pPr.numPr is not None):
        return [("list", "- " + words)]
    return [("text", "\n".join(" ".join(line.split()) for line in item.text.split("\n")).strip())]


def _docx_cell_text(cell: _Cell) -> str:
    """A table cell's words on one line; a table inside it adds its cells' words."""
    from docx.table import Table

    parts = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            parts += [_docx_cell_text(inner) for row in item.rows for inner in _distinct(row.cells)]
        else:
            parts.append(item.text)
    return " ".join(" ".join(parts).split())


def _distinct(cells: tuple[_Cell, ...]) -> list[_Cell]:
    """A row's cells, one spanning several columns once (python-docx repeats it per column)."""
    return [cell for i, cell in enumerate(cells) if i == 0 or cell is not cells[i - 1]]


TITLE_CHARS = 80


def _first_line_title(text: str, suffix: str) -> str | None:
    """A Markdown file's first ``#`` heading, else the first real sentence (no caption or metadata),
    shortened at a word boundary."""
    title = None
    if suffix in (".md", ".markdown"):
        heading = re.search(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", text, re.M)
        title = heading.group(1).strip() if heading else None
    title = title or title_candidate(text)
    return shortened(title, TITLE_CHARS) if title else title


def shortened(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word boundary and ended with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:–—-") + "…"
